//! `trustops audit log|verify|who-owned`: the audit trail and the declarations' history read
//! back from Git, for auditors.

use super::{Exit, Global};
use crate::audit::history::{self, Entry, Filter};
use crate::git;
use anyhow::Context as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Audit records in the order they were committed.
    Log(LogArgs),
    /// Check that the trail is evidence: signed audit commits, no record changed or deleted.
    Verify(VerifyArgs),
    /// Who owned an identity or credential at an instant, and the commits that prove it.
    WhoOwned(WhoOwnedArgs),
}

/// Where the audit trail is.
#[derive(Debug, clap::Args)]
struct Trail {
    /// The branch the audit commits are on.
    #[arg(long, default_value = "trustops-audit", value_name = "BRANCH")]
    branch: String,
}

#[derive(Debug, clap::Args)]
struct LogArgs {
    #[command(flatten)]
    trail: Trail,
    /// Only records about this identity (or `identity/credential`).
    #[arg(long, value_name = "IDENTITY")]
    identity: Option<String>,
    /// Only records of this owner.
    #[arg(long, value_name = "OWNER")]
    owner: Option<String>,
    /// Only records started at or after this time (RFC 3339 or a date).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    trail: Trail,
    /// An allowed-signers file of your own (as for `gpg.ssh.allowedSignersFile`), trusted for
    /// every commit. Default: `allowed_signers` as committed — before each audit commit on a
    /// branch that holds it, else at the tip of --rev — with every change to it signed by a
    /// key it allowed before.
    #[arg(long, value_name = "FILE")]
    allowed_signers: Option<PathBuf>,
    /// The revision whose `allowed_signers` checks an audit branch that has none of its own.
    #[arg(long, default_value = "HEAD", value_name = "REV")]
    rev: String,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

#[derive(Debug, clap::Args)]
struct WhoOwnedArgs {
    /// An identity, `identity/credential`, or a certificate's SHA-256 fingerprint (8+ hex
    /// digits) or serial number as the audit trail records it.
    #[arg(value_name = "CREDENTIAL-OR-IDENTITY")]
    target: String,
    /// The instant (RFC 3339 or a date).
    #[arg(long, value_name = "TIME")]
    at: String,
    /// The revision whose history holds the declarations.
    #[arg(long, default_value = "HEAD", value_name = "REV")]
    rev: String,
    #[command(flatten)]
    trail: Trail,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let repo = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    match &args.command {
        Command::Log(a) => log(&repo, a, out),
        Command::Verify(a) => verify(&repo, a, out),
        Command::WhoOwned(a) => who_owned(&repo, a, out),
    }
}

fn instant(text: &str, flag: &str) -> anyhow::Result<jiff::Timestamp> {
    text.parse::<crate::model::Expiry>()
        .map(|e| e.0)
        .map_err(|_| anyhow::anyhow!("{flag} `{text}`: expected an RFC 3339 time or a date"))
}

/// The audit branch's history, with the files its commits changed under `audit/`.
/// The allowed signers: an auditor's own file, else the history of the committed one.
pub(super) fn signers(
    repo: &Path,
    branch: &str,
    rev: &str,
    file: Option<&Path>,
) -> anyhow::Result<crate::audit::signers::Signers> {
    use crate::audit::signers::Signers;
    let Some(file) = file else {
        return Ok(crate::audit::signers::from_history(repo, branch, rev)?);
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the allowed signers {}", file.display()))?;
    let parsed = git::AllowedSigners::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok(Signers::fixed(parsed))
}

fn trail(repo: &Path, trail: &Trail) -> anyhow::Result<Vec<git::Commit>> {
    history::commits(repo, &trail.branch)?.with_context(|| {
        format!(
            "there is no branch {}: nothing was applied yet",
            trail.branch
        )
    })
}

/// Every audit record on `branch` (none when it does not exist yet), in commit order.
pub(super) fn records(repo: &Path, branch: &str) -> anyhow::Result<Vec<Entry>> {
    let commits = history::commits(repo, branch)?.unwrap_or_default();
    Ok(history::log(&commits, &Filter::default()))
}

fn line(e: &Entry) -> String {
    let r = &e.record;
    let target = match (&r.identity, &r.credential) {
        (Some(i), Some(c)) => format!("{i}/{c}"),
        (Some(i), None) => i.clone(),
        _ => "-".into(),
    };
    format!(
        "{}  {:<8} {:<9} {:<28} owner {:<10} by {}  {}  {}",
        r.started.0,
        r.kind.as_str(),
        match r.outcome {
            crate::audit::Outcome::Applied => "applied",
            crate::audit::Outcome::Failed => "failed",
            crate::audit::Outcome::Partial => "partly applied",
            crate::audit::Outcome::Skipped => "skipped",
        },
        target,
        r.owner.as_deref().unwrap_or("-"),
        r.approver,
        crate::discover::short(&e.commit, 12),
        e.path
    )
}

fn log(repo: &Path, args: &LogArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let filter = Filter {
        identity: args.identity.clone(),
        owner: args.owner.clone(),
        since: args
            .since
            .as_deref()
            .map(|t| instant(t, "--since"))
            .transpose()?,
    };
    let entries = history::log(&trail(repo, &args.trail)?, &filter);
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut *out, &entries)?;
        writeln!(out)?;
    } else {
        for e in &entries {
            writeln!(out, "{}", line(e))?;
        }
        writeln!(out, "{} record(s).", entries.len())?;
    }
    Ok(Exit::Ok)
}

fn verify(repo: &Path, args: &VerifyArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let signers = signers(
        repo,
        &args.trail.branch,
        &args.rev,
        args.allowed_signers.as_deref(),
    )?;
    let verified = history::verify(&trail(repo, &args.trail)?, &signers);
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut *out, &verified)?;
        writeln!(out)?;
    } else {
        for v in &verified.violations {
            writeln!(
                out,
                "✗ {}{}: {}",
                v.commit,
                v.path
                    .as_deref()
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default(),
                v.problem
            )?;
        }
        writeln!(
            out,
            "{} audit commit(s), {} record(s): {}",
            verified.audit_commits,
            verified.records,
            if verified.violations.is_empty() {
                "every commit signed by an allowed key, no record changed or deleted".to_owned()
            } else {
                format!("{} violation(s)", verified.violations.len())
            }
        )?;
    }
    Ok(if verified.violations.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

fn who_owned(repo: &Path, args: &WhoOwnedArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let at = instant(&args.at, "--at")?;
    let owned =
        crate::audit::ownership::who_owned(repo, &args.trail.branch, &args.rev, &args.target, at)?;
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut *out, &owned)?;
        writeln!(out)?;
        return Ok(Exit::Ok);
    }
    let d = &owned.declared_in;
    let (file, declaring, state) = (&d.path, &d.commit, &owned.state_commit);
    writeln!(out, "{} at {at}", owned.target)?;
    writeln!(
        out,
        "  owner:     {}",
        owned.owner.as_deref().unwrap_or("none")
    )?;
    writeln!(
        out,
        "  policy:    {}",
        owned.policy.as_deref().unwrap_or("none")
    )?;
    if let Some(c) = &owned.certificate {
        writeln!(
            out,
            "  certificate: sha256 {} (serial {}, notAfter {}), per {}",
            crate::discover::short(&c.sha256, 16),
            c.serial.as_deref().unwrap_or("-"),
            c.not_after.as_deref().unwrap_or("-"),
            c.record
        )?;
    }
    writeln!(
        out,
        "  declared:  {file}:{} as of commit {declaring}",
        d.line
    )?;
    writeln!(
        out,
        "  state:     commit {state} (the last at or before {at})"
    )?;
    for (label, entry) in [
        ("before", &owned.record_before),
        ("after", &owned.record_after),
    ] {
        match entry {
            Some(e) => writeln!(out, "  {label:<9}  {}", line(e))?,
            None => writeln!(out, "  {label:<9}  no audit record")?,
        }
    }
    writeln!(
        out,
        "  proof:     git show {state}:{file}; git log {declaring} -- {file}"
    )?;
    Ok(Exit::Ok)
}
