//! When a certificate is due for renewal, with cert-manager's semantics: `renewBefore` is a
//! duration before `notAfter` or a percentage of the lifetime, by default one third of the
//! lifetime; a `renewBefore` as long as the lifetime or longer falls back to the default
//! (cert-manager does the same rather than renewing forever).

use crate::model::RenewBefore;
use jiff::Timestamp;

/// The instant renewal becomes due for a certificate valid from `not_before` to `not_after`.
pub fn due_at(
    not_before: Timestamp,
    not_after: Timestamp,
    renew_before: Option<RenewBefore>,
) -> Timestamp {
    let lifetime = (not_after.as_second() - not_before.as_second()).max(0);
    let default = lifetime / 3;
    let before = match renew_before {
        None => default,
        Some(RenewBefore::Duration(d)) => i64::try_from(d.seconds()).unwrap_or(i64::MAX),
        Some(RenewBefore::Percent(p)) => lifetime.saturating_mul(i64::from(p)) / 100,
    };
    let before = if before >= lifetime { default } else { before };
    Timestamp::from_second(not_after.as_second() - before).unwrap_or(not_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Duration;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn follows_cert_manager() {
        let (nb, na) = (at("2026-01-01T00:00:00Z"), at("2026-04-01T00:00:00Z")); // 90 days
        assert_eq!(due_at(nb, na, None), at("2026-03-02T00:00:00Z"));
        let thirty = RenewBefore::Duration(Duration::days(30));
        assert_eq!(due_at(nb, na, Some(thirty)), at("2026-03-02T00:00:00Z"));
        assert_eq!(
            due_at(nb, na, Some(RenewBefore::Percent(10))),
            at("2026-03-23T00:00:00Z")
        );
        // Longer than the lifetime: the default third, not "always due".
        let long = RenewBefore::Duration(Duration::days(120));
        assert_eq!(due_at(nb, na, Some(long)), at("2026-03-02T00:00:00Z"));
    }
}
