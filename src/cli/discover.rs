//! `trustops discover`: inventory what the declared sources (or given paths) hold.

use super::{Exit, Global};
use crate::discover::{self, Context};
use crate::{load, render};
use anyhow::bail;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Arguments of `discover`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Inventory these folders or files as they are, instead of the repository's sources.
    #[arg(long, value_name = "PATH")]
    path: Vec<PathBuf>,
    /// With --path: the environment variable holding the password of PKCS#12 files.
    #[arg(long, value_name = "VAR")]
    pkcs12_password_env: Option<String>,
    /// Only these declared sources (repeatable).
    #[arg(long, value_name = "NAME")]
    source: Vec<String>,
    /// Output format: text (a table), json (the inventory contract) or cyclonedx (a CycloneDX
    /// 1.6 cryptography bill of materials).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "cyclonedx"])]
    format: String,
    /// The zone this inventory stands for (a cluster, a data centre), recorded with the host
    /// name so a plan from inventories of several zones tells their locations apart.
    #[arg(long, value_name = "NAME")]
    zone: Option<String>,
}

/// Distinct credentials the workers keep in memory while an inventory is written as JSON;
/// more go to temporary runs, so memory stays flat however many are found, on however many
/// cores (about 2.3 KB each: 300 MiB).
const KEEP: usize = 131_072;

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let env = crate::environment::Environment::from_process();
    // The table and the bill of materials are made from the whole inventory; JSON is written
    // as the runs are merged.
    let spilling = |context: Context| {
        if args.format == "json" {
            context.with_spill(KEEP)
        } else {
            context
        }
    };
    let mut outcome = if args.path.is_empty() {
        let loaded = load_valid(global)?;
        // Locations are recorded absolute, so an inventory saved here plans the same anywhere.
        let repo = std::path::absolute(&global.repo).unwrap_or_else(|_| global.repo.clone());
        let context = spilling(Context::new(repo).with_env(env));
        with_progress(&context, || {
            crate::pipeline::discover(&loaded.model, &args.source, &context)
        })
        .map_err(super::failed)?
    } else {
        let options = discover::Options {
            paths: args.path.clone(),
            pkcs12_password: args
                .pkcs12_password_env
                .as_ref()
                .and_then(|name| env.get(name))
                .map(str::to_owned),
            ..discover::Options::default()
        };
        let context =
            spilling(Context::new(std::env::current_dir().unwrap_or_default()).with_env(env));
        with_progress(&context, || discover::discover(&options, &context))
    };
    outcome.inventory.seen_by = Some(discover::SeenBy {
        host: crate::environment::host_name(),
        zone: args.zone.clone(),
    });
    match args.format.as_str() {
        "json" => {
            let credentials = outcome.credentials();
            render::inventory_json_from(out, &outcome.inventory, credentials)?;
        }
        "cyclonedx" => {
            render::cyclonedx::write(out, &outcome.inventory, None, global.now()?)?;
        }
        _ => render::inventory_table(out, &outcome.inventory)?,
    }
    Ok(
        if outcome.sources > 0 && outcome.failed == outcome.sources {
            Exit::Error
        } else {
            Exit::Ok
        },
    )
}

/// Loads the repository; invalid declarations are printed (one line each) on stderr and
/// stop the command.
pub(super) fn load_valid(global: &Global) -> anyhow::Result<load::Outcome> {
    crate::pipeline::load(&global.pipeline(&[], "trustops-audit")?).map_err(super::failed)
}

/// `loaded`, when it has no errors; else its diagnostics on stderr (one line each, as
/// `validate --format short` prints them) and an error starting with `what`.
pub(super) fn valid(loaded: load::Outcome, what: &str) -> anyhow::Result<load::Outcome> {
    if crate::diag::has_errors(&loaded.diagnostics) {
        let mut err = std::io::stderr().lock();
        let summary = super::validate::summary(&loaded);
        render::diagnostics(
            &mut err,
            render::Format::Short,
            &loaded.files,
            &loaded.diagnostics,
            &summary,
            false,
        )?;
        bail!("{what}; fix them first (trustops validate shows each problem)");
    }
    Ok(loaded)
}

/// Runs `work`, showing a count of files read on stderr when it is a terminal.
fn with_progress<T>(context: &Context, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let n = context.progress.load(Ordering::Relaxed);
                #[allow(clippy::print_stderr, reason = "the progress line is for the terminal")]
                {
                    eprint!("\rdiscovering: {n} files read");
                }
            }
            #[allow(clippy::print_stderr, reason = "clear the progress line")]
            {
                eprint!("\r\x1b[2K");
            }
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        result
    })
}
