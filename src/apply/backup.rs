//! The last known-good files of a rotation group, kept on disk beside each deploy file until the
//! group ends, so "put back" restores what was deployed before the group began — also when an
//! earlier run of the same group was killed halfway through its deploy.
//!
//! Before a deploy first replaces `NAME`, it keeps `.NAME.trustops-backup` (a copy with the
//! same mode; for a key, 0600 like the key) or, when `NAME` did not exist, an empty
//! `.NAME.trustops-absent`. An existing backup is never replaced: it is older than anything a
//! resumed run wrote. [`restore`] renames the backup over the file (or removes the file);
//! [`discard`] removes the backup once the group has verified what it deployed.

use std::path::{Path, PathBuf};

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.trustops-{suffix}"))
}

/// Keeps what `path` holds now, unless an earlier run of the group already kept it.
pub(super) fn keep(path: &Path) -> std::io::Result<()> {
    let (backup, absent) = (beside(path, "backup"), beside(path, "absent"));
    if backup.exists() || absent.exists() {
        return Ok(());
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            let mode = mode_of(path);
            crate::durable::write(&backup, &bytes, mode)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::durable::create(&absent, b"", 0o600, true)?;
            crate::durable::sync_folder(&absent)
        }
        Err(e) => Err(e),
    }
}

/// Puts back what [`keep`] kept for `path`; says whether there was anything to put back.
pub(super) fn restore(path: &Path) -> std::io::Result<bool> {
    let (backup, absent) = (beside(path, "backup"), beside(path, "absent"));
    if backup.exists() {
        std::fs::rename(&backup, path)?;
        let _ = std::fs::remove_file(&absent);
        crate::durable::sync_folder(path)?;
        return Ok(true);
    }
    if absent.exists() {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::remove_file(&absent)?;
        crate::durable::sync_folder(path)?;
        return Ok(true);
    }
    Ok(false)
}

/// Forgets what [`keep`] kept for `path`: what is deployed now is the good state.
pub(super) fn discard(path: &Path) -> std::io::Result<()> {
    for kept in [beside(path, "backup"), beside(path, "absent")] {
        match std::fs::remove_file(&kept) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    crate::durable::sync_folder(path)
}

fn mode_of(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        0o600
    }
}
