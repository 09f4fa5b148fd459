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
mod other;
mod policy;

use crate::model::{Kind, Model, Origin};
use serde::Serialize;
use std::collections::BTreeSet;

pub use approvers::Approvers;

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
    /// Owners whose approval it needs.
    pub approvers: BTreeSet<String>,
    /// The file it is declared in (the head's; the base's for a removal).
    pub path: String,
    /// The line of its name in that file.
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
pub(crate) struct Changes {
    pub(crate) approvers: Approvers,
    out: Vec<Change>,
}

impl Changes {
    /// Adds `draft` about the declaration of `kind` named `name` at `origin`, approved by
    /// `owners`.
    pub(crate) fn push(
        &mut self,
        kind: Kind,
        name: &str,
        origin: &Origin,
        owners: BTreeSet<String>,
        draft: Draft,
    ) {
        self.out.push(Change {
            code: draft.code,
            kind: kind.as_str(),
            name: name.to_owned(),
            field: draft.field,
            before: draft.before,
            after: draft.after,
            message: draft.message,
            risk: draft.risk.unwrap_or(Risk::Medium),
            approvers: owners,
            path: origin.path.clone(),
            line: origin.span.line,
        });
    }
}

/// The meaningful changes from `base` to `head`, riskiest first, then by file and line.
pub fn diff(base: &Model, head: &Model) -> Vec<Change> {
    let mut changes = Changes {
        approvers: Approvers::new(base, head),
        out: Vec::new(),
    };
    identity::compare(base, head, &mut changes);
    policy::compare(base, head, &mut changes);
    other::compare(base, head, &mut changes);
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
