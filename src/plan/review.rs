//! Reviews: what only a person can settle — a credential shared by identities, a stray
//! private key, an identity nobody answers for, an expired exception, a rotation that cannot
//! run on its own. One review per target gathers every reason.

use super::{Action, ActionKind, Context};
use crate::model::{Approval, FindingCode};
use crate::reconcile::{Finding, Status};
use std::collections::BTreeMap;

/// Findings no automated action fixes.
const NEEDS_A_PERSON: [FindingCode; 4] = [
    FindingCode::SharedCredential,
    FindingCode::OrphanPrivateKey,
    FindingCode::OwnerMissing,
    FindingCode::ExceptionExpired,
];

/// Reviews being gathered, by id.
#[derive(Debug, Default)]
pub(super) struct Reviews {
    by_id: BTreeMap<String, Action>,
}

impl Reviews {
    /// Adds finding `f` with what to do about it.
    pub(super) fn add(&mut self, f: &Finding, note: &str) {
        let id = match &f.identity {
            Some(_) => format!("review:{}", f.target()),
            None => format!(
                "review:{}",
                f.fingerprint
                    .as_deref()
                    .map_or("", |s| crate::discover::short(s, 16))
            ),
        };
        let action = self.entry(&id, f.owner.clone());
        action.identity = f.identity.clone();
        action.credential = f.credential.clone();
        if f.identity.is_none() {
            action.fingerprint = f.fingerprint.clone();
        }
        if !action.reasons.contains(&f.id) {
            action.reasons.push(f.id.clone());
        }
        push_note(action, note);
    }

    /// Adds a review that no finding stands behind (a replaced certificate to revoke by hand).
    pub(super) fn add_unowned(
        &mut self,
        id: &str,
        owner: Option<String>,
        status: Option<&Status>,
        note: &str,
    ) {
        let action = self.entry(id, owner);
        if let Some(s) = status {
            action.identity = Some(s.identity.clone());
            action.credential = Some(s.credential.clone());
        }
        push_note(action, note);
    }

    fn entry(&mut self, id: &str, owner: Option<String>) -> &mut Action {
        self.by_id.entry(id.to_owned()).or_insert_with(|| Action {
            id: id.to_owned(),
            kind: ActionKind::Review,
            owner,
            approval: Approval::Manual,
            ..Action::default()
        })
    }

    /// Adds every active finding that needs a person.
    pub(super) fn findings(&mut self, cx: &Context<'_>) {
        for f in &cx.rec.findings {
            if f.suppressed.is_some() || !NEEDS_A_PERSON.contains(&f.code) {
                continue;
            }
            let note = match f.code {
                FindingCode::SharedCredential => {
                    "give each identity its own credential, or waive with an Exception".to_owned()
                }
                FindingCode::OrphanPrivateKey => format!(
                    "remove the stray key{} or declare where it belongs",
                    f.location
                        .as_deref()
                        .map(|l| format!(" at {l}"))
                        .unwrap_or_default()
                ),
                FindingCode::OwnerMissing => "declare an owner who can be reached".to_owned(),
                FindingCode::ExceptionExpired => format!(
                    "renew or delete exception {}",
                    f.evidence.get("exception").map_or("", String::as_str)
                ),
                _ => f.message.clone(),
            };
            self.add(f, &note);
        }
    }

    /// The reviews, by id.
    pub(super) fn finish(self) -> Vec<Action> {
        self.by_id.into_values().collect()
    }
}

fn push_note(action: &mut Action, note: &str) {
    if action.summary.split("; ").any(|n| n == note) {
        return;
    }
    if !action.summary.is_empty() {
        action.summary.push_str("; ");
    }
    action.summary.push_str(note);
}
