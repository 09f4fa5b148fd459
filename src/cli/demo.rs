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
        "Certificates minted relative to {}:",
        now.strftime("%Y-%m-%d %H:%M UTC")
    )?;
    for cert in &created.certificates {
        writeln!(
            out,
            "  pki/{:<34} {:<26} notAfter {}  {}",
            cert.file,
            cert.dns_name,
            cert.not_after.strftime("%Y-%m-%d"),
            cert.condition
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Validating the declarations (trustops validate --repo {}):",
        created.repo.display()
    )?;
    let loaded = load::load(&load::Options {
        repo: created.repo.clone(),
    })?;
    let summary = super::validate::summary(&loaded);
    render::diagnostics(
        out,
        render::Format::Short,
        &loaded.files,
        &loaded.diagnostics,
        &summary,
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Discovering what the declared sources hold (trustops discover --repo {}):",
        created.repo.display()
    )?;
    let options = discover::Options {
        sources: super::discover::declared(&loaded.model, &[]),
        ..discover::Options::default()
    };
    let context = discover::Context::new(created.repo.clone());
    let found = discover::discover(&options, &context);
    render::inventory_table(out, &found.inventory)?;
    writeln!(out)?;
    writeln!(out, "Try next:")?;
    writeln!(out, "  trustops discover --repo {}", created.repo.display())?;
    writeln!(out, "  trustops validate --repo {}", created.repo.display())?;
    writeln!(
        out,
        "  trustops validate --repo {} --format sarif",
        created.repo.display()
    )?;
    writeln!(out, "  git -C {} log --stat", created.repo.display())?;
    Ok(if crate::diag::has_errors(&loaded.diagnostics) {
        Exit::Error
    } else {
        Exit::Ok
    })
}
