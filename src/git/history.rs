//! Reading a branch's history without a checkout: each commit's time, message, SSH signature
//! (the armored `gpgsig` and the bytes it covers) and the files it added, modified or deleted
//! under a folder, found by comparing trees with its first parent and descending only into
//! subtrees whose ids differ (as `git log -- PATH` does), with the new content of each.

use super::Error;
use gix::ObjectId;
use std::path::Path;

/// How a commit changed a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileChange {
    /// The file is new.
    Added,
    /// The file existed with other content.
    Modified,
    /// The file is gone.
    Deleted,
}

/// One file a commit changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// Path from the repository root.
    pub path: String,
    /// How.
    pub change: FileChange,
    /// The blob it holds after the commit (none when deleted).
    pub blob: Option<ObjectId>,
    /// That blob's bytes (empty when deleted).
    pub bytes: Vec<u8>,
}

/// A commit's signature and what it signs.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The armored signature from the `gpgsig` header.
    pub armored: String,
    /// The commit object without that header: the bytes the signature covers.
    pub payload: Vec<u8>,
}

/// One commit of a history.
#[derive(Clone, Debug)]
pub struct Commit {
    /// Its id, hex.
    pub id: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// The full message.
    pub message: String,
    /// Its signature, if signed.
    pub signature: Option<Signed>,
    /// Files changed under the folder asked for, compared with the first parent.
    pub changes: Vec<Changed>,
}

/// The commits reachable from `revision`, oldest first, each with the files it changed under
/// `prefix` (`audit/`; empty for every file). `Ok(None)` when the revision does not exist.
pub fn history(dir: &Path, revision: &str, prefix: &str) -> Result<Option<Vec<Commit>>, Error> {
    let fail = super::read::failure(dir);
    let repo = gix::discover(dir).map_err(|e| fail(&e))?;
    let Ok(tip) = repo.rev_parse_single(revision) else {
        return Ok(None);
    };
    let walk = newest_first(dir, &repo, tip.detach(), false)?;
    let mut out = Vec::new();
    for info in walk {
        let info = info.map_err(|e| fail(&e))?;
        let commit = info.object().map_err(|e| fail(&e))?;
        let tree = commit.tree_id().map_err(|e| fail(&e))?.detach();
        let parent_tree = match commit.parent_ids().next() {
            Some(parent) => Some(
                parent
                    .object()
                    .map_err(|e| fail(&e))?
                    .into_commit()
                    .tree_id()
                    .map_err(|e| fail(&e))?
                    .detach(),
            ),
            None => None,
        };
        let mut changes = Vec::new();
        compare(&repo, parent_tree, Some(tree), "", prefix, &mut changes).map_err(|e| fail(&e))?;
        let signature = commit
            .signature()
            .map_err(|e| fail(&e))?
            .map(|(armored, signed)| Signed {
                armored: armored.to_string(),
                payload: signed.to_bstring().into(),
            });
        let decoded = commit.decode().map_err(|e| fail(&e))?;
        out.push(Commit {
            id: commit.id.to_string(),
            time: decoded.committer().map_or(0, |c| c.seconds()),
            message: decoded.message.to_string(),
            signature,
            changes,
        });
    }
    out.reverse();
    Ok(Some(out))
}

/// A tree entry: name, object, whether it is a tree.
type Entry = (String, ObjectId, bool);
type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The files that differ between trees `old` and `new` below `path`, restricted to `prefix`.
fn compare(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    path: &str,
    prefix: &str,
    out: &mut Vec<Changed>,
) -> Result<(), Failure> {
    if old == new {
        return Ok(());
    }
    let entries = |id: Option<ObjectId>| -> Result<Vec<Entry>, Failure> {
        let Some(id) = id else {
            return Ok(Vec::new());
        };
        let tree = repo.find_object(id)?.peel_to_tree()?;
        let mut list = Vec::new();
        for entry in tree.iter() {
            let entry = entry?;
            list.push((
                entry.filename().to_string(),
                entry.object_id(),
                entry.mode().is_tree(),
            ));
        }
        Ok(list)
    };
    let (before, after) = (entries(old)?, entries(new)?);
    let mut names: Vec<&str> = before
        .iter()
        .chain(&after)
        .map(|(n, _, _)| n.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let full = format!("{path}{name}");
        let relevant = full.starts_with(prefix) || prefix.starts_with(&format!("{full}/"));
        if !relevant {
            continue;
        }
        let find = |list: &[Entry]| {
            list.iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, id, tree)| (*id, *tree))
        };
        let (b, a) = (find(&before), find(&after));
        let subtree = |x: Option<(ObjectId, bool)>| x.filter(|(_, t)| *t).map(|(id, _)| id);
        let blob = |x: Option<(ObjectId, bool)>| x.filter(|(_, t)| !*t).map(|(id, _)| id);
        if subtree(b).is_some() || subtree(a).is_some() {
            compare(
                repo,
                subtree(b),
                subtree(a),
                &format!("{full}/"),
                prefix,
                out,
            )?;
        }
        if !full.starts_with(prefix) {
            continue;
        }
        let change = match (blob(b), blob(a)) {
            (None, Some(_)) => FileChange::Added,
            (Some(_), None) => FileChange::Deleted,
            (Some(x), Some(y)) if x != y => FileChange::Modified,
            _ => continue,
        };
        let bytes = match blob(a) {
            Some(id) => repo.find_object(id)?.data.clone(),
            None => Vec::new(),
        };
        out.push(Changed {
            path: full,
            change,
            blob: blob(a),
            bytes,
        });
    }
    Ok(())
}

/// The newest commit reachable from `revision` made at or before `at` (committer time, seconds
/// since the epoch): its id and time. Walks newest first and stops there, reading no tree.
pub fn commit_at(dir: &Path, revision: &str, at: i64) -> Result<Option<(String, i64)>, Error> {
    let fail = super::read::failure(dir);
    let repo = gix::discover(dir).map_err(|e| fail(&e))?;
    let tip = repo
        .rev_parse_single(revision)
        .map_err(|e| super::read::unknown_revision(dir, &repo, revision, &e))?;
    let walk = newest_first(dir, &repo, tip.detach(), false)?;
    for info in walk {
        let info = info.map_err(|e| fail(&e))?;
        let time = match info.commit_time {
            Some(t) => t,
            None => {
                info.object()
                    .map_err(|e| fail(&e))?
                    .time()
                    .map_err(|e| fail(&e))?
                    .seconds
            }
        };
        if time <= at {
            return Ok(Some((info.id.to_string(), time)));
        }
    }
    Ok(None)
}

/// The newest commit reachable from `revision` (itself included) that changed `path` against
/// its first parent, as `git log -1 -- PATH` finds it: its id and time.
pub fn last_change(dir: &Path, revision: &str, path: &str) -> Result<Option<(String, i64)>, Error> {
    let fail = super::read::failure(dir);
    let repo = gix::discover(dir).map_err(|e| fail(&e))?;
    let tip = repo
        .rev_parse_single(revision)
        .map_err(|e| super::read::unknown_revision(dir, &repo, revision, &e))?
        .detach();
    let entry = |commit: &gix::Commit<'_>| -> Result<Option<ObjectId>, Error> {
        let tree = commit.tree().map_err(|e| fail(&e))?;
        Ok(tree
            .lookup_entry_by_path(path)
            .map_err(|e| fail(&e))?
            .map(|e| e.object_id()))
    };
    let walk = newest_first(dir, &repo, tip, true)?;
    for info in walk {
        let info = info.map_err(|e| fail(&e))?;
        let commit = info.object().map_err(|e| fail(&e))?;
        let mine = entry(&commit)?;
        let parent = match commit.parent_ids().next() {
            Some(p) => entry(&p.object().map_err(|e| fail(&e))?.into_commit())?,
            None => None,
        };
        if mine != parent {
            let time = commit.time().map_err(|e| fail(&e))?.seconds;
            return Ok(Some((commit.id.to_string(), time)));
        }
    }
    Ok(None)
}

/// The commits reachable from `tip`, newest first (by committer time); only first parents
/// when `first_parent`.
fn newest_first<'r>(
    dir: &Path,
    repo: &'r gix::Repository,
    tip: ObjectId,
    first_parent: bool,
) -> Result<gix::revision::Walk<'r>, Error> {
    let mut platform = repo
        .rev_walk([tip])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
        ));
    if first_parent {
        platform = platform.first_parent_only();
    }
    platform.all().map_err(|e| super::read::failure(dir)(&e))
}
