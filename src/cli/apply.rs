//! `trustops apply PLAN`: refuse a stale, edited or replayed plan; ask (or take
//! `--auto-approve`); carry out the plan; print what happened and how to verify the audit
//! commit.

use super::{Exit, Global};
use crate::apply::{self, journal::Journal};
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
        Ok(Some(Signer::from_openssh(&text, passphrase.as_deref())?))
    }
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let bytes = std::fs::read(&args.plan)
        .with_context(|| format!("cannot read the plan {}", args.plan.display()))?;
    let plan = plan::file::read(&bytes).with_context(|| args.plan.display().to_string())?;
    let loaded = super::discover::load_valid(global)?;
    let base = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    let git_dir = git::git_dir(&base).context("audit records go to Git")?;
    // Every check that decides whether the plan may run is made under the lock: two applies
    // of two plans cannot both find theirs fresh.
    let lock = apply::lock(&base, global.now()?)?;
    let branch = args.approving.branch_ref();
    apply::settle(&base, &branch, &plan.id, &lock)?;
    apply::refuse_applied(&base, &branch, &plan)?;
    check_signature(&plan, &loaded, &base, &branch)?;
    if !Journal::exists(&git_dir, &plan.id) {
        let inventory = refuse_stale(&plan, &loaded, &base)?;
        refuse_unjustified(&plan, &loaded, &inventory, &base)?;
    }
    execute(
        global,
        &args.approving,
        &args.approve,
        (&plan, &lock),
        &loaded,
        out,
    )
}

impl Approving {
    fn branch_ref(&self) -> String {
        format!(
            "refs/heads/{}",
            self.branch.trim_start_matches("refs/heads/")
        )
    }
}

/// Asks (unless `--auto-approve`), carries out `plan` under the apply lock with the actions in
/// `approve` approved, commits the records, and prints what happened and how to verify the
/// commit.
pub(super) fn execute(
    global: &Global,
    args: &Approving,
    approve: &[String],
    (plan, lock): (&plan::Plan, &apply::journal::Lock),
    loaded: &crate::load::Outcome,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let now = global.now()?;
    let base = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    git::git_dir(&base).context("audit records go to Git")?;
    let branch = args.branch_ref();
    let signer = signer(args)?;
    if !args.auto_approve {
        confirm(plan, global, out)?;
    }
    let approver = approver(&base);
    let options = apply::Options {
        repo: base.clone(),
        model: &loaded.model,
        now,
        approved: approve.to_vec(),
        approver: approver.clone(),
        branch,
        author: Author {
            name: "trustops".into(),
            email: git_email(&base).unwrap_or_else(|| "trustops@localhost".into()),
            time: now.as_second(),
        },
        signer: Some(&signer),
        smtp: loaded.config.smtp.as_ref(),
    };
    let outcome = apply::apply(&options, plan, lock)?;
    if outcome.resumed {
        writeln!(out, "Resumed the interrupted apply of {}.", plan.id)?;
    }
    for record in &outcome.records {
        let (mark, what) = match record.outcome {
            Ended::Applied => ("✓", "applied"),
            Ended::Failed => ("✗", "failed "),
            Ended::Skipped => ("-", "skipped"),
        };
        // A rotation is told by what it deployed; a revocation by what it revoked.
        let last = record
            .steps
            .iter()
            .rev()
            .find(|s| s.step != "revoke" || record.kind == "revoke");
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
            "Audit commit {commit} on {}, signed by {} for {approver}.",
            args.branch,
            signer.fingerprint()
        )?;
        writeln!(
            out,
            "Verify it: git -C {} -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=allowed_signers verify-commit {commit}",
            global.repo.display()
        )?;
    }
    Ok(if outcome.failed() > 0 {
        Exit::Error
    } else {
        Exit::Ok
    })
}

/// Checks a signed plan's signature against the committed `allowed_signers` (as `audit verify`
/// trusts it); refuses an unsigned plan where `trustops.yaml` requires signed plans.
fn check_signature(
    plan: &plan::Plan,
    loaded: &crate::load::Outcome,
    base: &std::path::Path,
    branch: &str,
) -> anyhow::Result<()> {
    let Some(armored) = &plan.signature else {
        if loaded.config.require_signed_plans {
            bail!(
                "the plan is not signed and trustops.yaml requires signed plans: run trustops plan --out FILE --signing-key KEY (nothing was done)"
            );
        }
        return Ok(());
    };
    let signers = crate::audit::signers::from_history(base, branch, "HEAD")?;
    let allowed = signers.current().ok_or_else(|| {
        anyhow::anyhow!(
            "the plan is signed, but no allowed_signers is committed to check it with (nothing was done)"
        )
    })?;
    let signed = git::Signed {
        armored: armored.clone(),
        payload: plan::file::signed_payload(plan),
    };
    allowed
        .check_as(
            &signed,
            plan.generated_at.0.as_second(),
            plan::file::SIGNATURE_NAMESPACE,
            &[plan::file::SIGNATURE_NAMESPACE, "git"],
        )
        .map_err(|why| {
            anyhow::anyhow!("the plan's signature is not trusted: {why} (nothing was done)")
        })?;
    Ok(())
}

/// Refuses a plan with a rotation or revocation its own inputs do not give: the plan is made
/// again here, at its instant, from what this apply discovered, and each such action must be
/// there unchanged (a revoke serial swapped for a live certificate's, a rotation aimed at
/// another target, are refused even when the digest was recomputed).
fn refuse_unjustified(
    plan: &plan::Plan,
    loaded: &crate::load::Outcome,
    inventory: &crate::discover::Inventory,
    base: &std::path::Path,
) -> anyhow::Result<()> {
    use plan::ActionKind;
    let derived = super::plan::build(
        loaded,
        inventory,
        base,
        plan.generated_at.0,
        plan.inputs.inventories.clone(),
    );
    for action in &plan.actions {
        if !matches!(action.kind, ActionKind::Rotate | ActionKind::Revoke) {
            continue;
        }
        let justified = derived.actions.iter().any(|d| {
            d.id == action.id && serde_json::to_value(d).ok() == serde_json::to_value(action).ok()
        });
        if !justified {
            bail!(
                "the plan's action {} is not what its inputs give: the plan was edited or made by another trustops; run trustops plan --out again (nothing was done)",
                action.id
            );
        }
    }
    Ok(())
}

/// Refuses a plan whose inputs changed, saying which and how to re-plan; returns what
/// discovery finds now.
fn refuse_stale(
    plan: &plan::Plan,
    loaded: &crate::load::Outcome,
    base: &std::path::Path,
) -> anyhow::Result<crate::discover::Inventory> {
    let declarations = plan::file::declarations_sha256(&loaded.files);
    if declarations != plan.inputs.declarations_sha256 {
        let commit = git::head_commit(base);
        bail!(
            "the plan is stale: the declarations changed since it was made (plan: {}, now: {}); run trustops plan --out again",
            plan.inputs
                .declarations_commit
                .as_deref()
                .unwrap_or("uncommitted files"),
            commit.as_deref().unwrap_or("uncommitted files"),
        );
    }
    let inventory = if plan.inputs.inventories.is_empty() {
        super::discover::discover_sources(&loaded.model, &[], base)?.inventory
    } else {
        let paths: Vec<PathBuf> = plan.inputs.inventories.iter().map(PathBuf::from).collect();
        super::plan::read_inventories(&paths)?
    };
    if plan::file::inventory_sha256(&inventory) != plan.inputs.inventory_sha256 {
        bail!(
            "the plan is stale: what discovery finds changed since it was made ({}); run trustops plan --out again",
            if plan.inputs.inventories.is_empty() {
                "the declared sources".to_owned()
            } else {
                plan.inputs.inventories.join(", ")
            }
        );
    }
    Ok(inventory)
}

/// The signing key from `--signing-key` or `$TRUSTOPS_SIGNING_KEY`.
fn signer(args: &Approving) -> anyhow::Result<Signer> {
    args.signing.signer()?.ok_or_else(|| {
        anyhow::anyhow!(
            "audit commits are signed: pass --signing-key FILE or set TRUSTOPS_SIGNING_KEY (nothing was done)"
        )
    })
}

/// Shows the plan and asks on the terminal; without one, refuses.
fn confirm(plan: &plan::Plan, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to confirm on: pass --auto-approve to apply without asking (nothing was done)"
        );
    }
    let options = render::plan::Options {
        color: global.color_stdout(),
        template: None,
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
