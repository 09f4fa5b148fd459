//! Writing files as one commit on a branch, signed in-process; the branch moves
//! compare-and-swap, so two writers cannot both win. A branch that is not checked out is
//! written without touching the work tree or the index; for the checked-out branch the new files
//! are also written into the work tree and added to the index, so `git status` stays clean.

use super::{Author, Error, Signer};
use gix::refs::transaction::PreviousValue;
use std::path::Path;

/// Files to add (or replace) in one commit on a branch.
#[derive(Debug)]
pub struct Change<'a> {
    /// The full ref name, e.g. `refs/heads/trustops-audit`; created when missing.
    pub branch: &'a str,
    /// `(path in the repository, content)`.
    pub files: Vec<(String, Vec<u8>)>,
    /// The commit message.
    pub message: &'a str,
    /// Author and committer.
    pub author: &'a Author,
    /// Signs the commit (SSHSIG in a `gpgsig` header) when given.
    pub signer: Option<&'a Signer>,
    /// The caller knows a lock file on the branch's ref (`BRANCH.lock`) is its own, left by an
    /// earlier run of it that was killed while committing: remove it. Otherwise such a lock is
    /// another Git process at work, and the error names the file.
    pub recover_ref_lock: bool,
}

/// The commit written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// Its id.
    pub commit: String,
    /// The branch tip it was built on, if the branch existed.
    pub parent: Option<String>,
}

/// How often a commit is rebuilt on a branch that moved while it was being written.
const ATTEMPTS: usize = 5;

/// Writes `change` as one commit on its branch in the repository at `dir`. When the branch
/// moves meanwhile (another writer), the commit is rebuilt on the new tip: its files are new
/// paths, so nothing conflicts. Fails when the branch keeps moving.
pub fn commit(dir: &Path, change: &Change<'_>) -> Result<Written, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::Git {
        repo: dir.to_owned(),
        message: e.to_string(),
    };
    let repo = gix::open(dir).map_err(|e| fail(&e))?;
    let lock = ref_lock(&repo, change.branch);
    // A writer updating the ref holds its lock for milliseconds; one that stays is stale.
    if !released(&lock) {
        if !change.recover_ref_lock {
            return Err(locked(dir, change.branch, &lock));
        }
        std::fs::remove_file(&lock).map_err(|e| fail(&e))?;
    }
    for _ in 0..ATTEMPTS {
        let tip = tip(&repo, change.branch).map_err(|e| fail(&e))?;
        let base = match tip {
            Some(id) => repo
                .find_object(id)
                .and_then(|o| Ok(o.peel_to_commit()?.tree_id()?.detach()))
                .map_err(|e| fail(&e))?,
            None => repo.empty_tree().id,
        };
        let mut editor = repo.edit_tree(base).map_err(|e| fail(&e))?;
        let mut blobs = Vec::with_capacity(change.files.len());
        for (path, bytes) in &change.files {
            let blob = repo.write_blob(bytes).map_err(|e| fail(&e))?.detach();
            editor
                .upsert(path.as_str(), gix::object::tree::EntryKind::Blob, blob)
                .map_err(|e| fail(&e))?;
            blobs.push(blob);
        }
        let tree = editor.write().map_err(|e| fail(&e))?.detach();
        let signature = gix::actor::Signature {
            name: change.author.name.as_str().into(),
            email: change.author.email.as_str().into(),
            time: gix::date::Time::new(change.author.time, 0),
        };
        let mut object = gix::objs::Commit {
            tree,
            parents: tip.into_iter().collect(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: change.message.into(),
            extra_headers: Vec::new(),
        };
        if let Some(signer) = change.signer {
            let mut payload = Vec::new();
            gix::objs::WriteTo::write_to(&object, &mut payload).map_err(|e| fail(&e))?;
            let armored = signer.sign(&payload)?;
            object
                .extra_headers
                .push(("gpgsig".into(), armored.trim_end().into()));
        }
        let id = repo.write_object(&object).map_err(|e| fail(&e))?.detach();
        let expected = match tip {
            Some(old) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(old)),
            None => PreviousValue::MustNotExist,
        };
        let summary = change.message.lines().next().unwrap_or("trustops");
        crate::fault::point("git.ref-update");
        match repo.reference(change.branch, id, expected, summary) {
            Ok(_) => {
                if super::checked_out(dir).as_deref() == Some(change.branch) {
                    follow(&repo, &change.files, &blobs).map_err(|e| fail(&e))?;
                }
                return Ok(Written {
                    commit: id.to_string(),
                    parent: tip.map(|t| t.to_string()),
                });
            }
            Err(e) => {
                // Moved meanwhile, or being moved by another writer right now: rebuild on the
                // new tip. Anything else is an error.
                let now = self::tip(&repo, change.branch).map_err(|e| fail(&e))?;
                if now == tip && !(lock.exists() && released(&lock)) {
                    return Err(fail(&e));
                }
            }
        }
    }
    Err(Error::Git {
        repo: dir.to_owned(),
        message: format!(
            "{} kept moving while the commit was written ({ATTEMPTS} attempts); try again",
            change.branch
        ),
    })
}

/// For a commit on the checked-out branch: writes the new files into the work tree and adds
/// them to the index (keeping whatever else is staged), so `git status` stays clean.
fn follow(
    repo: &gix::Repository,
    files: &[(String, Vec<u8>)],
    blobs: &[gix::ObjectId],
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Some(workdir) = repo.workdir() else {
        return Ok(()); // A bare repository has nothing to follow.
    };
    let mut index = repo.open_index()?;
    for ((path, bytes), id) in files.iter().zip(blobs) {
        let full = workdir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&full, bytes)?;
        let metadata = gix::index::fs::Metadata::from_path_no_follow(&full)?;
        let stat = gix::index::entry::Stat::from_fs(&metadata)?;
        let path: &gix::bstr::BStr = path.as_str().into();
        index.remove_entries(|_, entry_path, _| entry_path == path);
        index.dangerously_push_entry(
            stat,
            *id,
            gix::index::entry::Flags::empty(),
            gix::index::entry::Mode::FILE,
            path,
        );
    }
    index.sort_entries();
    index.write(gix::index::write::Options::default())?;
    Ok(())
}

/// Refuses to start work that ends in a commit on `branch` while a lock file on its ref
/// exists, naming the file; `Ok` when there is none.
pub fn refuse_locked(dir: &Path, branch: &str) -> Result<(), Error> {
    let repo = gix::open(dir).map_err(|e| Error::Git {
        repo: dir.to_owned(),
        message: e.to_string(),
    })?;
    let lock = ref_lock(&repo, branch);
    if lock.exists() {
        return Err(locked(dir, branch, &lock));
    }
    Ok(())
}

/// Whether the ref lock at `lock` is gone, or goes within two seconds (a live writer's).
fn released(lock: &Path) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while lock.exists() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

fn locked(dir: &Path, branch: &str, lock: &Path) -> Error {
    Error::Git {
        repo: dir.to_owned(),
        message: format!(
            "{branch} is locked by {}: another Git process is updating it, or one was killed while it did; remove that file once no Git process runs",
            lock.display()
        ),
    }
}

/// The lock file Git takes while it updates `branch` (a full ref name).
fn ref_lock(repo: &gix::Repository, branch: &str) -> std::path::PathBuf {
    let mut path = repo.common_dir().to_owned();
    path.extend(branch.split('/'));
    let mut name = path.into_os_string();
    name.push(".lock");
    name.into()
}

/// The commit a branch points at, if it exists.
fn tip(
    repo: &gix::Repository,
    branch: &str,
) -> Result<Option<gix::ObjectId>, Box<dyn std::error::Error + Send + Sync>> {
    match repo.try_find_reference(branch)? {
        Some(mut reference) => Ok(Some(reference.peel_to_id()?.detach())),
        None => Ok(None),
    }
}
