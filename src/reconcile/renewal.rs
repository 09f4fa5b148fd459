//! When a certificate is due for renewal, with cert-manager's semantics: `renewBefore` is a
//! duration before `notAfter` or a percentage of the lifetime, by default one third of the
//! lifetime; a `renewBefore` as long as the lifetime or longer falls back to the default
//! (cert-manager does the same rather than renewing forever).

use crate::model::RenewBefore;
use jiff::Timestamp;

/// The instant renewal becomes due for a certificate valid from `not_before` to `not_after`:
/// `not_after − renewBefore`, truncated to the second as cert-manager does (its PR #4399), so a
/// lifetime that does not divide evenly renews a second early, never a second late.
pub fn due_at(
    not_before: Timestamp,
    not_after: Timestamp,
    renew_before: Option<RenewBefore>,
) -> Timestamp {
    const NANOS: i128 = 1_000_000_000;
    let lifetime = i128::from((not_after.as_second() - not_before.as_second()).max(0)) * NANOS;
    let before = renew_before_nanos(lifetime, renew_before);
    let due = i128::from(not_after.as_second()) * NANOS - before;
    let second = i64::try_from(due.div_euclid(NANOS)).unwrap_or(i64::MIN);
    Timestamp::from_second(second).unwrap_or(not_after)
}

/// How long before expiry to renew, in nanoseconds, for a `lifetime` in nanoseconds
/// (cert-manager's `RenewBefore`): a duration that is positive and shorter than the lifetime,
/// else a percentage strictly between 0 and 100, else a third of the lifetime.
fn renew_before_nanos(lifetime: i128, renew_before: Option<RenewBefore>) -> i128 {
    match renew_before {
        Some(RenewBefore::Duration(d)) => {
            let d = i128::from(d.seconds()) * 1_000_000_000;
            if d > 0 && d < lifetime {
                return d;
            }
        }
        Some(RenewBefore::Percent(p)) if p > 0 && p < 100 => {
            return lifetime * i128::from(p) / 100;
        }
        _ => {}
    }
    lifetime / 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Duration;

    /// A `renewBefore` duration of `s` seconds, as a policy would spell it.
    fn secs(s: i64) -> Duration {
        format!("{s}s").parse().unwrap()
    }

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

    /// cert-manager's `TestRenewalTime` (pkg/util/pki/renewaltime_test.go), case by case (the
    /// ARI case is the ACME issue's).
    #[test]
    fn cert_manager_renewal_time_table() {
        let now = at("2026-06-01T10:20:30Z");
        let plus = |s: i64| Timestamp::from_second(now.as_second() + s).unwrap();
        let hours = |h: i64| h * 3600;
        let duration = |s: i64| Some(RenewBefore::Duration(secs(s)));
        let cases: [(&str, i64, Option<RenewBefore>, i64); 8] = [
            (
                "short lived cert, spec.renewBefore is not set",
                hours(3),
                None,
                hours(2),
            ),
            (
                "long lived cert, spec.renewBefore is not set",
                hours(4380),
                None,
                hours(2920),
            ),
            (
                "spec.renewBefore is set",
                hours(24),
                duration(hours(20)),
                hours(4),
            ),
            (
                "long lived cert, renew every day",
                hours(730),
                duration(hours(706)),
                hours(24),
            ),
            (
                "renewBefore would renew after expiry",
                hours(24),
                duration(hours(25)),
                hours(16),
            ),
            (
                "renewBeforePercentage 30",
                hours(730),
                Some(RenewBefore::Percent(30)),
                hours(511),
            ),
            (
                "renewBefore slightly less than the duration",
                hours(24) + 180,
                duration(hours(24)),
                180,
            ),
            (
                "certificate's duration is skewed by a second",
                hours(24) - 1,
                None,
                hours(16) - 1,
            ),
        ];
        for (name, lifetime, renew_before, expected) in cases {
            assert_eq!(
                due_at(now, plus(lifetime), renew_before),
                plus(expected),
                "{name}"
            );
        }
    }

    /// cert-manager's `TestRenewBefore`: a three-hour certificate.
    #[test]
    fn cert_manager_renew_before_table() {
        let lifetime = 3 * 3600 * 1_000_000_000_i128;
        let minutes = |m: i128| m * 60 * 1_000_000_000;
        let cases = [
            ("neither set", None, minutes(60)),
            (
                "percentage valid",
                Some(RenewBefore::Percent(25)),
                minutes(45),
            ),
            (
                "percentage too large: default",
                Some(RenewBefore::Percent(100)),
                minutes(60),
            ),
            (
                "percentage too small: default",
                Some(RenewBefore::Percent(0)),
                minutes(60),
            ),
            (
                "duration valid",
                Some(RenewBefore::Duration(secs(3600))),
                minutes(60),
            ),
            (
                "duration too long: default",
                Some(RenewBefore::Duration(secs(4 * 3600))),
                minutes(60),
            ),
            (
                "duration zero: default",
                Some(RenewBefore::Duration(secs(0))),
                minutes(60),
            ),
        ];
        let ten_years = 10 * 365 * 86_400 * 1_000_000_000_i128;
        assert_eq!(
            renew_before_nanos(ten_years, Some(RenewBefore::Percent(99))),
            ten_years / 100 * 99,
            "99 % of ten years does not overflow"
        );
        for (name, renew_before, expected) in cases {
            assert_eq!(
                renew_before_nanos(lifetime, renew_before),
                expected,
                "{name}"
            );
        }
    }
}
