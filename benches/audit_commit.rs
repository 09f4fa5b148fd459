//! One signed audit commit (12 records) into a repository with 10,000 earlier commits and
//! 10,000 audit files, against `git commit -S` (SSH signing) of the same change, measured in
//! the same run. Target (issue 6): under 1.5× git.
//!
//! ```sh
//! cargo bench --bench audit_commit
//! cargo bench --bench audit_commit -- --history 2000
//! ```

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark report"
)]

use std::path::Path;
use std::time::{Duration, Instant};
use trustops::git::{Author, Change, Signer, commit};

#[path = "support/git.rs"]
mod support;

use support::{fast_import, git};

/// A repository whose `main` has `n` commits, each adding one audit record, built with
/// `git fast-import`.
fn history(dir: &Path, n: usize) {
    let mut stream = String::new();
    for i in 0..n {
        let body = format!("plan: plan-{i:06}\noutcome: applied\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter t <t@t> {} +0000\ndata 6\naudit\nM 100644 inline audit/2026/{:02}/plan-{i:06}/1/001-rotate.yaml\ndata {}\n{body}\n",
            1_700_000_000 + i,
            i % 12 + 1,
            body.len()
        ));
    }
    fast_import(dir, &stream);
}

fn records(round: usize) -> Vec<(String, Vec<u8>)> {
    (0..12)
        .map(|k| {
            (
                format!("audit/2026/12/plan-bench-{round}/1/{k:03}-rotate.yaml"),
                format!("plan: plan-bench-{round}\naction: rotate:svc-{k}/tls\noutcome: applied\n")
                    .into_bytes(),
            )
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--history")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(10_000);
    let temp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let ours_dir = temp.path().join("ours");
    let git_dir = temp.path().join("git");
    std::fs::create_dir_all(&ours_dir).unwrap();
    history(&ours_dir, n);
    git(
        temp.path(),
        &[
            "clone",
            "-q",
            ours_dir.to_str().unwrap(),
            git_dir.to_str().unwrap(),
        ],
    );
    println!(
        "built 2 repositories with {n} commits and {n} audit files in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let (signer, private) = Signer::generate("bench@test").unwrap();
    let key = temp.path().join("key");
    std::fs::write(&key, private).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    for (k, v) in [
        ("gpg.format", "ssh"),
        ("user.signingkey", key.to_str().unwrap()),
        ("user.name", "t"),
        ("user.email", "t@t"),
    ] {
        git(&git_dir, &["config", k, v]);
    }
    let author = Author {
        name: "trustops".into(),
        email: "bench@test".into(),
        time: 1_800_000_000,
    };
    let (mut ours, mut theirs, mut unsigned) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..7 {
        let files = records(round);
        // git: write the files, add them, commit signed (what a person or a script would do).
        let started = Instant::now();
        for (path, bytes) in &files {
            let full = git_dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, bytes).unwrap();
        }
        git(&git_dir, &["add", "audit"]);
        git(&git_dir, &["commit", "-q", "-S", "-m", "audit"]);
        theirs.push(started.elapsed());
        // git again, unsigned: how much of git's time is the signing.
        let started = Instant::now();
        let unsigned_files = records(round + 100);
        for (path, bytes) in &unsigned_files {
            let full = git_dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, bytes).unwrap();
        }
        git(&git_dir, &["add", "audit"]);
        git(&git_dir, &["commit", "-q", "-m", "audit"]);
        unsigned.push(started.elapsed());
        // trustops: the same records as one signed commit on main, no work tree involved.
        let started = Instant::now();
        commit(
            &ours_dir,
            &Change {
                branch: "refs/heads/main",
                files,
                message: "audit\n",
                author: &author,
                signer: Some(&signer),
                recover_ref_lock: false,
            },
        )
        .unwrap();
        ours.push(started.elapsed());
    }
    let (ours, theirs, unsigned) = (median(ours), median(theirs), median(unsigned));
    println!(
        "git add + git commit (unsigned): {:>6.1} ms (median of 7)",
        unsigned.as_secs_f64() * 1e3
    );
    println!(
        "git add + git commit -S (ssh): {:>8.1} ms (median of 7)",
        theirs.as_secs_f64() * 1e3
    );
    println!(
        "trustops git::commit (signed): {:>8.1} ms (median of 7)",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "ratio trustops / git: {:.2}× (target < 1.5×)",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}
