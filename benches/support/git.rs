//! Building benchmark repositories with real git: a command that must succeed, and a history
//! written in one `git fast-import` stream.

#![allow(dead_code, reason = "each bench uses part of it")]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `git ARGS` in `dir`; its stdout. Panics with git's stderr when it fails.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new repository in `dir` whose `main` is the history `stream` describes (fast-import
/// format), checked out.
pub(crate) fn fast_import(dir: &Path, stream: &str) {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(dir, &["checkout", "-q", "main"]);
}
