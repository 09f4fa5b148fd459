//! Apply: carry out a saved plan's actions through issuers, deploy what they issue, verify it
//! by rediscovery, and write one signed audit commit. Only this module touches issuers.
//!
//! Entry point: [`apply`]. It takes the lock (`journal.rs`), refuses a plan already in the
//! audit trail (`trail.rs`), and runs each action the plan allows now and the approver
//! approved: rotation groups step by step (`rotation.rs`: issue, deploy, `verify.rs`, revoke),
//! each step journaled before the next starts so a killed apply resumes where it stopped
//! (`resume.rs`), and escalations through notifiers (`escalation.rs`, `notifiers/`). A failing
//! group puts its files back and is recorded; the others go on. All records go into one signed
//! commit (`trail.rs`). Refusing stale or edited plans is the caller's job, between taking the
//! lock ([`lock`]) and calling [`apply`] (it holds the current inputs). What a group deploys
//! replaces files atomically (`crate::durable`) and keeps the last known-good ones until the
//! group ends (`backup.rs`). Issuers live in `issuers/`, the deploy side in `deploy.rs`, the HTTP
//! client webhooks and CA APIs share in `http.rs`.

mod backup;
pub mod deploy;
mod escalation;
mod group;
pub mod issuers;
pub mod journal;
pub mod notifiers;
mod resume;
mod rotation;
mod trail;
mod verify;

pub use trail::{Prior, prior, refuse_applied};

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
    /// The SMTP relay for e-mail notices (`trustops.yaml`), if one is declared.
    pub smtp: Option<&'a crate::model::Smtp>,
    /// The variables declarations name (a local CA's `keyEnv`, webhook URLs, the SMTP login).
    pub env: &'a crate::environment::Environment,
    /// Raised (SIGTERM, SIGINT): stop between actions. The actions done are recorded and
    /// committed as usual; the rest are left for the next plan.
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
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
    /// Actions not started because `stop` was raised.
    pub left: usize,
}

impl Outcome {
    /// Records that failed.
    pub fn failed(&self) -> usize {
        self.records.iter().filter(|r| r.outcome.failed()).count()
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
    /// An interrupted apply of a plan with this id is journaled, but it applied another file.
    #[error(
        "an interrupted apply of {plan} is journaled for a different plan file with that id; resume it with the file it started with"
    )]
    OtherPlan {
        /// The plan id.
        plan: String,
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
    env: &'a crate::environment::Environment,
    now: Timestamp,
    plan: &'a Plan,
    journal: journal::Journal,
}

impl<'a> Run<'a> {
    /// The change record of `target`, with the facts of the credential it replaces.
    fn old(&self, target: &str) -> Change {
        replacing(self.plan, target)
    }

    /// The declaration behind `identity/credential`, with its effective policy.
    fn declared(&self, target: &str) -> Result<crate::model::Declared<'a>, String> {
        let (identity, credential) = target
            .split_once('/')
            .ok_or_else(|| format!("{target} names no credential"))?;
        self.model
            .credential(identity, credential)
            .ok_or_else(|| format!("{target} is no longer declared; re-plan"))
    }
}

/// A change record for `target`, with the facts of its current credential in `plan`.
fn replacing(plan: &Plan, target: &str) -> Change {
    let current = plan.credential(target).and_then(|c| c.current.as_ref());
    Change {
        target: target.to_owned(),
        old_sha256: current.map(|f| f.sha256.clone()),
        old_serial: current.and_then(|f| f.serial.clone()),
        old_not_after: current.and_then(|f| f.not_after),
        ..Change::default()
    }
}

/// Takes the apply lock of the repository at `repo` (see [`journal::Lock`]). Everything that
/// decides whether a plan may run — already applied, stale — is checked while it is held.
pub fn lock(repo: &Path, now: Timestamp) -> Result<journal::Lock, Error> {
    let git_dir = git::git_dir(repo)?;
    Ok(journal::Lock::take(&git_dir, now)?)
}

/// Clears the journal of `plan` when the apply it was committing is already in the audit trail
/// on `branch` (an apply killed after its commit, before it cleared its journal); says whether
/// it did. Called under the lock, before deciding whether the plan resumes.
pub fn settle(repo: &Path, branch: &str, plan: &str, _lock: &journal::Lock) -> Result<bool, Error> {
    let git_dir = git::git_dir(repo)?;
    if !journal::Journal::exists(&git_dir, plan) {
        return Ok(false);
    }
    let journal = journal::Journal::open(&git_dir, plan)?;
    let Some(apply) = journal.was_committing() else {
        return Ok(false);
    };
    if prior(repo, branch, plan)?.applies < apply {
        return Ok(false);
    }
    journal.finish()?;
    Ok(true)
}

/// Carries out `plan` as `options` say, under `lock` (from [`lock`]).
pub fn apply(options: &Options<'_>, plan: &Plan, lock: &journal::Lock) -> Result<Outcome, Error> {
    let git_dir = git::git_dir(&options.repo)?;
    settle(&options.repo, &options.branch, &plan.id, lock)?;
    let prior = refuse_applied(&options.repo, &options.branch, plan)?;
    let mut journal = journal::Journal::open(&git_dir, &plan.id)?;
    let resumed = journal.is_resuming();
    if !resumed {
        journal.begin(&plan.digest, Time(options.now))?;
    } else if let Some(digest) = journal.plan_digest()
        && digest != plan.digest
    {
        return Err(Error::OtherPlan {
            plan: plan.id.clone(),
        });
    }
    // A journal that says it was committing: a ref lock left on the audit branch is its own.
    let recover_ref_lock = journal.was_committing().is_some();
    if !recover_ref_lock {
        // Another writer's lock: say so before changing anything, not after rotating.
        git::refuse_locked(&options.repo, &options.branch)?;
    }
    sweep(options.model, &options.repo);
    let mut run = Run {
        model: options.model,
        base: &options.repo,
        env: options.env,
        now: options.now,
        plan,
        journal,
    };
    let mut records = Vec::new();
    let mut left = 0;
    // Whether there is anything to record beyond actions only a person can take (adopt,
    // review): an action carried out or held back (for an approver, for its window), or an
    // earlier run's record to commit. Otherwise no audit commit is made.
    let mut attempted = false;
    for action in &plan.actions {
        if left > 0
            || options
                .stop
                .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
        {
            left += 1;
            continue;
        }
        if prior.done.contains(&action.id) {
            continue; // An earlier apply of this plan did it; its record is in the trail.
        }
        if let Some(done) = run.journal.record(&action.id) {
            records.push(done.clone());
            attempted = true;
            continue;
        }
        let mut record = Record {
            format_version: audit::FORMAT_VERSION,
            plan: plan.id.clone(),
            action: action.id.clone(),
            kind: action.kind,
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
        attempted |= !matches!(action.kind, ActionKind::Adopt | ActionKind::Review);
        match why_not(options, action) {
            Some(reason) => {
                record.outcome = Ended::Skipped;
                record.error = Some(reason);
            }
            None if action.kind == ActionKind::Escalate => {
                let (steps, changes, error) = escalation::send(options, plan, action);
                let delivered = steps.iter().any(|s| s.result == audit::StepResult::Ok);
                record.outcome = match (&error, delivered) {
                    (Some(_), _) => Ended::Failed,
                    (None, true) => Ended::Applied,
                    (None, false) => Ended::Skipped,
                };
                record.error = error.or_else(|| {
                    (!delivered).then(|| {
                        let why: Vec<&str> =
                            steps.iter().filter_map(|s| s.detail.as_deref()).collect();
                        format!("no contact could be reached: {}", why.join("; "))
                    })
                });
                record.steps = steps;
                record.changes = changes;
            }
            None => {
                let ran = rotation::run(&mut run, action);
                record.steps = ran.steps;
                record.changes = ran.changes;
                record.outcome = ran.outcome;
                record.error = ran.error;
            }
        }
        run.journal.append(journal::Entry {
            action: action.id.clone(),
            step: None,
            event: None,
            at: Time(options.now),
            detail: None,
            record: Some(record.clone()),
            commit: None,
            plan_digest: None,
        })?;
        records.push(record);
    }
    if !attempted && left == 0 {
        // No action, or only ones for a person: a push that applies nothing adds no commit.
        run.journal.finish()?;
        return Ok(Outcome {
            records,
            commit: None,
            resumed,
            left,
        });
    }
    let number = prior.applies + 1;
    run.journal.committing(number, Time(options.now))?;
    let written = trail::commit(options, plan, &records, number, recover_ref_lock)?;
    crate::fault::point("apply.committed");
    run.journal.finish()?;
    Ok(Outcome {
        records,
        commit: Some(written.commit),
        resumed,
        left,
    })
}

/// Removes what killed applies left beside the files apply writes — the declared deploy files
/// and the local CAs' CRLs: temporaries, which may be copies of private keys. (Kept files and
/// staged keys belong to their groups.) Runs under the lock, so no other apply is writing them.
fn sweep(model: &Model, base: &Path) {
    let deployed = model
        .identities
        .values()
        .flat_map(|i| i.spec.credentials.iter())
        .flat_map(|c| c.deploy.iter())
        .flat_map(|d| [&d.cert_file, &d.key_file])
        .flatten();
    let crls = model
        .issuers
        .values()
        .filter_map(|i| i.spec.local_ca.as_ref()?.crl_file.as_ref());
    for file in deployed.chain(crls) {
        crate::durable::sweep(&crate::reconcile::resolve(base, &file.value));
    }
}

/// The effective policy of an action's credential, from the plan.
fn policy_of(plan: &Plan, action: &crate::plan::Action) -> Option<String> {
    let target = format!(
        "{}/{}",
        action.identity.as_deref()?,
        action.credential.as_deref()?
    );
    plan.credential(&target).and_then(|c| c.policy.clone())
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

/// An error with its causes, `outer: inner: ...` (some libraries' own message says only
/// "client error").
pub(crate) fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
