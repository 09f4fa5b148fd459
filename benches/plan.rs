//! Plan throughput and memory on generated estates, at three sizes, against a baseline
//! measured in the same run: merging the same inventory (deduplication by fingerprint, the
//! pass every inventory goes through before planning).
//!
//! ```sh
//! cargo bench --bench plan                          # 10k, 50k and 100k identities
//! cargo bench --bench plan -- --sizes 1000,10000
//! ```
//!
//! Each size runs in a child process that does nothing else, so its peak RSS is its own. An
//! estate of N identities has N certificate credentials (a quarter with a dependent secret
//! rotated with them) and 10·N discovered credentials: per identity the current certificate,
//! its key and six superseded ones, the secrets, and 1.75·N unmanaged certificates. Targets
//! (issue 4): 100,000 identities against 1,000,000 credentials under 10 s and 4 GiB, time
//! growing linearly.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark report"
)]

#[path = "support/estate.rs"]
mod estate;

use estate::{declarations, inventory};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::time::Instant;
use trustops::discover::Inventory;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        return child(args[i + 1].parse().unwrap());
    }
    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--sizes")
        .map(|i| args[i + 1].split(',').map(|s| s.parse().unwrap()).collect())
        .unwrap_or_else(|| vec![10_000, 50_000, 100_000]);
    println!(
        "{:>11} {:>11} {:>8} {:>8} {:>11} {:>8} {:>8} {:>12} {:>10} {:>9} {:>9}",
        "identities",
        "discovered",
        "load s",
        "merge s",
        "reconcile s",
        "total s",
        "ratio",
        "µs/credential",
        "peak RSS",
        "findings",
        "actions"
    );
    for n in sizes {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--child", &n.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    println!(
        "total = reconcile + plan; ratio = total / merge of the same inventory; peak RSS of the whole child"
    );
}

fn child(n: usize) {
    let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let started = Instant::now();
    let loaded = trustops::load::from_inputs(declarations(n));
    assert!(
        !trustops::diag::has_errors(&loaded.diagnostics),
        "{:?}",
        loaded.diagnostics.first()
    );
    let load = started.elapsed().as_secs_f64();

    let credentials = inventory(n, now, 95);
    let discovered = credentials.len();
    let started = Instant::now();
    let merged = trustops::discover::merge(vec![Inventory {
        format_version: 1,
        credentials,
        ..Default::default()
    }]);
    let merge = started.elapsed().as_secs_f64();

    let subjects: BTreeMap<String, Vec<String>> =
        [("ca".to_owned(), vec!["CN=Bench CA".to_owned()])].into();
    let started = Instant::now();
    let input = trustops::reconcile::Input {
        model: &loaded.model,
        inventory: &merged,
        now,
        base: std::path::Path::new("/"),
        issuer_subjects: &subjects,
        issued_by: &Default::default(),
        revoked: &Default::default(),
        renewal_info: &Default::default(),
    };
    let reconciled = trustops::reconcile::reconcile(&input);
    let reconcile = started.elapsed().as_secs_f64();
    let plan = trustops::plan::plan(&input, reconciled, &trustops::plan::Options::default());
    let planned = started.elapsed().as_secs_f64();
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!(
        "{:>11} {:>11} {:>8.2} {:>8.2} {:>11.2} {:>8.2} {:>7.1}× {:>12.2} {:>7} MB {:>9} {:>9}",
        n,
        discovered,
        load,
        merge,
        reconcile,
        planned,
        planned / merge,
        planned * 1e6 / discovered as f64,
        peak / 1024,
        plan.findings.len(),
        plan.actions.len()
    );
}
