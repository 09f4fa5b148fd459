//! `trustops demo`: a complete demo governance repository with certificates minted relative to
//! now, for trying trustops in a minute.
//!
//! [`create`] writes `DIR/repo` (the declarations of `examples/demo/`, embedded in the binary,
//! committed to a new Git repository) and `DIR/pki` (a local CA and the certificates the demo
//! hosts serve: healthy, expiring within days, expired, one with a weak RSA-1024 key and one
//! that no identity declares), the JSON Schemas its modelines name (`DIR/repo/schemas`), and
//! `DIR/keys/audit`, the SSH key that signs audit commits (its
//! public half is the repository's `allowed_signers`). The CLI then runs the pipeline on it.

mod pki;

pub use pki::Planted;

use crate::git;
use jiff::Timestamp;
use std::path::{Path, PathBuf};

/// The demo repository's files, embedded from `examples/demo/`.
const FILES: [(&str, &str); 7] = [
    (
        "trustops.yaml",
        include_str!("../../examples/demo/trustops.yaml"),
    ),
    (
        "owners.yaml",
        include_str!("../../examples/demo/owners.yaml"),
    ),
    (
        "policies.yaml",
        include_str!("../../examples/demo/policies.yaml"),
    ),
    (
        "issuers.yaml",
        include_str!("../../examples/demo/issuers.yaml"),
    ),
    (
        "sources.yaml",
        include_str!("../../examples/demo/sources.yaml"),
    ),
    (
        "identities.yaml",
        include_str!("../../examples/demo/identities.yaml"),
    ),
    (
        "exceptions.yaml",
        include_str!("../../examples/demo/exceptions.yaml"),
    ),
];

/// Where and when to build the demo.
#[derive(Clone, Debug)]
pub struct Options {
    /// Folder to create (must not exist, or be empty).
    pub dir: PathBuf,
    /// The time certificates are minted relative to.
    pub now: Timestamp,
}

/// What was created.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The governance repository.
    pub repo: PathBuf,
    /// The CA and host certificates.
    pub pki: PathBuf,
    /// The id of the repository's first commit.
    pub commit: String,
    /// The certificates minted, in file order.
    pub certificates: Vec<Planted>,
    /// The SSH key that signs the demo's audit commits (its public half is in
    /// `repo/allowed_signers`).
    pub signing_key: PathBuf,
}

/// Why the demo could not be created.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder exists and is not empty.
    #[error("{dir} already exists and is not empty; choose another folder or remove it")]
    NotEmpty {
        /// The folder.
        dir: PathBuf,
    },
    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A certificate could not be minted.
    #[error("cannot mint the demo certificate {name}")]
    Mint {
        /// Which one.
        name: String,
        /// The cause.
        #[source]
        source: rcgen::Error,
    },
    /// The Git repository could not be created.
    #[error(transparent)]
    Git(#[from] git::Error),
}

/// Where the demo repository keeps its JSON Schemas, relative to its root.
const SCHEMAS: &str = "schemas";

/// `text` with its `yaml-language-server` modeline pointing at the demo repository's own
/// schemas (the embedded files point at this project's `schemas/`, two folders up).
fn with_local_schemas(text: &str) -> String {
    text.replacen(
        "# yaml-language-server: $schema=../../schemas/",
        &format!("# yaml-language-server: $schema={SCHEMAS}/"),
        1,
    )
}

/// Creates the demo in `options.dir`.
pub fn create(options: &Options) -> Result<Outcome, Error> {
    let dir = &options.dir;
    let non_empty = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if non_empty {
        return Err(Error::NotEmpty { dir: dir.clone() });
    }
    let repo = dir.join("repo");
    let pki = dir.join("pki");
    for (name, text) in FILES {
        write(&repo.join(name), with_local_schemas(text).as_bytes(), 0o644)?;
    }
    // The schemas the modelines name, beside the declarations (as `trustops schema --out
    // schemas` writes them into any governance repository), so editors check the files
    // wherever the demo is.
    for (name, schema) in crate::model::schema::all() {
        write(
            &repo.join(SCHEMAS).join(name),
            crate::schemas::to_file_text(&schema).as_bytes(),
            0o644,
        )?;
    }
    let certificates = pki::mint(&pki, options.now)?;
    // The audit trail's signing key lives outside the repository; its public half is allowed.
    let (signer, private) = git::Signer::generate("audit@demo.trustops.dev")?;
    let signing_key = dir.join("keys/audit");
    write(&signing_key, private.as_bytes(), 0o600)?;
    write(
        &repo.join("allowed_signers"),
        format!(
            "audit@demo.trustops.dev namespaces=\"git\" {}\n",
            signer.public_line()
        )
        .as_bytes(),
        0o644,
    )?;
    let author = git::Author {
        name: "trustops demo".into(),
        email: "demo@trustops.dev".into(),
        time: options.now.as_second(),
    };
    let commit = git::init_with_commit(
        &repo,
        "Declare the demo's owners, policies and identities\n",
        &author,
    )?;
    Ok(Outcome {
        repo,
        pki,
        commit,
        certificates,
        signing_key,
    })
}

/// Writes `bytes` to `path` with `mode` (on Unix), creating parent folders.
fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let fail = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = open.open(path).map_err(fail)?;
    std::io::Write::write_all(&mut file, bytes).map_err(fail)
}
