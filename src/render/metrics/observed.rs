//! What metrics take from the inventory and declarations a plan was made from: every
//! discovered certificate with its place in the plan (in use, superseded, unmanaged), and
//! whether each declared source could be read.

use crate::discover::{CredentialKind, Inventory, Location};
use crate::model::{FindingCode, Model};
use crate::plan::Plan;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A discovered certificate's place in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// The form of a declared credential in use.
    Current,
    /// An older form of a declared credential, still found somewhere.
    Superseded,
    /// Declared by no identity.
    Unmanaged,
    /// Neither (a CA certificate in a chain, a waived or ignored one).
    Other,
}

impl State {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Current => "current",
            State::Superseded => "superseded",
            State::Unmanaged => "unmanaged",
            State::Other => "other",
        }
    }
}

/// One discovered certificate, as metrics label it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// Its SHA-256, shortened to 16 hex digits.
    pub fingerprint: String,
    /// Its place in the plan.
    pub state: State,
    /// The declared credential it is (a form of), `identity/credential`; empty otherwise.
    pub declared_as: String,
    /// The owner: the identity's, or the best guess for an unmanaged one; empty when unknown.
    pub owner: String,
    /// Subject DN, RFC 4514.
    pub subject: String,
    /// Issuer DN, RFC 4514.
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity (Unix time).
    pub not_before: Option<i64>,
    /// End of validity (Unix time).
    pub not_after: Option<i64>,
    /// Everywhere it was found.
    pub locations: Vec<Location>,
}

/// The certificates and sources of one plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Every discovered certificate: declared ones by credential, then the rest by subject.
    pub certificates: Vec<Certificate>,
    /// Each declared source, and whether it could be read.
    pub sources: Vec<(String, bool)>,
    /// Discovered keys and certificates by quantum-safety class (`vulnerable`, `safe`,
    /// `hybrid`, `unknown`) and owner (`""`: none).
    pub quantum: BTreeMap<(&'static str, String), usize>,
}

/// What `plan` (made from `inventory` and `model`) says of each discovered certificate, and
/// which declared sources could be read.
pub fn observed(plan: &Plan, inventory: &Inventory, model: &Model) -> Observed {
    let mut declared: HashMap<&str, (State, &crate::plan::CredentialState)> = HashMap::new();
    for c in &plan.credentials {
        for superseded in &c.superseded {
            declared.insert(&superseded.sha256, (State::Superseded, c));
        }
        if let Some(current) = &c.current {
            declared.insert(&current.sha256, (State::Current, c));
        }
    }
    let unmanaged: HashMap<&str, &str> = plan
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::Unmanaged)
        .filter_map(|f| Some((f.fingerprint.as_deref()?, f.owner.as_deref().unwrap_or(""))))
        .collect();
    let mut certificates: Vec<Certificate> = inventory
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::X509Certificate)
        .map(|c| {
            let (state, declared_as, owner) = match declared.get(c.sha256.as_str()) {
                Some((state, s)) => (
                    *state,
                    format!("{}/{}", s.identity, s.credential),
                    s.owner.clone().unwrap_or_default(),
                ),
                None => match unmanaged.get(c.sha256.as_str()) {
                    Some(owner) => (State::Unmanaged, String::new(), (*owner).to_owned()),
                    None => (State::Other, String::new(), String::new()),
                },
            };
            Certificate {
                fingerprint: crate::discover::short(&c.sha256, 16).to_owned(),
                state,
                declared_as,
                owner,
                subject: c.subject.as_deref().unwrap_or_default().to_owned(),
                issuer: c.issuer.as_deref().unwrap_or_default().to_owned(),
                serial: c.serial.as_deref().unwrap_or_default().to_owned(),
                not_before: c.not_before.map(|t| t.0.as_second()),
                not_after: c.not_after.map(|t| t.0.as_second()),
                locations: c.locations.clone(),
            }
        })
        .collect();
    // Declared first, by credential; then unmanaged and the rest, by subject.
    certificates.sort_by(|a, b| {
        (a.state, &a.declared_as, &a.subject, &a.fingerprint).cmp(&(
            b.state,
            &b.declared_as,
            &b.subject,
            &b.fingerprint,
        ))
    });
    // A declared certificate's owner owns its key too (they share the public key).
    let key_owner: HashMap<&str, &str> = inventory
        .credentials
        .iter()
        .filter_map(|c| {
            let (_, s) = declared.get(c.sha256.as_str())?;
            Some((c.public_key_sha256.as_deref()?, s.owner.as_deref()?))
        })
        .collect();
    let mut quantum = BTreeMap::new();
    for c in inventory
        .credentials
        .iter()
        .filter(|c| c.key_type.is_some())
    {
        let class = c.quantum_safety.map_or("unknown", |q| q.as_str());
        let owner = match declared.get(c.sha256.as_str()) {
            Some((_, s)) => s.owner.as_deref(),
            None => c
                .public_key_sha256
                .as_deref()
                .and_then(|k| key_owner.get(k).copied())
                .or_else(|| unmanaged.get(c.sha256.as_str()).copied()),
        }
        .unwrap_or_default()
        .to_owned();
        *quantum.entry((class, owner)).or_default() += 1;
    }
    let failed: HashSet<String> = crate::plan::file::failed_sources(inventory)
        .into_iter()
        .collect();
    Observed {
        certificates,
        sources: model
            .sources
            .keys()
            .map(|name| (name.clone(), !failed.contains(name)))
            .collect(),
        quantum,
    }
}
