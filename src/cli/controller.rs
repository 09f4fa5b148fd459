//! `trustops controller`: the long-running reconciler. Reads its settings and the signing key
//! here, at the edge, installs the SIGTERM/SIGINT handlers and runs the library's loop.

use super::{Exit, Global};
use anyhow::{Context as _, bail};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Arguments of `controller`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The longest wait between cycles (`30s`, `5m`, `1h`); the controller wakes earlier when
    /// something becomes due.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    interval: String,
    /// Serve /metrics, /healthz and /readyz on this address.
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Fetch the declarations from this remote (fast-forward only) and push the audit branch
    /// to it; without it, the work tree is used as it is and nothing is pushed.
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// The branch audit commits go to.
    #[arg(long, default_value = "trustops-audit", value_name = "BRANCH")]
    branch: String,
    /// How long after a notice (or an attempt) the same owner may be told again.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    renotify: String,
    /// Plan from inventories saved by `discover --format json` (one per zone or cluster, e.g.
    /// written by each cluster's CronJob) instead of discovering live; re-read every cycle.
    #[arg(long, value_name = "FILE")]
    inventory: Vec<std::path::PathBuf>,
    /// Most rotations applied per identity in 24 hours, so a runaway loop stops.
    #[arg(long, default_value_t = 10, value_name = "N")]
    max_issuances_per_day: usize,
    /// Also serve another exporter's names and labels at /metrics, for the dashboards and
    /// alerts built on it: `x509-certificate-exporter`.
    #[arg(long, value_name = "EXPORTER", value_parser = ["x509-certificate-exporter"])]
    metrics_compat: Vec<String>,
    /// Run this many cycles, then exit (1 when one failed): for a CronJob, or a test.
    #[arg(long, value_name = "N")]
    cycles: Option<u64>,
    #[command(flatten)]
    signing: super::apply::Signing,
}

fn duration(text: &str, flag: &str) -> anyhow::Result<std::time::Duration> {
    let parsed: crate::model::Duration = text.parse().map_err(|_| {
        anyhow::anyhow!("{flag} `{text}`: expected a duration such as 30s, 5m or 1h")
    })?;
    Ok(std::time::Duration::from_secs(parsed.seconds()))
}

pub(super) fn run(global: &Global, args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let pipeline = global.pipeline(&args.inventory, &args.branch)?;
    crate::git::git_dir(&pipeline.repo).context("the controller works on a Git clone")?;
    let Some(signer) = args.signing.signer()? else {
        bail!("audit commits are signed: pass --signing-key FILE or set TRUSTOPS_SIGNING_KEY");
    };
    let options = crate::controller::Options {
        remote: args.remote.clone(),
        interval: duration(&args.interval, "--interval")?,
        renotify: duration(&args.renotify, "--renotify")?,
        listen: args.listen,
        signer,
        email: pipeline
            .env
            .get("TRUSTOPS_AUTHOR_EMAIL")
            .unwrap_or("trustops-controller@localhost")
            .to_owned(),
        cycles: args.cycles,
        max_issuances_per_day: args.max_issuances_per_day,
        x509_exporter: args
            .metrics_compat
            .iter()
            .any(|c| c == "x509-certificate-exporter"),
        pipeline,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the signal handlers")?;
    }
    // A fixed --now is for tests of one cycle; a running controller reads the clock each cycle.
    let fixed = global.now.as_ref().map(|_| global.now()).transpose()?;
    let clock = move || fixed.unwrap_or_else(jiff::Timestamp::now);
    let mut log = std::io::stderr().lock();
    let _ = writeln!(
        log,
        "trustops controller on {} every {} (remote: {}){}",
        options.pipeline.repo.display(),
        args.interval,
        args.remote.as_deref().unwrap_or("none"),
        args.listen
            .map(|a| format!(", serving http://{a}/metrics"))
            .unwrap_or_default()
    );
    let failed = crate::controller::run(&options, &clock, &stop, &mut log)?;
    writeln!(out, "trustops controller stopped")?;
    Ok(if args.cycles.is_some() && failed > 0 {
        Exit::Error
    } else {
        Exit::Ok
    })
}
