//! Public TLS lifetimes by issuance date: the CA/Browser Forum's ballot SC-081 caps the
//! validity of publicly trusted TLS server certificates by the date they are issued — 398 days
//! before 2026-03-15, 200 days from then, 100 days from 2027-03-15, 47 days from 2029-03-15.
//! For `public-tls` policies this is the default `maxValidity`, and a policy's own can only
//! tighten it.

use jiff::Timestamp;

/// The trust domain the schedule applies to.
pub const DOMAIN: &str = "public-tls";

/// The rule's name, as findings and warnings cite it.
pub const RULE: &str = "CA/Browser Forum ballot SC-081";

/// From each date on, the longest validity in days (the first row: before every date).
const STEPS: [(&str, u64); 4] = [
    ("1970-01-01T00:00:00Z", 398),
    ("2026-03-15T00:00:00Z", 200),
    ("2027-03-15T00:00:00Z", 100),
    ("2029-03-15T00:00:00Z", 47),
];

fn steps() -> impl Iterator<Item = (Timestamp, u64)> {
    STEPS
        .iter()
        .filter_map(|(date, days)| Some((date.parse().ok()?, *days)))
}

/// The step a public TLS certificate issued at `issued` falls under: from when, and the
/// days it allows.
pub fn step_at(issued: Timestamp) -> (Timestamp, u64) {
    steps()
        .take_while(|(from, _)| *from <= issued)
        .last()
        .unwrap_or((Timestamp::UNIX_EPOCH, 398))
}

/// The longest validity, in seconds, of a public TLS certificate issued at `issued`.
pub fn max_validity(issued: Timestamp) -> u64 {
    step_at(issued).1 * 86_400
}

/// The next step after `now`: from when, and the days it allows.
pub fn next_step(now: Timestamp) -> Option<(Timestamp, u64)> {
    steps().find(|(from, _)| *from > now)
}

/// The date a step starts, for messages.
pub fn day(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// How long before a step the plan starts warning about it.
const NOTICE_SECONDS: i64 = 180 * 86_400;

/// Warnings ahead of the next step, within 180 days: each `public-tls` policy whose
/// `maxValidity` (absent: what SC-081 allows now) exceeds what the step will allow, and how
/// many certificates in use under such policies last longer than it.
pub fn warnings(input: &super::Input<'_>, rec: &super::Reconciliation) -> Vec<String> {
    let now = input.now;
    let Some((from, days)) = next_step(now) else {
        return Vec::new();
    };
    if from.as_second() - now.as_second() > NOTICE_SECONDS {
        return Vec::new();
    }
    let limit = days * 86_400;
    let mut out = Vec::new();
    for policy in input.model.policies.values() {
        if policy.spec.trust_domain.value != DOMAIN {
            continue;
        }
        let allowed = policy
            .spec
            .max_validity
            .as_ref()
            .map_or(max_validity(now), |m| m.value.seconds());
        if allowed <= limit {
            continue;
        }
        let longer = rec
            .statuses
            .iter()
            .filter(|s| s.policy.as_deref() == Some(policy.name()))
            .filter_map(|s| input.inventory.credentials.get(s.current?))
            .filter(|c| {
                let (Some(nb), Some(na)) = (c.not_before, c.not_after) else {
                    return false;
                };
                na.0.as_second() - nb.0.as_second() > i64::try_from(limit).unwrap_or(i64::MAX)
            })
            .count();
        out.push(format!(
            "policy {} ({}:{}) allows public TLS certificates of {} days, but from {} {RULE} allows at most {days} days: lower maxValidity to {days}d or less before then ({longer} certificate(s) in use last longer)",
            policy.name(),
            policy.origin.path,
            policy
                .spec
                .max_validity
                .as_ref()
                .map_or(policy.origin.span.line, |m| m.span.line),
            allowed / 86_400,
            day(from),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn validity_by_issuance_date() {
        let days = |s| max_validity(at(s)) / 86_400;
        assert_eq!(days("2025-12-01T00:00:00Z"), 398);
        assert_eq!(days("2026-03-14T23:59:59Z"), 398);
        assert_eq!(days("2026-03-15T00:00:00Z"), 200);
        assert_eq!(days("2027-03-15T00:00:00Z"), 100);
        assert_eq!(days("2029-03-14T00:00:00Z"), 100);
        assert_eq!(days("2029-03-15T00:00:00Z"), 47);
        assert_eq!(days("2035-01-01T00:00:00Z"), 47);
        assert_eq!(
            next_step(at("2026-12-01T00:00:00Z")),
            Some((at("2027-03-15T00:00:00Z"), 100))
        );
        assert_eq!(next_step(at("2030-01-01T00:00:00Z")), None);
    }
}
