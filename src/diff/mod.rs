//! Diff: what a change to the declarations *means* — identities added, removed or renamed,
//! owners changed, policies loosened or tightened field by field, credentials added or removed,
//! match rules widened, rotation links changed, exceptions added or extended — each with a risk
//! level and the owners whose approval it needs.
//!
//! Entry point: [`diff`], a pure function of two loaded models (a base revision and a head, as
//! `trustops diff` reads them from Git). Policy fields are compared in `policy.rs`, identities
//! and their credentials in `identity.rs`, everything else (owners, issuers, sources,
//! exceptions) in `other.rs`; `approvers.rs` says whose approval each change needs.

mod approvers;
mod identity;
mod locate;
mod other;
mod policy;
mod settings;

use crate::diag::Files;
use crate::model::{Kind, Model, Origin, RepoConfig};
use serde::Serialize;
use std::collections::BTreeSet;

pub use approvers::Approvers;
use approvers::Trust;

/// One side of a diff, as loaded: the declarations, the settings they were loaded with, and
/// the files read (to point at changed lines).
#[derive(Clone, Copy, Debug)]
pub struct Revision<'a> {
    /// The declarations.
    pub model: &'a Model,
    /// `trustops.yaml`.
    pub config: &'a RepoConfig,
    /// The declaration files read, with their text.
    pub files: &'a Files,
}

impl<'a> Revision<'a> {
    /// The revision a load produced.
    pub fn of(loaded: &'a crate::load::Outcome) -> Self {
        Revision {
            model: &loaded.model,
            config: &loaded.config,
            files: &loaded.files,
        }
    }
}

/// How much a change can hurt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Tightening, or adding something new that policy still governs.
    Low,
    /// Moving responsibility or links, removing something.
    Medium,
    /// Loosening a policy, adding or extending an exception, widening a match.
    High,
}

impl Risk {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// One meaningful change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What kind of change, kebab-case: `identity-added`, `policy-loosened`, ...
    pub code: &'static str,
    /// The kind of declaration changed.
    pub kind: &'static str,
    /// Its name (for a rename, the new one).
    pub name: String,
    /// The field, as a path from `spec` (`spec.maxValidity`), when one field changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The value before, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The value after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// One sentence for a reviewer.
    pub message: String,
    /// How much it can hurt.
    pub risk: Risk,
    /// Owners whose approval it needs: for a trust change (a policy, issuer, source,
    /// exception or the settings) the trust approvers the base revision declares, except those
    /// it benefits; for an identity or owner change, the owners concerned.
    pub approvers: BTreeSet<String>,
    /// Owners of the identities it affects (for a trust change: those who benefit from it).
    pub affected: BTreeSet<String>,
    /// Whether it changes what is trusted, so that only trust approvers may approve it.
    pub trust: bool,
    /// Why nobody independent of the change can approve it, when nobody can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unapproved: Option<String>,
    /// The file it is declared in (the head's; the base's for a removal).
    pub path: String,
    /// The line of the changed field in that file (of the declaration's name when the field
    /// is gone or the whole declaration changed).
    pub line: u32,
}

/// A change being described, before its place and approvers are filled in.
#[derive(Clone, Debug, Default)]
pub(crate) struct Draft {
    pub(crate) code: &'static str,
    pub(crate) field: Option<String>,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
    pub(crate) message: String,
    pub(crate) risk: Option<Risk>,
}

impl Draft {
    pub(crate) fn new(code: &'static str, risk: Risk, message: String) -> Self {
        Draft {
            code,
            message,
            risk: Some(risk),
            ..Draft::default()
        }
    }

    pub(crate) fn field(
        mut self,
        field: &str,
        before: Option<String>,
        after: Option<String>,
    ) -> Self {
        self.field = Some(field.to_owned());
        self.before = before;
        self.after = after;
        self
    }
}

/// Collects changes about declarations, with their place and approvers.
pub(crate) struct Changes<'a> {
    pub(crate) approvers: Approvers,
    trust: Trust,
    head: Revision<'a>,
    out: Vec<Change>,
}

impl Changes<'_> {
    /// Adds `draft` about the declaration of `kind` named `name` at `origin`, approved by
    /// `owners`, the owners it concerns.
    pub(crate) fn push(
        &mut self,
        kind: Kind,
        name: &str,
        origin: &Origin,
        owners: BTreeSet<String>,
        draft: Draft,
    ) {
        self.add(
            kind.as_str(),
            name,
            origin,
            owners.clone(),
            owners,
            None,
            draft,
            false,
        );
    }

    /// Adds `draft`, a trust change, about the declaration of `kind` named `name` at
    /// `origin`, which affects the identities of `affected`. Its approvers are the base's
    /// trust approvers (the policy's own for a policy), less the owners it benefits.
    pub(crate) fn push_trust(
        &mut self,
        kind: Kind,
        name: &str,
        origin: &Origin,
        affected: BTreeSet<String>,
        draft: Draft,
    ) {
        self.trust_change(kind.as_str(), name, origin, affected, draft);
    }

    fn trust_change(
        &mut self,
        kind: &'static str,
        name: &str,
        origin: &Origin,
        affected: BTreeSet<String>,
        draft: Draft,
    ) {
        let declared = if kind == Kind::Policy.as_str() {
            self.trust.policy(name)
        } else {
            self.trust.repository()
        };
        let independent: BTreeSet<String> = declared.difference(&affected).cloned().collect();
        let (approvers, unapproved) = if declared.is_empty() {
            (
                affected.clone(),
                Some(
                    "no trust approvers are declared (trustApprovers in trustops.yaml), so only the owners it affects can approve it"
                        .to_owned(),
                ),
            )
        } else if independent.is_empty() {
            (
                declared.clone(),
                Some(format!(
                    "every trust approver ({}) owns an identity it affects",
                    declared.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
            )
        } else {
            (independent, None)
        };
        self.add(
            kind, name, origin, approvers, affected, unapproved, draft, true,
        );
    }

    /// Adds `draft`, a change to `trustops.yaml`, affecting the identities of `affected`.
    pub(crate) fn push_settings(&mut self, affected: BTreeSet<String>, draft: Draft) {
        let origin = Origin {
            path: crate::model::config_file_name().to_owned(),
            span: crate::diag::Span {
                line: 1,
                column: 1,
                ..crate::diag::Span::default()
            },
            document: 0,
        };
        self.trust_change("Settings", "trustops.yaml", &origin, affected, draft);
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        kind: &'static str,
        name: &str,
        origin: &Origin,
        approvers: BTreeSet<String>,
        affected: BTreeSet<String>,
        unapproved: Option<String>,
        draft: Draft,
        trust: bool,
    ) {
        let line = draft
            .field
            .as_deref()
            .and_then(|field| locate::line(self.head.files, &origin.path, origin.span.line, field))
            .unwrap_or(origin.span.line);
        self.out.push(Change {
            code: draft.code,
            kind,
            name: name.to_owned(),
            field: draft.field,
            before: draft.before,
            after: draft.after,
            message: draft.message,
            risk: draft.risk.unwrap_or(Risk::Medium),
            approvers,
            trust,
            affected,
            unapproved,
            path: origin.path.clone(),
            line,
        });
    }
}

/// The meaningful changes from `base` to `head`, riskiest first, then by file and line.
pub fn diff(base: Revision<'_>, head: Revision<'_>) -> Vec<Change> {
    diff_partial(base, head, &[])
}

/// [`diff`] of two revisions read in part ([`crate::load::incremental::pair`]): `unread` are
/// the identities of the files neither side read, which a trust change may affect.
pub fn diff_partial(
    base: Revision<'_>,
    head: Revision<'_>,
    unread: &[crate::load::incremental::Unread],
) -> Vec<Change> {
    let mut changes = Changes {
        approvers: Approvers::new(base.model, head.model, unread),
        trust: Trust::new(base),
        head,
        out: Vec::new(),
    };
    identity::compare(base.model, head.model, &mut changes);
    policy::compare(base.model, head.model, &mut changes);
    other::compare(base.model, head.model, &mut changes);
    settings::compare(base, head, &mut changes);
    let mut out = changes.out;
    out.sort_by(|a, b| {
        b.risk
            .cmp(&a.risk)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.code.cmp(b.code))
    });
    out
}

/// Values in `after` and not in `before`, in order.
pub(crate) fn added<'a, T: PartialEq>(before: &[T], after: &'a [T]) -> Vec<&'a T> {
    after.iter().filter(|v| !before.contains(v)).collect()
}

/// A declared value as a reviewer reads it: strings bare, anything else as compact JSON.
pub(crate) fn text(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
