//! `trustops demo`: build the demo repository, run the whole pipeline on it — validate,
//! discover, plan, apply with the local CA into a signed audit commit — and say what happened.

use super::{Exit, Global};
use crate::{demo, render};
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
    let options = crate::pipeline::Options::new(repo.clone(), now);
    // Invalid declarations are shown, not only refused: the demo is the first thing users run.
    let loaded = match crate::pipeline::load(&options) {
        Ok(loaded) => loaded,
        Err(crate::pipeline::Error::Invalid(loaded)) => *loaded,
        Err(e) => return Err(super::failed(e)),
    };
    let summary = super::validate::summary(&loaded);
    render::diagnostics(
        out,
        render::Format::Short,
        &loaded.files,
        &loaded.diagnostics,
        &summary,
        false,
    )?;
    if crate::diag::has_errors(&loaded.diagnostics) {
        return Ok(Exit::Error);
    }
    writeln!(out)?;
    writeln!(
        out,
        "2. Discover what the declared sources hold (trustops discover):"
    )?;
    let inventory = crate::pipeline::inventory(&options, &loaded.model).map_err(super::failed)?;
    render::inventory_table(out, &inventory)?;
    writeln!(out)?;
    writeln!(
        out,
        "3. Plan: compare the two and say what to do (trustops plan):"
    )?;
    writeln!(out)?;
    let mut warnings = Vec::new();
    let trail = crate::pipeline::trail(&options, &mut warnings);
    let mut planned =
        crate::pipeline::replan(&options, &loaded, &inventory, now, &trail, &mut warnings);
    super::warn(&warnings);
    let render_options = render::plan::Options {
        color: global.color_stdout(),
        template: None,
        max_chars: None,
    };
    render::plan::write(out, render::plan::Format::Text, &planned, &render_options)?;
    writeln!(out)?;
    let plan_file = args.dir.join("plan.json");
    std::fs::write(&plan_file, crate::plan::file::to_json(&mut planned))
        .with_context(|| format!("cannot write {}", plan_file.display()))?;
    writeln!(
        out,
        "4. Apply it with the demo's local CA (trustops apply {} --auto-approve --signing-key {}):",
        plan_file.display(),
        created.signing_key.display()
    )?;
    let key = std::fs::read_to_string(&created.signing_key)?;
    let signer = crate::git::Signer::from_openssh(&key, None)?;
    let how = crate::pipeline::Apply {
        approved: Vec::new(),
        approver: "trustops demo".into(),
        author: crate::git::Author {
            name: "trustops demo".into(),
            email: "audit@demo.trustops.dev".into(),
            time: now.as_second(),
        },
        signer: &signer,
        stop: None,
    };
    let applied = crate::pipeline::apply(&options, &planned, &how)
        .map_err(super::failed)
        .context("the demo's apply failed")?;
    for record in &applied.records {
        let mark = match record.outcome {
            crate::audit::Outcome::Applied => "✓ applied",
            crate::audit::Outcome::Failed => "✗ failed ",
            crate::audit::Outcome::Partial => "✗ partly ",
            crate::audit::Outcome::Skipped => "- skipped",
        };
        writeln!(out, "  {mark} {}", record.action)?;
    }
    if let Some(commit) = &applied.commit {
        writeln!(out)?;
        writeln!(
            out,
            "Signed audit commit {} on branch trustops-audit. Stock git proves it:",
            &commit[..commit.len().min(12)]
        )?;
        writeln!(
            out,
            "  git -C {shown} -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=allowed_signers verify-commit trustops-audit"
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Try next:")?;
    writeln!(
        out,
        "  trustops plan --repo {shown}          # what is left after the rotations"
    )?;
    writeln!(out, "  trustops plan --repo {shown} --format markdown")?;
    writeln!(out, "  git -C {shown} log --stat trustops-audit")?;
    writeln!(
        out,
        "  trustops plan --repo {shown} --out plan.json --detailed-exitcode"
    )?;
    writeln!(
        out,
        "  trustops discover --repo {shown} --format json > inventory.json"
    )?;
    writeln!(out, "  trustops validate --repo {shown} --format sarif")?;
    writeln!(
        out,
        "  trustops audit verify --repo {shown}          # every audit commit signed, no record changed"
    )?;
    writeln!(out, "  trustops audit log --repo {shown}")?;
    writeln!(
        out,
        "  trustops report --repo {shown} --format html --out report.html"
    )?;
    writeln!(out, "  trustops metrics --repo {shown}")?;

    Ok(Exit::Ok)
}
