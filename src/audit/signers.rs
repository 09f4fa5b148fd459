//! Which keys may sign each audit commit, read from Git history rather than from a file in the
//! work tree (which the commit being checked could have changed itself).
//!
//! - Records on a branch that holds `allowed_signers` (the checked-out branch): each commit is
//!   checked against the file as it was in its first parent, so a commit that adds its own key
//!   and a forged record does not vouch for itself.
//! - Records on their own branch (`trustops-audit`, the default): against `allowed_signers` at
//!   the tip of the declarations' revision (`HEAD`), with the validity each line gives.
//! - In both, the file's own history is a chain: every commit that changes it must be signed by
//!   a key the previous version allowed at that commit's time; a change that is not stays a
//!   violation and is not adopted. The first version is the trust anchor; an auditor who wants an anchor of their own passes a file (`--allowed-signers`),
//!   which then decides alone.

use super::history::Violation;
use crate::git::{self, AllowedSigners, FileChange};
use std::collections::BTreeMap;
use std::path::Path;

/// The file's path in the repository.
pub const FILE: &str = "allowed_signers";

/// The allowed signers of every commit of an audit branch.
#[derive(Debug, Default)]
pub struct Signers {
    /// An auditor's own file: it decides alone.
    fixed: Option<AllowedSigners>,
    /// On a branch holding the file: the version before each commit (by id).
    before: BTreeMap<String, Option<AllowedSigners>>,
    /// The version at the tip of the declarations' revision.
    tip: Option<AllowedSigners>,
    /// Changes to the file not signed by a key allowed before them, and versions that cannot
    /// be read.
    pub violations: Vec<Violation>,
    /// The commit whose version of the file anchors the chain, if any.
    pub anchor: Option<String>,
}

impl Signers {
    /// An auditor's own allowed-signers file, trusted for every commit.
    pub fn fixed(signers: AllowedSigners) -> Signers {
        Signers {
            fixed: Some(signers),
            ..Signers::default()
        }
    }

    /// Whether there is nothing to check signatures with (no file anywhere in the history).
    pub fn is_empty(&self) -> bool {
        self.fixed.is_none() && self.tip.is_none() && self.before.values().all(Option::is_none)
    }

    /// The signers in force now: an auditor's file, else the latest trusted version.
    pub fn current(&self) -> Option<&AllowedSigners> {
        self.fixed.as_ref().or(self.tip.as_ref())
    }

    /// The signers for `commit`, or why there are none.
    pub fn of(&self, commit: &str) -> Result<&AllowedSigners, String> {
        if let Some(fixed) = &self.fixed {
            return Ok(fixed);
        }
        match self.before.get(commit) {
            Some(Some(version)) => Ok(version),
            Some(None) => Err(format!(
                "no {FILE} existed before this commit to allow its key"
            )),
            None => self
                .tip
                .as_ref()
                .ok_or_else(|| format!("there is no {FILE} in the declarations to check it with")),
        }
    }
}

/// Reads the history of `allowed_signers` on the audit branch `branch` and on the
/// declarations' revision `rev`.
pub fn from_history(repo: &Path, branch: &str, rev: &str) -> Result<Signers, git::Error> {
    let mut out = Signers::default();
    let branch = format!("refs/heads/{}", branch.trim_start_matches("refs/heads/"));
    if let Some(commits) = git::history(repo, &branch, FILE)? {
        let holds_file = commits
            .iter()
            .any(|c| c.changes.iter().any(|f| f.path == FILE));
        if holds_file {
            let tip = chain(&commits, &mut out, |id, before| {
                (id.to_owned(), before.cloned())
            });
            out.before = tip.1;
            out.tip = tip.0;
            return Ok(out);
        }
    }
    let Some(commits) = git::history(repo, rev, FILE)? else {
        return Ok(out);
    };
    out.tip = chain(&commits, &mut out, |_, _| (String::new(), None)).0;
    Ok(out)
}

/// Walks the file's versions oldest first, checking each change against the version before it;
/// returns the last version and, per commit, what `keep` makes of the version before it.
#[allow(clippy::type_complexity)] // Private; the pair is destructured by both callers.
fn chain(
    commits: &[git::Commit],
    out: &mut Signers,
    keep: impl Fn(&str, Option<&AllowedSigners>) -> (String, Option<AllowedSigners>),
) -> (
    Option<AllowedSigners>,
    BTreeMap<String, Option<AllowedSigners>>,
) {
    let mut current: Option<AllowedSigners> = None;
    let mut before = BTreeMap::new();
    for commit in commits {
        let (id, kept) = keep(&commit.id, current.as_ref());
        if !id.is_empty() {
            before.insert(id, kept);
        }
        let Some(change) = commit.changes.iter().find(|f| f.path == FILE) else {
            continue;
        };
        let mut flag = |problem: String| {
            out.violations.push(Violation {
                commit: commit.id.clone(),
                path: Some(FILE.to_owned()),
                problem,
            });
        };
        match &current {
            None => {
                out.anchor.get_or_insert_with(|| commit.id.clone());
            }
            Some(previous) => {
                let checked = match &commit.signature {
                    None => Err("the commit is unsigned".to_owned()),
                    Some(signed) => previous.check(signed, commit.time).map(|_| ()),
                };
                if let Err(why) = checked {
                    flag(format!(
                        "{FILE} was changed by a commit no key it allowed before signed: {why}"
                    ));
                    // An untrusted version is not adopted: what it adds vouches for nothing.
                    continue;
                }
            }
        }
        current = match change.change {
            FileChange::Deleted => None,
            _ => match AllowedSigners::parse(&String::from_utf8_lossy(&change.bytes)) {
                Ok(parsed) => Some(parsed),
                Err(e) => {
                    flag(format!("{FILE} cannot be read: {e}"));
                    None
                }
            },
        };
    }
    (current, before)
}
