//! Reading repositories without a checkout: the commit and branch checked out, the files under
//! a folder of a branch's tree, one file's content.

use super::Error;
use std::path::{Path, PathBuf};

/// The commit checked out in the repository containing `dir` (found upwards, as `git` does),
/// or `None` when `dir` is in no repository or it has no commit yet.
pub fn head_commit(dir: &Path) -> Option<String> {
    let repo = gix::discover(dir).ok()?;
    repo.head_id().ok().map(|id| id.detach().to_string())
}

/// Every file path under `prefix` (`audit/`) in the tree of `branch`, or nothing when the
/// branch does not exist yet.
pub fn files_under(dir: &Path, branch: &str, prefix: &str) -> Result<Vec<String>, Error> {
    let repo = open(dir)?;
    let Some(tree) = branch_tree(dir, &repo, branch)? else {
        return Ok(Vec::new());
    };
    Ok(walk(dir, &repo, tree, prefix)?
        .into_iter()
        .map(|(path, _)| path)
        .collect())
}

/// Every file under `prefix` in the tree of `branch`, with its bytes, path-sorted; nothing
/// when the branch does not exist yet. One repository open for all of them.
pub fn read_under(dir: &Path, branch: &str, prefix: &str) -> Result<Vec<TreeFile>, Error> {
    let repo = open(dir)?;
    let fail = failure(dir);
    let Some(tree) = branch_tree(dir, &repo, branch)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (path, id) in walk(dir, &repo, tree, prefix)? {
        let object = repo.find_object(id).map_err(|e| fail(&e))?;
        out.push((path, object.data.clone()));
    }
    Ok(out)
}

/// A file of a tree: its path from the root and its bytes.
pub type TreeFile = (String, Vec<u8>);

/// A revision's tree listed without reading its files: each path with its blob id; blobs are
/// read on demand.
pub struct Snapshot {
    repo: gix::Repository,
    dir: std::path::PathBuf,
    /// The commit, hex.
    pub commit: String,
    /// Every file, path-sorted, with its blob id (hex).
    pub files: Vec<(String, String)>,
}

impl Snapshot {
    /// The commit `revision` names (`main`, `HEAD~2`, a commit id: anything `git rev-parse`
    /// takes) and its files.
    pub fn of(dir: &Path, revision: &str) -> Result<Self, Error> {
        let repo = gix::discover(dir).map_err(|e| failure(dir)(&e))?;
        let fail = failure(dir);
        let (commit, files) = {
            let commit = repo
                .rev_parse_single(revision)
                .map_err(|e| unknown_revision(dir, &repo, revision, &e))?
                .object()
                .map_err(|e| fail(&e))?
                .peel_to_commit()
                .map_err(|e| fail(&e))?;
            let tree = commit.tree().map_err(|e| fail(&e))?;
            let files: Vec<(String, String)> = walk(dir, &repo, tree, "")?
                .into_iter()
                .map(|(path, id)| (path, id.to_string()))
                .collect();
            (commit.id.to_string(), files)
        };
        Ok(Snapshot {
            repo,
            dir: dir.to_owned(),
            commit,
            files,
        })
    }

    /// The bytes of blob `id` (hex); empty when larger than `max_bytes`.
    pub fn blob(&self, id: &str, max_bytes: usize) -> Result<Vec<u8>, Error> {
        let fail = failure(&self.dir);
        let id = gix::ObjectId::from_hex(id.as_bytes()).map_err(|e| fail(&e))?;
        let object = self.repo.find_object(id).map_err(|e| fail(&e))?;
        Ok(if object.data.len() > max_bytes {
            Vec::new()
        } else {
            object.data.clone()
        })
    }
}

/// The id Git gives `bytes` as a blob (`git hash-object`), hex.
pub fn blob_id(bytes: &[u8]) -> String {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .map(|id| id.to_string())
        .unwrap_or_default()
}

/// The commit `revision` names and every file in its tree, with its bytes; files over
/// `max_bytes` are listed empty.
pub fn tree_files(
    dir: &Path,
    revision: &str,
    max_bytes: usize,
) -> Result<(String, Vec<TreeFile>), Error> {
    let snapshot = Snapshot::of(dir, revision)?;
    let mut files = Vec::with_capacity(snapshot.files.len());
    for (path, id) in &snapshot.files {
        files.push((path.clone(), snapshot.blob(id, max_bytes)?));
    }
    Ok((snapshot.commit, files))
}

pub(super) fn failure(dir: &Path) -> impl Fn(&dyn std::fmt::Display) -> Error + '_ {
    move |e| Error::Git {
        repo: dir.to_owned(),
        message: e.to_string(),
    }
}

/// Why `revision` names nothing in `repo`: gix's reason, and the branch, remote branch or
/// tag it was probably meant to be (`origin/mian` → `origin/main`).
pub(super) fn unknown_revision(
    dir: &Path,
    repo: &gix::Repository,
    revision: &str,
    error: &dyn std::fmt::Display,
) -> Error {
    // `main~2` is `main` and a suffix: suggest for the name, keep the suffix.
    let cut = revision
        .find(['~', '^', '@', ':'])
        .unwrap_or(revision.len());
    let (name, suffix) = revision.split_at(cut);
    let names: Vec<String> = repo
        .references()
        .ok()
        .and_then(|r| {
            r.all().ok().map(|all| {
                all.filter_map(Result::ok)
                    .map(|r| r.name().shorten().to_string())
                    .collect()
            })
        })
        .unwrap_or_default();
    let hint = crate::diag::did_you_mean(name, names.iter().map(String::as_str))
        .map(|best| format!(" (did you mean {best}{suffix}?)"))
        .unwrap_or_default();
    Error::Git {
        repo: dir.to_owned(),
        message: format!("revision {revision}: {error}{hint}"),
    }
}

fn open(dir: &Path) -> Result<gix::Repository, Error> {
    gix::open(dir).map_err(|e| failure(dir)(&e))
}

/// The tree of `branch`, if the branch exists.
fn branch_tree<'r>(
    dir: &Path,
    repo: &'r gix::Repository,
    branch: &str,
) -> Result<Option<gix::Tree<'r>>, Error> {
    let fail = failure(dir);
    let Some(mut reference) = repo.try_find_reference(branch).map_err(|e| fail(&e))? else {
        return Ok(None);
    };
    let id = reference.peel_to_id().map_err(|e| fail(&e))?.detach();
    let tree = repo
        .find_object(id)
        .map_err(|e| fail(&e))?
        .peel_to_tree()
        .map_err(|e| fail(&e))?;
    Ok(Some(tree))
}

/// The blobs under `prefix` in `tree` (every one for an empty prefix), path-sorted.
fn walk(
    dir: &Path,
    repo: &gix::Repository,
    tree: gix::Tree<'_>,
    prefix: &str,
) -> Result<Vec<(String, gix::ObjectId)>, Error> {
    let fail = failure(dir);
    let mut out = Vec::new();
    let mut pending = vec![(String::new(), tree.id)];
    while let Some((path, id)) = pending.pop() {
        let tree = repo
            .find_object(id)
            .map_err(|e| fail(&e))?
            .peel_to_tree()
            .map_err(|e| fail(&e))?;
        for entry in tree.iter() {
            let entry = entry.map_err(|e| fail(&e))?;
            let name = format!("{path}{}", entry.filename());
            let inside = name.starts_with(prefix) || prefix.starts_with(&format!("{name}/"));
            if entry.mode().is_tree() {
                if inside {
                    pending.push((format!("{name}/"), entry.object_id()));
                }
            } else if entry.mode().is_blob() && name.starts_with(prefix) {
                out.push((name, entry.object_id()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The path of the Git directory of the repository containing `dir`.
pub fn git_dir(dir: &Path) -> Result<PathBuf, Error> {
    let repo = gix::discover(dir).map_err(|e| Error::Git {
        repo: dir.to_owned(),
        message: e.to_string(),
    })?;
    Ok(repo.git_dir().to_owned())
}

/// The content of `path` in the tree of `branch`, if both exist.
pub fn read(dir: &Path, branch: &str, path: &str) -> Result<Option<Vec<u8>>, Error> {
    let repo = open(dir)?;
    let fail = failure(dir);
    let Some(tree) = branch_tree(dir, &repo, branch)? else {
        return Ok(None);
    };
    let Some(entry) = tree.lookup_entry_by_path(path).map_err(|e| fail(&e))? else {
        return Ok(None);
    };
    let object = entry.object().map_err(|e| fail(&e))?;
    Ok(Some(object.data.clone()))
}

/// The full name of the branch checked out in the repository containing `dir`
/// (`refs/heads/main`), if one is.
pub fn checked_out(dir: &Path) -> Option<String> {
    let repo = gix::discover(dir).ok()?;
    let name = repo.head_name().ok()??;
    Some(name.as_bstr().to_string())
}
