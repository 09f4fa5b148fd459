//! The `files` source: walk glob patterns and read every match on all cores, streaming (one
//! file in memory per worker).

use super::blob::{Seen, scan};
use super::glob::{self, Glob};
use super::inventory::{Collector, Location};
use super::{Context, Error, Source};
use crate::environment::Environment;
use crate::model::FilesSource;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;

/// Files handed to a worker at once.
const BATCH: usize = 256;

/// Largest file read; bigger ones are reported, not read.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Files by glob pattern.
pub(super) struct Files {
    pub name: String,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Password of PKCS#12 archives.
    pub password: Option<String>,
    /// Report matched files that hold no certificate or key (true for declared sources; false
    /// for `discover --path`, which looks at everything).
    pub strict: bool,
}

impl Files {
    pub(super) fn declared(name: &str, spec: &FilesSource, env: &Environment) -> Self {
        Self {
            name: name.to_owned(),
            include: spec.paths.value.clone(),
            exclude: spec.exclude.clone(),
            password: spec
                .pkcs12_password_env
                .as_ref()
                .and_then(|name| env.get(&name.value))
                .map(str::to_owned),
            strict: true,
        }
    }
}

impl Source for Files {
    fn discover(&self, context: &Context) -> Result<Collector, Error> {
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
            return Err(Error::permanent(format!(
                "none of its paths exist: {}",
                roots.join(", ")
            )));
        }
        let workers = context.threads.max(1);
        // Paths go to the workers in batches: one hand-over per 256 files keeps the threads
        // busy parsing rather than waking each other.
        let (send, receive) = sync_channel::<Vec<PathBuf>>(64);
        let receive = Mutex::new(receive);
        let mut total = Collector::spilling(context.spill.clone());
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Collector::spilling(context.spill.clone());
                        loop {
                            let next = receive.lock().map(|r| r.recv());
                            let Ok(Ok(batch)) = next else { break };
                            for path in &batch {
                                read_one(
                                    path,
                                    &self.name,
                                    self.strict,
                                    self.password.as_deref(),
                                    &mut mine,
                                );
                            }
                            context.progress.fetch_add(batch.len(), Ordering::Relaxed);
                        }
                        mine
                    })
                })
                .collect();
            let mut walk_problems = Collector::default();
            let mut batch = Vec::with_capacity(BATCH);
            for glob in &include {
                glob::walk(glob, &exclude, &mut walk_problems, |path| {
                    batch.push(path);
                    batch.len() < BATCH
                        || send
                            .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                            .is_ok()
                });
            }
            let _ = send.send(batch);
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

fn read_one(path: &Path, source: &str, strict: bool, password: Option<&str>, out: &mut Collector) {
    use std::io::Read;
    let shown = path.display().to_string();
    let mut bytes = Vec::new();
    // One open, an fstat for the size, one read into a buffer of that size (as fs::read does,
    // without a second lookup of the path).
    let read = std::fs::File::open(path).and_then(|f| {
        let size = f.metadata()?.len();
        if size > MAX_FILE_BYTES {
            return Ok(size as usize);
        }
        bytes.reserve_exact(usize::try_from(size).unwrap_or(0) + 1);
        f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)
    });
    match read {
        Err(e) => out.problem(&shown, format!("cannot read: {e}")),
        // Reported in every mode: a file skipped for its size is never silently absent.
        Ok(n) if n as u64 > MAX_FILE_BYTES => out.problem(
            &shown,
            format!(
                "larger than the {} MiB limit, not read",
                MAX_FILE_BYTES >> 20
            ),
        ),
        Ok(_) => {
            if scan(&bytes, &Location::file(source, &shown, 0), password, out) == Seen::Nothing
                && strict
            {
                out.problem(&shown, "no certificate or key found");
            }
        }
    }
}
