//! The audit trail read back from Git history, for auditors: every record in the order it was
//! committed ([`log`]), and the checks that make the trail evidence ([`verify`]): each commit
//! that touches `audit/` is an apply's, signed by a key allowed at its time, and no record is
//! ever modified or deleted.

use super::Record;
use super::signers::Signers;
use crate::git::{Commit, FileChange};
use serde::Serialize;

/// The history of the audit branch `branch` (`trustops-audit` or `refs/heads/...`), each commit
/// with the files it changed under `audit/`; `None` when the branch does not exist yet.
pub fn commits(
    repo: &std::path::Path,
    branch: &str,
) -> Result<Option<Vec<Commit>>, crate::git::Error> {
    let name = branch.trim_start_matches("refs/heads/");
    crate::git::history(repo, &format!("refs/heads/{name}"), "audit/")
}

/// One record as committed.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// The commit that added it.
    pub commit: String,
    /// Its path.
    pub path: String,
    /// The record.
    pub record: Record,
}

/// Which records to show.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only records about this identity (or `identity/credential`).
    pub identity: Option<String>,
    /// Only records of this owner.
    pub owner: Option<String>,
    /// Only records started at or after this instant.
    pub since: Option<jiff::Timestamp>,
}

impl Filter {
    fn keeps(&self, r: &Record) -> bool {
        let identity = self.identity.as_deref().is_none_or(|want| {
            let (identity, credential) = want.split_once('/').unwrap_or((want, ""));
            r.identity.as_deref() == Some(identity)
                && (credential.is_empty() || r.credential.as_deref() == Some(credential))
        });
        identity
            && self
                .owner
                .as_deref()
                .is_none_or(|o| r.owner.as_deref() == Some(o))
            && self.since.is_none_or(|t| r.started.0 >= t)
    }
}

/// The records `history` added under `audit/`, oldest commit first, that `filter` keeps.
/// Files that are not records are skipped here; [`verify`] reports them.
pub fn log(history: &[Commit], filter: &Filter) -> Vec<Entry> {
    let mut out = Vec::new();
    for commit in history {
        for changed in &commit.changes {
            if changed.change != FileChange::Added || !changed.path.ends_with(".yaml") {
                continue;
            }
            let Ok(record) =
                serde_saphyr::from_str::<Record>(&String::from_utf8_lossy(&changed.bytes))
            else {
                continue;
            };
            if filter.keeps(&record) {
                out.push(Entry {
                    commit: commit.id.clone(),
                    path: changed.path.clone(),
                    record,
                });
            }
        }
    }
    out
}

/// One way the trail fails as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The commit at fault.
    pub commit: String,
    /// The record concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What is wrong.
    pub problem: String,
}

/// What [`verify`] checked and found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verified {
    /// Commits that touch `audit/`.
    pub audit_commits: usize,
    /// Records added.
    pub records: usize,
    /// Everything wrong, in history order.
    pub violations: Vec<Violation>,
}

/// Checks every commit of `history` that touches `audit/`: signed by a key `signers` allows
/// for it at the commit's time, made by `trustops apply` (its message), adding records and
/// never modifying or deleting one; and every file it adds is a readable record. The
/// violations of the allowed-signers chain itself come first.
pub fn verify(history: &[Commit], signers: &Signers) -> Verified {
    let mut out = Verified {
        violations: signers.violations.clone(),
        ..Verified::default()
    };
    for commit in history {
        if commit.changes.is_empty() {
            continue;
        }
        out.audit_commits += 1;
        let mut flag = |path: Option<&str>, problem: String| {
            out.violations.push(Violation {
                commit: commit.id.clone(),
                path: path.map(str::to_owned),
                problem,
            });
        };
        match &commit.signature {
            None => flag(None, "an unsigned commit touches audit/".into()),
            Some(signed) => {
                let checked = signers
                    .of(&commit.id)
                    .and_then(|allowed| allowed.check(signed, commit.time));
                if let Err(why) = checked {
                    flag(None, why);
                }
            }
        }
        if !commit.message.starts_with("trustops apply ") {
            flag(
                None,
                format!(
                    "a commit outside the apply path touches audit/: {:?}",
                    commit.message.lines().next().unwrap_or_default()
                ),
            );
        }
        for changed in &commit.changes {
            match changed.change {
                FileChange::Modified => flag(
                    Some(&changed.path),
                    "an audit record was modified after it was written".into(),
                ),
                FileChange::Deleted => {
                    flag(Some(&changed.path), "an audit record was deleted".into());
                }
                FileChange::Added => {
                    let parsed =
                        serde_saphyr::from_str::<Record>(&String::from_utf8_lossy(&changed.bytes));
                    match parsed {
                        Ok(_) => out.records += 1,
                        Err(_) => flag(
                            Some(&changed.path),
                            "a file under audit/ is not an audit record".into(),
                        ),
                    }
                }
            }
        }
    }
    out
}

/// When the last apply none of whose actions failed finished (its records' latest `finished`).
pub fn last_successful_apply(entries: &[Entry]) -> Option<jiff::Timestamp> {
    let mut by_commit: Vec<(&str, bool, jiff::Timestamp)> = Vec::new();
    for e in entries {
        let failed = e.record.outcome.failed();
        match by_commit.last_mut() {
            Some((commit, any_failed, at)) if *commit == e.commit => {
                *any_failed |= failed;
                *at = (*at).max(e.record.finished.0);
            }
            _ => by_commit.push((&e.commit, failed, e.record.finished.0)),
        }
    }
    by_commit
        .iter()
        .rev()
        .find(|(_, failed, _)| !failed)
        .map(|(_, _, at)| *at)
}
