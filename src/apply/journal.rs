//! The journal that makes an apply resumable, and the lock that keeps two applies apart.
//! Both live in `.git/trustops/`, never in a tracked file.
//!
//! Before each step its intent is appended (and synced), after it its result; a finished
//! action's audit record is journaled before the next action starts. An apply that was killed
//! resumes from here: finished actions are not run again, and their records are committed.

use crate::audit::Record;
use crate::discover::Time;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the journal or the lock failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another apply holds the lock.
    #[error("another apply is running ({holder}); wait for it, or remove {path} if it is gone")]
    Locked {
        /// Who holds it.
        holder: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The journal could not be read or written.
    #[error("journal {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// The apply lock: held while this value lives.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock in `git_dir`, or says who holds it. A lock left by a process that no
    /// longer runs (an apply that was killed) is taken over.
    pub fn take(git_dir: &Path, now: jiff::Timestamp) -> Result<Lock, Error> {
        let dir = git_dir.join("trustops");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join("apply.lock");
        let holder = format!(
            "pid {} on {} since {}",
            std::process::id(),
            std::env::var("HOSTNAME").unwrap_or_else(|_| "this host".into()),
            now.strftime("%Y-%m-%dT%H:%M:%SZ")
        );
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(holder.as_bytes()).map_err(io(&path))?;
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read_to_string(&path).unwrap_or_default();
                    if is_gone(&held) {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    return Err(Error::Locked { holder: held, path });
                }
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Err(Error::Locked {
            holder: std::fs::read_to_string(&path).unwrap_or_default(),
            path,
        })
    }
}

/// True when the lock names a process on this machine that no longer exists.
fn is_gone(holder: &str) -> bool {
    let pid = holder
        .strip_prefix("pid ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if Path::new("/proc/self").exists() => {
            !Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What happened to a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// About to run.
    Intent,
    /// Ran to the end.
    Done,
    /// Failed.
    Failed,
}

/// One journal line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The action.
    pub action: String,
    /// The step's position in the action (`None` for the action's record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    /// When.
    pub at: Time,
    /// What a finished step produced that a resumed apply needs: an issued certificate chain
    /// (public) or a secret's reference (never a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The finished action's audit record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
}

/// The journal of one plan's apply.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl Journal {
    /// Whether an interrupted apply of `plan` left a journal in `git_dir`.
    pub fn exists(git_dir: &Path, plan: &str) -> bool {
        git_dir
            .join("trustops")
            .join("journal")
            .join(format!("{plan}.jsonl"))
            .exists()
    }

    /// Opens (or starts) the journal of `plan` in `git_dir`. A last line cut by a crash is
    /// ignored: its step had not finished.
    pub fn open(git_dir: &Path, plan: &str) -> Result<Journal, Error> {
        let dir = git_dir.join("trustops").join("journal");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join(format!("{plan}.jsonl"));
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&path)(e)),
        };
        Ok(Journal { path, entries })
    }

    /// Whether this journal holds anything (an interrupted apply of the same plan).
    pub fn is_resuming(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Appends `entry` and syncs it to disk before returning.
    pub fn append(&mut self, entry: Entry) -> Result<(), Error> {
        let mut line = serde_json::to_vec(&entry).unwrap_or_default();
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        file.write_all(&line).map_err(io(&self.path))?;
        file.sync_all().map_err(io(&self.path))?;
        self.entries.push(entry);
        Ok(())
    }

    /// The entry that finished step `step` of `action` in an earlier run, if one did.
    pub fn done(&self, action: &str, step: usize) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.action == action && e.step == Some(step) && e.event == Some(Event::Done))
    }

    /// The record of `action`, if it finished in an earlier run.
    pub fn record(&self, action: &str) -> Option<&Record> {
        self.entries
            .iter()
            .filter(|e| e.action == action)
            .find_map(|e| e.record.as_ref())
    }

    /// Every finished action's record, in the order they finished.
    pub fn records(&self) -> Vec<Record> {
        self.entries
            .iter()
            .filter_map(|e| e.record.clone())
            .collect()
    }

    /// Deletes the journal: everything in it is committed.
    pub fn finish(self) -> Result<(), Error> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&self.path)(e)),
            _ => Ok(()),
        }
    }
}
