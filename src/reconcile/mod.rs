//! Reconcile: compare the declared state with the discovered state at one instant and say
//! what is wrong, as [`Finding`]s with stable codes.
//!
//! Entry point: [`reconcile`], a pure function of its [`Input`] (the model, the inventory, the
//! time and the subjects of the declared issuers' CA certificates): no I/O, no clock. It
//! matches each declared credential to discovered ones through indexes ([`index`]), evaluates
//! the policies ([`checks`]), and applies active exceptions ([`exceptions`]). Ordering the
//! work that fixes the findings is [`crate::plan`]'s job.

mod checks;
mod exceptions;
mod finding;
mod index;
mod matching;
pub mod renewal;

pub use checks::{drift::common_name, human};
pub use finding::{Declared, Finding, References, Suppression};

use crate::discover::Inventory;
use crate::model::Model;
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// What reconcile compares.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The declarations (validated).
    pub model: &'a Model,
    /// What discovery found, possibly merged from several inventories.
    pub inventory: &'a Inventory,
    /// The instant to evaluate at.
    pub now: Timestamp,
    /// The repository root, to resolve the relative paths declarations use (no I/O).
    pub base: &'a std::path::Path,
    /// Subject DNs of the CA certificates behind each declared issuer (its `caSubjects`, plus
    /// the subject of a local CA's certificate file), by issuer name.
    pub issuer_subjects: &'a BTreeMap<String, Vec<String>>,
}

/// The state of one declared credential.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The identity.
    pub identity: String,
    /// The credential's name.
    pub credential: String,
    /// Position of the current credential in the inventory, when one matched.
    pub current: Option<usize>,
    /// Other discovered forms of the same key.
    pub copies: Vec<usize>,
    /// Older matches, by inventory position.
    pub superseded: Vec<usize>,
    /// The effective policy's name.
    pub policy: Option<String>,
}

/// What reconcile found.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    /// Every declared credential, in identity-name then declaration order.
    pub statuses: Vec<Status>,
    /// Inventory positions of credentials no identity declares (the candidates for adoption).
    pub unmanaged: Vec<usize>,
    /// For each matched inventory position, the declared issuer names that could have issued it.
    pub issued_by: HashMap<usize, Vec<String>>,
    /// Every finding, suppressed ones included, most serious first.
    pub findings: Vec<Finding>,
}

/// Compares `input.model` with `input.inventory` at `input.now`.
pub fn reconcile(input: &Input<'_>) -> Reconciliation {
    let declared = matching::declared(input.model);
    let index = index::Index::new(input.inventory);
    let (matches, claims) =
        matching::match_all(&declared, input.inventory, &index, input.base, input.now);
    let context = checks::Context::new(input, &index, &declared, &matches, &claims);
    let mut findings = Vec::new();
    let unmanaged = context.run(&mut findings);
    exceptions::expired(input, &mut findings);
    exceptions::suppress(input, &mut findings);
    finish(&mut findings);
    let statuses = declared
        .iter()
        .zip(&matches)
        .map(|(d, m)| Status {
            identity: d.identity.name().to_owned(),
            credential: d.credential.name.value.clone(),
            current: m.current,
            copies: m.copies.clone(),
            superseded: m.superseded.clone(),
            policy: d.policy.map(|p| p.name().to_owned()),
        })
        .collect();
    let issued_by = context.issued_by_matched();
    Reconciliation {
        statuses,
        unmanaged,
        issued_by,
        findings,
    }
}

/// Gives every finding a unique id and sorts: most serious first, then by code and target.
fn finish(findings: &mut [Finding]) {
    findings.sort_by_cached_key(|f| {
        (
            f.severity,
            f.code,
            f.target(),
            f.fingerprint.clone(),
            f.location.clone(),
        )
    });
    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in findings.iter_mut() {
        if f.id.is_empty() {
            f.id = format!("{}:{}", f.code, f.target());
        }
        let n = seen.entry(f.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            f.id = format!("{}#{n}", f.id);
        }
    }
}

/// `PathBuf` of a declared path, resolved against the repository root and normalized the way
/// discovery reports paths.
pub fn resolve(base: &std::path::Path, path: &str) -> PathBuf {
    crate::discover::Glob::new(base, path).root
}
