//! What a plan is made from besides the declarations: the inventory (live discovery of the
//! declared sources, or inventories saved elsewhere) and the subjects of each issuer's CAs.

use super::{Error, Options};
use crate::discover::{self, CredentialKind, Inventory};
use crate::model::Model;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs the declared sources (all, or those named in `only`) with `context` (whose progress
/// counter a caller may show).
pub fn discover(
    model: &Model,
    only: &[String],
    context: &discover::Context,
) -> Result<discover::Outcome, Error> {
    if let Some(unknown) = only.iter().find(|w| !model.sources.contains_key(*w)) {
        return Err(Error::UnknownSource(unknown.clone()));
    }
    let options = discover::Options {
        sources: model
            .sources
            .iter()
            .filter(|(name, _)| only.is_empty() || only.contains(name))
            .map(|(name, source)| (name.clone(), source.spec.clone()))
            .collect(),
        ..discover::Options::default()
    };
    if options.sources.is_empty() {
        return Err(Error::NoSource(context.base.clone()));
    }
    Ok(discover::discover(&options, context))
}

/// The inventory a plan is made from: the saved inventories of `options`, else live discovery.
pub fn inventory(options: &Options, model: &Model) -> Result<Inventory, Error> {
    if options.inventories.is_empty() {
        let context = discover::Context::new(options.repo.clone()).with_env(options.env.clone());
        Ok(discover(model, &[], &context)?.inventory)
    } else {
        read_inventories(&options.inventories)
    }
}

/// Reads and merges saved inventories; any unreadable one stops the plan.
pub fn read_inventories(paths: &[PathBuf]) -> Result<Inventory, Error> {
    parse_inventories(None, paths)
}

/// What [`read_file`] got from a saved inventory file: its bytes, their SHA-256, and its
/// envelope.
pub(super) struct Read {
    bytes: Vec<u8>,
    digest: String,
    scanned: Result<discover::inventory::Scanned, discover::inventory::ReadError>,
}

/// Reads an inventory file, and hashes it beside the read of its envelope: one core's work
/// each (SHA-256, a pass of the JSON parser), which [`super::plan`] does for the first file
/// beside the declarations' parse on every core.
pub(super) fn read_file(path: &Path) -> std::io::Result<Read> {
    let bytes = std::fs::read(path)?;
    let (digest, scanned) = crate::parallel::join(
        || discover::sha256_hex(&bytes),
        || discover::inventory::scan(&bytes),
    );
    Ok(Read {
        bytes,
        digest,
        scanned,
    })
}

/// Reads, parses and merges the inventory files at `paths`, the first one [`read_file`] read
/// already when `first` is given; one file's bytes are held at a time. Any unreadable one
/// stops the plan.
pub(super) fn parse_inventories(
    mut first: Option<std::io::Result<Read>>,
    paths: &[PathBuf],
) -> Result<Inventory, Error> {
    let mut all = Vec::with_capacity(paths.len());
    let mut digests = String::new();
    for path in paths {
        let read = first.take().unwrap_or_else(|| read_file(path));
        let Read {
            bytes,
            digest,
            scanned,
        } = read.map_err(|e| {
            Error::Inventory(format!("cannot read the inventory {}: {e}", path.display()))
        })?;
        let read = scanned.and_then(|scanned| scanned.parse(&bytes));
        drop(bytes);
        digests.push_str(&digest);
        digests.push('\n');
        let inventory = read.map_err(|e| match e {
            discover::inventory::ReadError::Shape {
                line,
                column,
                path: field,
                message,
            } => Error::Inventory(format!(
                "{}:{line}:{column}: not an inventory from `trustops discover --format json`: {field}: {message}",
                path.display()
            )),
            discover::inventory::ReadError::Version(_) => {
                Error::Inventory(format!("{}: {e}", path.display()))
            }
        })?;
        all.push(inventory);
    }
    let mut merged = discover::merge(all);
    merged.files_sha256 = Some(discover::sha256_hex(digests.as_bytes()));
    Ok(merged)
}

/// Subjects of each issuer's CA certificates: its `caSubjects`, and a local CA's certificate
/// file. A CA file that cannot be read, for an issuer without `caSubjects`, is a warning; the
/// issuer then counts as unknown (its certificates are not checked against `allowedIssuers`).
pub(super) fn issuer_subjects(
    model: &Model,
    base: &Path,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (name, issuer) in &model.issuers {
        let mut subjects = issuer.spec.ca_subjects.clone();
        if let Some(ca) = &issuer.spec.local_ca {
            let path = crate::reconcile::resolve(base, &ca.cert_file.value);
            let found = discover::discover(
                &discover::Options {
                    paths: vec![path.clone()],
                    ..discover::Options::default()
                },
                &discover::Context::new(base.to_owned()),
            );
            let certificates: Vec<String> = found
                .inventory
                .credentials
                .iter()
                .filter(|c| c.kind == CredentialKind::X509Certificate)
                .filter_map(|c| c.subject.as_deref().map(str::to_owned))
                .collect();
            if certificates.is_empty() && subjects.is_empty() {
                warnings.push(format!(
                    "issuer {name}: no CA certificate in {}; its certificates are not checked against allowedIssuers",
                    path.display()
                ));
            }
            subjects.extend(certificates);
        }
        out.insert(name.clone(), subjects);
    }
    out
}
