//! Loading two revisions to compare them, reading and parsing only what differs: the files
//! whose blobs changed, plus every file that declares anything but identities (owners,
//! policies, issuers, sources and exceptions are few; identities are many). Which unchanged
//! files hold only identities, and their names, is remembered per blob under
//! `.git/trustops/declared/` (or `$TRUSTOPS_CACHE_DIR`, which CI can keep between runs), so a
//! second comparison reads nothing it has seen.
//!
//! It gives up (`None`, and the caller loads both revisions in full) whenever the partial view
//! could differ from the whole: the settings changed, a changed file has an error (which the
//! full load then reports properly), a changed file refers outside what was read, or a new
//! identity takes a name an unchanged file declares.

use super::{Input, Outcome, walk};
use crate::diag::has_errors;
use crate::git::{self, Snapshot};
use crate::model::{RepoConfig, config_file_name};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The second revision: a commit, or the work tree.
#[derive(Clone, Debug)]
pub enum Head {
    /// A revision (`HEAD`, a branch, a commit).
    Revision(String),
    /// The files in the work tree.
    WorkTree,
}

/// Two revisions loaded for comparison.
#[derive(Debug)]
pub struct Pair {
    /// The base: its changed files and the files declaring anything but identities.
    pub base: Outcome,
    /// The head, likewise.
    pub head: Outcome,
    /// The base commit.
    pub base_commit: String,
    /// The head commit (none for the work tree).
    pub head_commit: Option<String>,
    /// Declaration files that differ.
    pub changed: BTreeSet<String>,
    /// What the identities of the files neither side read depend on (the same in both, since
    /// those files did not change): enough to say whose approval a trust change needs.
    pub unread: Vec<Unread>,
}

/// An identity in a file the comparison did not read, as remembered: its owner and what it
/// depends on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unread {
    /// The identity's name.
    pub name: String,
    /// Its owner.
    pub owner: Option<String>,
    /// The policies it and its credentials name.
    pub policies: Vec<String>,
    /// The issuers its credentials name.
    pub issuers: Vec<String>,
    /// The sources its credentials match through.
    pub sources: Vec<String>,
}

impl Unread {
    /// What `identity` depends on.
    pub fn of(identity: &crate::model::Identity) -> Self {
        let credentials = &identity.spec.credentials;
        let mut policies: Vec<String> = identity
            .spec
            .policy
            .iter()
            .map(|p| p.value.clone())
            .collect();
        policies.extend(
            credentials
                .iter()
                .flat_map(|c| c.policy.iter().map(|p| p.value.clone())),
        );
        Unread {
            name: identity.name().to_owned(),
            owner: identity.spec.owner.as_ref().map(|o| o.value.clone()),
            policies,
            issuers: credentials
                .iter()
                .flat_map(|c| c.issuers.iter().map(|i| i.value.clone()))
                .collect(),
            sources: credentials
                .iter()
                .filter_map(|c| c.match_rule.value.source.as_ref().map(|s| s.value.clone()))
                .collect(),
        }
    }

    /// One line: name, owner, policies, issuers, sources, tab-separated, lists comma-separated.
    /// Names cannot hold tabs, commas or newlines (they are DNS-label-like).
    fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\n",
            self.name,
            self.owner.as_deref().unwrap_or_default(),
            self.policies.join(","),
            self.issuers.join(","),
            self.sources.join(",")
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split('\t');
        let list = |f: Option<&str>| -> Option<Vec<String>> {
            Some(
                f?.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        };
        let name = fields.next()?.to_owned();
        let owner = Some(fields.next()?.to_owned()).filter(|o| !o.is_empty());
        let unread = Unread {
            name,
            owner,
            policies: list(fields.next())?,
            issuers: list(fields.next())?,
            sources: list(fields.next())?,
        };
        fields.next().is_none().then_some(unread)
    }
}

/// One side's declaration files: path → (blob id, bytes when already read).
type Files = BTreeMap<String, (String, Option<Vec<u8>>)>;

/// What an unchanged blob declares, as remembered.
struct Declared {
    identities_only: bool,
    /// Its identities.
    identities: Vec<Unread>,
}

/// Loads `base` and `head` of the repository at `repo` for comparison, incrementally, or
/// `None` when they must be loaded in full. Inside a changed file, the documents both sides
/// share are blanked out (their lines emptied, so positions hold) and not parsed, unless the
/// head declares an identity name the base's changed documents did not (it could collide with
/// a blanked one). What unchanged blobs declare is remembered in `cache` (a folder, for a CI
/// cache; default `.git/trustops/declared`).
pub fn pair(
    repo: &Path,
    base: &str,
    head: &Head,
    cache: Option<&Path>,
) -> Result<Option<Pair>, git::Error> {
    match pair_with(repo, base, head, cache, true)? {
        Some(pair)
            if pair
                .head
                .model
                .identities
                .keys()
                .all(|n| pair.base.model.identities.contains_key(n)) =>
        {
            Ok(Some(pair))
        }
        Some(_) => pair_with(repo, base, head, cache, false),
        None => Ok(None),
    }
}

fn pair_with(
    repo: &Path,
    base: &str,
    head: &Head,
    cache: Option<&Path>,
    blank: bool,
) -> Result<Option<Pair>, git::Error> {
    let base_snapshot = Snapshot::of(repo, base)?;
    let head_snapshot = match head {
        Head::Revision(rev) => Some(Snapshot::of(repo, rev)?),
        Head::WorkTree => None,
    };
    let settings = |snapshot: &Snapshot| {
        snapshot
            .files
            .iter()
            .find(|(p, _)| p == config_file_name())
            .map(|(_, id)| id.clone())
    };
    let base_settings = settings(&base_snapshot);
    let config = match &base_settings {
        Some(id) => {
            let bytes = base_snapshot.blob(id, super::MAX_FILE_BYTES)?;
            let mut diagnostics = Vec::new();
            let config = walk::parse_config(
                String::from_utf8_lossy(&bytes).into_owned(),
                &mut diagnostics,
            );
            if has_errors(&diagnostics) {
                return Ok(None);
            }
            config
        }
        None => RepoConfig::default(),
    };
    let base_files: Files = listed(&base_snapshot, &config);
    let head_files: Files = match &head_snapshot {
        Some(snapshot) => {
            if settings(snapshot) != base_settings {
                return Ok(None);
            }
            listed(snapshot, &config)
        }
        None => {
            let settings_now = std::fs::read(repo.join(config_file_name()))
                .ok()
                .map(|b| git::blob_id(&b));
            if settings_now != base_settings {
                return Ok(None);
            }
            let mut diagnostics = Vec::new();
            let Ok(inputs) = walk::read_inputs(repo, &config, &mut diagnostics) else {
                return Ok(None);
            };
            if has_errors(&diagnostics) {
                return Ok(None);
            }
            inputs
                .into_iter()
                .map(|i| (i.path, (git::blob_id(&i.bytes), Some(i.bytes))))
                .collect()
        }
    };
    let changed: BTreeSet<String> = base_files
        .keys()
        .chain(head_files.keys())
        .filter(|p| base_files.get(*p).map(|f| &f.0) != head_files.get(*p).map(|f| &f.0))
        .cloned()
        .collect();
    let cache = Cache::new(repo, cache);
    let read_head = |path: &str| -> Result<Vec<u8>, git::Error> {
        let (id, bytes) = &head_files[path];
        match (bytes, &head_snapshot) {
            (Some(b), _) => Ok(b.clone()),
            (None, Some(s)) => s.blob(id, super::MAX_FILE_BYTES),
            (None, None) => Ok(Vec::new()),
        }
    };
    let read_base = |path: &str| base_snapshot.blob(&base_files[path].0, super::MAX_FILE_BYTES);
    // Unchanged files: skip those that hold only identities.
    let mut mixed = Vec::new();
    let mut elsewhere: Vec<Unread> = Vec::new();
    let mut known = Vec::new();
    let mut misses = Vec::new();
    for (path, (id, _)) in &head_files {
        if changed.contains(path) {
            continue;
        }
        match cache.get(id) {
            Some(d) => known.push((path.clone(), d)),
            None => misses.push((
                id.clone(),
                Input {
                    path: path.clone(),
                    bytes: read_head(path)?,
                },
            )),
        }
    }
    // Files seen for the first time are parsed once, on every core, and remembered.
    let learned = crate::parallel::ranges_of(misses.len(), 1, |range| {
        misses[range]
            .iter()
            .map(|(_, input)| declared(input.clone()))
            .collect::<Vec<_>>()
    });
    for ((id, input), d) in misses.iter().zip(learned.into_iter().flatten()) {
        cache.put(id, &d);
        known.push((input.path.clone(), d));
    }
    for (path, declared) in known {
        if declared.identities_only {
            elsewhere.extend(declared.identities);
        } else {
            mixed.push(path);
        }
    }
    let mut head_inputs = Vec::new();
    let mut base_inputs = Vec::new();
    // Each changed file: its path, its bytes in the base and in the head (absent on a side
    // that has no such file).
    type Sides<'p> = (&'p String, Option<Vec<u8>>, Option<Vec<u8>>);
    let mut read: Vec<Sides<'_>> = Vec::new();
    for path in &changed {
        let head_bytes = match head_files.contains_key(path) {
            true => Some(read_head(path)?),
            false => None,
        };
        let base_bytes = match base_files.contains_key(path) {
            true => Some(read_base(path)?),
            false => None,
        };
        read.push((path, base_bytes, head_bytes));
    }
    // Unchanged identities inside changed files are skipped only when every document that
    // changed is an identity: a changed policy, issuer, source or exception affects identities,
    // and those of a changed file are not remembered anywhere.
    let identities_only = read.iter().all(|(_, base, head)| {
        differing(
            base.as_deref().unwrap_or_default(),
            head.as_deref().unwrap_or_default(),
        )
        .iter()
        .all(|d| is_identity(d))
    });
    for (path, mut base_bytes, mut head_bytes) in read {
        if let (true, true, Some(h), Some(b)) = (blank, identities_only, &head_bytes, &base_bytes) {
            let (b2, h2) = blank_shared(b, h);
            base_bytes = Some(b2);
            head_bytes = Some(h2);
        }
        if let Some(bytes) = head_bytes {
            head_inputs.push(Input {
                path: path.clone(),
                bytes,
            });
        }
        if let Some(bytes) = base_bytes {
            base_inputs.push(Input {
                path: path.clone(),
                bytes,
            });
        }
    }
    for path in &mixed {
        let bytes = read_head(path)?;
        head_inputs.push(Input {
            path: path.clone(),
            bytes: bytes.clone(),
        });
        base_inputs.push(Input {
            path: path.clone(),
            bytes,
        });
    }
    let head = super::from_inputs_with(config.clone(), head_inputs);
    let base = super::from_inputs_with(config, base_inputs);
    let in_changed = |o: &Outcome| {
        o.diagnostics.iter().any(|d| {
            d.severity == crate::diag::Severity::Error
                && d.primary.as_ref().is_none_or(|l| changed.contains(&l.path))
        })
    };
    if in_changed(&head) || in_changed(&base) {
        return Ok(None);
    }
    // A name a changed file declares that an unread file declares too is a duplicate.
    let declared_here: std::collections::HashSet<&str> =
        head.model.identities.keys().map(String::as_str).collect();
    if elsewhere
        .iter()
        .any(|u| declared_here.contains(u.name.as_str()))
    {
        return Ok(None);
    }
    Ok(Some(Pair {
        base,
        head,
        base_commit: base_snapshot.commit.clone(),
        head_commit: head_snapshot.map(|s| s.commit),
        changed,
        unread: elsewhere,
    }))
}

/// `base` and `head` (two versions of one file) with the YAML documents they share emptied:
/// every line of such a document but its `---` marker becomes empty, so the parser skips it
/// and every other line keeps its number.
fn blank_shared(base: &[u8], head: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (b, h) = (documents(base), documents(head));
    let mut in_base: std::collections::HashMap<&[u8], usize> = Default::default();
    for d in &b {
        *in_base.entry(*d).or_default() += 1;
    }
    let mut shared: std::collections::HashMap<&[u8], usize> = Default::default();
    // Only identities are blanked: the owners, policies, issuers and sources beside them stay,
    // so what a changed document refers to is still declared.
    for d in h.iter().filter(|d| is_identity(d)) {
        if let Some(n) = in_base.get_mut(*d).filter(|n| **n > 0) {
            *n -= 1;
            *shared.entry(*d).or_default() += 1;
        }
    }
    let blanked = |docs: &[&[u8]]| {
        let mut left = shared.clone();
        let mut out = Vec::new();
        for d in docs {
            match left.get_mut(*d).filter(|n| **n > 0) {
                Some(n) => {
                    *n -= 1;
                    for (i, line) in d.split_inclusive(|b| *b == b'\n').enumerate() {
                        if i == 0 && is_marker(line) {
                            out.extend_from_slice(b"---");
                        }
                        if line.ends_with(b"\n") {
                            out.push(b'\n');
                        }
                    }
                }
                None => out.extend_from_slice(d),
            }
        }
        out
    };
    (blanked(&b), blanked(&h))
}

/// The documents of `base` and `head` (two versions of one file) that only one side has,
/// each as often as it is unmatched, empty ones left out.
fn differing<'a>(base: &'a [u8], head: &'a [u8]) -> Vec<&'a [u8]> {
    let mut count: std::collections::HashMap<&[u8], isize> = Default::default();
    for d in documents(base) {
        *count.entry(d).or_default() += 1;
    }
    for d in documents(head) {
        *count.entry(d).or_default() -= 1;
    }
    count
        .into_iter()
        .filter(|(d, n)| *n != 0 && !d.trim_ascii().is_empty())
        .flat_map(|(d, n)| std::iter::repeat_n(d, n.unsigned_abs()))
        .collect()
}

/// Whether the document `text` is an Identity in block style (a `kind: Identity` line).
fn is_identity(text: &[u8]) -> bool {
    text.split(|b| *b == b'\n').any(|line| {
        line.strip_prefix(b"kind:")
            .is_some_and(|rest| rest.trim_ascii() == b"Identity")
    })
}

/// Whether `line` is a YAML document marker (`---` alone or followed by a space).
fn is_marker(line: &[u8]) -> bool {
    line.starts_with(b"---")
        && line
            .get(3)
            .is_none_or(|c| matches!(c, b'\n' | b'\r' | b' ' | b'\t'))
}

/// `text` split before each document marker; each part keeps its marker line.
fn documents(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut at) = (0, 0);
    for line in text.split_inclusive(|b| *b == b'\n') {
        if is_marker(line) && at > start {
            out.push(&text[start..at]);
            start = at;
        }
        at += line.len();
    }
    out.push(&text[start..]);
    out
}

/// What one file declares, parsed alone: its documents only, without the checks across
/// files (a file read alone would refer to owners and policies it cannot see).
fn declared(input: Input) -> Declared {
    let mut alone = Outcome::default();
    super::parse::file(input, &mut alone);
    let identities: Vec<Unread> = alone.model.identities.values().map(Unread::of).collect();
    // A value the one-line form cannot hold (only in a file with errors): read it every time.
    let plain = identities.iter().all(|u| {
        let line = u.line();
        let body = line.strip_suffix('\n').unwrap_or(&line);
        !body.contains(['\n', '\r']) && Unread::parse(body).as_ref() == Some(u)
    });
    Declared {
        identities_only: plain
            && alone.documents > 0
            && alone.documents == alone.model.identities.len(),
        identities,
    }
}

/// The declaration files of `snapshot` under `config`, with their blob ids.
fn listed(snapshot: &Snapshot, config: &RepoConfig) -> Files {
    snapshot
        .files
        .iter()
        .filter(|(path, _)| walk::in_scope(path, config))
        .map(|(path, id)| (path.clone(), (id.clone(), None)))
        .collect()
}

/// What unchanged blobs declare, one small file per blob under `.git/trustops/declared/`:
/// `identities-only 2` or `mixed 2`, then a line per identity ([`Unread::line`]). An entry
/// in another form (an older trustops's) is read again. Failing to write is no error.
struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// `dir` (for a CI cache), else `.git/trustops/declared`.
    fn new(repo: &Path, dir: Option<&Path>) -> Self {
        let dir = match dir {
            Some(dir) => Some(dir.to_owned()),
            None => git::git_dir(repo).ok().map(|g| g.join("trustops/declared")),
        };
        Cache { dir }
    }

    fn get(&self, id: &str) -> Option<Declared> {
        let mut text = std::fs::read_to_string(self.dir.as_ref()?.join(id)).ok()?;
        let newline = text.find('\n')?;
        let identities_only = match &text[..newline] {
            "identities-only 2" => true,
            "mixed 2" => false,
            _ => return None,
        };
        let identities = text
            .split_off(newline + 1)
            .lines()
            .map(Unread::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(Declared {
            identities_only,
            identities,
        })
    }

    fn put(&self, id: &str, declared: &Declared) {
        let Some(dir) = &self.dir else { return };
        let mut text = String::from(if declared.identities_only {
            "identities-only 2\n"
        } else {
            "mixed 2\n"
        });
        for identity in &declared.identities {
            text.push_str(&identity.line());
        }
        let _ = crate::durable::write_cache(&dir.join(id), text.as_bytes());
    }
}
