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
    /// The certificate deployed for a credential at the instant, as the audit trail tells it:
    /// what the last rotation before it deployed, else what the first one after it replaced.
    pub certificate: Option<Certificate>,
    /// The last commit of the declarations at or before the instant.
    pub state_commit: String,
    /// The last audit record about the target started at or before the instant.
    pub record_before: Option<Entry>,
    /// The first one started after it.
    pub record_after: Option<Entry>,
}

/// A certificate as an audit record names it.
#[derive(Clone, Debug, Serialize)]
pub struct Certificate {
    /// Its SHA-256.
    pub sha256: String,
    /// Its serial.
    pub serial: Option<String>,
    /// Its notAfter.
    pub not_after: Option<String>,
    /// The record that names it.
    pub record: String,
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
    let (before, after) = around(&mine, at);
    let certificate = credential.and_then(|_| current_certificate(&mine, &target, at));
    Ok(Ownership {
        owner: declared.spec.owner.as_ref().map(|o| o.value.clone()),
        policy: policy.map(|p| p.value.clone()),
        declared_in: DeclaredIn {
            path: file,
            line: declared.origin.span.line,
            commit: declaring,
        },
        at: at.to_string(),
        certificate,
        state_commit: state,
        record_before: before.cloned(),
        record_after: after.cloned(),
        target,
    })
}

/// The last record at or before `at` and the first after it. At one instant, what was done
/// ranks above what was skipped: a notice skipped in the same apply as a rotation is not "the
/// record before" it.
fn around<'e>(
    records: &[&'e Entry],
    at: jiff::Timestamp,
) -> (Option<&'e Entry>, Option<&'e Entry>) {
    let done = |e: &&Entry| e.record.outcome != super::Outcome::Skipped;
    let before = records
        .iter()
        .filter(|e| e.record.started.0 <= at)
        .max_by_key(|e| (e.record.started.0, done(e)))
        .copied();
    let after = records
        .iter()
        .filter(|e| e.record.started.0 > at)
        .min_by_key(|e| (e.record.started.0, !done(e)))
        .copied();
    (before, after)
}

/// The certificate of `target` at `at`: the one the last applied rotation at or before `at`
/// deployed, else the one the first applied rotation after it replaced.
fn current_certificate(
    records: &[&Entry],
    target: &str,
    at: jiff::Timestamp,
) -> Option<Certificate> {
    let rotations = records.iter().filter(|e| {
        e.record.kind == crate::plan::ActionKind::Rotate
            && e.record.outcome == super::Outcome::Applied
    });
    let change = |e: &Entry| {
        e.record
            .changes
            .iter()
            .find(|c| c.target == target)
            .cloned()
    };
    let named =
        |e: &Entry, sha256: Option<String>, serial, not_after: Option<crate::discover::Time>| {
            Some(Certificate {
                sha256: sha256?,
                serial,
                not_after: not_after.map(|t| t.0.to_string()),
                record: format!("{}:{}", crate::discover::short(&e.commit, 12), e.path),
            })
        };
    let last_before = rotations
        .clone()
        .rfind(|e| e.record.started.0 <= at)
        .and_then(|e| {
            let c = change(e)?;
            named(e, c.new_sha256, c.new_serial, c.new_not_after)
        });
    last_before.or_else(|| {
        rotations.filter(|e| e.record.started.0 > at).find_map(|e| {
            let c = change(e)?;
            named(e, c.old_sha256, c.old_serial, c.old_not_after)
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Change, Outcome, Record};
    use crate::discover::Time;
    use crate::plan::ActionKind;

    fn rotation(at: &str, old: &str, new: &str, outcome: Outcome) -> Entry {
        Entry {
            commit: "c0ffee".repeat(7),
            path: format!("audit/{at}.yaml"),
            record: Record {
                kind: ActionKind::Rotate,
                outcome,
                started: Time(at.parse().unwrap()),
                changes: vec![Change {
                    target: "db/tls".into(),
                    old_sha256: Some(old.into()),
                    new_sha256: Some(new.into()),
                    ..Change::default()
                }],
                ..Record::default()
            },
        }
    }

    #[test]
    fn the_certificate_at_an_instant_comes_from_the_rotations_around_it() {
        let entries = [
            rotation("2026-05-01T00:00:00Z", "a", "b", Outcome::Applied),
            rotation("2026-05-10T00:00:00Z", "b", "x", Outcome::Failed),
            rotation("2026-05-20T00:00:00Z", "b", "c", Outcome::Applied),
        ];
        let refs: Vec<&Entry> = entries.iter().collect();
        let at =
            |t: &str| current_certificate(&refs, "db/tls", t.parse().unwrap()).map(|c| c.sha256);
        assert_eq!(
            at("2026-04-01T00:00:00Z").as_deref(),
            Some("a"),
            "before any: what the first replaced"
        );
        assert_eq!(
            at("2026-05-01T00:00:00Z").as_deref(),
            Some("b"),
            "at a rotation: what it deployed"
        );
        assert_eq!(
            at("2026-05-15T00:00:00Z").as_deref(),
            Some("b"),
            "a failed rotation deployed nothing"
        );
        assert_eq!(at("2026-06-01T00:00:00Z").as_deref(), Some("c"));
    }

    /// A skipped notice recorded in the same apply as a rotation, at the same instant, in
    /// either order: the rotation is the record before a later instant and the record after
    /// an earlier one.
    #[test]
    fn at_one_instant_what_was_done_ranks_above_what_was_skipped() {
        let mut notice = rotation("2026-05-01T00:00:00Z", "a", "a", Outcome::Skipped);
        notice.record.kind = ActionKind::Escalate;
        let rotated = rotation("2026-05-01T00:00:00Z", "a", "b", Outcome::Applied);
        for entries in [[&notice, &rotated], [&rotated, &notice]] {
            let (before, _) = around(&entries, "2026-05-02T00:00:00Z".parse().unwrap());
            assert_eq!(before.unwrap().record.kind, ActionKind::Rotate);
            let (_, after) = around(&entries, "2026-04-30T00:00:00Z".parse().unwrap());
            assert_eq!(after.unwrap().record.kind, ActionKind::Rotate);
        }
    }
}
