//! Secret, API key, token and key checks: past their expiry, or older than the policy's
//! `maxAge` since they were created or last rotated.

use super::{Context, day, human};
use crate::discover::{Credential, CredentialKind};
use crate::model::FindingCode;
use crate::reconcile::finding::Finding;

/// Checks the current credential `c` of declared credential `d` (certificates are left to
/// the certificate checks: their lifetime is bounded by `maxValidity`).
pub(super) fn check(cx: &Context<'_>, d: usize, c: &Credential, out: &mut Vec<Finding>) {
    if c.kind == CredentialKind::X509Certificate {
        return;
    }
    let i = cx.matches[d].current.unwrap_or_default();
    let now = cx.input.now;
    if let Some(expires) = c.expires
        && expires.0 < now
    {
        let ago = now.as_second() - expires.0.as_second();
        out.push(
            cx.about_found(
                d,
                i,
                FindingCode::Expired,
                format!("expired {} ago ({})", human(ago), day(expires.0)),
            )
            .with("expires", expires.0),
        );
    }
    let Some(policy) = cx.declared[d].policy else {
        return;
    };
    let Some(max_age) = &policy.spec.max_age else {
        return;
    };
    let (born, field) = match (c.last_rotated, c.created) {
        (Some(t), _) => (t, "last_rotated"),
        (None, Some(t)) => (t, "created"),
        (None, None) => return,
    };
    let age = now.as_second() - born.0.as_second();
    if age > i64::try_from(max_age.value.seconds()).unwrap_or(i64::MAX) {
        let what = if field == "created" {
            "created"
        } else {
            "last rotated"
        };
        out.push(
            cx.about_found(
                d,
                i,
                FindingCode::SecretTooOld,
                format!(
                    "{what} {} ago ({}); {} allows {}",
                    human(age),
                    day(born.0),
                    policy.name(),
                    max_age.value
                ),
            )
            .with(field, born.0)
            .with("max_age", max_age.value),
        );
    }
}
