//! Revocation: the certificate a rotation replaces (the last step of its group), and replaced
//! certificates still valid wherever they were found, through the issuer that issued them.

use super::review::Reviews;
use super::rotate::{issuers, target};
use super::{Action, ActionKind, Context, Step, StepKind};
use crate::discover::{Credential, CredentialKind};
use crate::model::Approval;
use crate::reconcile::Status;
use std::collections::BTreeSet;

/// The step revoking `c`, the certificate of `s`, through `issuer`.
fn step(s: &Status, c: &Credential, issuer: &str) -> Step {
    Step {
        step: StepKind::Revoke,
        target: target(s),
        issuers: vec![issuer.to_owned()],
        fingerprint: Some(c.sha256.clone()),
        serial: c.serial.clone(),
        files: c
            .locations
            .iter()
            .filter(|l| l.commit.is_none())
            .filter_map(|l| l.path.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        ..Step::default()
    }
}

/// Revoking the certificate a rotation replaces: when it is still valid, its issuer is known,
/// and the policy says `revokeOnRotate` (the default).
pub(super) fn revoke_step(cx: &Context<'_>, s: &Status) -> Option<Step> {
    let i = s.current?;
    let c = &cx.input.inventory.credentials[i];
    let wanted = cx.policy(s).is_none_or(|p| p.spec.revoke_on_rotate);
    let valid = c.not_after.is_some_and(|na| na.0 > cx.input.now);
    let issuer = revoking_issuer(cx, s, c)?;
    (wanted && valid && c.kind == CredentialKind::X509Certificate).then(|| step(s, c, issuer))
}

/// The declared issuer to revoke `c` through: among those whose CA signed it, the first the
/// credential is issued by, else the first by name.
fn revoking_issuer<'c>(cx: &'c Context<'_>, s: &Status, c: &Credential) -> Option<&'c String> {
    let candidates = cx.rec.issuers.of(c);
    issuers(cx, s)
        .iter()
        .find_map(|own| candidates.iter().find(|c| *c == own))
        .or_else(|| candidates.first())
}

/// Revoke actions for replaced certificates still valid. A person approves each: the old
/// certificate may still be in use where it was found.
pub(super) fn plan(cx: &Context<'_>, out: &mut Vec<Action>, reviews: &mut Reviews) {
    let mut seen = BTreeSet::new();
    for s in &cx.rec.statuses {
        if cx.policy(s).is_some_and(|p| !p.spec.revoke_on_rotate) {
            continue;
        }
        for &i in &s.superseded {
            let c = &cx.input.inventory.credentials[i];
            let valid = c.not_after.is_some_and(|na| na.0 > cx.input.now);
            if c.kind != CredentialKind::X509Certificate || !valid || !seen.insert(&c.sha256) {
                continue;
            }
            let places: Vec<String> = c.locations.iter().map(|l| l.display()).collect();
            let summary = format!(
                "revoke the replaced certificate of {} (serial {}), still valid and found in {}",
                target(s),
                c.serial.as_deref().unwrap_or("?"),
                places.join(", ")
            );
            let Some(issuer) = revoking_issuer(cx, s, c) else {
                reviews.add_unowned(
                    &format!("review:{}", crate::discover::short(&c.sha256, 16)),
                    cx.owner_of(&s.identity),
                    Some(s),
                    &format!("{summary}; its issuer is not declared, so revoke it by hand"),
                );
                continue;
            };
            out.push(Action {
                id: format!("revoke:{}", crate::discover::short(&c.sha256, 16)),
                kind: ActionKind::Revoke,
                owner: cx.owner_of(&s.identity),
                identity: Some(s.identity.clone()),
                credential: Some(s.credential.clone()),
                fingerprint: Some(c.sha256.clone()),
                summary,
                approval: Approval::Manual,
                steps: vec![step(s, c, issuer)],
                ..Action::default()
            });
        }
    }
}
