//! Whole commands as a user runs them, on generated estates: the release binary started as a
//! process, its time and peak RSS (GNU `time`), beside anchors measured in the same run.
//!
//! - `trustops validate` of N identities (104 files at 100,000);
//! - `trustops plan --inventory inv.json --format json --out plan.json.gz` against 10·N discovered
//!   credentials (per identity the certificate, its key, six superseded certificates; a
//!   quarter with a token; 1.75·N unmanaged certificates), anchored by Python's `json.load` of
//!   the same inventory (the least any tool must do to read it);
//! - `trustops diff HEAD~1 HEAD` after a Policy change, anchored by `git diff --stat`: once
//!   with nothing remembered, once with what unchanged blobs declare remembered (as CI keeps it);
//! - the plan file's size, gzip-compressed and as JSON (inflated by `gzip -dc`).
//!
//! The inventory is written as `discover` writes it (sorted by kind and fingerprint), and
//! every command, anchors included, starts with its input files in the page cache.
//!
//! With `--against OTHER_BINARY`, `validate` and `plan` then run `--rounds` times (3 unless
//! told) alternating between this build and the other binary (e.g. one built from an earlier
//! commit), each round with its own `json.load`: on a machine whose speed drifts between runs,
//! only alternating runs compare two builds. It also says whether both wrote the same plan.
//!
//! ```sh
//! cargo bench --bench scale                              # 10k, 50k and 100k identities
//! cargo bench --bench scale -- --sizes 10000,20000
//! cargo bench --bench scale -- --sizes 100000 --against /tmp/trustops-main --rounds 4
//! ```
//!
//! Targets (issue 18): validate 100,000 identities in ≤ 2 s; plan 100,000 × 1,000,000 in
//! ≤ 10 s, ≤ 0.75× Python's `json.load` and ≤ 2 GiB; diff ≤ 3 s; each linear (µs per identity
//! at 100k within 1.2× of 10k).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark report"
)]

#[path = "support/estate.rs"]
mod estate;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

const NOW: &str = "2026-06-01T00:00:00Z";

/// What every trustops command here starts with.
const BASE: [&str; 4] = ["--repo", "repo", "--now", NOW];

/// Python's `json.load` of the inventory: `plan`'s anchor.
const JSON_LOAD: [&str; 2] = ["-c", "import json; json.load(open('inv.json'))"];

fn validate_args() -> Vec<&'static str> {
    [&BASE[..], &["validate"]].concat()
}

/// `plan` of the inventory, its plan file written compressed to `out`.
fn plan_args(out: &'static str) -> Vec<&'static str> {
    let plan = [
        "plan",
        "--inventory",
        "inv.json",
        "--format",
        "json",
        "--out",
        out,
    ];
    [&BASE[..], &plan[..]].concat()
}

/// Reads the files a command in `dir` reads (the inventory, the declaration files) into the
/// page cache: every command starts warm, as on a machine with memory to spare. On this
/// project's virtual machine the host reclaims cold page cache between runs, and a 600 MB
/// inventory read back from its disk added seconds of noise to whichever side met it.
fn warm(dir: &Path) {
    for folder in [dir.to_owned(), dir.join("repo")] {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::read(entry.path());
            }
        }
    }
}

/// Seconds and peak RSS (MiB) of `program args` run in `dir` with a warm page cache, through
/// GNU time.
fn measure(dir: &Path, program: &str, args: &[&str]) -> (f64, f64) {
    warm(dir);
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "--"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("GNU time (apt-get install time)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    // `plan` exits 1 when it finds something, as CI wants; only a crash is a failure here.
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{program} {args:?}: {stderr}"
    );
    let mut fields = last.split_whitespace();
    let seconds: f64 = fields.next().unwrap().parse().unwrap();
    let kib: f64 = fields.next().unwrap().parse().unwrap();
    (seconds, kib / 1024.0)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
}

/// Times and peak RSS of several runs, as `min–max s (median m s), peak MiB`.
fn spread(runs: &[(f64, f64)]) -> String {
    let mut times: Vec<f64> = runs.iter().map(|r| r.0).collect();
    times.sort_by(f64::total_cmp);
    let peak = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    let median = if times.len() % 2 == 1 {
        times[times.len() / 2]
    } else {
        (times[times.len() / 2 - 1] + times[times.len() / 2]) / 2.0
    };
    format!(
        "{:.2}–{:.2} s (median {median:.2} s), peak {peak:.0} MiB",
        times[0],
        times[times.len() - 1]
    )
}

/// The JSON in the gzip file `name` in `dir`, as gzip itself inflates it.
fn inflate(dir: &Path, name: &str) -> Vec<u8> {
    let inflated = std::process::Command::new("gzip")
        .args(["-dc", name])
        .current_dir(dir)
        .output()
        .expect("gzip (apt-get install gzip)");
    assert!(inflated.status.success(), "gzip -dc {name} failed");
    inflated.stdout
}

/// `validate` and `plan` of this build and `other` in `dir`, alternating for `rounds` rounds,
/// beside `json.load` in each round; and whether both wrote the same plan file.
fn against(dir: &Path, n: usize, bin: &str, other: &str, rounds: usize) {
    let validate = validate_args();
    let (mut ours, mut theirs, mut json_load) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ours_v, mut theirs_v) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(measure(dir, bin, &plan_args("plan.json.gz")));
        theirs.push(measure(dir, other, &plan_args("other.json.gz")));
        json_load.push(measure(dir, "python3", &JSON_LOAD));
        ours_v.push(measure(dir, bin, &validate));
        theirs_v.push(measure(dir, other, &validate));
    }
    // The JSON, not the gzip framing: how a build splits the file into members may change.
    let same = inflate(dir, "plan.json.gz") == inflate(dir, "other.json.gz");
    println!("{n:>10} alternating, {rounds} rounds:");
    println!("{:>10}   plan, this build:  {}", "", spread(&ours));
    println!("{:>10}   plan, {other}: {}", "", spread(&theirs));
    println!("{:>10}   python json.load:  {}", "", spread(&json_load));
    println!("{:>10}   validate, this build:  {}", "", spread(&ours_v));
    println!("{:>10}   validate, {other}: {}", "", spread(&theirs_v));
    println!(
        "{:>10}   the plan files are {}",
        "",
        if same {
            "the same JSON byte for byte"
        } else {
            "DIFFERENT JSON"
        }
    );
}

/// The estate of `n` identities in `dir/repo` (one commit, then one that changes a Policy) and
/// its inventory in `dir/inv.json`.
fn generate(dir: &Path, n: usize) {
    let repo = dir.join("repo");
    // A kept estate starts over: its history, and what diff remembered in `.git/trustops`.
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo).unwrap();
    for input in estate::declarations(n) {
        std::fs::write(repo.join(&input.path), &input.bytes).unwrap();
    }
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "estate"]);
    let common = repo.join("common.yaml");
    let text = std::fs::read_to_string(&common).unwrap();
    std::fs::write(
        &common,
        text.replace(
            "maxValidity: 90d, renewBefore: 30d",
            "maxValidity: 60d, renewBefore: 20d",
        ),
    )
    .unwrap();
    git(&repo, &["commit", "-qam", "shorter certificates"]);
    // In the order `trustops discover` writes an inventory: by kind, then fingerprint.
    let inventory = trustops::discover::merge(vec![trustops::discover::Inventory {
        format_version: trustops::discover::FORMAT_VERSION,
        credentials: estate::inventory(n, NOW.parse().unwrap(), 95),
        ..Default::default()
    }]);
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join("inv.json")).unwrap());
    serde_json::to_writer(&mut file, &inventory).unwrap();
    file.flush().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--sizes")
        .map(|i| args[i + 1].split(',').map(|s| s.parse().unwrap()).collect())
        .unwrap_or_else(|| vec![10_000, 50_000, 100_000]);
    let bin = env!("CARGO_BIN_EXE_trustops");
    println!(
        "{:>10} {:<34} {:>8} {:>10} {:>9} {:<22} {:>8} {:>10} {:>7}",
        "identities",
        "command",
        "time s",
        "peak MiB",
        "µs/ident",
        "anchor",
        "time s",
        "peak MiB",
        "ratio"
    );
    // `--keep DIR` leaves the estates there, for a profiler.
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .map(|i| args[i + 1].clone());
    let other = args
        .iter()
        .position(|a| a == "--against")
        .map(|i| args[i + 1].clone());
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .map_or(3, |i| args[i + 1].parse().unwrap());
    for n in sizes {
        let scratch = tempfile::tempdir().unwrap();
        let dir = match &keep {
            Some(path) => {
                let dir = Path::new(path).join(n.to_string());
                std::fs::create_dir_all(&dir).unwrap();
                dir
            }
            None => scratch.path().to_owned(),
        };
        let dir = dir.as_path();
        generate(dir, n);
        let inventory_mb = std::fs::metadata(dir.join("inv.json")).unwrap().len() as f64 / 1e6;
        let row = |command: &str, (t, m): (f64, f64), anchor: Option<(&str, (f64, f64))>| {
            let (name, at, am, ratio) = match anchor {
                Some((name, (at, am))) => (
                    name,
                    format!("{at:.2}"),
                    format!("{am:.0}"),
                    // GNU time counts in hundredths: a faster anchor is "under 0.01 s".
                    format!("{:.2}×", t / at.max(0.01)),
                ),
                None => ("", String::new(), String::new(), String::new()),
            };
            println!(
                "{n:>10} {command:<34} {t:>8.2} {m:>10.0} {:>9.1} {name:<22} {at:>8} {am:>10} {ratio:>7}",
                t * 1e6 / n as f64,
            );
        };
        let validate = measure(dir, bin, &validate_args());
        row("validate", validate, None);
        let json_load = measure(dir, "python3", &JSON_LOAD);
        let plan = measure(dir, bin, &plan_args("plan.json.gz"));
        row(
            &format!("plan ({inventory_mb:.0} MB inventory)"),
            plan,
            Some(("python json.load", json_load)),
        );
        let git_diff = measure(
            &dir.join("repo"),
            "git",
            &["diff", "--stat", "HEAD~1", "HEAD"],
        );
        let diff_args = [&BASE[..], &["diff", "HEAD~1", "HEAD", "--format", "json"]].concat();
        let first = measure(dir, bin, &diff_args);
        row(
            "diff (a Policy), first run",
            first,
            Some(("git diff --stat", git_diff)),
        );
        // What unchanged blobs declare is now remembered, as the CI templates keep it.
        let again = measure(dir, bin, &diff_args);
        row(
            "diff (a Policy), remembered",
            again,
            Some(("git diff --stat", git_diff)),
        );
        let plan_mb = std::fs::metadata(dir.join("plan.json.gz")).unwrap().len() as f64 / 1e6;
        let json_mb = inflate(dir, "plan.json.gz").len() as f64 / 1e6;
        println!("{n:>10} plan file: {plan_mb:.0} MB gzip-compressed ({json_mb:.0} MB of JSON)");
        if let Some(other) = &other {
            against(dir, n, bin, other, rounds);
        }
    }
}
