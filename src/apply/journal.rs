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
    #[error(
        "another apply is running ({holder}); it holds {path}, which the system releases when it ends: wait for it and run again"
    )]
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

/// The apply lock: an exclusive OS lock (`flock`) on `.git/trustops/apply.lock`, held while
/// this value lives. The kernel releases it when its process ends however it ends (a kill, an
/// OOM), so there is no stale lock to detect or take over and no read-check-unlink race: the
/// file is never removed. What the file says (host, boot id, pid and the process's start time)
/// only tells a waiting user who holds it; it is written after the lock is taken, and read only
/// by someone who could not take it.
#[derive(Debug)]
pub struct Lock {
    file: std::fs::File,
}

/// Who holds the apply lock: enough to find the process (host and boot, pid and its start
/// time, so a reused pid or a restarted container is not mistaken for it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The host name.
    pub host: String,
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`).
    #[serde(default)]
    pub boot_id: String,
    /// The process id.
    pub pid: u32,
    /// The process's start time in clock ticks since boot (`/proc/PID/stat` field 22).
    #[serde(default)]
    pub started: u64,
    /// When it took the lock.
    pub since: String,
}

impl Holder {
    /// This process.
    pub fn me(now: jiff::Timestamp) -> Holder {
        Holder::of(std::process::id(), now)
    }

    /// Process `pid` of this host.
    pub fn of(pid: u32, now: jiff::Timestamp) -> Holder {
        Holder {
            host: crate::environment::host_name(),
            boot_id: boot_id(),
            pid,
            started: process_start(pid).unwrap_or(0),
            since: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }

    /// Whether the process it names still runs: only answerable on the same host and boot.
    pub fn alive(&self) -> Option<bool> {
        if self.boot_id.is_empty()
            || self.boot_id != boot_id()
            || self.host != crate::environment::host_name()
        {
            return None;
        }
        Some(process_start(self.pid) == Some(self.started))
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {} since {}", self.pid, self.host, self.since)
    }
}

/// The kernel's boot id (empty where there is none).
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().to_owned())
        .unwrap_or_default()
}

/// When process `pid` started, in clock ticks since boot, if it runs.
pub(crate) fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

impl Lock {
    /// Takes the lock in `git_dir`, or says who holds it.
    pub fn take(git_dir: &Path, now: jiff::Timestamp) -> Result<Lock, Error> {
        let dir = git_dir.join("trustops");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join("apply.lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    holder: holder_of(&path),
                    path,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
        crate::fault::point("lock.taken");
        let text = serde_json::to_string(&Holder::me(now)).unwrap_or_default();
        file.set_len(0).map_err(io(&path))?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        Ok(Lock { file })
    }
}

/// Who holds the lock at `path`, as the holder wrote it. A holder that has just taken the lock
/// may not have written itself yet: wait a moment for it rather than print nothing.
fn holder_of(path: &Path) -> String {
    for _ in 0..50 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Ok(holder) = serde_json::from_str::<Holder>(&text) {
            return holder.to_string();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    "a process that has not said who it is yet".into()
}

impl Drop for Lock {
    fn drop(&mut self) {
        // The file stays (removing it would let a waiter lock a file nobody else sees); what
        // it says is cleared, then the lock is released (closing the file would release it too).
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
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
    /// Written just before the audit commit: the number of the apply being committed. A
    /// journal that has it and whose apply is in the audit trail was committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<usize>,
    /// The first line of a journal: the digest of the plan it applies, so a resume carries out
    /// that plan and no other file under the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
}

impl Entry {
    /// A line about the whole apply rather than one action.
    fn marker(at: Time) -> Entry {
        Entry {
            action: String::new(),
            step: None,
            event: None,
            at,
            detail: None,
            record: None,
            commit: None,
            plan_digest: None,
        }
    }
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
        crate::fault::point("journal.append");
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
        crate::fault::point("journal.appended");
        Ok(())
    }

    /// Notes that apply number `apply` of this plan is about to be committed.
    pub fn committing(&mut self, apply: usize, at: Time) -> Result<(), Error> {
        self.append(Entry {
            commit: Some(apply),
            ..Entry::marker(at)
        })
    }

    /// Starts a new journal with the digest of the plan it applies.
    pub fn begin(&mut self, digest: &str, at: Time) -> Result<(), Error> {
        self.append(Entry {
            plan_digest: Some(digest.to_owned()),
            ..Entry::marker(at)
        })
    }

    /// The digest of the plan this journal applies, if it says.
    pub fn plan_digest(&self) -> Option<&str> {
        self.entries.iter().find_map(|e| e.plan_digest.as_deref())
    }

    /// The apply an earlier run of this journal was committing when it stopped, if any.
    pub fn was_committing(&self) -> Option<usize> {
        self.entries.iter().rev().find_map(|e| e.commit)
    }

    /// The entry that finished step `step` of `action` in an earlier run, if one did.
    pub fn done(&self, action: &str, step: usize) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.action == action && e.step == Some(step) && e.event == Some(Event::Done))
    }

    /// Whether an earlier run started step `step` of `action` (it may have stopped inside it).
    pub fn started(&self, action: &str, step: usize) -> bool {
        self.entries
            .iter()
            .any(|e| e.action == action && e.step == Some(step) && e.event == Some(Event::Intent))
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
        crate::fault::point("journal.finish");
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&self.path)(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_decides_who_holds_the_lock_not_what_the_file_says() {
        let git_dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::UNIX_EPOCH;
        // A file naming a live process (init) but held by nobody, as a lock written on another
        // host or before a container restarted as pid 1 would be: it is simply taken.
        let path = git_dir.path().join("trustops/apply.lock");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let stranger = Holder {
            host: "elsewhere".into(),
            pid: 1,
            ..Holder::default()
        };
        std::fs::write(&path, serde_json::to_string(&stranger).unwrap()).unwrap();
        let held = Lock::take(git_dir.path(), now).unwrap();
        let me: Holder = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert_eq!(me.alive(), Some(true));
        // While it is held, a second taker is told who holds it and not to remove anything.
        let Err(Error::Locked { holder, .. }) = Lock::take(git_dir.path(), now) else {
            panic!("the lock is held");
        };
        assert!(
            holder.starts_with(&format!("pid {} on ", std::process::id())),
            "{holder}"
        );
        drop(held);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert!(Lock::take(git_dir.path(), now).is_ok());
    }
}
