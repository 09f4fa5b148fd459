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
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let planned = super::plan::planned(global, &args.inventory, &args.branch)?;
    let plan = planned.plan;
    let unmanaged = metrics::unmanaged(&plan, &planned.inventory);
    let repo = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
    let last_apply = super::audit::records(&repo, &args.branch)
        .map(|entries| crate::audit::history::last_successful_apply(&entries))
        .unwrap_or_default();
    let mut text = Vec::new();
    metrics::write(
        &mut text,
        &Inputs {
            plan: &plan,
            unmanaged: &unmanaged,
            last_apply,
        },
    )?;
    match &args.out {
        Some(path) => crate::durable::write(path, &text, 0o644)
            .with_context(|| format!("cannot write the metrics to {}", path.display()))?,
        None => out.write_all(&text)?,
    }
    Ok(Exit::Ok)
}
