//! `trustops report`: inventory and compliance evidence (OWASP NHI Top 10, NIST CSF 2.0) from a
//! plan and the audit trail, as Markdown or one self-contained HTML file.

use super::{Exit, Global};
use crate::audit::history;
use crate::render::report::{self, Format, Report, TrailStatus};
use anyhow::Context as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Output format: markdown, or html (one file, no network, printable).
    #[arg(long, default_value = "markdown", value_parser = ["markdown", "html"])]
    format: String,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Use inventories saved by `discover --format json` instead of discovering live.
    #[arg(long, value_name = "FILE")]
    inventory: Vec<PathBuf>,
    /// The branch the audit commits are on.
    #[arg(long, default_value = "trustops-audit", value_name = "BRANCH")]
    branch: String,
    /// An allowed-signers file of your own the trail is verified with; default: the committed
    /// `allowed_signers`, as `trustops audit verify` reads it.
    #[arg(long, value_name = "FILE")]
    allowed_signers: Option<PathBuf>,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let crate::pipeline::Planned {
        loaded,
        plan,
        inventory,
        ..
    } = super::plan::planned(global, &args.inventory, &args.branch)?;
    let repo = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    let trail = trail_status(&repo, &args.branch, args.allowed_signers.as_deref())?;
    let report = Report::of(&plan, &loaded.model, &inventory, trail);
    let format = if args.format == "html" {
        Format::Html
    } else {
        Format::Markdown
    };
    let mut bytes = Vec::new();
    report::write(&mut bytes, format, &report)?;
    match &args.out {
        Some(path) => crate::durable::write(path, &bytes, 0o644)
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => out.write_all(&bytes)?,
    }
    Ok(Exit::Ok)
}

/// The audit trail, verified when there are allowed signers to verify it with.
fn trail_status(repo: &Path, branch: &str, file: Option<&Path>) -> anyhow::Result<TrailStatus> {
    let name = branch.trim_start_matches("refs/heads/");
    if crate::git::git_dir(repo).is_err() {
        return Ok(TrailStatus {
            summary: "No audit trail: the repository is not in Git.".into(),
            ..TrailStatus::default()
        });
    }
    let Some(commits) = history::commits(repo, branch)? else {
        return Ok(TrailStatus {
            summary: format!(
                "No audit trail yet: branch {name} does not exist (nothing was applied)."
            ),
            ..TrailStatus::default()
        });
    };
    let signers = super::audit::signers(repo, branch, "HEAD", file)?;
    if signers.is_empty() {
        let records = history::log(&commits, &history::Filter::default()).len();
        return Ok(TrailStatus {
            audit_commits: commits.iter().filter(|c| !c.changes.is_empty()).count(),
            records,
            violations: None,
            summary: format!(
                "{records} record(s) on {name}, not verified: no allowed_signers is committed"
            ),
        });
    }
    let verified = history::verify(&commits, &signers);
    let summary = if verified.violations.is_empty() {
        format!(
            "{} audit commit(s) and {} record(s) on {name}, every commit signed by an allowed key and no record changed or deleted (trustops audit verify).",
            verified.audit_commits, verified.records
        )
    } else {
        format!(
            "{} violation(s) in {} audit commit(s) on {name}: run trustops audit verify for each.",
            verified.violations.len(),
            verified.audit_commits
        )
    };
    Ok(TrailStatus {
        audit_commits: verified.audit_commits,
        records: verified.records,
        violations: Some(verified.violations.len()),
        summary,
    })
}
