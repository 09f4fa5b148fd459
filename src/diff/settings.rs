//! `trustops.yaml` compared: who approves trust changes, which files hold declarations (an
//! `exclude` can hide the exceptions file, and every waiver in it, without deleting a line),
//! signed plans, the SMTP relay. All are trust changes.

use super::{Changes, Draft, Revision, Risk, text};
use crate::model::{Kind, Model, Origin, config_file_name};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn compare(base: Revision<'_>, head: Revision<'_>, out: &mut Changes<'_>) {
    let (b, a) = (base.config, head.config);
    let names = |list: &[crate::model::Spanned<String>]| -> BTreeSet<String> {
        list.iter().map(|o| o.value.clone()).collect()
    };
    let (was, now) = (names(&b.trust_approvers), names(&a.trust_approvers));
    if was != now {
        let dropped: Vec<&String> = was.difference(&now).collect();
        let risk = if now.is_empty() || !now.is_subset(&was) || !dropped.is_empty() {
            Risk::High
        } else {
            Risk::Medium
        };
        out.push_settings(
            BTreeSet::new(),
            Draft::new(
                "trust-approvers-changed",
                risk,
                format!(
                    "who approves trust changes: {} → {}",
                    text(&was),
                    text(&now)
                ),
            )
            .field("trustApprovers", Some(text(&was)), Some(text(&now))),
        );
    }
    if b.require_signed_plans != a.require_signed_plans {
        let (code, risk, message) = if b.require_signed_plans {
            (
                "settings-loosened",
                Risk::High,
                "requireSignedPlans turned off: unsigned plan files apply again",
            )
        } else {
            (
                "settings-tightened",
                Risk::Low,
                "requireSignedPlans turned on: only signed plan files apply",
            )
        };
        out.push_settings(
            BTreeSet::new(),
            Draft::new(code, risk, message.to_owned()).field(
                "requireSignedPlans",
                Some(b.require_signed_plans.to_string()),
                Some(a.require_signed_plans.to_string()),
            ),
        );
    }
    if text(&b.smtp) != text(&a.smtp) {
        out.push_settings(
            BTreeSet::new(),
            Draft::new(
                "settings-changed",
                Risk::Medium,
                "smtp relay changed: where escalation e-mails go through".to_owned(),
            )
            .field("smtp", Some(text(&b.smtp)), Some(text(&a.smtp))),
        );
    }
    if text(&(&b.paths, &b.exclude)) != text(&(&a.paths, &a.exclude)) {
        scope(base, head, out);
    }
}

/// `paths` or `exclude` changed: which base declarations the head's settings no longer read.
fn scope(base: Revision<'_>, head: Revision<'_>, out: &mut Changes<'_>) {
    let (b, a) = (base.config, head.config);
    let field = if b.exclude != a.exclude {
        "exclude"
    } else {
        "paths"
    };
    let shown = |c: &crate::model::RepoConfig| text(&(&c.paths, &c.exclude));
    let mut hidden: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut affected = BTreeSet::new();
    for (kind, name, origin) in declarations(base.model) {
        if crate::load::in_scope(&origin.path, b) && !crate::load::in_scope(&origin.path, a) {
            hidden
                .entry(origin.path.as_str())
                .or_default()
                .push(format!("{} {name}", kind.lower()));
            affected.extend(owners_of(base.model, kind, name));
        }
    }
    let draft = if hidden.is_empty() {
        Draft::new(
            "settings-changed",
            Risk::Medium,
            format!("{field} changed: which files hold declarations"),
        )
    } else {
        let files: Vec<String> = hidden
            .iter()
            .map(|(path, what)| format!("{path} ({})", what.join(", ")))
            .collect();
        Draft::new(
            "declarations-hidden",
            Risk::High,
            format!(
                "{} no longer reads {}: what they declare is dropped without a line of it deleted",
                config_file_name(),
                files.join("; ")
            ),
        )
    };
    let (was, now) = (Some(shown(b)), Some(shown(a)));
    out.push_settings(affected, draft.field(field, was, now));
}

/// Every declaration of `model` with its kind, name and origin.
fn declarations(model: &Model) -> Vec<(Kind, &str, &Origin)> {
    let mut out = Vec::new();
    out.extend(
        model
            .identities
            .iter()
            .map(|(n, d)| (Kind::Identity, n.as_str(), &d.origin)),
    );
    out.extend(
        model
            .owners
            .iter()
            .map(|(n, d)| (Kind::Owner, n.as_str(), &d.origin)),
    );
    out.extend(
        model
            .policies
            .iter()
            .map(|(n, d)| (Kind::Policy, n.as_str(), &d.origin)),
    );
    out.extend(
        model
            .issuers
            .iter()
            .map(|(n, d)| (Kind::Issuer, n.as_str(), &d.origin)),
    );
    out.extend(
        model
            .sources
            .iter()
            .map(|(n, d)| (Kind::Source, n.as_str(), &d.origin)),
    );
    out.extend(
        model
            .exceptions
            .iter()
            .map(|(n, d)| (Kind::Exception, n.as_str(), &d.origin)),
    );
    out
}

/// The owners a hidden declaration concerns: an identity's, or those of the identity an
/// exception waives findings of.
fn owners_of(model: &Model, kind: Kind, name: &str) -> Option<String> {
    let identity = match kind {
        Kind::Identity => Some(name),
        Kind::Exception => model
            .exceptions
            .get(name)
            .and_then(|e| e.spec.identity.as_ref())
            .map(|i| i.value.as_str()),
        _ => None,
    }?;
    model
        .identities
        .get(identity)
        .and_then(|i| i.spec.owner.as_ref())
        .map(|o| o.value.clone())
}
