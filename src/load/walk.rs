//! Which files hold declarations: `trustops.yaml` settings, then a sorted walk of the paths.

use super::{Error, Input, yaml};
use crate::diag::{Code, Diagnostic, SourceFile};
use crate::model::{RepoConfig, config_file_name};
use std::path::Path;
use walkdir::WalkDir;

/// Reads `trustops.yaml` at the root, or the defaults when it is absent; and its text.
pub(super) fn read_config(
    repo: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> (RepoConfig, Option<String>) {
    let path = repo.join(config_file_name());
    let Ok(text) = std::fs::read_to_string(&path) else {
        return (RepoConfig::default(), None);
    };
    (parse_config(text.clone(), diagnostics), Some(text))
}

/// The settings in `text` (a `trustops.yaml`); the defaults and a diagnostic when invalid.
pub(super) fn parse_config(text: String, diagnostics: &mut Vec<Diagnostic>) -> RepoConfig {
    match serde_saphyr::from_str_with_options::<RepoConfig>(&text, yaml::options()) {
        Ok(config) => config,
        Err(e) => {
            let file = SourceFile::new(config_file_name().to_owned(), text);
            let mut d = yaml::diagnostic(&file, &e, None);
            d.code = Code::InvalidConfig;
            diagnostics.push(d);
            RepoConfig::default()
        }
    }
}

/// Every `*.yaml`/`*.yml` file under the configured paths, sorted, except `audit/`, hidden
/// folders, `trustops.yaml` and excluded paths. Unreadable files become diagnostics.
pub(super) fn read_inputs(
    repo: &Path,
    config: &RepoConfig,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<Input>, Error> {
    let (roots, excluded) = scope(config);
    let mut inputs = Vec::new();
    for root in roots {
        let start = repo.join(&root);
        if !start.exists() {
            diagnostics.push(Diagnostic::error(
                Code::InvalidConfig,
                format!("paths: `{root}` does not exist in the repository"),
            ));
            continue;
        }
        let walker = WalkDir::new(&start)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !skipped(&relative(repo, e.path()), &excluded));
        for entry in walker {
            let entry = entry.map_err(|source| Error::Walk {
                path: start.clone(),
                source,
            })?;
            let rel = relative(repo, entry.path());
            if !entry.file_type().is_file() || !declaration_file(&rel) {
                continue;
            }
            match read(entry.path()) {
                Ok(bytes) => inputs.push(Input { path: rel, bytes }),
                Err(message) => diagnostics.push(
                    Diagnostic::error(Code::Unreadable, format!("{rel}: {message}")).at(
                        &rel,
                        Default::default(),
                        "cannot read",
                    ),
                ),
            }
        }
    }
    inputs.dedup_by(|a, b| a.path == b.path);
    Ok(inputs)
}

/// The folders declarations are read from (`paths`, `""` for the whole repository) and the
/// paths excluded, as the settings say.
fn scope(config: &RepoConfig) -> (Vec<String>, Vec<String>) {
    let roots = if config.paths.is_empty() {
        vec![String::new()]
    } else {
        config.paths.iter().map(|p| clean(p)).collect()
    };
    (roots, config.exclude.iter().map(|p| clean(p)).collect())
}

/// Whether `rel` (a path relative to the root) is skipped: inside a hidden folder or file,
/// the audit trail, or an excluded path.
fn skipped(rel: &str, excluded: &[String]) -> bool {
    rel.split('/').any(|part| part.starts_with('.'))
        || is_under(rel, "audit")
        || excluded.iter().any(|x| is_under(rel, x))
}

/// Whether a file at `rel` holds declarations (by name; `trustops.yaml` holds settings).
fn declaration_file(rel: &str) -> bool {
    (rel.ends_with(".yaml") || rel.ends_with(".yml")) && rel != config_file_name()
}

/// The declaration files among `files` (a whole tree, e.g. a Git revision's, paths relative
/// to the root), chosen as the walk of a work tree chooses them, with the settings of the
/// tree's own `trustops.yaml`.
pub(super) fn select(
    files: Vec<(String, Vec<u8>)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (RepoConfig, Option<String>, Vec<Input>) {
    let text = files
        .iter()
        .find(|(path, _)| path == config_file_name())
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned());
    let config = text
        .clone()
        .map(|t| parse_config(t, diagnostics))
        .unwrap_or_default();
    let inputs = files
        .into_iter()
        .filter(|(path, _)| in_scope(path, &config))
        .map(|(path, bytes)| Input { path, bytes })
        .collect();
    (config, text, inputs)
}

/// Whether the file at `path` (relative to the root) holds declarations under `config`.
pub(crate) fn in_scope(path: &str, config: &RepoConfig) -> bool {
    let (roots, excluded) = scope(config);
    declaration_file(path)
        && !skipped(path, &excluded)
        && roots.iter().any(|r| r.is_empty() || is_under(path, r))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > yaml::MAX_FILE_BYTES as u64 {
        return Err(format!(
            "{size} bytes is larger than the {} MiB limit for a declaration file",
            yaml::MAX_FILE_BYTES >> 20
        ));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

fn clean(path: &str) -> String {
    path.trim_start_matches("./")
        .trim_end_matches('/')
        .to_owned()
}

fn is_under(rel: &str, prefix: &str) -> bool {
    rel == prefix || rel.strip_prefix(prefix).is_some_and(|r| r.starts_with('/'))
}

fn relative(repo: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(repo).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
