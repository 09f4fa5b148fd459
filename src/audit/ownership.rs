//! Who owned an identity or credential at an instant: the declarations as they were committed
//! at or before it (the owner and effective policy, where they were declared and by which
//! commit) and the audit records either side of it — the answer an auditor asks for, with the
//! commits that prove it.

use super::history::{self, Entry, Filter};
use crate::git;
use serde::Serialize;
use std::path::Path;

/// The answer, with its proof.
#[derive(Clone, Debug, Serialize)]
pub struct Ownership {
    /// `identity` or `identity/credential`.
    pub target: String,
    /// The instant asked about.
    pub at: String,
    /// The owner then.
    pub owner: Option<String>,
    /// The effective policy then (of the credential; of the identity when none is named).
    pub policy: Option<String>,
    /// Where the identity was declared, and the commit that last changed that file.
    pub declared_in: DeclaredIn,
    /// The last commit of the declarations at or before the instant.
    pub state_commit: String,
    /// The last audit record about the target started at or before the instant.
    pub record_before: Option<Entry>,
    /// The first one started after it.
    pub record_after: Option<Entry>,
}

/// Where a declaration was, as of a commit.
#[derive(Clone, Debug, Serialize)]
pub struct DeclaredIn {
    /// The file, relative to the repository root.
    pub path: String,
    /// Its 1-based line.
    pub line: u32,
    /// The commit that last changed the file, at or before the state commit.
    pub commit: String,
}

/// Why the question has no answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A fingerprint or serial no record names.
    #[error("no audit record names a certificate {0}; name it as identity/credential")]
    UnknownCertificate(String),
    /// The history starts later.
    #[error("the history of {rev} begins after {at}")]
    BeforeHistory {
        /// The revision.
        rev: String,
        /// The instant.
        at: jiff::Timestamp,
    },
    /// The identity, or its credential, was not declared then.
    #[error("{what} at {at} (commit {commit})")]
    NotDeclared {
        /// What was not declared.
        what: String,
        /// The instant.
        at: jiff::Timestamp,
        /// The state commit.
        commit: String,
    },
    /// Git failed.
    #[error(transparent)]
    Git(#[from] git::Error),
}

/// Who owned `target` — an identity, `identity/credential`, or a certificate's SHA-256
/// fingerprint (8+ hex digits) or serial as the audit trail on `branch` records it — at `at`,
/// by the declarations in the history of `rev`.
pub fn who_owned(
    repo: &Path,
    branch: &str,
    rev: &str,
    target: &str,
    at: jiff::Timestamp,
) -> Result<Ownership, Error> {
    let commits = history::commits(repo, branch)?.unwrap_or_default();
    let entries = history::log(&commits, &Filter::default());
    let target = resolve(target, &entries)?;
    let (identity, credential) = match target.split_once('/') {
        Some((i, c)) => (i, Some(c)),
        None => (target.as_str(), None),
    };
    let Some((state, _)) = git::commit_at(repo, rev, at.as_second())? else {
        return Err(Error::BeforeHistory {
            rev: rev.to_owned(),
            at,
        });
    };
    let (_, files) = git::tree_files(repo, &state, crate::load::MAX_FILE_BYTES)?;
    let loaded = crate::load::from_tree(files);
    let not_declared = |what: &str| Error::NotDeclared {
        what: what.to_owned(),
        at,
        commit: state.clone(),
    };
    let declared = loaded
        .model
        .identities
        .get(identity)
        .ok_or_else(|| not_declared(&format!("{identity} was not declared")))?;
    let policy = match credential {
        Some(c) => {
            loaded
                .model
                .credential(identity, c)
                .ok_or_else(|| not_declared(&format!("{identity} declared no credential {c}")))?
                .policy_name
        }
        None => declared.spec.policy.as_ref(),
    };
    let file = declared.origin.path.clone();
    let declaring =
        git::last_change(repo, &state, &file)?.map_or_else(|| state.clone(), |(id, _)| id);
    let mine: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.record.identity.as_deref() == Some(identity))
        .filter(|e| credential.is_none_or(|c| e.record.credential.as_deref() == Some(c)))
        .collect();
    let before = mine.iter().rev().find(|e| e.record.started.0 <= at);
    let after = mine.iter().find(|e| e.record.started.0 > at);
    Ok(Ownership {
        owner: declared.spec.owner.as_ref().map(|o| o.value.clone()),
        policy: policy.map(|p| p.value.clone()),
        declared_in: DeclaredIn {
            path: file,
            line: declared.origin.span.line,
            commit: declaring,
        },
        at: at.to_string(),
        state_commit: state,
        record_before: before.map(|e| (*e).clone()),
        record_after: after.map(|e| (*e).clone()),
        target,
    })
}

/// `identity`, `identity/credential`, or the identity/credential whose certificate the audit
/// trail names by fingerprint (8+ hex digits) or serial.
fn resolve(target: &str, entries: &[Entry]) -> Result<String, Error> {
    let hex: String = target
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    let looks_hex = hex.len() >= 8 && hex.chars().all(|c| c.is_ascii_hexdigit());
    if !looks_hex {
        return Ok(target.to_owned());
    }
    let serial = hex.trim_start_matches('0');
    for e in entries {
        for c in &e.record.changes {
            let fingerprints = [&c.old_sha256, &c.new_sha256];
            let serials = [&c.old_serial, &c.new_serial];
            let by_fingerprint = fingerprints
                .iter()
                .any(|f| f.as_deref().is_some_and(|f| f.starts_with(&hex)));
            let by_serial = serials.iter().any(|s| s.as_deref() == Some(serial));
            if by_fingerprint || by_serial {
                return Ok(c.target.clone());
            }
        }
    }
    Err(Error::UnknownCertificate(target.to_owned()))
}
