//! The controller's steady state as a user runs it: `trustops controller` as a whole process
//! on a generated estate where nothing is due (N identities, 10·N credentials from a saved
//! inventory, `--interval 0s` so cycles run back to back), against a baseline measured in the
//! same run: one `trustops plan --inventory` of the same estate (process start, load, parse,
//! reconcile, plan). Memory must stay flat: peak RSS after 200 cycles within 10 % of after 10.
//!
//! ```sh
//! cargo bench --bench controller                       # 10,000 identities, 10 and 200 cycles
//! cargo bench --bench controller -- --identities 2000 --cycles 50
//! ```

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark report"
)]

#[path = "support/estate.rs"]
mod estate;
#[path = "support/git.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().unwrap())
}

/// Runs `trustops ARGS` in `dir` to its end: wall time and peak RSS (VmHWM, sampled).
fn measure(dir: &Path, args: &[&str]) -> (Duration, u64) {
    let binary = env!("CARGO_BIN_EXE_trustops");
    let start = Instant::now();
    let mut child = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "trustops {args:?} failed:\n{}",
                std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
            );
            return (start.elapsed(), peak);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--identities", 10_000);
    let long = arg(&args, "--cycles", 200);
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for input in estate::declarations(n) {
        std::fs::write(repo.join(&input.path), &input.bytes).unwrap();
    }
    support::git(&repo, &["init", "-q", "-b", "main"]);
    support::git(&repo, &["add", "."]);
    support::git(
        &repo,
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-qm",
            "estate",
        ],
    );
    let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let inventory = trustops::discover::merge(vec![trustops::discover::Inventory {
        format_version: trustops::discover::inventory::FORMAT_VERSION,
        credentials: estate::inventory(n, now, 50),
        ..Default::default()
    }]);
    let credentials = inventory.credentials.len();
    std::fs::write(
        dir.path().join("inventory.json"),
        serde_json::to_vec(&inventory).unwrap(),
    )
    .unwrap();
    let (_, key) = trustops::git::Signer::generate("bench").unwrap();
    std::fs::write(dir.path().join("key"), key).unwrap();

    let now = "2026-06-01T00:00:00Z";
    let planned = Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args([
            "--repo",
            "repo",
            "--now",
            now,
            "plan",
            "--inventory",
            "inventory.json",
        ])
        .args(["--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    let runnable: Vec<String> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "rotate" || a["kind"] == "escalate")
        .map(|a| format!("{} ({})", a["id"], a["summary"]))
        .take(3)
        .collect();
    println!("actions the controller could run: {runnable:?}");
    let (plan_time, plan_rss) = measure(
        dir.path(),
        &[
            "--repo",
            "repo",
            "--now",
            now,
            "plan",
            "--inventory",
            "inventory.json",
        ],
    );
    let controller = |cycles: usize| {
        let cycles = cycles.to_string();
        measure(
            dir.path(),
            &[
                "--repo",
                "repo",
                "--now",
                now,
                "controller",
                "--interval",
                "0s",
                "--cycles",
                &cycles,
                "--inventory",
                "inventory.json",
                "--signing-key",
                "key",
            ],
        )
    };
    let (short_time, short_rss) = controller(10);
    let (long_time, long_rss) = controller(long);
    let per_cycle = long_time.as_secs_f64() / long as f64;
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!("estate: {n} identities, {credentials} credentials, nothing due");
    println!(
        "baseline  trustops plan --inventory (whole process): {:.2} s, peak RSS {:.0} MB",
        plan_time.as_secs_f64(),
        mb(plan_rss)
    );
    println!(
        "controller, 10 cycles:  {:.2} s ({:.2} s a cycle), peak RSS {:.0} MB",
        short_time.as_secs_f64(),
        short_time.as_secs_f64() / 10.0,
        mb(short_rss)
    );
    println!(
        "controller, {long} cycles: {:.2} s ({per_cycle:.2} s a cycle, {:.2}x the plan baseline), peak RSS {:.0} MB ({:+.1} % against 10 cycles; target within 10 %)",
        long_time.as_secs_f64(),
        per_cycle / plan_time.as_secs_f64(),
        mb(long_rss),
        (long_rss as f64 / short_rss as f64 - 1.0) * 100.0
    );
}
