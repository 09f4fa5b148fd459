//! Read a governance repository into a validated [`Model`], with every problem as a
//! [`Diagnostic`] that names the file, line, column and field.
//!
//! Entry points: [`load`] reads a work tree from disk; [`from_tree`] does the same for a whole
//! tree already in memory (a Git revision's files); [`incremental::pair`] loads two revisions
//! for comparison from the files that differ. Parsing is streaming, one document at a time
//! (`document.rs`); checks across documents (names, references, cycles, policy sanity) run on
//! what parsed, and every problem is collected rather than the first. This module writes
//! nothing but `incremental.rs`'s cache of what each Git blob declares.

mod cycles;
mod direct;
mod document;
pub mod incremental;
mod names;
mod parse;
mod references;
mod rules;
mod walk;
mod yaml;

pub(crate) use walk::in_scope;

use crate::diag::{Diagnostic, Files};
use crate::model::{Model, RepoConfig, config_file_name};
use std::path::PathBuf;

/// The largest declaration file read, in bytes.
pub const MAX_FILE_BYTES: usize = yaml::MAX_FILE_BYTES;

/// What to load.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Root of the governance repository (its work tree).
    pub repo: PathBuf,
}

/// A file to load, already read.
#[derive(Clone, Debug)]
pub struct Input {
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What a load produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The declarations that parsed. When `diagnostics` has errors, the model is incomplete.
    pub model: Model,
    /// Every file read, for rendering diagnostics.
    pub files: Files,
    /// Every problem found, in file order, then check order.
    pub diagnostics: Vec<Diagnostic>,
    /// Number of trustops documents seen.
    pub documents: usize,
    /// The repository settings used.
    pub config: RepoConfig,
    /// Declarations refused for an error of their own (kind, name): references to them are
    /// not reported again as unknown.
    pub refused: std::collections::BTreeSet<(crate::model::Kind, String)>,
}

impl Outcome {
    /// Keeps the text of `trustops.yaml` with the files read, so diagnostics and diff can
    /// point into it.
    fn keep_config(&mut self, text: Option<String>) {
        if let Some(text) = text {
            self.files.insert(crate::diag::SourceFile::new(
                config_file_name().to_owned(),
                text,
            ));
        }
    }

    /// How many declaration files were read (`trustops.yaml` holds settings, not declarations).
    pub fn declaration_files(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.path != config_file_name())
            .count()
    }
}

/// Why a repository could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository root does not exist or is not a folder.
    #[error("repository {path} does not exist or is not a folder")]
    NotARepository {
        /// The path given.
        path: PathBuf,
    },
    /// A folder could not be listed.
    #[error("cannot list {path}")]
    Walk {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: walkdir::Error,
    },
}

/// Loads the work tree at `options.repo`.
pub fn load(options: &Options) -> Result<Outcome, Error> {
    if !options.repo.is_dir() {
        return Err(Error::NotARepository {
            path: options.repo.clone(),
        });
    }
    let mut diagnostics = Vec::new();
    let (config, text) = walk::read_config(&options.repo, &mut diagnostics);
    let inputs = walk::read_inputs(&options.repo, &config, &mut diagnostics)?;
    let mut outcome = from_inputs_with(config, inputs);
    outcome.keep_config(text);
    diagnostics.append(&mut outcome.diagnostics);
    outcome.diagnostics = diagnostics;
    Ok(outcome)
}

/// Loads the declarations of a whole tree already in memory (a Git revision's files, paths
/// relative to the root), choosing files and settings as [`load`] does for a work tree.
pub fn from_tree(files: Vec<(String, Vec<u8>)>) -> Outcome {
    let mut diagnostics = Vec::new();
    let (config, text, inputs) = walk::select(files, &mut diagnostics);
    let mut outcome = from_inputs_with(config, inputs);
    outcome.keep_config(text);
    diagnostics.append(&mut outcome.diagnostics);
    outcome.diagnostics = diagnostics;
    outcome
}

/// Loads declarations from files already in memory, with default settings.
pub fn from_inputs(inputs: Vec<Input>) -> Outcome {
    from_inputs_with(RepoConfig::default(), inputs)
}

/// Fewer files than this make no part of their own (a file holds up to about a
/// thousand declarations: two are worth a thread).
const FILES_PER_THREAD: usize = 2;

/// `inputs` in contiguous parts that the cores take as each is free, smaller and smaller (each
/// of half a core's share of the bytes left, down to a file): the parts taken last are short,
/// so the cores end together. One part per core ended up to a third of a second apart at
/// 100,000 identities, while `plan` read its inventory on the same cores; equal parts end as
/// far apart as one part lasts.
fn by_bytes(inputs: Vec<Input>) -> Vec<Vec<Input>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if inputs.len() < cores * FILES_PER_THREAD {
        return vec![inputs];
    }
    let mut left: usize = inputs.iter().map(|i| i.bytes.len()).sum();
    let share = |left: usize| left / (2 * cores);
    let mut target = share(left);
    let (mut parts, mut part, mut bytes) = (Vec::new(), Vec::new(), 0);
    for input in inputs {
        if !part.is_empty() && bytes >= target {
            parts.push(std::mem::take(&mut part));
            left -= bytes;
            bytes = 0;
            target = share(left);
        }
        bytes += input.bytes.len();
        part.push(input);
    }
    parts.push(part);
    parts
}

fn from_inputs_with(config: RepoConfig, inputs: Vec<Input>) -> Outcome {
    let mut outcome = Outcome {
        config,
        ..Outcome::default()
    };
    // Files are parsed on every core, each part into an outcome of its own, then joined in
    // file order, so diagnostics and "declared twice" read as if parsed one after another.
    let parsed = crate::parallel::each_taken(by_bytes(inputs), |part| {
        let mut out = Outcome::default();
        for input in part {
            parse::file(input, &mut out);
        }
        out
    });
    for part in parsed {
        parse::join(&mut outcome, part);
    }
    if outcome.documents == 0 && !crate::diag::has_errors(&outcome.diagnostics) {
        outcome.diagnostics.push(Diagnostic::warning(
            crate::diag::Code::NoDeclarations,
            "no trustops declarations found; documents need `apiVersion: trustops.dev/v1alpha1`",
        ));
    }
    let model = &outcome.model;
    // The checks across declarations run on two cores (the rules alone, the references with
    // the cycles: about even halves at scale), their findings kept in this order.
    let (mut found, (mut linked, mut cycled)) = crate::parallel::join(
        || {
            let mut found = Vec::new();
            rules::check(model, &outcome.config, &mut found);
            found
        },
        || {
            let (mut found, mut cycled) = (Vec::new(), Vec::new());
            let known = references::Known {
                model,
                refused: &outcome.refused,
            };
            references::check(&known, &mut found);
            references::approvers(&known, &outcome.config, &mut found);
            cycles::check(model, &mut cycled);
            (found, cycled)
        },
    );
    found.append(&mut linked);
    found.append(&mut cycled);
    outcome.diagnostics.extend(found);
    outcome
}
