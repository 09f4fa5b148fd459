//! Git: the only module that writes repositories. Everything goes through gix in-process; no
//! `git` binary is needed.
//!
//! Entry points so far: [`init_with_commit`] creates a repository holding a folder's files in
//! one commit (used by `trustops demo`); [`commit`] adds files as one commit on a branch, signed
//! in-process with an SSH key ([`Signer`]), without touching the work tree or the index, and
//! moves the branch compare-and-swap. Reading revisions builds on the same calls.

mod commit;
mod history;
mod read;
pub mod remote;
mod sign;
mod signers;

pub use commit::{Change, Written, commit, refuse_locked};
pub use history::{Changed, Commit, FileChange, Signed, commit_at, history, last_change};
pub use read::{
    Snapshot, TreeFile, blob_id, checked_out, files_under, git_dir, head_commit, read, read_under,
    tree_files,
};
pub use sign::Signer;
pub use signers::{AllowedSigners, Signer as SignedBy};

use std::path::{Path, PathBuf};

/// Who and when for a commit.
#[derive(Clone, Debug)]
pub struct Author {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Commit time, seconds since the Unix epoch (an input: stages never read the clock).
    pub time: i64,
}

/// Why a Git operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file to commit could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The signing key cannot be used.
    #[error("signing key: {0}")]
    Key(String),
    /// The signing key is protected by a passphrase and none was given.
    #[error("signing key: it is protected by a passphrase, and none was given")]
    Passphrase,
    /// gix failed.
    #[error("git operation failed in {repo}: {message}")]
    Git {
        /// The repository.
        repo: PathBuf,
        /// What gix said.
        message: String,
    },
}

/// Creates a Git repository in `dir` (which holds the files already) and commits every file
/// in it, except `.git`, as the first commit on the default branch. Also writes the index,
/// so `git status` is clean. Returns the commit id.
pub fn init_with_commit(dir: &Path, message: &str, author: &Author) -> Result<String, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::Git {
        repo: dir.to_owned(),
        message: e.to_string(),
    };
    let repo = gix::init(dir).map_err(|e| fail(&e))?;
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    let empty = repo.empty_tree().id;
    let mut editor = repo.edit_tree(empty).map_err(|e| fail(&e))?;
    for (relative, absolute) in files {
        let bytes = std::fs::read(&absolute).map_err(|source| Error::Read {
            path: absolute.clone(),
            source,
        })?;
        let blob = repo.write_blob(bytes).map_err(|e| fail(&e))?.detach();
        editor
            .upsert(relative.as_str(), gix::object::tree::EntryKind::Blob, blob)
            .map_err(|e| fail(&e))?;
    }
    let tree = editor.write().map_err(|e| fail(&e))?.detach();
    let time = gix::date::Time::new(author.time, 0);
    let signature = gix::actor::Signature {
        name: author.name.as_str().into(),
        email: author.email.as_str().into(),
        time,
    };
    let mut time_buf = gix::date::parse::TimeBuf::default();
    let sig_ref = signature.to_ref(&mut time_buf);
    let commit = repo
        .commit_as(
            sig_ref,
            sig_ref,
            "HEAD",
            message,
            tree,
            gix::commit::NO_PARENT_IDS,
        )
        .map_err(|e| fail(&e))?;
    let mut index = repo.index_from_tree(&tree).map_err(|e| fail(&e))?;
    index.write(Default::default()).map_err(|e| fail(&e))?;
    Ok(commit.to_hex().to_string())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), Error> {
    let read = |e| Error::Read {
        path: dir.to_owned(),
        source: e,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read)?
        .collect::<Result<_, _>>()
        .map_err(read)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((relative, path));
        }
    }
    Ok(())
}
