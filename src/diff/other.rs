//! Owners, issuers, sources and exceptions compared. An exception added, extended (a later
//! expiry, a wider scope, another rule) is high risk: it silences findings. Approvers: for an
//! owner, that owner; for an issuer or source, the owners of the identities that use it; for an
//! exception, the owners of the identity it names.

use super::{Changes, Draft, Risk, text};
use crate::model::{Declaration, Exception, Kind, Model};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn compare(base: &Model, head: &Model, out: &mut Changes) {
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

/// Added, removed or changed declarations of one kind, compared as a whole.
fn declarations<S: Serialize>(
    kind: Kind,
    base: &BTreeMap<String, Declaration<S>>,
    head: &BTreeMap<String, Declaration<S>>,
    out: &mut Changes,
    approvers: impl Fn(&super::Approvers, &str) -> BTreeSet<String>,
) {
    let what = kind.lower();
    for (name, before) in base {
        let owners = approvers(&out.approvers, name);
        let draft = match head.get(name) {
            None => Draft::new(
                "declaration-removed",
                Risk::Medium,
                format!("{what} {name} removed"),
            ),
            Some(after) if text(&before.spec) != text(&after.spec) => Draft::new(
                "declaration-changed",
                Risk::Medium,
                format!("{what} {name} changed"),
            )
            .field("spec", Some(text(&before.spec)), Some(text(&after.spec))),
            Some(_) => continue,
        };
        let origin = head.get(name).map_or(&before.origin, |a| &a.origin);
        out.push(kind, name, origin, owners, draft);
    }
    for (name, after) in head {
        if !base.contains_key(name) {
            let owners = approvers(&out.approvers, name);
            out.push(
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

fn exceptions(base: &Model, head: &Model, out: &mut Changes) {
    let owners = |out: &Changes, e: &Exception| {
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
            out.push(
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
            out.push(Kind::Exception, name, &after.origin, who.clone(), draft);
        }
    }
    for (name, before) in &base.exceptions {
        if !head.exceptions.contains_key(name) {
            let who = owners(out, before);
            out.push(
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
