//! Discover what really exists: certificates, keys and secrets, with facts and locations,
//! never secret material.
//!
//! Entry point: [`discover`] runs every source (one file each behind the [`Source`] trait) and
//! merges what they find into one [`Inventory`], deduplicated by fingerprint. A source that
//! fails becomes a diagnostic and the others still run. Nothing here knows about
//! declarations beyond the Source specs it is handed.

pub mod algorithms;
mod blob;
pub mod exec;
mod files;
mod glob;
pub mod inventory;
mod keys;
mod kubernetes;
mod pem;
mod pkcs12;
mod pq_keys;
mod scanner;
mod spill;
mod tls;
mod vault;
mod x509;

pub(crate) use crate::der::oid_string;
pub use crate::remote::{Error, Retry};
pub use glob::Glob;
pub use inventory::{
    Collector, Credential, CredentialKind, FORMAT_VERSION, Inventory, Location, Problem, SeenBy,
    Time, merge, sha256_hex, short,
};
pub use spill::{Merged, Spill};
pub(crate) use vault::REVOKED as VAULT_REVOKED;
pub(crate) use x509::{rfc4514, serial_hex};

use crate::environment::Environment;
use crate::model::SourceSpec;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;

/// The facts of one certificate (DER), as discovery records them; `None` when it does not
/// parse.
pub(crate) fn certificate_facts(der: &[u8]) -> Option<Credential> {
    x509::certificate(der).ok()
}

/// The DER of every `CERTIFICATE` PEM block in `bytes` (for trust stores built from a bundle).
pub fn pem_certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    pem_blocks(bytes, "CERTIFICATE")
}

/// The DER of every well-formed PEM block labelled `label` in `bytes`, in order.
pub fn pem_blocks(bytes: &[u8], label: &str) -> Vec<Vec<u8>> {
    pem::blocks(bytes)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|b| b.label == label)
        .map(|b| b.der)
        .collect()
}

/// What every source is given.
#[derive(Debug, Default)]
pub struct Context {
    /// Folder relative paths start from (the governance repository root).
    pub base: PathBuf,
    /// Worker threads for sources that read many files.
    pub threads: usize,
    /// Count of files or endpoints done, for a progress display.
    pub progress: AtomicUsize,
    /// Where variables sources name (`pkcs12PasswordEnv`) are looked up.
    pub env: Environment,
    /// Where sources that read many files write what they found once they hold too much
    /// ([`Context::with_spill`]); `None` keeps everything in memory.
    pub spill: Option<std::sync::Arc<Spill>>,
}

impl Context {
    /// A context for `base`, with a worker per core.
    pub fn new(base: PathBuf) -> Self {
        Self {
            base,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: AtomicUsize::new(0),
            env: Environment::default(),
            spill: None,
        }
    }

    /// This context, with memory flat in the number of credentials found: the workers reading
    /// files keep about `keep` distinct credentials between them (`keep` / [`Context::threads`]
    /// each) before each writes what it holds to a temporary run. [`Outcome::inventory`] then
    /// holds only those never written; read every one with [`Outcome::credentials`] (an
    /// inventory to be written rather than kept).
    pub fn with_spill(self, keep: usize) -> Self {
        let each = keep / self.threads.max(1);
        Context {
            spill: Some(std::sync::Arc::new(Spill::new(each))),
            ..self
        }
    }

    /// This context, looking variables up in `env`.
    pub fn with_env(self, env: Environment) -> Self {
        Context { env, ..self }
    }
}

/// A place credentials are discovered in.
pub trait Source {
    /// Everything found. `Err` when the source could not be read at all, and whether that may
    /// pass (the inventory records it); problems with single items go into the collector.
    fn discover(&self, context: &Context) -> Result<Collector, Error>;
}

/// What to discover.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Declared sources, by name.
    pub sources: Vec<(String, SourceSpec)>,
    /// Folders or files to inventory as they are (`discover --path`): every file is looked at,
    /// and files with no certificate or key are skipped quietly.
    pub paths: Vec<PathBuf>,
    /// Password for PKCS#12 archives found under `paths`.
    pub pkcs12_password: Option<String>,
}

/// The inventory and how many sources could not be read at all.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Everything found.
    pub inventory: Inventory,
    /// Sources run.
    pub sources: usize,
    /// Sources that could not be read at all.
    pub failed: usize,
    /// Where credentials not in `inventory` were written ([`Context::with_spill`]).
    spilled: Option<std::sync::Arc<Spill>>,
}

impl Outcome {
    /// Every credential found, in inventory order, each fingerprint once: those written to
    /// runs merged with `inventory`'s, which are taken from it.
    pub fn credentials(&mut self) -> Merged {
        let rest = std::mem::take(&mut self.inventory.credentials);
        match &self.spilled {
            Some(spill) => spill.merged(rest),
            None => Merged::new(Vec::new(), rest),
        }
    }
}

/// Runs every source in `options` and merges the results.
pub fn discover(options: &Options, context: &Context) -> Outcome {
    let mut sources: Vec<(String, Box<dyn Source>)> = Vec::new();
    for path in &options.paths {
        let files = files::Files {
            name: "path".into(),
            include: vec![path.to_string_lossy().into_owned()],
            exclude: Vec::new(),
            password: options.pkcs12_password.clone(),
            strict: false,
        };
        sources.push(("path".into(), Box::new(files)));
    }
    for (name, spec) in &options.sources {
        sources.push((name.clone(), source_for(name, spec, &context.env)));
    }
    let mut all = Collector::default();
    let mut failed = 0;
    for (name, source) in &sources {
        match source.discover(context) {
            Ok(found) => all.merge(found),
            Err(error) => {
                failed += 1;
                all.source_failed(name, error);
            }
        }
    }
    Outcome {
        inventory: all.finish(),
        sources: sources.len(),
        failed,
        spilled: context.spill.clone(),
    }
}

/// The one place that maps a declared source type to its implementation.
fn source_for(name: &str, spec: &SourceSpec, env: &Environment) -> Box<dyn Source> {
    if let Some(vault) = &spec.vault {
        return Box::new(vault::Vault::declared(name, vault, env));
    }
    match (
        &spec.files,
        &spec.tls,
        &spec.kubernetes,
        &spec.exec,
        &spec.scanner,
    ) {
        (Some(files), ..) => Box::new(files::Files::declared(name, files, env)),
        (_, Some(tls), ..) => Box::new(tls::Tls::declared(name, tls)),
        (_, _, Some(kubernetes), ..) => {
            Box::new(kubernetes::Kubernetes::declared(name, kubernetes))
        }
        (_, _, _, Some(exec), _) => Box::new(exec::Exec::declared(name, exec)),
        (_, _, _, _, Some(scanner)) => Box::new(scanner::Scanner::declared(name, scanner)),
        // Validation guarantees exactly one type; this arm is for a model built elsewhere.
        _ => Box::new(Untyped(name.to_owned())),
    }
}

/// A source with no type block (rejected by `validate`; kept so discovery never panics on a
/// model that skipped validation).
struct Untyped(String);

impl Source for Untyped {
    fn discover(&self, _: &Context) -> Result<Collector, Error> {
        Err(Error::permanent(format!(
            "source {} configures no type (files, tls, kubernetes, exec, scanner or vault)",
            self.0
        )))
    }
}
