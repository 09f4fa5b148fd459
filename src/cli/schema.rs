//! `trustops schema`: write (or check) the JSON Schemas in `schemas/`.

use super::Exit;
use crate::schemas as schema;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `schema`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Folder to write the schemas into.
    #[arg(long, default_value = "schemas", value_name = "DIR")]
    out: PathBuf,
    /// Write nothing; exit 1 when a schema in the folder differs from the generated one.
    #[arg(long)]
    check: bool,
}

pub(super) fn run(args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let mut stale = Vec::new();
    if !args.check {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
    }
    for (name, schema) in schema::all() {
        let path = args.out.join(&name);
        let text = schema::to_file_text(&schema);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            continue;
        }
        if args.check {
            stale.push(path);
        } else {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    if stale.is_empty() {
        return Ok(Exit::Ok);
    }
    for path in &stale {
        writeln!(
            out,
            "out of date: {} (run `trustops schema`)",
            path.display()
        )?;
    }
    Ok(Exit::Error)
}
