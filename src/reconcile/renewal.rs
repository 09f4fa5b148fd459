//! When a certificate is due for renewal, with cert-manager's semantics: `renewBefore` is a
//! duration before `notAfter` or a percentage of the lifetime, by default one third of the
//! lifetime; a `renewBefore` as long as the lifetime or longer falls back to the default
//! (cert-manager does the same rather than renewing forever).

use crate::model::{RenewBefore, RenewalWindow};
use jiff::{Timestamp, ToSpan};

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

/// When a certificate comes due, and why: the instant its ACME CA suggests (RFC 9773), when
/// one is known for it, else the policy's [`due_at`].
pub fn due<'a>(
    c: &crate::discover::Credential,
    renew_before: Option<RenewBefore>,
    renewal_info: &'a std::collections::BTreeMap<String, crate::ari::Suggested>,
) -> Option<(Timestamp, Option<&'a crate::ari::Suggested>)> {
    if let Some(suggested) = renewal_info.get(&c.sha256) {
        return Some((suggested.instant.0, Some(suggested)));
    }
    Some((due_at(c.not_before?.0, c.not_after?.0, renew_before), None))
}

/// The renewal instant under renewal windows, as cert-manager's `applyRenewBeforeWithWindows`:
/// `desired` itself when a window is open at it (its closing instant included), else the first
/// window start after it. With a certificate's `lifetime` (notBefore, notAfter), only window
/// starts in `[notBefore − length, notAfter + length]` count. `None` when no window qualifies;
/// cert-manager then reports an error and keeps `desired`.
pub fn in_windows(
    desired: Timestamp,
    windows: &[RenewalWindow],
    lifetime: Option<(Timestamp, Timestamp)>,
) -> Option<Timestamp> {
    let mut first_after: Option<Timestamp> = None;
    for w in windows {
        let length = w.seconds().seconds();
        let bounds = lifetime.map(|(nb, na)| {
            (
                nb.checked_sub(length).unwrap_or(nb),
                na.checked_add(length).unwrap_or(na),
            )
        });
        let in_bounds = |t: Timestamp| bounds.is_none_or(|(lo, hi)| lo <= t && t <= hi);
        let at_least = |t: Timestamp| bounds.map_or(t, |(lo, _)| t.max(lo));
        // A start in [desired − length, desired] opens a window that holds `desired`.
        let opened = desired.checked_sub(length).unwrap_or(desired);
        if w.first_start(at_least(opened))
            .is_some_and(|s| s <= desired && in_bounds(s))
        {
            return Some(desired);
        }
        if let Some(start) = w.first_start(at_least(desired)).filter(|s| in_bounds(*s))
            && first_after.is_none_or(|t| start < t)
        {
            first_after = Some(start);
        }
    }
    first_after
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

    fn window(schedule: &str, hours: u64, zone: &str) -> RenewalWindow {
        RenewalWindow {
            schedule: crate::model::Spanned::new(schedule.parse().unwrap()),
            duration: crate::model::Spanned::new(format!("{hours}h").parse().unwrap()),
            time_zone: crate::model::Spanned::new(zone.to_owned()),
        }
    }

    /// cert-manager's `TestRenewalWithWindowsForRenewBefore`, case by case, with its `now`
    /// fixed at 2026-06-01 (its `future`, midnight five days on, is Saturday 2026-06-06). Like
    /// cert-manager, each case sets `renewBefore` to `notAfter − target` and expects the
    /// renewal instant. The ARI case belongs to the ACME issue; "no window before expiry" is
    /// cert-manager's error case, here `None`.
    #[test]
    fn cert_manager_renewal_windows_table() {
        let future = at("2026-06-06T00:00:00Z");
        let h = |t: Timestamp, hours: f64| {
            Timestamp::from_second(t.as_second() + (hours * 3600.0) as i64).unwrap()
        };
        let not_before = at("2026-05-22T00:00:00Z"); // midnight ten days before now
        let daily_10 = [window("0 10 * * *", 2, "UTC")];
        let daily_15 = [window("0 15 * * *", 2, "UTC")];
        let week = [
            window("0 23 * * 1-5", 2, "UTC"),
            window("0 10 * * 6,0", 4, "UTC"),
        ];
        let phoenix = [window("0 10 * * *", 2, "America/Phoenix")];
        let denver = [window("0 10 * * *", 2, "America/Denver")];
        // (name, notBefore, notAfter, target, windows, expected)
        type Case<'a> = (
            &'a str,
            Timestamp,
            Timestamp,
            Timestamp,
            &'a [RenewalWindow],
            Option<Timestamp>,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                "single window, renewal time within window",
                not_before,
                h(future, 48.0),
                h(future, 10.5),
                &daily_10,
                Some(h(future, 24.0 - 13.5)),
            ),
            (
                "single window, time outside window",
                not_before,
                h(future, 48.0),
                h(future, 13.0),
                &daily_10,
                Some(h(future, 34.0)),
            ),
            (
                "single window, renewal time before the window",
                not_before,
                h(future, 24.0),
                h(future, 9.0),
                &daily_15,
                Some(h(future, 15.0)),
            ),
            (
                "multiple windows, weekday and weekend",
                not_before,
                h(future, 24.0), // the next Saturday is `future` itself
                h(future, 6.0),
                &week,
                Some(h(future, 10.0)),
            ),
            (
                "single window, renewal time within window, different timezone",
                not_before,
                h(future, 48.0),
                at("2026-06-06T17:30:00Z"), // 10:30 in Phoenix (UTC−7, no DST)
                &phoenix,
                Some(at("2026-06-06T17:30:00Z")), // next midnight in Phoenix − 13h30
            ),
            (
                "single window, renewal time in daylight savings (on to off) time zone",
                at("2026-02-26T00:00:00Z"),
                at("2026-11-03T00:00:00Z"),
                at("2026-10-31T21:30:00Z"), // 15:30 MDT, after that day's window
                &denver,
                // 2026-10-31 00:00 MDT + 35h: 10:00 MST on 1 November, after DST ended.
                Some(at("2026-11-01T17:00:00Z")),
            ),
            (
                "single window, renewal time outside of windows",
                not_before,
                h(future, 24.0),
                h(future, 13.5),
                &daily_10,
                None,
            ),
            // trustops' own: a renewal due exactly when a window closes runs then.
            (
                "due at the window's closing instant",
                not_before,
                h(future, 48.0),
                h(future, 12.0),
                &daily_10,
                Some(h(future, 12.0)),
            ),
        ];
        for (name, nb, na, target, windows, expected) in cases {
            let renew_before = format!("{}s", na.as_second() - target.as_second());
            let desired = due_at(
                nb,
                na,
                Some(RenewBefore::Duration(renew_before.parse().unwrap())),
            );
            assert_eq!(desired, target, "{name}: desired instant");
            assert_eq!(
                in_windows(desired, windows, Some((nb, na))),
                expected,
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
