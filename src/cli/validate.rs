//! `trustops validate`: load the repository and report every problem.

use super::{Exit, Global};
use crate::load;
use crate::render::{self, Format, Summary};
use anyhow::Context;
use std::io::Write;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Output format: text (snippets), short (one line per problem), json or sarif.
    #[arg(long, default_value = "text", value_parser = ["text", "short", "json", "sarif"])]
    format: String,
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let options = load::Options {
        repo: global.repo.clone(),
    };
    let mut outcome = load::load(&options)
        .with_context(|| format!("cannot validate {}", global.repo.display()))?;
    // A CI job run in the wrong folder must not pass green: nothing to validate is an error
    // here (for plan and diff, an empty side is a legitimate state).
    for d in &mut outcome.diagnostics {
        if d.code == crate::diag::Code::NoDeclarations {
            d.severity = crate::diag::Severity::Error;
            d.notes.push(format!(
                "searched {} ({} YAML files read): run trustops in the governance repository, or pass --repo DIR",
                std::path::absolute(&global.repo)
                    .unwrap_or_else(|_| global.repo.clone())
                    .display(),
                outcome.files.len()
            ));
        }
    }
    let format = match args.format.as_str() {
        "short" => Format::Short,
        "json" => Format::Json,
        "sarif" => Format::Sarif,
        _ => Format::Text,
    };
    let summary = summary(&outcome);
    render::diagnostics(
        out,
        format,
        &outcome.files,
        &outcome.diagnostics,
        &summary,
        global.color_stdout(),
    )?;
    let exit = if crate::diag::has_errors(&outcome.diagnostics) {
        Exit::Error
    } else {
        Exit::Ok
    };
    super::leave(outcome);
    Ok(exit)
}

/// The summary of a load, for renderers.
pub(super) fn summary(outcome: &load::Outcome) -> Summary {
    Summary {
        files: outcome.declaration_files(),
        documents: outcome.documents,
        kinds: outcome
            .model
            .counts()
            .iter()
            .map(|(k, n)| (k.as_str().to_owned(), *n))
            .collect(),
        credentials: outcome.model.credential_count(),
    }
}
