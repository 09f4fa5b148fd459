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
            // Rebuilt when HEAD moves: a commit, a checkout, refs packed. Only paths that
            // exist are named (cargo reruns for a missing one every time); `refs/heads` is a
            // folder, so a branch's first loose ref counts too.
            if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
                for path in ["HEAD", "packed-refs", "refs/heads"] {
                    let path = std::path::Path::new(&dir).join(path);
                    if path.exists() {
                        println!("cargo:rerun-if-changed={}", path.display());
                    }
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
        }
    };
    println!("cargo:rustc-env=TRUSTOPS_COMMIT={commit}");
}
