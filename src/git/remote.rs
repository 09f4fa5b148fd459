//! Talking to a remote through the `git` binary (gix is built without network support, and
//! the container image ships git): fetch, fast-forward, push, and rebuilding local commits on
//! a branch that moved on the remote. Every call is bounded by a timeout.

use super::{Author, Error, Signer};
use std::path::Path;
use std::time::Duration;

/// How long one git network call may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `git ARGS` in `repo`; its stdout trimmed, or the error with what git said.
fn git(repo: &Path, args: &[&str]) -> Result<String, Error> {
    git_raw(repo, args).map(|out| String::from_utf8_lossy(&out).trim().to_owned())
}

/// Runs `git ARGS` in `repo`; its stdout as it is.
fn git_raw(repo: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    let mut argv = vec!["git".to_owned()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    let outcome = crate::command::run(&crate::command::Options {
        argv,
        dir: repo.to_owned(),
        stdin: None,
        timeout: TIMEOUT,
        max_output: 16 << 20,
        guard: None,
    })
    .map_err(|e| Error::Git {
        repo: repo.to_owned(),
        message: crate::command::describe(&e),
    })?;
    if outcome.code != Some(0) {
        return Err(Error::Git {
            repo: repo.to_owned(),
            message: format!(
                "git {}: {}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&outcome.stderr).trim()
            ),
        });
    }
    Ok(outcome.stdout)
}

/// Fetches every branch of `remote` into its remote-tracking refs.
pub fn fetch(repo: &Path, remote: &str) -> Result<(), Error> {
    git(repo, &["fetch", "--quiet", "--prune", remote]).map(|_| ())
}

/// The commit `rev` names, if it exists.
pub fn resolve(repo: &Path, rev: &str) -> Option<String> {
    git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .ok()
}

/// Whether `ancestor` is an ancestor of (or equal to) `of`.
pub fn is_ancestor(repo: &Path, ancestor: &str, of: &str) -> bool {
    git(repo, &["merge-base", "--is-ancestor", ancestor, of]).is_ok()
}

/// The checked-out branch's name (`main`).
pub fn current_branch(repo: &Path) -> Result<String, Error> {
    git(repo, &["symbolic-ref", "--short", "HEAD"])
}

/// Fast-forwards the checked-out branch (and work tree) to `to`; fails when it cannot.
pub fn fast_forward(repo: &Path, to: &str) -> Result<(), Error> {
    git(repo, &["merge", "--ff-only", "--quiet", to]).map(|_| ())
}

/// Moves `branch` (a full ref) to `to`, only if it still points at `from` (`None`: it must not
/// exist).
pub fn move_branch(repo: &Path, branch: &str, to: &str, from: Option<&str>) -> Result<(), Error> {
    let zero = "0".repeat(40);
    git(repo, &["update-ref", branch, to, from.unwrap_or(&zero)]).map(|_| ())
}

/// What a push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The remote took it (or already had it).
    Accepted,
    /// The remote's branch moved: fetch, rebuild on its tip, push again. Never forced.
    Rejected,
}

/// Pushes `branch` (a full ref) to the same name on `remote`, never forcing.
pub fn push(repo: &Path, remote: &str, branch: &str) -> Result<Pushed, Error> {
    match git(
        repo,
        &["push", "--quiet", remote, &format!("{branch}:{branch}")],
    ) {
        Ok(_) => Ok(Pushed::Accepted),
        Err(Error::Git { message, .. })
            if ["rejected", "non-fast-forward", "fetch first", "stale info"]
                .iter()
                .any(|m| message.contains(m)) =>
        {
            Ok(Pushed::Rejected)
        }
        Err(e) => Err(e),
    }
}

/// Rebuilds the commits of `branch` that `onto` lacks on top of `onto`, one new signed commit
/// per old one with the same message and the files it added (audit commits only add files, so
/// nothing conflicts), and moves `branch` there. Returns how many were rebuilt.
pub fn rebuild(
    repo: &Path,
    branch: &str,
    onto: &str,
    author: &Author,
    signer: Option<&Signer>,
) -> Result<usize, Error> {
    let old_tip = git(repo, &["rev-parse", branch])?;
    let list = git(
        repo,
        &["rev-list", "--reverse", &format!("{onto}..{branch}")],
    )?;
    let commits: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    let mut rebuilt = Vec::new();
    for commit in &commits {
        let message = git(repo, &["log", "-1", "--format=%B", commit])?;
        let added = git(
            repo,
            &[
                "diff-tree",
                "-r",
                "--root",
                "--no-commit-id",
                "--name-only",
                "--diff-filter=A",
                commit,
            ],
        )?;
        let mut files = Vec::new();
        for path in added.lines().filter(|l| !l.is_empty()) {
            let bytes = git_raw(repo, &["cat-file", "blob", &format!("{commit}:{path}")])?;
            files.push((path.to_owned(), bytes));
        }
        rebuilt.push((format!("{message}\n"), files));
    }
    move_branch(repo, branch, onto, Some(&old_tip))?;
    for (message, files) in &rebuilt {
        super::commit(
            repo,
            &super::Change {
                branch,
                files: files.clone(),
                message,
                author,
                signer,
                recover_ref_lock: false,
            },
        )?;
    }
    Ok(rebuilt.len())
}
