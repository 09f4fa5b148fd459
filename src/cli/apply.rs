//! `trustops apply PLAN`: refuse a stale, edited or replayed plan; ask (or take
//! `--auto-approve`); carry out the plan; print what happened and how to verify the audit
//! commit.

use super::{Exit, Global};
use crate::apply::{self};
use crate::audit::Outcome as Ended;
use crate::git::{self, Author, Signer};
use crate::{plan, render};
use anyhow::{Context as _, bail};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `apply`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The plan file written by `trustops plan --out`.
    #[arg(value_name = "PLAN")]
    plan: PathBuf,
    /// Run an action of an `approval: manual` policy (repeatable).
    #[arg(long, value_name = "ACTION-ID")]
    approve: Vec<String>,
    #[command(flatten)]
    approving: Approving,
}

/// How changes are approved and recorded (`apply` and `revoke`).
#[derive(Debug, clap::Args)]
pub(super) struct Approving {
    /// Go ahead without asking (for CI).
    #[arg(long)]
    auto_approve: bool,
    /// The branch audit commits go to. Another branch than the checked-out one is written
    /// without touching the work tree or the index; the checked-out branch gets the records in
    /// its work tree and index too.
    #[arg(long, default_value = "trustops-audit", value_name = "BRANCH")]
    branch: String,
    #[command(flatten)]
    signing: Signing,
}

/// The SSH key that signs audit commits (`apply`, `revoke`) and plan files (`plan --out`).
#[derive(Debug, clap::Args)]
pub(super) struct Signing {
    /// SSH private key that signs the audit commit (apply, revoke) or the plan file (plan --out);
    /// default: the key in $TRUSTOPS_SIGNING_KEY.
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
    /// Environment variable holding the signing key's passphrase, if it has one.
    #[arg(
        long,
        default_value = "TRUSTOPS_SIGNING_KEY_PASSPHRASE",
        value_name = "VAR"
    )]
    passphrase_env: String,
}

impl Signing {
    /// The key, when one is given (`--signing-key`) or in the environment.
    pub(super) fn signer(&self) -> anyhow::Result<Option<Signer>> {
        let text = match &self.signing_key {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the signing key {}", path.display()))?,
            None => match std::env::var("TRUSTOPS_SIGNING_KEY") {
                Ok(text) => text,
                Err(_) => return Ok(None),
            },
        };
        let passphrase = std::env::var(&self.passphrase_env).ok();
        match Signer::from_openssh(&text, passphrase.as_deref()) {
            Err(crate::git::Error::Passphrase) => bail!(
                "the signing key is protected by a passphrase: set it in the environment variable {} (--passphrase-env names another)",
                self.passphrase_env
            ),
            signer => Ok(Some(signer?)),
        }
    }
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let bytes = std::fs::read(&args.plan)
        .with_context(|| format!("cannot read the plan {}", args.plan.display()))?;
    let plan = plan::file::read(&bytes).with_context(|| args.plan.display().to_string())?;
    let options = global.pipeline(&[], args.approving.branch())?;
    git::git_dir(&options.repo).context("audit records go to Git")?;
    let signer = signer(&args.approving)?;
    if !args.approving.auto_approve() {
        confirm(&plan, global, out)?;
    }
    let mut how = args.approving.how(&options, &signer, &args.approve);
    // SIGTERM (a cancelled CI job) or SIGINT: finish the action running, commit what was done.
    // A second one exits at once (the journal makes that safe: the next apply resumes).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, std::sync::Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, std::sync::Arc::clone(&stop)))
            .context("cannot install the signal handlers")?;
    }
    how.stop = Some(&stop);
    // Every check that decides whether the plan may run is made in the pipeline, under the
    // apply lock: two applies of two plans cannot both find theirs fresh.
    let outcome = crate::pipeline::apply(&options, &plan, &how).map_err(super::failed)?;
    report(
        &args.approving,
        &options,
        &plan,
        &outcome,
        &signer,
        global,
        out,
    )
}

impl Approving {
    /// Who applies and how the commit is made: the approver and author read here, at the edge.
    pub(super) fn how<'a>(
        &self,
        options: &crate::pipeline::Options,
        signer: &'a Signer,
        approve: &[String],
    ) -> crate::pipeline::Apply<'a> {
        crate::pipeline::Apply {
            approved: approve.to_vec(),
            approver: approver(&options.repo),
            author: Author {
                name: "trustops".into(),
                email: git_email(&options.repo).unwrap_or_else(|| "trustops@localhost".into()),
                time: options.now.as_second(),
            },
            signer,
            stop: None,
        }
    }

    /// The audit branch's name.
    pub(super) fn branch(&self) -> &str {
        &self.branch
    }

    /// Whether to go ahead without asking.
    pub(super) fn auto_approve(&self) -> bool {
        self.auto_approve
    }
}

/// Prints what an apply did and how to verify its commit; exits 1 when an action failed.
pub(super) fn report(
    args: &Approving,
    options: &crate::pipeline::Options,
    plan: &plan::Plan,
    outcome: &apply::Outcome,
    signer: &Signer,
    global: &Global,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    if outcome.resumed {
        writeln!(out, "Resumed the interrupted apply of {}.", plan.id)?;
    }
    for record in &outcome.records {
        let (mark, what) = match record.outcome {
            Ended::Applied => ("✓", "applied"),
            Ended::Failed => ("✗", "failed "),
            Ended::Partial => ("✗", "partly "),
            Ended::Skipped => ("-", "skipped"),
        };
        // A rotation is told by what it deployed; a revocation by what it revoked.
        let last = record
            .steps
            .iter()
            .rev()
            .find(|s| s.step != "revoke" || record.kind == crate::plan::ActionKind::Revoke);
        let detail = match (&record.error, last) {
            (Some(e), _) => e.clone(),
            (None, Some(step)) => step.detail.clone().unwrap_or_default(),
            (None, None) => String::new(),
        };
        writeln!(out, "{mark} {what} {:<32} {detail}", record.action)?;
    }
    if let Some(commit) = &outcome.commit {
        writeln!(out)?;
        writeln!(
            out,
            "Audit commit {commit} on {}, signed by {} for {}.",
            args.branch,
            signer.fingerprint(),
            approver(&options.repo)
        )?;
        writeln!(
            out,
            "Verify it: git -C {} -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=allowed_signers verify-commit {commit}",
            global.repo.display()
        )?;
    }
    if outcome.commit.is_none() && outcome.left == 0 {
        writeln!(
            out,
            "Nothing to carry out (no action, or only ones for a person: adopt, review): no audit commit."
        )?;
    }
    if outcome.left > 0 {
        writeln!(
            out,
            "Stopped by a signal: {} action(s) not started. Plan again (trustops plan --out) and apply the new plan to finish them.",
            outcome.left
        )?;
    }
    Ok(if outcome.failed() > 0 || outcome.left > 0 {
        Exit::Error
    } else {
        Exit::Ok
    })
}

/// The signing key from `--signing-key` or `$TRUSTOPS_SIGNING_KEY`.
pub(super) fn signer(args: &Approving) -> anyhow::Result<Signer> {
    args.signing.signer()?.ok_or_else(|| {
        anyhow::anyhow!(
            "audit commits are signed: pass --signing-key FILE or set TRUSTOPS_SIGNING_KEY (nothing was done)"
        )
    })
}

/// Shows the plan and asks on the terminal; without one, refuses.
pub(super) fn confirm(
    plan: &plan::Plan,
    global: &Global,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to confirm on: pass --auto-approve to apply without asking (nothing was done)"
        );
    }
    let options = render::plan::Options {
        color: global.color_stdout(),
        template: None,
        max_chars: None,
    };
    render::plan::write(out, render::plan::Format::Text, plan, &options)?;
    write!(out, "\nApply these actions? Only 'yes' will be accepted: ")?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("apply cancelled (nothing was done)");
    }
    Ok(())
}

/// Who approved: the CI actor (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`), else the local Git
/// identity, else the OS user.
fn approver(base: &std::path::Path) -> String {
    ["GITHUB_ACTOR", "GITLAB_USER_LOGIN"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .or_else(|| git_email(base))
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// `user.email` from the repository's Git configuration.
fn git_email(base: &std::path::Path) -> Option<String> {
    let repo = gix::discover(base).ok()?;
    let config = repo.config_snapshot();
    config.string("user.email").map(|e| e.to_string())
}
