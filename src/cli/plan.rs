//! `trustops plan`: discover (or read saved inventories), reconcile, plan, and print or save
//! the plan.

use super::{Exit, Global};
use crate::render::plan::{self as render_plan, Format};
use crate::{plan, render};
use anyhow::Context as _;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `plan`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Plan against inventories saved by `discover --format json` (one per zone, host group or
    /// cluster; repeatable) instead of discovering live. They are merged by fingerprint.
    #[arg(long, value_name = "FILE")]
    inventory: Vec<PathBuf>,
    /// Output format: text (a summary), markdown (a PR comment), json (the plan), sarif
    /// (findings for code scanning) or cyclonedx (a CycloneDX 1.6 cryptography bill of
    /// materials of what was discovered, with each declared credential's identity and owner).
    #[arg(long, default_value = "text", value_parser = ["text", "markdown", "json", "sarif", "cyclonedx"])]
    format: String,
    /// Write the plan file that `apply` takes (JSON) to FILE as well; gzip-compressed when
    /// FILE ends in `.gz` (about a fifth of the size; `apply` reads either).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Markdown template (minijinja) replacing the default PR comment.
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,
    /// The most characters the Markdown comment may have: its tables are cut to their first
    /// rows, with how many more are in the plan artifact, until it fits. GitHub refuses
    /// comments over 65,536 characters; GitLab takes 1,000,000. 0: no limit.
    #[arg(long, value_name = "CHARS", default_value_t = 60_000)]
    max_comment_chars: usize,
    /// Exit 2 when actions are pending, 0 when there are none, 1 on errors (Terraform's
    /// convention).
    #[arg(long)]
    detailed_exitcode: bool,
    /// Sign the plan file (--out) with this SSH key, or the one in $TRUSTOPS_SIGNING_KEY, so
    /// `apply` knows it comes from a holder of a key `allowed_signers` allows.
    #[command(flatten)]
    signing: super::apply::Signing,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let template = match &args.template {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the template {}", path.display()))?,
        ),
        None => None,
    };
    let crate::pipeline::Planned {
        plan: mut planned,
        loaded,
        inventory,
        ..
    } = planned(global, &args.inventory, "trustops-audit")?;
    if args.format == "cyclonedx" {
        // The inventory as a CBOM, each declared credential with what the plan says of it.
        crate::render::cyclonedx::write(out, &inventory, Some(&planned), global.now()?)?;
    }
    super::leave((loaded, inventory));
    // The plan file and the JSON on standard output are the same bytes, serialized once.
    let json = args.format == "json";
    if let Some(path) = &args.out {
        let signer = args.signing.signer()?;
        let gzip = path.extension().is_some_and(|e| e == "gz");
        crate::durable::write_with(path, 0o644, |file| {
            let file = if gzip {
                plan::file::Output::Gzip(file)
            } else {
                plan::file::Output::Json(file)
            };
            let mut outs = vec![file];
            if json {
                outs.push(plan::file::Output::Json(&mut *out));
            }
            plan::file::write(&mut planned, &mut outs, signer.as_ref())
        })
        .with_context(|| format!("cannot write the plan to {}", path.display()))?;
    } else if json {
        plan::file::write(&mut planned, &mut [plan::file::Output::Json(out)], None)?;
    }
    let format = match args.format.as_str() {
        "markdown" => Some(Format::Markdown),
        "sarif" => Some(Format::Sarif),
        "json" | "cyclonedx" => None,
        _ => Some(Format::Text),
    };
    let render_options = render_plan::Options {
        color: global.color_stdout(),
        template,
        max_chars: Some(args.max_comment_chars).filter(|n| *n > 0),
    };
    if let Some(format) = format {
        render::plan::write(out, format, &planned, &render_options)?;
    }
    let exit = if planned.errored {
        Exit::Error
    } else if args.detailed_exitcode && !planned.actions.is_empty() {
        Exit::Pending
    } else {
        Exit::Ok
    };
    super::leave(planned);
    Ok(exit)
}

/// The valid declarations of `--repo`, and their plan at `now` against live discovery or the
/// saved `inventories` (what `plan`, `report` and `metrics` start from); warnings on stderr.
pub(super) fn planned(
    global: &Global,
    inventories: &[PathBuf],
    branch: &str,
) -> anyhow::Result<crate::pipeline::Planned> {
    let options = global.pipeline(inventories, branch)?;
    let planned = crate::pipeline::plan(&options).map_err(super::failed)?;
    super::warn(&planned.warnings);
    Ok(planned)
}
