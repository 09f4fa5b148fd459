//! The audit trail: one YAML record per action under `audit/YYYY/MM/PLAN-ID/N/` (the N-th apply
//! of that plan: one that only skipped actions waiting for approval may be followed by another),
//! written
//! in one signed commit per apply (through [`crate::git`]). Records say what was done, by whom,
//! under which owner and policy, with which issuer, and how it ended; never a secret.
//!
//! Entry points: [`Record`] (the format), [`path`] (where a record lives), [`trail`] (what
//! planning learns from it), [`history`] (the trail read back from Git, and verified) and
//! [`ownership`] (who owned what, when, with the commits that prove it).

pub mod history;
pub mod ownership;
mod record;
pub mod signers;

use crate::plan::ActionKind;

pub use record::{Change, IssuerFailure, Outcome, Record, StepRecord, StepResult};

/// Version of the record format.
pub const FORMAT_VERSION: u32 = 1;

/// Where the records of `plan` applied at `at` live: `audit/YYYY/MM/PLAN-ID/`.
pub fn folder(plan: &str, at: jiff::Timestamp) -> String {
    format!("audit/{}/{}", at.strftime("%Y/%m"), plan)
}

/// The file of the `n`-th record of an apply: `NN-ACTION.yaml`, the action id made
/// file-safe (`rotate:db/tls` → `rotate-db-tls`).
pub fn path(folder: &str, n: usize, action: &str) -> String {
    let safe: String = action
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{folder}/{n:03}-{safe}.yaml")
}

/// What planning learns from the audit trail on a branch.
#[derive(Clone, Debug, Default)]
pub struct Trail {
    /// When each credential's owner was first due a notice, from the `escalate` records that
    /// tried a contact, delivered or not: `identity/credential@sha256` → the earliest one. The escalation ladder counts
    /// from there, on every runner; a new credential (new fingerprint) starts afresh.
    pub first_notices: std::collections::BTreeMap<String, jiff::Timestamp>,
    /// When each owner was last notified or an attempt was made (same keys): a long-running
    /// controller re-notifies only after its re-notification interval, not every cycle.
    pub last_notices: std::collections::BTreeMap<String, jiff::Timestamp>,
    /// When each identity's rotations were applied (from `rotate` records): a controller caps
    /// issuances per identity per day with it.
    pub rotations: std::collections::BTreeMap<String, Vec<jiff::Timestamp>>,
    /// The issuer of each certificate trustops deployed, by its SHA-256: revocation goes back
    /// to it even when its CA's subject is not declared (ACME CAs rotate theirs).
    pub issued_by: std::collections::BTreeMap<String, String>,
    /// Every rotation attempted, applied or failed, oldest first: a restarted controller
    /// rebuilds its backoff and its refusals from them.
    pub attempts: Vec<Attempt>,
}

/// One rotation attempted, as its record tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// `identity/credential`.
    pub target: String,
    /// When it started.
    pub at: jiff::Timestamp,
    /// Whether it failed.
    pub failed: bool,
    /// Whether it failed only on issuer refusals that will not pass by themselves.
    pub refused: bool,
    /// The declarations it was planned from.
    pub declarations_commit: Option<String>,
}

impl Attempt {
    /// The attempt a `rotate` record tells of (`None` for other kinds, and skipped rotations).
    pub fn of(record: &Record) -> Option<Attempt> {
        if record.kind != ActionKind::Rotate || record.outcome == Outcome::Skipped {
            return None;
        }
        let failures: Vec<&IssuerFailure> = record
            .changes
            .iter()
            .flat_map(|c| c.issuer_failures.iter())
            .collect();
        let failed = record.outcome.failed();
        Some(Attempt {
            target: format!(
                "{}/{}",
                record.identity.as_deref().unwrap_or_default(),
                record.credential.as_deref().unwrap_or_default()
            ),
            at: record.started.0,
            failed,
            refused: failed && !failures.is_empty() && failures.iter().all(|f| !f.retryable),
            declarations_commit: record.declarations_commit.clone(),
        })
    }
}

/// Reads the audit records on `branch` (none when it does not exist) in one pass.
pub fn trail(repo: &std::path::Path, branch: &str) -> Result<Trail, crate::git::Error> {
    let mut trail = Trail::default();
    for (_, bytes) in crate::git::read_under(repo, branch, "audit/")? {
        let Ok(record) = serde_saphyr::from_str::<Record>(&String::from_utf8_lossy(&bytes)) else {
            continue;
        };
        trail.attempts.extend(Attempt::of(&record));
        // A notice attempted (it has steps: some contact was tried, delivered or not) counts
        // for re-notification and starts the ladder: an owner nobody can reach must not keep
        // the security step from ever being reached.
        if record.kind == ActionKind::Escalate && !record.steps.is_empty() {
            for change in &record.changes {
                if let Some(sha) = &change.old_sha256 {
                    let at = record.started.0;
                    let key = format!("{}@{sha}", change.target);
                    trail
                        .last_notices
                        .entry(key.clone())
                        .and_modify(|t| *t = (*t).max(at))
                        .or_insert(at);
                    trail
                        .first_notices
                        .entry(key)
                        .and_modify(|t| *t = (*t).min(at))
                        .or_insert(at);
                }
            }
        }
        if record.outcome != Outcome::Applied {
            continue;
        }
        if record.kind == ActionKind::Rotate
            && let Some(identity) = &record.identity
        {
            trail
                .rotations
                .entry(identity.clone())
                .or_default()
                .push(record.started.0);
        }
        if record.kind == ActionKind::Rotate {
            for change in &record.changes {
                if let (Some(sha), Some(issuer)) = (&change.new_sha256, &change.issuer) {
                    trail.issued_by.insert(sha.clone(), issuer.clone());
                }
            }
        }
    }
    trail.attempts.sort_by_key(|a| a.at);
    Ok(trail)
}
