//! What earlier applies of a plan left in the audit trail: a saved plan applies once, except
//! for actions an earlier apply only skipped (waiting for `--approve`).

use super::Error;
use crate::audit::{self, Outcome as Ended, Record};
use crate::git;
use crate::plan::{ActionKind, Plan};
use std::path::Path;

/// What earlier applies of one plan left in the audit trail.
#[derive(Clone, Debug, Default)]
pub struct Prior {
    /// How many applies of the plan were committed.
    pub applies: usize,
    /// Actions they applied or failed (skipped ones may still run, e.g. once approved).
    pub done: std::collections::BTreeSet<String>,
    /// One record file, for messages.
    pub file: Option<String>,
}

/// Reads the audit trail on `branch` for earlier applies of `plan`.
pub fn prior(repo: &Path, branch: &str, plan: &str) -> Result<Prior, Error> {
    let mut prior = Prior::default();
    let mut applies = std::collections::BTreeSet::new();
    for file in git::files_under(repo, branch, "audit/")? {
        let parts: Vec<&str> = file.split('/').collect();
        let Some(at) = parts.iter().position(|p| *p == plan) else {
            continue;
        };
        applies.insert(parts.get(at + 1).copied().unwrap_or_default().to_owned());
        let bytes = git::read(repo, branch, &file)?.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(record) = serde_saphyr::from_str::<Record>(&text)
            && record.outcome != Ended::Skipped
        {
            prior.done.insert(record.action);
        }
        prior.file.get_or_insert(file);
    }
    prior.applies = applies.len();
    Ok(prior)
}

/// Refuses a plan whose rotations the audit trail on `branch` already holds: a saved plan
/// applies once. (Actions an earlier apply only skipped — waiting for approval — may run.)
pub fn refuse_applied(repo: &Path, branch: &str, plan: &Plan) -> Result<Prior, Error> {
    let prior = prior(repo, branch, &plan.id)?;
    let runnable: Vec<&str> = plan
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Rotate)
        .map(|a| a.id.as_str())
        .collect();
    let nothing_left = !runnable.is_empty() && runnable.iter().all(|a| prior.done.contains(*a));
    if prior.applies > 0 && (nothing_left || runnable.is_empty()) {
        return Err(Error::AlreadyApplied {
            plan: plan.id.clone(),
            file: prior.file.clone().unwrap_or_default(),
            branch: branch.trim_start_matches("refs/heads/").to_owned(),
        });
    }
    Ok(prior)
}

/// Writes `records` as the `apply`-th apply of `plan`: one file each under
/// `audit/YYYY/MM/PLAN/N/`, all in one signed commit on the audit branch.
pub(super) fn commit(
    options: &super::Options<'_>,
    plan: &Plan,
    records: &[Record],
    apply: usize,
    recover_ref_lock: bool,
) -> Result<git::Written, Error> {
    let folder = format!("{}/{}", audit::folder(&plan.id, options.now), apply);
    let files = records
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let text = serde_saphyr::to_string(r).unwrap_or_default();
            (audit::path(&folder, n + 1, &r.action), text.into_bytes())
        })
        .collect();
    let applied = records
        .iter()
        .filter(|r| r.outcome == Ended::Applied)
        .count();
    let message = format!(
        "trustops apply {}: {applied} applied, {} failed, {} skipped\n\nApproved-by: {}\nDeclarations: {}\n",
        plan.id,
        records.iter().filter(|r| r.outcome.failed()).count(),
        records
            .iter()
            .filter(|r| r.outcome == Ended::Skipped)
            .count(),
        options.approver,
        plan.inputs
            .declarations_commit
            .as_deref()
            .unwrap_or("uncommitted"),
    );
    Ok(git::commit(
        &options.repo,
        &git::Change {
            branch: &options.branch,
            files,
            message: &message,
            author: &options.author,
            signer: options.signer,
            recover_ref_lock,
        },
    )?)
}
