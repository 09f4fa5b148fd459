//! One controller cycle: sync the declarations from the remote (an invalid head is refused and
//! the last good one keeps running), plan, apply the actions policy auto-approves, push the
//! audit branch (a rejected push is fetched, rebuilt on the new tip and pushed again; never
//! forced), and say when something next becomes due.

use super::Options;
use crate::audit::Attempt;
use crate::git::{self, remote};
use crate::model::Approval;
use crate::pipeline;
use crate::plan::{ActionKind, Plan};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What one cycle did.
#[derive(Clone, Debug, Default)]
pub struct Cycle {
    /// The instant it planned at.
    pub at: Option<Timestamp>,
    /// The declarations commit it planned from.
    pub head: Option<String>,
    /// A newer commit on the remote refused because its declarations are invalid.
    pub invalid_head: Option<String>,
    /// The plan (for metrics).
    pub plan: Option<Plan>,
    /// The plan's certificates and sources (for metrics).
    pub observed: crate::render::metrics::Observed,
    /// Actions applied, and failed.
    pub applied: usize,
    /// Actions that failed.
    pub failed: usize,
    /// Rotations applied.
    pub rotations: u64,
    /// The audit commit, if it applied anything.
    pub commit: Option<String>,
    /// Whether the audit branch reached the remote.
    pub pushed: bool,
    /// The earliest instant something becomes due.
    pub next_due: Option<Timestamp>,
    /// Issuers that failed an issue in this cycle's apply, once per failure.
    pub issuer_errors: Vec<String>,
    /// Warnings and diagnostics, one line each.
    pub notes: Vec<String>,
    /// Why the cycle failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

impl Cycle {
    /// One line for the log.
    pub fn summary(&self) -> String {
        let at = self.at.map_or_else(String::new, |t| {
            t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        });
        match &self.error {
            Some(e) => format!("{at} cycle failed: {e}"),
            None => format!(
                "{at} cycle ok: head {}, {} applied, {} failed{}{}{}",
                self.head
                    .as_deref()
                    .map_or("-", |h| h.get(..12).unwrap_or(h)),
                self.applied,
                self.failed,
                self.commit
                    .as_deref()
                    .map(|c| format!(", audit commit {}", c.get(..12).unwrap_or(c)))
                    .unwrap_or_default(),
                if self.pushed { ", pushed" } else { "" },
                self.invalid_head
                    .as_deref()
                    .map(|h| format!(", refused {h}"))
                    .unwrap_or_default(),
            ),
        }
    }

    pub(super) fn with_duration(mut self, duration: Duration) -> Cycle {
        self.duration = duration;
        self
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What the loop remembers between cycles about rotations that failed.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// `identity/credential` → consecutive failures that may pass, and when to try again.
    backoff: BTreeMap<String, (u32, Timestamp)>,
    /// `identity/credential` → the declarations commit at which an issuer refused it: not
    /// tried again until the declarations change.
    refused: BTreeMap<String, Option<String>>,
    /// Whether the audit trail's attempts were learnt.
    recalled: bool,
}

/// The longest backoff.
const MAX_BACKOFF: i64 = 6 * 3600;

impl Memory {
    /// Why `target` is not to be rotated now, if it is not.
    fn holds(&self, target: &str, now: Timestamp, head: Option<&String>) -> Option<String> {
        if let Some(at) = self.refused.get(target)
            && at.as_ref() == head
        {
            return Some(format!(
                "{target}: its issuer refused it; not retried until the declarations change"
            ));
        }
        match self.backoff.get(target) {
            Some((n, until)) if *until > now => Some(format!(
                "{target}: backing off after {n} failure(s) that may pass, until {}",
                until.strftime("%Y-%m-%dT%H:%M:%SZ")
            )),
            _ => None,
        }
    }

    /// Learns from a rotation attempted.
    fn learn(&mut self, attempt: &Attempt, interval: Duration) {
        let target = attempt.target.clone();
        if !attempt.failed {
            self.backoff.remove(&target);
            self.refused.remove(&target);
            return;
        }
        if attempt.refused {
            self.refused
                .insert(target, attempt.declarations_commit.clone());
            return;
        }
        let n = self.backoff.get(&target).map_or(0, |(n, _)| *n) + 1;
        let base = i64::try_from(interval.as_secs())
            .unwrap_or(MAX_BACKOFF)
            .max(1);
        let delay = base
            .saturating_mul(1_i64 << (n - 1).min(20))
            .min(MAX_BACKOFF);
        let now = attempt.at;
        let until = Timestamp::from_second(now.as_second().saturating_add(delay)).unwrap_or(now);
        self.backoff.insert(target, (n, until));
    }

    /// Learns, once, what the audit trail says of rotations attempted before this process
    /// started: a restart keeps backing off and keeps refusing what an issuer refused.
    fn recall(&mut self, attempts: &[Attempt], interval: Duration) {
        if std::mem::replace(&mut self.recalled, true) {
            return;
        }
        for attempt in attempts {
            self.learn(attempt, interval);
        }
    }
}

/// Runs one cycle at `now`; stops between steps when `stop` is raised.
pub fn cycle(
    options: &Options,
    now: Timestamp,
    stop: &Arc<AtomicBool>,
    memory: &mut Memory,
) -> Cycle {
    let mut out = Cycle {
        at: Some(now),
        ..Cycle::default()
    };
    if let Err(e) = steps(options, now, stop, memory, &mut out) {
        out.error = Some(e.to_string());
    }
    out
}

fn steps(
    options: &Options,
    now: Timestamp,
    stop: &Arc<AtomicBool>,
    memory: &mut Memory,
    out: &mut Cycle,
) -> Result<(), Failure> {
    if let Some(name) = &options.remote {
        sync(options, name, out)?;
    }
    if stop.load(Ordering::Relaxed) {
        return Ok(());
    }
    let pipe = pipeline::Options {
        now,
        ..options.pipeline.clone()
    };
    let planned = pipeline::plan(&pipe)?;
    out.notes.extend(planned.warnings.iter().cloned());
    out.head = planned.plan.inputs.declarations_commit.clone();
    out.next_due = next_due(&planned, now);
    out.observed =
        crate::render::metrics::observed(&planned.plan, &planned.inventory, &planned.loaded.model);
    let trail = &planned.trail;
    memory.recall(&trail.attempts, options.interval);
    let mut runnable = runnable(&planned.plan, &trail.last_notices, now, options.renotify);
    let head = out.head.clone();
    let day_ago = now.as_second() - 86_400;
    runnable.actions.retain(|a| {
        if a.kind != ActionKind::Rotate {
            return true;
        }
        let target = format!(
            "{}/{}",
            a.identity.as_deref().unwrap_or_default(),
            a.credential.as_deref().unwrap_or_default()
        );
        if let Some(why) = memory.holds(&target, now, head.as_ref()) {
            out.notes.push(why);
            return false;
        }
        let recent = trail
            .rotations
            .get(a.identity.as_deref().unwrap_or_default())
            .map_or(0, |times| times.iter().filter(|t| t.as_second() > day_ago).count());
        if recent >= options.max_issuances_per_day {
            out.notes.push(format!(
                "{target}: {recent} rotation(s) of {} in the last 24 hours, the most allowed (--max-issuances-per-day); a person must look",
                a.identity.as_deref().unwrap_or_default()
            ));
            return false;
        }
        true
    });
    runnable.digest = crate::plan::file::digest(&runnable);
    if !runnable.actions.is_empty() && !stop.load(Ordering::Relaxed) {
        let how = pipeline::Apply {
            approved: Vec::new(),
            approver: "trustops controller".into(),
            author: git::Author {
                name: "trustops controller".into(),
                email: options.email.clone(),
                time: now.as_second(),
            },
            signer: &options.signer,
            stop: Some(stop.as_ref()),
        };
        let applied = match pipeline::apply(&pipe, &runnable, &how) {
            Ok(applied) => applied,
            // Another replica (or a person) is applying, or just did: the next cycle re-plans.
            Err(pipeline::Error::Apply(crate::apply::Error::Journal(
                crate::apply::journal::Error::Locked { holder, .. },
            ))) => {
                out.notes
                    .push(format!("another apply is running ({holder}); next cycle"));
                out.plan = Some(planned.plan);
                return Ok(());
            }
            // This very plan (same instant, same inputs) was applied by an earlier cycle.
            Err(pipeline::Error::Apply(crate::apply::Error::AlreadyApplied { plan, .. })) => {
                out.notes
                    .push(format!("{plan} was already applied; nothing new to do"));
                out.plan = Some(planned.plan);
                return Ok(());
            }
            Err(pipeline::Error::Stale(why)) => {
                out.notes.push(format!(
                    "the estate changed while planning ({why}); next cycle"
                ));
                out.plan = Some(planned.plan);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        for record in &applied.records {
            if let Some(attempt) = Attempt::of(record) {
                memory.learn(&attempt, options.interval);
            }
            match record.outcome {
                crate::audit::Outcome::Applied => {
                    out.applied += 1;
                    out.rotations += u64::from(record.kind == ActionKind::Rotate);
                }
                crate::audit::Outcome::Failed | crate::audit::Outcome::Partial => out.failed += 1,
                crate::audit::Outcome::Skipped => {}
            }
            if let Some(error) = &record.error {
                out.notes.push(format!("{}: {error}", record.action));
            }
            for change in &record.changes {
                out.issuer_errors
                    .extend(change.issuer_failures.iter().map(|f| f.issuer.clone()));
            }
        }
        out.commit = applied.commit;
        if applied.left > 0 {
            out.notes.push(format!(
                "stopping: {} action(s) left for the next start",
                applied.left
            ));
        }
    }
    out.plan = Some(planned.plan);
    if let Some(name) = &options.remote {
        out.pushed = push(options, name, now)?;
    }
    Ok(())
}

/// Fetches; fast-forwards to the remote's head unless its declarations are invalid (then the
/// last good ones keep running and the refusal is noted); follows the remote's audit branch.
fn sync(options: &Options, name: &str, out: &mut Cycle) -> Result<(), Failure> {
    let repo = &options.pipeline.repo;
    remote::fetch(repo, name)?;
    let branch = remote::current_branch(repo)?;
    let upstream = format!("refs/remotes/{name}/{branch}");
    if let (Some(tip), Some(head)) = (
        remote::resolve(repo, &upstream),
        remote::resolve(repo, "HEAD"),
    ) && tip != head
    {
        let (_, files) = git::tree_files(repo, &tip, crate::load::MAX_FILE_BYTES)?;
        let loaded = crate::load::from_tree(files);
        if crate::diag::has_errors(&loaded.diagnostics) {
            let errors = loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == crate::diag::Severity::Error)
                .count();
            let short = |id: &str| id.get(..12).unwrap_or(id).to_owned();
            out.invalid_head = Some(short(&tip));
            out.notes.push(format!(
                "{name}/{branch} is at {} whose declarations have {errors} error(s); still running {} (trustops validate at that commit shows each)",
                short(&tip),
                short(&head)
            ));
        } else if remote::is_ancestor(repo, &head, &tip) {
            remote::fast_forward(repo, &tip)?;
        } else {
            return Err(format!(
                "{branch} has commits {name}/{branch} lacks; the controller only fast-forwards"
            )
            .into());
        }
    }
    let audit = &options.pipeline.audit_branch;
    let short = audit.trim_start_matches("refs/heads/");
    if let Some(theirs) = remote::resolve(repo, &format!("refs/remotes/{name}/{short}")) {
        match remote::resolve(repo, audit) {
            None => remote::move_branch(repo, audit, &theirs, None)?,
            Some(ours) if ours == theirs => {}
            Some(ours) if remote::is_ancestor(repo, &ours, &theirs) => {
                remote::move_branch(repo, audit, &theirs, Some(&ours))?;
            }
            Some(_) => {} // Ours is ahead, or both moved: the push below settles it.
        }
    }
    Ok(())
}

/// Pushes the audit branch when the remote lacks it; a rejected push is fetched, rebuilt on
/// the remote's tip and pushed again, up to three times. Says whether it pushed.
fn push(options: &Options, name: &str, now: Timestamp) -> Result<bool, Failure> {
    let repo = &options.pipeline.repo;
    let audit = &options.pipeline.audit_branch;
    let short = audit.trim_start_matches("refs/heads/");
    let theirs_ref = format!("refs/remotes/{name}/{short}");
    let Some(ours) = remote::resolve(repo, audit) else {
        return Ok(false);
    };
    if remote::resolve(repo, &theirs_ref).is_some_and(|t| t == ours) {
        return Ok(false);
    }
    for _ in 0..3 {
        if remote::push(repo, name, audit)? == remote::Pushed::Accepted {
            remote::fetch(repo, name)?;
            return Ok(true);
        }
        remote::fetch(repo, name)?;
        if let Some(theirs) = remote::resolve(repo, &theirs_ref) {
            let author = git::Author {
                name: "trustops controller".into(),
                email: options.email.clone(),
                time: now.as_second(),
            };
            remote::rebuild(repo, audit, &theirs, &author, Some(&options.signer))?;
        }
    }
    Err(
        format!("the remote kept rejecting {short} after three rebuilds; nothing was forced")
            .into(),
    )
}

/// The part of `plan` the controller runs unattended: rotations and revocations policy
/// auto-approves whose window is open, and escalations whose owner was not told within
/// `renotify`. (Manual actions wait for a person's `apply --approve`.)
fn runnable(
    plan: &Plan,
    last_notices: &std::collections::BTreeMap<String, Timestamp>,
    now: Timestamp,
    renotify: Duration,
) -> Plan {
    let renotify = i64::try_from(renotify.as_secs()).unwrap_or(i64::MAX);
    let mut sub = plan.clone();
    sub.actions.retain(|a| {
        let open = a.not_before.is_none_or(|t| t.0 <= now);
        match a.kind {
            ActionKind::Rotate | ActionKind::Revoke => a.approval == Approval::Auto && open,
            ActionKind::Escalate => {
                let target = format!(
                    "{}/{}",
                    a.identity.as_deref().unwrap_or_default(),
                    a.credential.as_deref().unwrap_or_default()
                );
                let current = plan
                    .credential(&target)
                    .and_then(|c| c.current.as_ref())
                    .map(|f| f.sha256.clone())
                    .unwrap_or_default();
                let told = last_notices.get(&format!("{target}@{current}"));
                told.is_none_or(|t| now.as_second() - t.as_second() >= renotify)
            }
            ActionKind::Adopt | ActionKind::Review => false,
        }
    });
    sub.signature = None;
    sub.digest = crate::plan::file::digest(&sub);
    sub
}

/// The earliest instant after `now` something becomes due: a current certificate's renewal
/// (as the plan gives it: the policy's rule, or the window its ACME CA suggests), or a
/// deferred action's window.
fn next_due(planned: &pipeline::Planned, now: Timestamp) -> Option<Timestamp> {
    let renewals = planned
        .plan
        .credentials
        .iter()
        .filter_map(|c| Some(c.renewal.as_ref()?.at.0));
    let windows = planned
        .plan
        .actions
        .iter()
        .filter_map(|a| a.not_before.map(|t| t.0));
    renewals.chain(windows).filter(|t| *t > now).min()
}
