//! `trustops demo`: build the demo repository, run the pipeline on it, and say what it found.

use super::{Exit, Global};
use crate::{demo, discover, load, render};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Folder to create the demo in (must not exist, or be empty).
    #[arg(default_value = "trustops-demo", value_name = "DIR")]
    dir: PathBuf,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let now = global.now()?;
    let options = demo::Options {
        dir: args.dir.clone(),
        now,
    };
    let created = demo::create(&options).context("cannot create the demo")?;
    let repo = std::path::absolute(&created.repo).unwrap_or_else(|_| created.repo.clone());
    let shown = created.repo.display();
    let short = &created.commit[..created.commit.len().min(12)];
    writeln!(
        out,
        "Created a demo governance repository in {}",
        args.dir.display()
    )?;
    writeln!(
        out,
        "  repo/  declarations in Git (commit {short}): owners, policies, an issuer, a source, identities, an exception"
    )?;
    writeln!(
        out,
        "  pki/   a local CA and the certificates the demo hosts serve"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Planted relative to {}:",
        now.strftime("%Y-%m-%d %H:%M UTC")
    )?;
    for cert in &created.certificates {
        let expiry = cert.not_after.map_or_else(
            || "-".to_owned(),
            |t| format!("notAfter {}", t.strftime("%Y-%m-%d")),
        );
        writeln!(
            out,
            "  pki/{:<34} {:<26} {:<19} {}",
            cert.file, cert.dns_name, expiry, cert.condition
        )?;
    }
    writeln!(out)?;
    writeln!(out, "1. Validate the declarations (trustops validate):")?;
    let loaded = load::load(&load::Options { repo: repo.clone() })?;
    let summary = super::validate::summary(&loaded);
    render::diagnostics(
        out,
        render::Format::Short,
        &loaded.files,
        &loaded.diagnostics,
        &summary,
    )?;
    if crate::diag::has_errors(&loaded.diagnostics) {
        return Ok(Exit::Error);
    }
    writeln!(out)?;
    writeln!(
        out,
        "2. Discover what the declared sources hold (trustops discover):"
    )?;
    let options = discover::Options {
        sources: super::discover::declared(&loaded.model, &[]),
        ..discover::Options::default()
    };
    let context = discover::Context::new(repo.clone());
    let found = discover::discover(&options, &context);
    render::inventory_table(out, &found.inventory)?;
    writeln!(out)?;
    writeln!(
        out,
        "3. Plan: compare the two and say what to do (trustops plan):"
    )?;
    writeln!(out)?;
    let planned = super::plan::build(&loaded, &found.inventory, &repo, now, Vec::new());
    let render_options = render::plan::Options {
        color: global.color_stdout(),
        template: None,
    };
    render::plan::write(out, render::plan::Format::Text, &planned, &render_options)?;
    writeln!(out)?;
    writeln!(out, "Try next:")?;
    writeln!(out, "  trustops plan --repo {shown} --format markdown")?;
    writeln!(
        out,
        "  trustops plan --repo {shown} --out plan.json --detailed-exitcode"
    )?;
    writeln!(
        out,
        "  trustops discover --repo {shown} --format json > inventory.json"
    )?;
    writeln!(out, "  trustops validate --repo {shown} --format sarif")?;
    writeln!(out, "  git -C {shown} log --stat")?;
    Ok(Exit::Ok)
}
