//! The reviewer's and the auditor's commands on big histories, each against the git command
//! that does the nearest thing, measured in the same run (targets, issue 8: within 2× of git):
//!
//! - `trustops diff HEAD~1 HEAD` on a repository of 100,000 identities where one file changed
//!   (20 owners handed over), against `git diff --stat HEAD~1 HEAD`;
//! - `trustops audit who-owned` over a history of 10,000 commits, against
//!   `git log --format=%H -- identities.yaml`.
//!
//! ```sh
//! cargo bench --bench review
//! cargo bench --bench review -- --identities 20000 --commits 2000
//! ```

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark report"
)]

use std::path::Path;
use std::process::Command;

#[path = "support/git.rs"]
mod support;

use std::time::{Duration, Instant};
use support::fast_import;

fn run(dir: &Path, program: &str, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn median(program: &str, dir: &Path, args: &[&str], rounds: usize) -> Duration {
    let mut v: Vec<Duration> = (0..rounds).map(|_| run(dir, program, args)).collect();
    v.sort();
    v[v.len() / 2]
}

fn blob(path: &str, text: &str) -> String {
    format!("M 100644 inline {path}\ndata {}\n{text}\n", text.len())
}

const HEADER: &str = "apiVersion: trustops.dev/v1alpha1\n";

fn owners(n: usize) -> String {
    (0..n)
        .map(|i| format!("---\n{HEADER}kind: Owner\nmetadata: {{name: team-{i}}}\nspec: {{contacts: [{{email: t{i}@x.test}}]}}\n"))
        .collect()
}

fn policy() -> String {
    format!(
        "{HEADER}kind: Policy\nmetadata: {{name: tls}}\nspec: {{trustDomain: internal-tls, maxValidity: 90d}}\n"
    )
}

fn identity(n: usize, owner: usize) -> String {
    format!(
        "---\n{HEADER}kind: Identity\nmetadata: {{name: svc-{n}}}\nspec:\n  owner: team-{owner}\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [svc-{n}.x.test]}}\n      dnsNames: [svc-{n}.x.test]\n"
    )
}

/// Two commits: `identities` identities in 100 files, then 20 of one file handed over.
fn big_repository(dir: &Path, identities: usize) {
    let per_file = identities.div_ceil(100);
    let part = |f: usize, changed: bool| -> String {
        (f * per_file..((f + 1) * per_file).min(identities))
            .map(|n| identity(n, if changed && n % 50 == 7 { 8 } else { n % 50 }))
            .collect()
    };
    let mut stream = format!(
        "commit refs/heads/main\ncommitter t <t@t> 1700000000 +0000\ndata 4\nbase\n{}{}",
        blob("owners.yaml", &owners(50)),
        blob("policies.yaml", &policy())
    );
    for f in 0..100 {
        stream.push_str(&blob(
            &format!("identities/part-{f:03}.yaml"),
            &part(f, false),
        ));
    }
    stream.push_str(&format!(
        "commit refs/heads/main\ncommitter t <t@t> 1700000100 +0000\ndata 6\nchange\n{}",
        blob("identities/part-042.yaml", &part(42, true))
    ));
    fast_import(dir, &stream);
}

/// `commits` commits, one a minute: declarations first, the owner of svc-1 handed over every
/// 500 commits, a notes file changed by all the others.
fn long_history(dir: &Path, commits: usize) {
    let mut stream = String::new();
    for i in 0..commits {
        let at = 1_700_000_000 + i * 60;
        let mut files = String::new();
        if i == 0 {
            files.push_str(&blob("owners.yaml", &owners(50)));
            files.push_str(&blob("policies.yaml", &policy()));
        }
        if i % 500 == 0 {
            let ids: String = (0..10)
                .map(|n| identity(n, if n == 1 { i / 500 % 50 } else { n }))
                .collect();
            files.push_str(&blob("identities.yaml", &ids));
        } else {
            files.push_str(&blob("notes.txt", &format!("note {i}")));
        }
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter t <t@t> {at} +0000\ndata 6\ncommit\n{files}"
        ));
    }
    fast_import(dir, &stream);
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let identities = arg(&args, "--identities", 100_000);
    let commits = arg(&args, "--commits", 10_000);
    let trustops = env!("CARGO_BIN_EXE_trustops");
    let temp = tempfile::tempdir().unwrap();

    let big = temp.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    big_repository(&big, identities);
    let git_diff = median("git", &big, &["diff", "--stat", "HEAD~1", "HEAD"], 5);
    let diff_args = ["diff", "HEAD~1", "HEAD", "--format", "json"];
    // The first run reads every unchanged file once to learn what it declares (kept per blob
    // under .git/trustops/declared); later runs read only what changed.
    let cold = run(&big, trustops, &diff_args);
    let ours = median(trustops, &big, &diff_args, 5);
    println!("diff, {identities} identities, one file changed:");
    println!(
        "  git diff --stat HEAD~1 HEAD            {:>9.1} ms",
        git_diff.as_secs_f64() * 1e3
    );
    println!(
        "  trustops diff HEAD~1 HEAD, first run   {:>9.1} ms (fills the per-blob cache)",
        cold.as_secs_f64() * 1e3
    );
    println!(
        "  trustops diff HEAD~1 HEAD              {:>9.1} ms (median of 5)",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  ratio trustops / git: {:.1}× (target ≤ 2×)",
        ours.as_secs_f64() / git_diff.as_secs_f64()
    );

    let long = temp.path().join("long");
    std::fs::create_dir_all(&long).unwrap();
    long_history(&long, commits);
    let at = jiff::Timestamp::from_second(1_700_000_000 + (commits as i64) / 2 * 60)
        .unwrap()
        .to_string();
    let git_log = median(
        "git",
        &long,
        &["log", "--format=%H", "--", "identities.yaml"],
        5,
    );
    let ours = median(
        trustops,
        &long,
        &["audit", "who-owned", "svc-1/tls", "--at", &at],
        5,
    );
    println!("who-owned, {commits} commits:");
    println!(
        "  git log --format=%H -- identities.yaml {:>9.1} ms",
        git_log.as_secs_f64() * 1e3
    );
    println!(
        "  trustops audit who-owned svc-1/tls     {:>9.1} ms",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  ratio trustops / git: {:.1}× (target ≤ 2×)",
        ours.as_secs_f64() / git_log.as_secs_f64()
    );
}
