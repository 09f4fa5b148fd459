//! Apply: carry out a saved plan's actions through issuers, deploy what they issue, verify it
//! by rediscovery, and write one signed audit commit. Only this module touches issuers.
//!
//! Entry point: [`apply`]. It takes the lock (`journal.rs`), refuses a plan already in the
//! audit trail, and runs each action the plan allows now and the approver approved: rotation
//! groups step by step (`rotation.rs`), each step journaled before the next starts, so a killed
//! apply resumes where it stopped. A failing group stops, keeps the old credential deployed and
//! is recorded; the others go on. Refusing stale or edited plans is the caller's job before
//! this (it holds the current inputs). Issuers live in `issuers/`, the deploy side in
//! `deploy.rs`.

pub mod deploy;
pub mod http;
pub mod issuers;
pub mod journal;
pub mod notifiers;
mod rotation;

use crate::audit::{self, Change, Outcome as Ended, Record};
use crate::discover::Time;
use crate::git::{self, Author, Signer};
use crate::model::{Approval, Model};
use crate::plan::{ActionKind, Plan};
use jiff::Timestamp;
use std::path::{Path, PathBuf};

/// How to apply.
#[derive(Debug)]
pub struct Options<'a> {
    /// The governance repository (its work tree).
    pub repo: PathBuf,
    /// The declarations, loaded and valid.
    pub model: &'a Model,
    /// The instant of this apply.
    pub now: Timestamp,
    /// Ids of `approval: manual` actions a person approved (`--approve`).
    pub approved: Vec<String>,
    /// Who approved the apply (a CI actor or the local Git identity).
    pub approver: String,
    /// The ref audit commits go to, e.g. `refs/heads/trustops-audit`.
    pub branch: String,
    /// Author and committer of the audit commit.
    pub author: Author,
    /// The key that signs the audit commit.
    pub signer: Option<&'a Signer>,
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One record per action (applied, failed or skipped), in plan order.
    pub records: Vec<Record>,
    /// The audit commit.
    pub commit: Option<String>,
    /// Whether an interrupted apply of the same plan was resumed.
    pub resumed: bool,
}

impl Outcome {
    /// Records that failed.
    pub fn failed(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.outcome == Ended::Failed)
            .count()
    }
}

/// Why an apply could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan is already in the audit trail.
    #[error(
        "plan {plan} was already applied ({file} on {branch}); run trustops plan for a new one"
    )]
    AlreadyApplied {
        /// The plan.
        plan: String,
        /// A record of it.
        file: String,
        /// The audit branch.
        branch: String,
    },
    /// The lock or the journal failed.
    #[error(transparent)]
    Journal(#[from] journal::Error),
    /// Git failed (nothing was committed; the journal keeps the records for a retry).
    #[error(transparent)]
    Git(#[from] git::Error),
}

/// What the steps of one apply share.
pub(crate) struct Run<'a> {
    model: &'a Model,
    base: &'a Path,
    now: Timestamp,
    plan: &'a Plan,
    journal: journal::Journal,
}

impl Run<'_> {
    /// The change record of `target`, with the facts of the credential it replaces.
    fn old(&self, target: &str) -> Change {
        let current = self
            .plan
            .credentials
            .iter()
            .find(|c| format!("{}/{}", c.identity, c.credential) == target)
            .and_then(|c| c.current.as_ref());
        Change {
            target: target.to_owned(),
            old_sha256: current.map(|f| f.sha256.clone()),
            old_serial: current.and_then(|f| f.serial.clone()),
            old_not_after: current.and_then(|f| f.not_after),
            ..Change::default()
        }
    }
}

/// Carries out `plan` as `options` say.
pub fn apply(options: &Options<'_>, plan: &Plan) -> Result<Outcome, Error> {
    let git_dir = git::git_dir(&options.repo)?;
    let _lock = journal::Lock::take(&git_dir, options.now)?;
    let prior = refuse_applied(&options.repo, &options.branch, plan)?;
    let journal = journal::Journal::open(&git_dir, &plan.id)?;
    let resumed = journal.is_resuming();
    let mut run = Run {
        model: options.model,
        base: &options.repo,
        now: options.now,
        plan,
        journal,
    };
    let mut records = Vec::new();
    for action in &plan.actions {
        if prior.done.contains(&action.id) {
            continue; // An earlier apply of this plan did it; its record is in the trail.
        }
        if let Some(done) = run.journal.record(&action.id) {
            records.push(done.clone());
            continue;
        }
        let mut record = Record {
            format_version: audit::FORMAT_VERSION,
            plan: plan.id.clone(),
            action: action.id.clone(),
            kind: action.kind.as_str().to_owned(),
            identity: action.identity.clone(),
            credential: action.credential.clone(),
            owner: action.owner.clone(),
            policy: policy_of(plan, action),
            declarations_commit: plan.inputs.declarations_commit.clone(),
            approver: options.approver.clone(),
            started: Time(options.now),
            finished: Time(options.now),
            ..Record::default()
        };
        match why_not(options, action) {
            Some(reason) => {
                record.outcome = Ended::Skipped;
                record.error = Some(reason);
            }
            None if action.kind == ActionKind::Escalate => {
                let (steps, changes, error) = escalate(plan, action);
                let delivered = steps.iter().any(|s| s.result == "ok");
                record.outcome = match (&error, delivered) {
                    (Some(_), _) => Ended::Failed,
                    (None, true) => Ended::Applied,
                    (None, false) => Ended::Skipped,
                };
                record.error = error.or_else(|| {
                    (!delivered)
                        .then(|| "no contact could be reached yet (e-mail comes next)".into())
                });
                record.steps = steps;
                record.changes = changes;
            }
            None => {
                let (steps, changes, error) = rotation::run(&mut run, action);
                record.steps = steps;
                record.changes = changes;
                record.outcome = if error.is_some() {
                    Ended::Failed
                } else {
                    Ended::Applied
                };
                record.error = error;
            }
        }
        run.journal.append(journal::Entry {
            action: action.id.clone(),
            step: None,
            event: None,
            at: Time(options.now),
            detail: None,
            record: Some(record.clone()),
        })?;
        records.push(record);
    }
    let folder = format!(
        "{}/{}",
        audit::folder(&plan.id, options.now),
        prior.applies + 1
    );
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
        records
            .iter()
            .filter(|r| r.outcome == Ended::Failed)
            .count(),
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
    let written = git::commit(
        &options.repo,
        &git::Change {
            branch: &options.branch,
            files,
            message: &message,
            author: &options.author,
            signer: options.signer,
        },
    )?;
    run.journal.finish()?;
    Ok(Outcome {
        records,
        commit: Some(written.commit),
        resumed,
    })
}

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

/// Sends an escalation to each recipient that has a webhook; the record keeps the credential's
/// fingerprint, so the ladder of that credential counts from its first notice.
fn escalate(
    plan: &Plan,
    action: &crate::plan::Action,
) -> (Vec<audit::StepRecord>, Vec<Change>, Option<String>) {
    use notifiers::Notifier;
    let target = format!(
        "{}/{}",
        action.identity.as_deref().unwrap_or_default(),
        action.credential.as_deref().unwrap_or_default()
    );
    let current = plan
        .credentials
        .iter()
        .find(|c| format!("{}/{}", c.identity, c.credential) == target)
        .and_then(|c| c.current.as_ref());
    let changes = vec![Change {
        target: target.clone(),
        old_sha256: current.map(|f| f.sha256.clone()),
        old_serial: current.and_then(|f| f.serial.clone()),
        old_not_after: current.and_then(|f| f.not_after),
        ..Change::default()
    }];
    let message = notifiers::Message {
        text: format!(
            "trustops: {} (owner {}, plan {})",
            action.summary,
            action.owner.as_deref().unwrap_or("none"),
            plan.id
        ),
        target: target.clone(),
    };
    let mut steps = Vec::new();
    let mut failures = Vec::new();
    let recipients = action
        .notice
        .as_ref()
        .map(|n| n.recipients.as_slice())
        .unwrap_or_default();
    for recipient in recipients {
        let (result, detail) = match (&recipient.webhook_env, &recipient.email) {
            (Some(env), _) => match notifiers::Webhook::from_env(env).send(&message) {
                Ok(done) => ("ok", done),
                Err(e) => {
                    failures.push(e.clone());
                    ("failed", e)
                }
            },
            (None, Some(email)) => (
                "skipped",
                format!("e-mail to {email} is not sent yet (the e-mail notifier comes next)"),
            ),
            (None, None) => continue,
        };
        steps.push(audit::StepRecord {
            step: "notify".into(),
            target: format!(
                "{} (step {})",
                recipient.owner.as_deref().unwrap_or("owner"),
                recipient.step
            ),
            result: result.into(),
            detail: Some(detail),
        });
    }
    let error = (!failures.is_empty()).then(|| failures.join("; "));
    (steps, changes, error)
}

/// The effective policy of an action's credential, from the plan.
fn policy_of(plan: &Plan, action: &crate::plan::Action) -> Option<String> {
    plan.credentials
        .iter()
        .find(|c| {
            Some(&c.identity) == action.identity.as_ref()
                && Some(&c.credential) == action.credential.as_ref()
        })
        .and_then(|c| c.policy.clone())
}

/// Why `action` does not run now, if it does not.
fn why_not(options: &Options<'_>, action: &crate::plan::Action) -> Option<String> {
    match action.kind {
        ActionKind::Rotate | ActionKind::Revoke => {}
        ActionKind::Adopt | ActionKind::Review => {
            return Some("needs a person: see the plan's summary".into());
        }
        ActionKind::Escalate => {}
    }
    if action.approval == Approval::Manual && !options.approved.contains(&action.id) {
        return Some(format!(
            "waits for approval: trustops apply --approve {}",
            action.id
        ));
    }
    if let Some(at) = action.not_before
        && at.0 > options.now
    {
        return Some(format!(
            "waits for its renewal window at {}",
            at.0.strftime("%Y-%m-%d %H:%M UTC")
        ));
    }
    None
}
