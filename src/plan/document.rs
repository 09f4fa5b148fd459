//! The plan document: the JSON that `plan --format json` prints and `plan --out` writes,
//! modelled on Terraform's plan JSON (`format_version`, `applyable`, `complete`, `errored`).
//! Its JSON Schema is `schemas/plan.schema.json`.

use super::action::Action;
use crate::discover::{Problem, Time};
use crate::reconcile::Finding;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the plan contract.
pub const FORMAT_VERSION: u32 = 1;

/// A plan: findings, ordered actions, and the digests of the inputs they were computed from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Always 1 for this contract.
    pub format_version: u32,
    /// Identifies this plan in the audit trail: `plan-` and 16 hex digits.
    pub id: String,
    /// The instant the plan evaluates (`--now`).
    pub generated_at: Time,
    /// The trustops version that made it.
    pub trustops_version: String,
    /// What the plan was computed from; `apply` refuses the plan when these change.
    pub inputs: Inputs,
    /// Whether `apply` has anything to carry out: no discovery errors and at least one
    /// rotate, revoke or escalate action.
    pub applyable: bool,
    /// Whether applying reaches the declared state: nothing errored, scheduled later, waiting
    /// for approval or needing a person.
    pub complete: bool,
    /// Whether a declared source could not be read (findings may be incomplete).
    pub errored: bool,
    /// Counts.
    pub summary: Summary,
    /// Each declared credential and what was found for it.
    pub credentials: Vec<CredentialState>,
    /// Every finding, suppressed ones included, most serious first.
    pub findings: Vec<Finding>,
    /// Actions in the order `apply` runs them.
    pub actions: Vec<Action>,
    /// What discovery could not read.
    pub problems: Vec<Problem>,
    /// SHA-256 of the plan's canonical JSON without this field: `apply` refuses an edited or
    /// truncated plan.
    pub digest: String,
}

/// Digests of the plan's inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// The commit checked out in the governance repository (`HEAD`), when it is one.
    pub declarations_commit: Option<String>,
    /// SHA-256 over every declaration file read (paths and contents): changes even when
    /// uncommitted.
    pub declarations_sha256: String,
    /// SHA-256 of the merged inventory's JSON.
    pub inventory_sha256: String,
    /// Inventory files merged (`plan --inventory`); empty when discovered live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventories: Vec<String>,
}

/// Counts for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Declared identities.
    pub identities: usize,
    /// Declared credentials.
    pub declared: usize,
    /// Distinct discovered credentials.
    pub discovered: usize,
    /// Declared credentials matched to a discovered one.
    pub matched: usize,
    /// Declared credentials not found.
    pub missing: usize,
    /// Discovered credentials no identity declares.
    pub unmanaged: usize,
    /// Active findings by severity.
    pub findings: SeverityCounts,
    /// Findings waived by an exception.
    pub suppressed: usize,
    /// Actions by kind.
    pub actions: ActionCounts,
    /// Actions that wait: for a renewal window, an approver or a person.
    pub deferred: usize,
}

/// Findings per severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
}

/// Actions per kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCounts {
    /// Rotation groups.
    pub rotate: usize,
    /// Revocations.
    pub revoke: usize,
    /// Escalations.
    pub escalate: usize,
    /// Adoptions.
    pub adopt: usize,
    /// Reviews.
    pub review: usize,
}

/// A declared credential and what matched it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialState {
    /// The identity.
    pub identity: String,
    /// The credential.
    pub credential: String,
    /// Its declared type.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// The identity's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The effective policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The policy's trust domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domain: Option<String>,
    /// The credential in use; absent when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Facts>,
    /// Older matching credentials still found somewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<Facts>,
}

/// The facts of a discovered credential that plans, reports and metrics use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// Serial number (certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Start of validity, or when a secret was last rotated or created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Time>,
    /// End of validity, or a secret's expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<Time>,
    /// Where it was found.
    pub locations: Vec<String>,
}

impl Facts {
    /// The facts of `c`.
    pub fn of(c: &crate::discover::Credential) -> Self {
        Facts {
            sha256: c.sha256.clone(),
            serial: c.serial.clone(),
            not_before: c.not_before.or(c.last_rotated).or(c.created),
            not_after: c.not_after.or(c.expires),
            locations: c.locations.iter().map(|l| l.display()).collect(),
        }
    }
}
