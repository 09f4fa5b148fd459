//! Replacing a file so that a reader, a crash or a kill never leaves half of it: the bytes go
//! to a temporary file beside the target (created with its final mode, so a key is never
//! readable by others, not even for a moment), are synced, renamed over the target, and the
//! folder is synced. The one write-temp-then-rename of the crate: plan files, CRLs, deployed
//! certificates and keys, staged keys, caches.
//!
//! Temporaries are named `.NAME.trustops-PID.tmp`; a run that was killed between writing and
//! renaming leaves one, and [`sweep`] removes them (apply does so under its lock).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` with `mode` (Unix permission bits) atomically and durably.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    replace(path, bytes, mode, true)
}

/// Writes what `fill` writes to `path` with `mode`, atomically and durably, streamed through
/// a buffer (a plan file of hundreds of megabytes is never one allocation).
pub fn write_with(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    replace_with(path, mode, true, fill)
}

/// Writes `bytes` to `path` atomically without syncing: for caches, which may be lost but
/// never seen half-written.
pub fn write_cache(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes, 0o644, false)
}

fn replace(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> std::io::Result<()> {
    replace_with(path, mode, sync, |w| w.write_all(bytes))
}

fn replace_with(
    path: &Path,
    mode: u32,
    sync: bool,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let temp = temporary(path);
    let result = create_with(&temp, mode, sync, fill).and_then(|()| {
        crate::fault::point("durable.renaming");
        std::fs::rename(&temp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result?;
    if sync { sync_folder(path) } else { Ok(()) }
}

/// The temporary file beside `path` that this process writes before renaming.
pub fn temporary(path: &Path) -> PathBuf {
    path.with_file_name(format!(
        ".{}.trustops-{}.tmp",
        file_name(path),
        std::process::id()
    ))
}

/// Removes the temporaries earlier runs left beside `path` (a copy of a private key among
/// them, when the kill came between writing and renaming), and those of the hidden files
/// trustops keeps beside it (`.NAME.trustops-…`: a staged key, a kept copy); returns how many.
pub fn sweep(path: &Path) -> usize {
    let prefix = format!(".{}.trustops-", file_name(path));
    let hidden = format!(".{prefix}");
    let Some(folder) = path.parent() else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.starts_with(&prefix) || name.starts_with(&hidden)) && name.ends_with(".tmp")
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Creates `path` (replacing any file there) with `mode` from the start, writes and (when
/// `sync`) syncs it.
pub fn create(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> std::io::Result<()> {
    create_with(path, mode, sync, |w| w.write_all(bytes))
}

/// [`create`] with the contents written by `fill`, through a buffer.
fn create_with(
    path: &Path,
    mode: u32,
    sync: bool,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let _ = std::fs::remove_file(path);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let file = open.open(path)?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    fill(&mut buffered)?;
    let file = buffered
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    #[cfg(unix)]
    {
        // The umask may have narrowed the mode at creation; set exactly what was asked.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    if sync { file.sync_all() } else { Ok(()) }
}

/// Syncs the folder holding `path`, so a rename or removal in it survives a power loss.
pub fn sync_folder(path: &Path) -> std::io::Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match std::fs::File::open(folder) {
        Ok(dir) => dir.sync_all().or(Ok(())),
        Err(_) => Ok(()), // Not every platform can open a folder; the rename itself is done.
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned())
}
