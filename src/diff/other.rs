//! Owners, issuers, sources and exceptions compared. An exception added, extended (a later
//! expiry, a wider scope, another rule) is high risk: it silences findings. Approvers: for an
//! owner, that owner; for an issuer or source, the owners of the identities that use it; for an
//! exception, the owners of the identity it names.

use super::{Changes, Draft, Risk, text};
use crate::model::{Declaration, Exception, Kind, Model};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn compare(base: &Model, head: &Model, out: &mut Changes<'_>) {
    let owner = |name: &str| BTreeSet::from([name.to_owned()]);
    declarations(Kind::Owner, &base.owners, &head.owners, out, |_, name| {
        owner(name)
    });
    declarations(
        Kind::Issuer,
        &base.issuers,
        &head.issuers,
        out,
        |a, name| a.issuer(name),
    );
    declarations(
        Kind::Source,
        &base.sources,
        &head.sources,
        out,
        |a, name| a.source(name),
    );
    exceptions(base, head, out);
}

/// Adds `draft`: an owner's change is the owner's to approve; any other kind is a trust
/// change.
fn push(
    out: &mut Changes<'_>,
    kind: Kind,
    name: &str,
    origin: &crate::model::Origin,
    owners: BTreeSet<String>,
    draft: Draft,
) {
    if kind == Kind::Owner {
        out.push(kind, name, origin, owners, draft);
    } else {
        out.push_trust(kind, name, origin, owners, draft);
    }
}

/// What changed in a spec, field by field: `changed` for one kind's spec as JSON, the
/// differing keys (one level of nesting: `acme.directory`).
fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return Vec::new();
    };
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (x, y) = (b.get(key), a.get(key));
        if x == y {
            continue;
        }
        match (x, y) {
            (Some(x @ Value::Object(_)), Some(y @ Value::Object(_))) => {
                let inner = changed_fields(x, y);
                if inner.is_empty() {
                    out.push(key.clone());
                }
                out.extend(inner.into_iter().map(|k| format!("{key}.{k}")));
            }
            _ => out.push(key.clone()),
        }
    }
    out
}

/// An issuer's CA subjects: a subject added makes every certificate that CA signs count as
/// issued by this issuer, so policies that allow the issuer accept them.
fn ca_subjects(name: &str, before: &[String], after: &[String]) -> Vec<Draft> {
    let mut out = Vec::new();
    let (was, now) = (Some(text(&before)), Some(text(&after)));
    for subject in super::added(before, after) {
        out.push(
            Draft::new(
                "issuer-ca-added",
                Risk::High,
                format!(
                    "issuer {name} now vouches for CA {subject}: certificates that CA signs count as issued by {name}, and every policy allowing {name} accepts them"
                ),
            )
            .field("spec.caSubjects", was.clone(), now.clone()),
        );
    }
    for subject in super::added(after, before) {
        out.push(
            Draft::new(
                "issuer-ca-removed",
                Risk::Low,
                format!("issuer {name} no longer vouches for CA {subject}"),
            )
            .field("spec.caSubjects", was.clone(), now.clone()),
        );
    }
    out
}

/// Added, removed or changed declarations of one kind, compared as a whole.
fn declarations<S: Serialize>(
    kind: Kind,
    base: &BTreeMap<String, Declaration<S>>,
    head: &BTreeMap<String, Declaration<S>>,
    out: &mut Changes<'_>,
    approvers: impl Fn(&super::Approvers, &str) -> BTreeSet<String>,
) {
    let what = kind.lower();
    for (name, before) in base {
        let owners = approvers(&out.approvers, name);
        let drafts = match head.get(name) {
            None => vec![Draft::new(
                "declaration-removed",
                Risk::Medium,
                format!("{what} {name} removed"),
            )],
            Some(after) => {
                let mut b = serde_json::to_value(&before.spec).unwrap_or_default();
                let mut a = serde_json::to_value(&after.spec).unwrap_or_default();
                let mut drafts = Vec::new();
                if kind == Kind::Issuer {
                    let subjects = |v: &mut serde_json::Value| -> Vec<String> {
                        v.as_object_mut()
                            .and_then(|o| o.remove("caSubjects"))
                            .and_then(|s| serde_json::from_value(s).ok())
                            .unwrap_or_default()
                    };
                    let (was, now) = (subjects(&mut b), subjects(&mut a));
                    drafts.extend(ca_subjects(name, &was, &now));
                }
                for field in changed_fields(&b, &a) {
                    let at = |v: &serde_json::Value| {
                        field.split('.').try_fold(v, |v, k| v.get(k)).map(text)
                    };
                    drafts.push(
                        Draft::new(
                            "declaration-changed",
                            Risk::Medium,
                            format!("{what} {name} spec.{field} changed"),
                        )
                        .field(&format!("spec.{field}"), at(&b), at(&a)),
                    );
                }
                drafts
            }
        };
        let origin = head.get(name).map_or(&before.origin, |a| &a.origin);
        for draft in drafts {
            push(out, kind, name, origin, owners.clone(), draft);
        }
    }
    for (name, after) in head {
        if !base.contains_key(name) {
            let owners = approvers(&out.approvers, name);
            push(
                out,
                kind,
                name,
                &after.origin,
                owners,
                Draft::new(
                    "declaration-added",
                    Risk::Low,
                    format!("{what} {name} added"),
                ),
            );
        }
    }
}

fn exceptions(base: &Model, head: &Model, out: &mut Changes<'_>) {
    let owners = |out: &Changes<'_>, e: &Exception| {
        e.spec
            .identity
            .as_ref()
            .map(|i| out.approvers.identity(&i.value))
            .unwrap_or_default()
    };
    for (name, after) in &head.exceptions {
        let who = owners(out, after);
        let Some(before) = base.exceptions.get(name) else {
            let rule = after.spec.rule.value.as_str();
            out.push_trust(
                Kind::Exception,
                name,
                &after.origin,
                who,
                Draft::new(
                    "exception-added",
                    Risk::High,
                    format!(
                        "exception {name} waives {rule} until {}",
                        text(&after.spec.expires)
                    ),
                ),
            );
            continue;
        };
        let mut who = who;
        who.extend(owners(out, before));
        for draft in exception(name, before, after) {
            out.push_trust(Kind::Exception, name, &after.origin, who.clone(), draft);
        }
    }
    for (name, before) in &base.exceptions {
        if !head.exceptions.contains_key(name) {
            let who = owners(out, before);
            out.push_trust(
                Kind::Exception,
                name,
                &before.origin,
                who,
                Draft::new(
                    "exception-removed",
                    Risk::Low,
                    format!("exception {name} removed: what it waived is reported again"),
                ),
            );
        }
    }
}

fn exception(name: &str, b: &Exception, a: &Exception) -> Vec<Draft> {
    let mut out = Vec::new();
    let (was, now) = (b.spec.expires.value.0, a.spec.expires.value.0);
    let (shown_was, shown_now) = (text(&b.spec.expires), text(&a.spec.expires));
    if now > was {
        out.push(
            Draft::new(
                "exception-extended",
                Risk::High,
                format!("exception {name} extended: expires {shown_was} → {shown_now}"),
            )
            .field("spec.expires", Some(shown_was), Some(shown_now)),
        );
    } else if now < was {
        out.push(
            Draft::new(
                "exception-shortened",
                Risk::Low,
                format!("exception {name} shortened: expires {shown_was} → {shown_now}"),
            )
            .field("spec.expires", Some(shown_was), Some(shown_now)),
        );
    }
    if b.spec.rule != a.spec.rule {
        out.push(
            Draft::new(
                "exception-extended",
                Risk::High,
                format!(
                    "exception {name} now waives {} (was {})",
                    a.spec.rule.value.as_str(),
                    b.spec.rule.value.as_str()
                ),
            )
            .field(
                "spec.rule",
                Some(text(&b.spec.rule)),
                Some(text(&a.spec.rule)),
            ),
        );
    }
    let scope = |e: &Exception| {
        [
            (
                "identity",
                e.spec.identity.as_ref().map(|v| v.value.clone()),
            ),
            (
                "credential",
                e.spec.credential.as_ref().map(|v| v.value.clone()),
            ),
            (
                "fingerprint",
                e.spec.fingerprint.as_ref().map(|v| v.value.clone()),
            ),
        ]
    };
    for ((field, was), (_, now)) in scope(b).into_iter().zip(scope(a)) {
        if was == now {
            continue;
        }
        let wider = now.is_none();
        let draft = if wider {
            Draft::new(
                "exception-extended",
                Risk::High,
                format!("exception {name} no longer limited by {field}: it waives more"),
            )
        } else {
            Draft::new(
                "exception-changed",
                Risk::Medium,
                format!("exception {name} {field} changed"),
            )
        };
        out.push(draft.field(&format!("spec.{field}"), was, now));
    }
    out
}
