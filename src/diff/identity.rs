//! Identities and their credentials compared: added, removed, renamed (same spec, new name),
//! owner, policy and workload changed; credentials added or removed, match rules widened or
//! narrowed, rotation links and issuers changed. Approvers: the identity's owners before and
//! after.

use super::{Changes, Draft, Risk, added, text};
use crate::model::{Credential, Identity, Kind, Match, Model, Origin};
use std::collections::BTreeSet;

pub(super) fn compare(base: &Model, head: &Model, out: &mut Changes<'_>) {
    let gone: Vec<&Identity> = base
        .identities
        .values()
        .filter(|i| !head.identities.contains_key(i.name()))
        .collect();
    let mut new: Vec<&Identity> = head
        .identities
        .values()
        .filter(|i| !base.identities.contains_key(i.name()))
        .collect();
    for before in gone {
        let owners = out.approvers.identity(before.name());
        if let Some(at) = new.iter().position(|a| a.spec == before.spec) {
            let after = new.remove(at);
            let mut owners = owners;
            owners.extend(out.approvers.identity(after.name()));
            out.push(
                Kind::Identity,
                after.name(),
                &after.origin,
                owners,
                Draft::new(
                    "identity-renamed",
                    Risk::Low,
                    format!("identity {} renamed to {}", before.name(), after.name()),
                )
                .field(
                    "metadata.name",
                    Some(before.name().into()),
                    Some(after.name().into()),
                ),
            );
            continue;
        }
        out.push(
            Kind::Identity,
            before.name(),
            &before.origin,
            owners,
            Draft::new(
                "identity-removed",
                Risk::Medium,
                format!(
                    "identity {} removed with its {} credential(s): they become unmanaged",
                    before.name(),
                    before.spec.credentials.len()
                ),
            ),
        );
    }
    for after in new {
        let owners = out.approvers.identity(after.name());
        out.push(
            Kind::Identity,
            after.name(),
            &after.origin,
            owners,
            Draft::new(
                "identity-added",
                Risk::Low,
                format!(
                    "identity {} added with {} credential(s)",
                    after.name(),
                    after.spec.credentials.len()
                ),
            ),
        );
    }
    for (name, before) in &base.identities {
        if let Some(after) = head.identities.get(name) {
            identity(head, before, after, out);
        }
    }
}

fn identity(head: &Model, before: &Identity, after: &Identity, out: &mut Changes<'_>) {
    let owners = out.approvers.identity(after.name());
    let push = |out: &mut Changes<'_>, origin: &Origin, draft: Draft| {
        out.push(Kind::Identity, after.name(), origin, owners.clone(), draft);
    };
    let (b, a) = (&before.spec, &after.spec);
    let value = |v: &Option<crate::model::Spanned<String>>| v.as_ref().map(|s| s.value.clone());
    let fields = [
        (
            "spec.owner",
            "owner-changed",
            "owner",
            value(&b.owner),
            value(&a.owner),
        ),
        (
            "spec.policy",
            "identity-policy-changed",
            "policy",
            value(&b.policy),
            value(&a.policy),
        ),
        (
            "spec.workload",
            "workload-changed",
            "workload",
            value(&b.workload),
            value(&a.workload),
        ),
    ];
    for (field, code, what, was, now) in fields {
        if was != now {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
            push(
                out,
                &after.origin,
                Draft::new(
                    code,
                    Risk::Medium,
                    format!("{} {what}: {} → {}", after.name(), show(&was), show(&now)),
                )
                .field(field, was, now),
            );
        }
    }
    for credential in &a.credentials {
        let origin = at(after, credential);
        let target = format!("{}/{}", after.name(), credential.name.value);
        match b.credentials.iter().find(|c| c.name == credential.name) {
            None => push(
                out,
                &origin,
                Draft::new(
                    "credential-added",
                    Risk::Low,
                    format!("credential {target} added"),
                ),
            ),
            Some(was) => {
                let domain = crate::model::Declared::of(head, after, credential)
                    .policy
                    .map(|p| p.spec.trust_domain.value.as_str());
                for draft in self::credential(&target, was, credential, domain) {
                    if TRUST.contains(&draft.code) {
                        out.push_trust(
                            Kind::Identity,
                            after.name(),
                            &origin,
                            owners.clone(),
                            draft,
                        );
                    } else {
                        push(out, &origin, draft);
                    }
                }
            }
        }
    }
    for credential in &b.credentials {
        if !a.credentials.iter().any(|c| c.name == credential.name) {
            let target = format!("{}/{}", before.name(), credential.name.value);
            push(
                out,
                &at(before, credential),
                Draft::new(
                    "credential-removed",
                    Risk::Medium,
                    format!("credential {target} removed: what it matched becomes unmanaged"),
                ),
            );
        }
    }
}

/// Changes to a credential that change what is trusted: only trust approvers approve them.
const TRUST: [&str; 2] = ["issuer-allowed", "wildcard-added"];

/// Where a credential is declared: its identity's file, at its name.
fn at(identity: &Identity, credential: &Credential) -> Origin {
    Origin {
        span: credential.name.span,
        ..identity.origin.clone()
    }
}

fn credential(target: &str, b: &Credential, a: &Credential, domain: Option<&str>) -> Vec<Draft> {
    let mut out = matching(target, &b.match_rule.value, &a.match_rule.value);
    let names =
        |c: &Credential| -> Vec<String> { c.dns_names.iter().map(|n| n.value.clone()).collect() };
    let (was, now) = (names(b), names(a));
    let wildcards: Vec<&String> = super::added(&was, &now)
        .into_iter()
        .filter(|n| n.starts_with("*."))
        .collect();
    if !wildcards.is_empty() {
        let public = domain == Some("public-tls");
        let (risk, scope) = if public {
            (
                Risk::High,
                "a public certificate: one key then serves every host under it, on the internet",
            )
        } else {
            (Risk::Medium, "one key then serves every host under it")
        };
        out.push(
            Draft::new(
                "wildcard-added",
                risk,
                format!("{target} gains {} on {scope}", text(&wildcards)),
            )
            .field("credentials.dnsNames", Some(text(&was)), Some(text(&now))),
        );
    }
    let names = |v: &[crate::model::Spanned<String>]| {
        v.iter().map(|s| s.value.clone()).collect::<BTreeSet<_>>()
    };
    for (field, was, now) in [
        ("rotateWith", names(&b.rotate_with), names(&a.rotate_with)),
        ("dependsOn", names(&b.depends_on), names(&a.depends_on)),
    ] {
        if was != now {
            out.push(
                Draft::new(
                    "links-changed",
                    Risk::Medium,
                    format!("{target} {field}: {} → {}", text(&was), text(&now)),
                )
                .field(
                    &format!("credentials.{field}"),
                    Some(text(&was)),
                    Some(text(&now)),
                ),
            );
        }
    }
    for issuer in added(&b.issuers, &a.issuers) {
        out.push(
            Draft::new(
                "issuer-allowed",
                Risk::High,
                format!("{target} may now be issued by {}", issuer.value),
            )
            .field(
                "credentials.issuers",
                Some(text(&b.issuers)),
                Some(text(&a.issuers)),
            ),
        );
    }
    if b.policy != a.policy {
        let show = |p: &Option<crate::model::Spanned<String>>| {
            p.as_ref()
                .map_or_else(|| "the identity's".to_owned(), |p| p.value.clone())
        };
        out.push(
            Draft::new(
                "credential-policy-changed",
                Risk::Medium,
                format!("{target} policy: {} → {}", show(&b.policy), show(&a.policy)),
            )
            .field(
                "credentials.policy",
                Some(show(&b.policy)),
                Some(show(&a.policy)),
            ),
        );
    }
    let rest = |c: &Credential| {
        text(&(
            &c.credential_type,
            &c.common_name,
            &c.dns_names,
            &c.ip_addresses,
            &c.deploy,
            &c.description,
        ))
    };
    if rest(b) != rest(a) {
        out.push(Draft::new(
            "credential-changed",
            Risk::Low,
            format!("{target}: names, deploy targets or type changed"),
        ));
    }
    out
}

/// Every condition of a match rule must hold, so dropping one widens it (it may claim
/// credentials it did not before) and adding one narrows it.
fn matching(target: &str, b: &Match, a: &Match) -> Vec<Draft> {
    let mut out = Vec::new();
    let single = |m: &Match| {
        [
            ("uri", m.uri.clone()),
            ("subject", m.subject.clone()),
            ("issuer", m.issuer.clone()),
            (
                "fingerprint",
                m.fingerprint.as_ref().map(|f| f.value.clone()),
            ),
            ("source", m.source.as_ref().map(|s| s.value.clone())),
            ("location", m.location.clone()),
            ("secretId", m.secret_id.clone()),
        ]
    };
    let mut push = |code: &'static str,
                    risk: Risk,
                    field: &str,
                    message: String,
                    was: Option<String>,
                    now: Option<String>| {
        out.push(Draft::new(code, risk, message).field(
            &format!("credentials.match.{field}"),
            was,
            now,
        ));
    };
    for ((field, was), (_, now)) in single(b).into_iter().zip(single(a)) {
        match (&was, &now) {
            (Some(_), None) => push(
                "match-widened",
                Risk::High,
                field,
                format!("{target} match no longer requires {field}"),
                was,
                now,
            ),
            (None, Some(_)) => push(
                "match-narrowed",
                Risk::Low,
                field,
                format!("{target} match now requires {field}"),
                was,
                now,
            ),
            (Some(x), Some(y)) if x != y => push(
                "match-changed",
                Risk::Medium,
                field,
                format!("{target} match {field}: {x} → {y}"),
                was,
                now,
            ),
            _ => {}
        }
    }
    let dropped = added(&a.dns_names, &b.dns_names);
    if !dropped.is_empty() {
        push(
            "match-widened",
            Risk::High,
            "dnsNames",
            format!("{target} match no longer requires {}", text(&dropped)),
            Some(text(&b.dns_names)),
            Some(text(&a.dns_names)),
        );
    } else if !added(&b.dns_names, &a.dns_names).is_empty() {
        push(
            "match-narrowed",
            Risk::Low,
            "dnsNames",
            format!(
                "{target} match requires {}",
                text(&added(&b.dns_names, &a.dns_names))
            ),
            Some(text(&b.dns_names)),
            Some(text(&a.dns_names)),
        );
    }
    out
}
