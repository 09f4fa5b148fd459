//! `trustops metrics`: plan (live or from saved inventories) and write Prometheus metrics for a
//! node-exporter textfile collector, atomically when `--out` names the `.prom` file.

use super::{Exit, Global};
use crate::render::metrics::{self, Inputs};
use anyhow::Context as _;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `metrics`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Use inventories saved by `discover --format json` instead of discovering live.
    #[arg(long, value_name = "FILE")]
    inventory: Vec<PathBuf>,
    /// Write to FILE (through a rename, so the collector never reads half a file) instead of
    /// stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The branch the audit commits are on (for the last successful apply).
    #[arg(long, default_value = "trustops-audit", value_name = "BRANCH")]
    branch: String,
    /// Also write another exporter's names and labels, for the dashboards and alerts built
    /// on it: `x509-certificate-exporter` (x509_cert_not_after, x509_source_up, ...).
    #[arg(long, value_name = "EXPORTER", value_parser = ["x509-certificate-exporter"])]
    compat: Vec<String>,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let planned = super::plan::planned(global, &args.inventory, &args.branch)?;
    let observed = metrics::observed(&planned.plan, &planned.inventory, &planned.loaded.model);
    let plan = planned.plan;
    let repo = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    let last_apply = super::audit::records(&repo, &args.branch)
        .map(|entries| crate::audit::history::last_successful_apply(&entries))
        .unwrap_or_default();
    let mut text = Vec::new();
    metrics::write(
        &mut text,
        &Inputs {
            plan: &plan,
            observed: &observed,
            last_apply,
            x509_exporter: args.compat.iter().any(|c| c == "x509-certificate-exporter"),
        },
    )?;
    match &args.out {
        Some(path) => crate::durable::write(path, &text, 0o644)
            .with_context(|| format!("cannot write the metrics to {}", path.display()))?,
        None => out.write_all(&text)?,
    }
    Ok(Exit::Ok)
}
