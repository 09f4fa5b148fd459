//! The report's post-quantum readiness: how many credentials each quantum-safety class holds,
//! by trust domain and by owner, and which ones stand in the way of a policy's deadline.

use crate::discover::Inventory;
use crate::discover::algorithms::QuantumSafety;
use crate::model::FindingCode;
use crate::plan::Plan;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Counts by class: vulnerable, safe, hybrid, and keys trustops cannot class.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClassCounts {
    /// RSA, elliptic curves, DSA.
    pub vulnerable: usize,
    /// ML-DSA, SLH-DSA, ML-KEM.
    pub safe: usize,
    /// Composite.
    pub hybrid: usize,
    /// A key type trustops does not know.
    pub unknown: usize,
}

impl ClassCounts {
    fn add(&mut self, class: Option<QuantumSafety>) {
        match class {
            Some(QuantumSafety::Vulnerable) => self.vulnerable += 1,
            Some(QuantumSafety::Safe) => self.safe += 1,
            Some(QuantumSafety::Hybrid) => self.hybrid += 1,
            None => self.unknown += 1,
        }
    }
}

/// A declared credential a post-quantum deadline flags.
#[derive(Clone, Debug, Serialize)]
pub struct Blocking {
    /// `identity/credential`.
    pub credential: String,
    /// Its owner.
    pub owner: String,
    /// Its key type.
    pub key_type: String,
    /// The deadline, `YYYY-MM-DD`.
    pub required_by: String,
    /// How serious it is now.
    pub severity: crate::model::Severity,
}

/// The readiness section.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Readiness {
    /// Every discovered key and certificate.
    pub all: ClassCounts,
    /// Declared credentials by their policy's trust domain.
    pub by_trust_domain: BTreeMap<String, ClassCounts>,
    /// Declared credentials by owner.
    pub by_owner: BTreeMap<String, ClassCounts>,
    /// `quantum-vulnerable` findings not waived, most serious first.
    pub blocking: Vec<Blocking>,
}

/// Readiness of what `plan` was made from (`inventory`).
pub(super) fn readiness(plan: &Plan, inventory: &Inventory) -> Readiness {
    let class: HashMap<&str, Option<QuantumSafety>> = inventory
        .credentials
        .iter()
        .filter(|c| c.key_type.is_some())
        .map(|c| (c.sha256.as_str(), c.quantum_safety))
        .collect();
    let mut out = Readiness::default();
    for c in class.values() {
        out.all.add(*c);
    }
    for c in &plan.credentials {
        let Some(current) = c
            .current
            .as_ref()
            .and_then(|f| class.get(f.sha256.as_str()))
        else {
            continue;
        };
        let domain = c.trust_domain.clone().unwrap_or_else(|| "(none)".into());
        let owner = c.owner.clone().unwrap_or_else(|| "(unowned)".into());
        out.by_trust_domain.entry(domain).or_default().add(*current);
        out.by_owner.entry(owner).or_default().add(*current);
    }
    out.blocking = plan
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::QuantumVulnerable && f.suppressed.is_none())
        .map(|f| Blocking {
            credential: f.target(),
            owner: f.owner.clone().unwrap_or_else(|| "(unowned)".into()),
            key_type: f.evidence.get("key_type").cloned().unwrap_or_default(),
            required_by: f
                .evidence
                .get("required_by")
                .map(|t| t.chars().take(10).collect())
                .unwrap_or_default(),
            severity: f.severity,
        })
        .collect();
    out.blocking
        .sort_by(|a, b| (a.severity, &a.credential).cmp(&(b.severity, &b.credential)));
    out
}
