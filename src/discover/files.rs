//! The `files` source: walk glob patterns and read every match on all cores, streaming (one
//! file in memory per worker).

use super::blob::{Seen, scan};
use super::glob::Glob;
use super::inventory::{Collector, Location};
use super::{Context, Source};
use crate::model::FilesSource;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;
use walkdir::WalkDir;

/// Largest file read; bigger ones are reported, not read.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Files by glob pattern.
pub(super) struct Files {
    pub name: String,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Report matched files that hold no certificate or key (true for declared sources; false
    /// for `discover --path`, which looks at everything).
    pub strict: bool,
}

impl Files {
    pub(super) fn declared(name: &str, spec: &FilesSource) -> Self {
        Self {
            name: name.to_owned(),
            include: spec.paths.value.clone(),
            exclude: spec.exclude.clone(),
            strict: true,
        }
    }
}

impl Source for Files {
    fn discover(&self, context: &Context) -> Result<Collector, String> {
        let include: Vec<Glob> = self
            .include
            .iter()
            .map(|p| Glob::new(&context.base, p))
            .collect();
        let exclude: Vec<Glob> = self
            .exclude
            .iter()
            .map(|p| Glob::new(&context.base, p))
            .collect();
        if !include.iter().any(|g| g.root.exists()) {
            let roots: Vec<String> = include
                .iter()
                .map(|g| g.root.display().to_string())
                .collect();
            return Err(format!("none of its paths exist: {}", roots.join(", ")));
        }
        let workers = context.threads.max(1);
        let (send, receive) = sync_channel::<PathBuf>(4 * 1024);
        let receive = Mutex::new(receive);
        let mut total = Collector::default();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Collector::default();
                        loop {
                            let next = receive.lock().map(|r| r.recv());
                            let Ok(Ok(path)) = next else { break };
                            read_one(&path, &self.name, self.strict, &mut mine);
                            context.progress.fetch_add(1, Ordering::Relaxed);
                        }
                        mine
                    })
                })
                .collect();
            let mut walk_problems = Collector::default();
            for glob in &include {
                walk(glob, &exclude, &mut walk_problems, |path| {
                    send.send(path).is_ok()
                });
            }
            drop(send);
            total.merge(walk_problems);
            for handle in handles {
                match handle.join() {
                    Ok(part) => total.merge(part),
                    Err(_) => total.problem(&self.name, "a discovery worker stopped unexpectedly"),
                }
            }
        });
        Ok(total)
    }
}

/// Walks one pattern, calling `emit` for each matching file until it returns false.
fn walk(glob: &Glob, exclude: &[Glob], out: &mut Collector, mut emit: impl FnMut(PathBuf) -> bool) {
    if !glob.root.exists() {
        return;
    }
    if glob.is_literal() && glob.root.is_file() {
        emit(glob.root.clone());
        return;
    }
    let excluded = |path: &Path| {
        exclude.iter().any(|x| {
            path.strip_prefix(&x.root)
                .is_ok_and(|rel| x.is_literal() || x.matches(&rel.to_string_lossy()))
        })
    };
    for entry in WalkDir::new(&glob.root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let place = e.path().map_or_else(
                    || glob.root.display().to_string(),
                    |p| p.display().to_string(),
                );
                out.problem(place, format!("cannot list: {e}"));
                continue;
            }
        };
        if !entry.file_type().is_file() || excluded(entry.path()) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(&glob.root)
            .unwrap_or(entry.path());
        if (glob.is_literal() || glob.matches(&rel.to_string_lossy())) && !emit(entry.into_path()) {
            return;
        }
    }
}

fn read_one(path: &Path, source: &str, strict: bool, out: &mut Collector) {
    let shown = path.display().to_string();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_FILE_BYTES {
        if strict {
            out.problem(
                &shown,
                format!(
                    "{size} bytes: larger than the {} MiB limit, not read",
                    MAX_FILE_BYTES >> 20
                ),
            );
        }
        return;
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            if scan(&bytes, &Location::file(source, &shown, 0), out) == Seen::Nothing && strict {
                out.problem(&shown, "no certificate or key found");
            }
        }
        Err(e) => out.problem(&shown, format!("cannot read: {e}")),
    }
}
