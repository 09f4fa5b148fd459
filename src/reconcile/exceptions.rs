//! Exceptions: an active exception suppresses exactly the findings of its rule for its
//! identity (one credential or all of them) or its fingerprint; an expired one suppresses
//! nothing and is itself a finding.

use super::Input;
use super::finding::{Declared, Finding, Suppression};
use super::matching::normalize_fingerprint;
use crate::model::{Exception, FindingCode};

/// `exception-expired` for every exception past its expiry.
pub(super) fn expired(input: &Input<'_>, out: &mut Vec<Finding>) {
    for exception in input.model.exceptions.values() {
        let spec = &exception.spec;
        if spec.expires.value.0 > input.now {
            continue;
        }
        let mut f = Finding::new(
            FindingCode::ExceptionExpired,
            format!(
                "exception {} waiving {} expired on {}; the finding it waived is reported again",
                exception.name(),
                spec.rule.value,
                spec.expires.value.0.strftime("%Y-%m-%d")
            ),
        )
        .with("exception", exception.name())
        .with("rule", spec.rule.value)
        .with("approved_by", &spec.approved_by.value)
        .with("expires", spec.expires.value.0);
        f.id = format!("exception-expired:{}", exception.name());
        f.identity = spec.identity.as_ref().map(|s| s.value.clone());
        f.credential = spec.credential.as_ref().map(|s| s.value.clone());
        f.fingerprint = spec
            .fingerprint
            .as_ref()
            .map(|s| normalize_fingerprint(&s.value));
        f.owner = f
            .identity
            .as_ref()
            .and_then(|i| input.model.identities.get(i))
            .and_then(|i| i.spec.owner.as_ref())
            .map(|o| o.value.clone());
        f.declared = Some(Declared {
            path: exception.origin.path.clone(),
            line: spec.expires.span.line,
            column: spec.expires.span.column,
        });
        out.push(f);
    }
}

/// Marks each finding an active exception waives.
pub(super) fn suppress(input: &Input<'_>, findings: &mut [Finding]) {
    let active: Vec<&Exception> = input
        .model
        .exceptions
        .values()
        .filter(|e| e.spec.expires.value.0 > input.now)
        .collect();
    if active.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        if let Some(e) = active.iter().find(|e| waives(e, f)) {
            f.suppressed = Some(Box::new(Suppression {
                exception: e.name().to_owned(),
                reason: e.spec.reason.value.clone(),
                approved_by: e.spec.approved_by.value.clone(),
                expires: e.spec.expires.value.0.to_string(),
            }));
        }
    }
}

/// One line for each active exception that waives no finding: its target no longer has the
/// finding (fixed, or never had it), or it names the wrong target. Either way it is dead
/// weight an auditor will ask about.
pub fn idle(input: &Input<'_>, findings: &[Finding]) -> Vec<String> {
    input
        .model
        .exceptions
        .values()
        .filter(|e| e.spec.expires.value.0 > input.now)
        .filter(|e| {
            !findings
                .iter()
                .any(|f| f.suppressed.as_ref().is_some_and(|s| s.exception == e.name()))
        })
        .map(|e| {
            let spec = &e.spec;
            let target = match (&spec.identity, &spec.credential, &spec.fingerprint) {
                (Some(i), Some(c), _) => format!("{}/{}", i.value, c.value),
                (Some(i), None, _) => i.value.clone(),
                (None, _, Some(fp)) => format!("sha256:{}", fp.value),
                _ => "its target".to_owned(),
            };
            format!(
                "exception {} waives nothing: there is no {} finding about {target} ({}:{}); remove it, or correct its target",
                e.name(),
                spec.rule.value,
                e.origin.path,
                e.origin.span.line
            )
        })
        .collect()
}

/// The longest an exception should run from now before someone looks at it again: a year
/// (and a day, for leap years). Longer waivers are usually forgotten ones.
const LONGEST_WAIVER_SECONDS: i64 = 366 * 24 * 3600;

/// One line for each active exception that runs more than a year from now: an accepted risk
/// should be reviewed at least yearly, and a ten-year waiver is a permanent one in disguise.
pub fn long_lived(input: &Input<'_>) -> Vec<String> {
    input
        .model
        .exceptions
        .values()
        .filter(|e| e.spec.expires.value.0.as_second() - input.now.as_second() > LONGEST_WAIVER_SECONDS)
        .map(|e| {
            let expires = e.spec.expires.value.0;
            let left = super::checks::human(expires.as_second() - input.now.as_second());
            format!(
                "exception {} waives {} until {} ({left} from now, {}:{}): an accepted risk should be reviewed within a year; set an earlier expires and renew it when reviewed",
                e.name(),
                e.spec.rule.value,
                expires.strftime("%Y-%m-%d"),
                e.origin.path,
                e.spec.expires.span.line
            )
        })
        .collect()
}

fn waives(e: &Exception, f: &Finding) -> bool {
    let spec = &e.spec;
    if spec.rule.value != f.code
        // An exception does not waive the finding that it itself expired.
        || (f.code == FindingCode::ExceptionExpired
            && f.evidence.get("exception").map(String::as_str) == Some(e.name()))
    {
        return false;
    }
    let by_identity = spec.identity.as_ref().is_some_and(|i| {
        f.identity.as_deref() == Some(&i.value)
            && spec
                .credential
                .as_ref()
                .is_none_or(|c| f.credential.as_deref() == Some(&c.value))
    });
    let by_fingerprint = spec.fingerprint.as_ref().is_some_and(|fp| {
        f.fingerprint.as_deref() == Some(normalize_fingerprint(&fp.value).as_str())
    });
    by_identity || by_fingerprint
}
