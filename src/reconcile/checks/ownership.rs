//! Ownership: identities nobody answers for, declared credentials nobody found, discovered
//! credentials nobody declared (unmanaged), one credential claimed by several identities, and
//! private keys with no certificate or outside the places their credential declares.

use super::{Context, found_at};
use crate::discover::{Credential, CredentialKind};
use crate::model::FindingCode;
use crate::reconcile::finding::{Declared, Finding};
use crate::reconcile::matching;
use std::collections::BTreeSet;

/// `owner-missing`: an identity without an owner, or whose owner has no contact at all.
pub(super) fn owners(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = cx.input.model;
    for identity in model.identities.values() {
        let message = match &identity.spec.owner {
            None => "no owner is declared; nobody answers for its credentials".to_owned(),
            Some(owner) => match model.owners.get(&owner.value) {
                Some(o) if o.spec.contacts.is_empty() && o.spec.escalation.is_empty() => {
                    format!(
                        "owner {} has no contacts and no escalation: nobody can be told",
                        owner.value
                    )
                }
                Some(_) => continue,
                None => format!("owner {} is not declared", owner.value),
            },
        };
        let mut f = Finding::new(FindingCode::OwnerMissing, message);
        f.identity = Some(identity.name().to_owned());
        f.owner = identity.spec.owner.as_ref().map(|o| o.value.clone());
        let span = identity
            .spec
            .owner
            .as_ref()
            .map_or(identity.origin.span, |o| o.span);
        f.declared = Some(Declared {
            path: identity.origin.path.clone(),
            line: span.line,
            column: span.column,
        });
        out.push(f);
    }
}

/// `missing`: declared credential `d` matched nothing. The message names the discovered
/// credential that came closest and the conditions it fails, so a mistyped rule shows as one.
pub(super) fn missing(cx: &Context<'_>, d: usize, out: &mut Vec<Finding>) {
    let declared = &cx.declared[d];
    let rule = &declared.credential.match_rule.value;
    let nearest = matching::nearest(declared, cx.input.inventory, cx.index, cx.input.base);
    let message = match &nearest {
        Some(n) => {
            let c = cx.credential(n.position);
            let place = c
                .locations
                .first()
                .map_or_else(|| c.sha256.chars().take(12).collect(), |l| l.display());
            let has_name = |n: &&String| {
                c.dns_names
                    .iter()
                    .flatten()
                    .any(|v| v.eq_ignore_ascii_case(n))
            };
            let names = |keep: bool| -> Vec<&str> {
                rule.dns_names
                    .iter()
                    .filter(|n| has_name(n) == keep)
                    .map(String::as_str)
                    .collect()
            };
            let mut held = fields(&n.held);
            let some_names = names(true);
            if n.failed.contains(&matching::Rule::DnsNames) && !some_names.is_empty() {
                let part = format!("dnsNames [{}]", some_names.join(", "));
                held = if held.is_empty() {
                    part
                } else {
                    format!("{held}, {part}")
                };
            }
            if n.failed.is_empty() {
                format!(
                    "no discovered credential matches its match rule: {place} meets every condition ({held}) but is a {}, not a {}",
                    c.kind.as_str(),
                    declared.credential.credential_type.value.as_str()
                )
            } else {
                let failed: Vec<String> = n
                    .failed
                    .iter()
                    .map(|&r| match r {
                        matching::Rule::DnsNames => {
                            format!("dnsNames [{}]", names(false).join(", "))
                        }
                        _ => condition(cx, rule, r),
                    })
                    .collect();
                format!(
                    "no discovered credential matches its match rule; closest is {place}, which has {held} but not {}",
                    failed.join(", ")
                )
            }
        }
        None => {
            let wanted: Vec<String> = matching::Rule::ALL
                .into_iter()
                .filter(|r| r.identifies())
                .filter(|r| r.is_set(rule))
                .map(|r| condition(cx, rule, r))
                .collect();
            if wanted.is_empty() {
                "no discovered credential matches its match rule".to_owned()
            } else {
                format!(
                    "no discovered credential matches its match rule: nothing discovered has {}",
                    wanted.join(" or ")
                )
            }
        }
    };
    let mut f = cx.about(d, FindingCode::Missing, message);
    if let Some(n) = &nearest {
        let c = cx.credential(n.position);
        f = f.with("closest", &c.sha256);
        if !n.failed.is_empty() {
            f = f.with("failed_conditions", fields(&n.failed));
        }
    }
    if let Some(source) = &rule.source {
        if cx
            .input
            .inventory
            .diagnostics
            .iter()
            .filter_map(|p| p.source_failed.as_ref())
            .any(|f| f.source == source.value)
        {
            f.message = format!(
                "not found, but source {} could not be read: it may exist",
                source.value
            );
        }
        f = f.with("source", &source.value);
    }
    out.push(f);
}

fn fields(rules: &[matching::Rule]) -> String {
    rules
        .iter()
        .map(|r| r.field())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One condition of `rule` as the declaration states it; a relative location also shows
/// where it points.
fn condition(cx: &Context<'_>, rule: &crate::model::Match, r: matching::Rule) -> String {
    use matching::Rule;
    let value = match r {
        Rule::Fingerprint => rule.fingerprint.as_ref().map(|f| f.value.clone()),
        Rule::SecretId => rule.secret_id.clone(),
        Rule::Uri => rule.uri.clone(),
        Rule::DnsNames => Some(format!("[{}]", rule.dns_names.join(", "))),
        Rule::Subject => rule.subject.clone(),
        Rule::Issuer => rule.issuer.clone(),
        Rule::Source => rule.source.as_ref().map(|s| s.value.clone()),
        Rule::Location => rule.location.as_ref().map(|l| {
            let resolved = crate::reconcile::resolve(cx.input.base, l);
            if l.starts_with("**") || resolved.as_os_str() == l.as_str() {
                l.clone()
            } else {
                format!("{l} (that is {})", resolved.display())
            }
        }),
    };
    format!("{} {}", r.field(), value.unwrap_or_default())
}

/// `orphan-private-key`: the current certificate's private key found outside the key files
/// its credential declares.
pub(super) fn key_locations(cx: &Context<'_>, d: usize, c: &Credential, out: &mut Vec<Finding>) {
    let declared: BTreeSet<&str> = cx.key_files[d].iter().map(String::as_str).collect();
    let (Some(public_key), false) = (c.public_key_sha256.as_deref(), declared.is_empty()) else {
        return;
    };
    for &k in cx
        .index
        .by_sha256
        .get(public_key)
        .map_or(&[][..], |p| p.as_slice())
    {
        let key = cx.credential(k);
        if key.kind != CredentialKind::PrivateKey {
            continue;
        }
        for location in &key.locations {
            if location
                .path
                .as_deref()
                .is_some_and(|p| !declared.contains(p))
            {
                let mut f = cx.about(
                    d,
                    FindingCode::OrphanPrivateKey,
                    format!(
                        "its private key is also in {}, outside the declared key files",
                        location.display()
                    ),
                );
                f.fingerprint = Some(key.sha256.clone());
                f.location = Some(location.display());
                out.push(f.with("declared_key_files", join(&declared)));
            }
        }
    }
}

fn join(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(", ")
}

/// `shared-credential`: one discovered credential matched by several identities; each of
/// them gets a finding naming the others.
pub(super) fn shared(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (i, claimed_by) in cx.claims.iter() {
        // Nearly every credential is claimed by one identity: known without collecting.
        let first = claimed_by.first().map(|&d| cx.declared[d].identity.name());
        if claimed_by
            .iter()
            .all(|&d| Some(cx.declared[d].identity.name()) == first)
        {
            continue;
        }
        let identities: BTreeSet<&str> = claimed_by
            .iter()
            .map(|&d| cx.declared[d].identity.name())
            .collect();
        if identities.len() < 2 {
            continue;
        }
        let mut seen = BTreeSet::new();
        for &d in claimed_by {
            let me = cx.declared[d].identity.name();
            if !seen.insert(me) {
                continue;
            }
            let others: Vec<&str> = identities.iter().copied().filter(|o| *o != me).collect();
            out.push(
                cx.about_found(
                    d,
                    i,
                    FindingCode::SharedCredential,
                    format!("also used by {}", others.join(", ")),
                )
                .with(
                    "identities",
                    identities.iter().copied().collect::<Vec<_>>().join(", "),
                ),
            );
        }
    }
}

/// `unmanaged` and key-only `orphan-private-key`: discovered credentials nobody claims.
/// Private keys of certificates belong to them; CA certificates that sign others are chain
/// members, not identities. Looks at positions in `range`; returns the unmanaged ones.
pub(super) fn unclaimed(
    cx: &Context<'_>,
    range: std::ops::Range<usize>,
    out: &mut Vec<Finding>,
) -> Vec<usize> {
    let mut unmanaged = Vec::new();
    let inventory = &cx.input.inventory.credentials;
    // A wrong key in a declared key file is the certificate's `drift` (rotation replaces it),
    // not a stray to remove: that advice would delete a deployed file.
    let declared_key_files: std::collections::HashSet<&str> =
        cx.key_files.iter().flatten().map(String::as_str).collect();
    for i in range {
        let c = &inventory[i];
        if cx.claims.is_claimed(i) {
            continue;
        }
        let twins = cx
            .index
            .by_sha256
            .get(c.sha256.as_str())
            .map_or(&[][..], |p| p.as_slice());
        let openssh = c.format.as_deref() == Some("openssh");
        // An SSH key pair: the public half speaks for it when present.
        let ssh_pair = c.kind == CredentialKind::PrivateKey
            && openssh
            && twins
                .iter()
                .any(|&t| t != i && inventory[t].kind == CredentialKind::SshPublicKey);
        // A public key on its own is inventory (the crypto bill of materials), not a credential
        // anyone must own.
        if ssh_pair || c.kind == CredentialKind::PublicKey {
            continue;
        }
        match c.kind {
            CredentialKind::PrivateKey if !openssh => {
                let in_a_declared_key_file = c.locations.iter().any(|l| {
                    l.path
                        .as_deref()
                        .is_some_and(|p| declared_key_files.contains(p))
                });
                if cx.index.certified_keys.contains(c.sha256.as_str()) || in_a_declared_key_file {
                    continue;
                }
                let f = Finding::new(
                    FindingCode::OrphanPrivateKey,
                    format!(
                        "private key ({}) with no certificate, declared by no identity",
                        describe_key(c)
                    ),
                );
                out.push(found_at(f, c));
                continue;
            }
            CredentialKind::X509Certificate if c.is_ca == Some(true) => {
                let subject = c.subject.as_deref().unwrap_or_default();
                if cx.index.issuers_seen.contains(subject) || !cx.issuers_named(subject).is_empty()
                {
                    continue;
                }
            }
            _ => {}
        }
        let what = match c.kind {
            CredentialKind::X509Certificate => format!(
                "certificate {}",
                c.subject.as_deref().unwrap_or("with an empty subject")
            ),
            kind => match (&c.id, &c.subject) {
                (Some(id), _) => format!("{} {id}", kind.as_str()),
                (None, Some(s)) => format!("{} of {s}", kind.as_str()),
                (None, None) => kind.as_str().to_owned(),
            },
        };
        let mut f = Finding::new(
            FindingCode::Unmanaged,
            format!("{what} is declared by no identity"),
        );
        if let Some(na) = c.not_after.or(c.expires) {
            f = f.with("not_after", na.0);
        }
        out.push(found_at(f, c));
        // Nobody rotates it, but a revoked certificate still served is worth its own alarm.
        if let Some(revoked) = cx.input.revoked.get(&c.sha256) {
            let mut r = Finding::new(
                FindingCode::Revoked,
                format!(
                    "certificate revoked {} by its CA and still in use, declared by no identity",
                    super::day(revoked.at.0)
                ),
            )
            .with("revoked_at", revoked.at.0)
            .with("source", &revoked.source);
            if let Some(reason) = &revoked.reason {
                r = r.with("reason", reason);
            }
            out.push(found_at(r, c));
        }
        unmanaged.push(i);
    }
    unmanaged
}

fn describe_key(c: &Credential) -> String {
    match (&c.key_type, c.key_bits) {
        (Some(t), Some(b)) => format!("{t} {b}-bit"),
        (Some(t), None) => t.to_string(),
        _ => "unrecognised".to_owned(),
    }
}
