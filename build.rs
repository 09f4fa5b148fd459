//! Names the commit `trustops --version` reports: `TRUSTOPS_COMMIT` when a release build sets
//! it, else the checkout's `HEAD` else
//! `unknown` (a source archive without Git).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=TRUSTOPS_COMMIT");
    let commit = match std::env::var("TRUSTOPS_COMMIT") {
        Ok(commit) if !commit.is_empty() => commit,
        _ => {
            // Rebuilt when HEAD moves: a commit, a checkout, a new packed ref.
            if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
                println!("cargo:rerun-if-changed={dir}/HEAD");
                println!("cargo:rerun-if-changed={dir}/packed-refs");
                if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
                    println!("cargo:rerun-if-changed={dir}/{reference}");
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
        }
    };
    println!("cargo:rustc-env=TRUSTOPS_COMMIT={commit}");
}
