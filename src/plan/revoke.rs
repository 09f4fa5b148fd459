//! Revocation: the certificate a rotation replaces (the last step of its group), and replaced
//! certificates still valid wherever they were found, through the issuer that issued them.

use super::review::Reviews;
use super::{Action, ActionKind, Context, Step, StepKind};
use crate::discover::{Credential, CredentialKind};
use crate::model::Approval;
use crate::reconcile::Status;
use std::collections::BTreeSet;

/// The step revoking `c`, the certificate of `target`, through `issuer`.
fn step(target: String, c: &Credential, issuer: &str) -> Step {
    Step {
        step: StepKind::Revoke,
        target,
        issuers: vec![issuer.to_owned()],
        fingerprint: Some(c.sha256.clone()),
        serial: c.serial.as_deref().map(str::to_owned),
        files: c
            .locations
            .iter()
            .filter(|l| l.commit.is_none())
            .filter_map(|l| l.path.as_deref())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(str::to_owned)
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
    let valid = c.not_after.is_some_and(|na| na.0 >= cx.input.now)
        && !cx.input.revoked.contains_key(&c.sha256);
    let issuer = revoking_issuer(cx, s, c)?;
    (wanted && valid && c.kind == CredentialKind::X509Certificate)
        .then(|| step(s.target(), c, issuer))
}

/// The declared issuer to revoke `c` through: among those whose CA signed it and that can
/// revoke (an exec plugin's contract has no revocation), the first the credential is issued
/// by, else the first by name.
fn revoking_issuer<'c>(cx: &'c Context<'_>, s: &Status, c: &Credential) -> Option<&'c String> {
    let revokes = |name: &&String| {
        cx.input
            .model
            .issuers
            .get(name.as_str())
            .is_some_and(|i| i.spec.exec.is_none())
    };
    let candidates: Vec<&String> = cx.rec.issuers.of(c).iter().filter(revokes).collect();
    cx.issuers(s)
        .iter()
        .find_map(|own| candidates.iter().copied().find(|c| *c == own))
        .or_else(|| candidates.first().copied())
}

/// Revoke actions for replaced certificates still valid. A person approves each: the old
/// certificate may still be in use where it was found.
pub(super) fn plan(cx: &Context<'_>, out: &mut Vec<Action>, reviews: &mut Reviews) {
    // Replaced certificates still valid, found on every core (at scale, a few among most of
    // the inventory), then planned in status order.
    let statuses = &cx.rec.statuses;
    let replaced = crate::parallel::ranges(statuses.len(), |range| {
        let mut found = Vec::new();
        for s in &statuses[range] {
            if cx.policy(s).is_some_and(|p| !p.spec.revoke_on_rotate) {
                continue;
            }
            for &i in &s.superseded {
                let c = &cx.input.inventory.credentials[i];
                let valid = c.not_after.is_some_and(|na| na.0 >= cx.input.now)
                    && !cx.input.revoked.contains_key(&c.sha256);
                if c.kind == CredentialKind::X509Certificate && valid {
                    found.push((s, c));
                }
            }
        }
        found
    });
    let mut seen = BTreeSet::new();
    for (s, c) in replaced.into_iter().flatten() {
        if !seen.insert(&c.sha256) {
            continue;
        }
        let places: Vec<String> = c.locations.iter().map(|l| l.display()).collect();
        let summary = format!(
            "revoke the replaced certificate of {} (serial {}), still valid and found in {}",
            s.target(),
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
            steps: vec![step(s.target(), c, issuer)],
            ..Action::default()
        });
    }
}

/// The one action of `trustops revoke`: revoke the certificate `selector` names — an
/// `identity/credential` (its current certificate), a SHA-256 fingerprint or a unique prefix of
/// at least 8 hex digits, or a serial number — for RFC 5280 `reason`, through the declared
/// issuer that issued it.
pub(super) fn compromised(
    cx: &Context<'_>,
    selector: &str,
    reason: &str,
) -> Result<Action, String> {
    let inventory = &cx.input.inventory.credentials;
    let (i, status) = select(cx, selector)?;
    let c = &inventory[i];
    if c.kind != CredentialKind::X509Certificate {
        return Err(format!(
            "{selector} is a {}, not a certificate: rotate it instead (trustops plan)",
            c.kind.as_str()
        ));
    }
    let name = status.map_or_else(
        || crate::discover::short(&c.sha256, 16).to_owned(),
        Status::target,
    );
    let issuer = match status {
        Some(s) => revoking_issuer(cx, s, c),
        None => cx.rec.issuers.of(c).first(),
    }
    .ok_or_else(|| {
        format!(
            "no declared issuer is known to have issued {name} (issuer {}): declare its CA's subject in caSubjects",
            c.issuer.as_deref().unwrap_or("unknown")
        )
    })?;
    let mut step = step(name.clone(), c, issuer);
    step.reason = Some(reason.to_owned());
    Ok(Action {
        id: format!("revoke:{}", crate::discover::short(&c.sha256, 16)),
        kind: ActionKind::Revoke,
        owner: status.and_then(|s| cx.owner_of(&s.identity)),
        identity: status.map(|s| s.identity.clone()),
        credential: status.map(|s| s.credential.clone()),
        fingerprint: Some(c.sha256.clone()),
        summary: format!(
            "revoke the certificate of {name} (serial {}) for {reason}",
            c.serial.as_deref().unwrap_or("?")
        ),
        approval: Approval::Manual,
        steps: vec![step],
        ..Action::default()
    })
}

/// The inventory position `selector` names, and the declared credential it belongs to.
fn select<'c>(cx: &'c Context<'_>, selector: &str) -> Result<(usize, Option<&'c Status>), String> {
    let statuses = &cx.rec.statuses;
    let owner = |i: usize| {
        statuses
            .iter()
            .find(|s| s.current == Some(i) || s.superseded.contains(&i) || s.copies.contains(&i))
    };
    if let Some((identity, credential)) = selector.split_once('/') {
        let s = statuses
            .iter()
            .find(|s| s.identity == identity && s.credential == credential)
            .ok_or_else(|| format!("{selector} is not a declared credential"))?;
        let i = s
            .current
            .ok_or_else(|| format!("nothing discovered matches {selector}"))?;
        return Ok((i, Some(s)));
    }
    let wanted: String = selector
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if wanted.is_empty() || !wanted.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{selector} is neither identity/credential, a SHA-256 fingerprint nor a serial number"
        ));
    }
    let credentials = &cx.input.inventory.credentials;
    let serial = wanted.trim_start_matches('0');
    let mut found: Vec<usize> = (0..credentials.len())
        .filter(|&i| wanted.len() >= 8 && credentials[i].sha256.starts_with(&wanted))
        .collect();
    if found.is_empty() {
        found = (0..credentials.len())
            .filter(|&i| credentials[i].serial.as_deref() == Some(serial))
            .collect();
    }
    match found.as_slice() {
        [] => Err(format!(
            "no discovered certificate has the fingerprint or serial {selector}"
        )),
        [i] => Ok((*i, owner(*i))),
        many => Err(format!(
            "{selector} names {} credentials ({}); give the full fingerprint",
            many.len(),
            many.iter()
                .map(|&i| crate::discover::short(&credentials[i].sha256, 16))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
