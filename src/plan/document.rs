//! The plan document: the JSON that `plan --format json` prints and `plan --out` writes,
//! modelled on Terraform's plan JSON (`format_version`, `applyable`, `complete`, `errored`).
//! Its JSON Schema is `schemas/plan.schema.json`.

use super::action::{Action, ActionKind};
use super::{Context, file};
use crate::discover::{Problem, Time};
use crate::model::{FindingCode, Severity};
use crate::reconcile::{Finding, References};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the plan contract.
pub const FORMAT_VERSION: u32 = 2;

/// A plan: findings, ordered actions, and the digests of the inputs they were computed from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// 2 for this contract (1 repeated each finding's references and stored each adopt
    /// action's YAML).
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
    /// The OWASP NHI Top 10 and NIST CSF 2.0 references of each finding code present.
    pub references: BTreeMap<FindingCode, References>,
    /// Actions in the order `apply` runs them.
    pub actions: Vec<Action>,
    /// What discovery could not read.
    pub problems: Vec<Problem>,
    /// SHA-256 of the plan's canonical JSON without this field: `apply` refuses an edited or
    /// truncated plan. Set when the plan is written; empty in a plan not yet written.
    // Set by `plan::file::write`, from the bytes it writes.
    pub digest: String,
    /// An SSH signature (SSHSIG, namespace `trustops-plan`) over the digest, by a key the
    /// repository's committed `allowed_signers` allows: `plan --out --signing-key` writes it,
    /// `apply` checks it (and refuses an unsigned plan where `trustops.yaml` says
    /// `requireSignedPlans: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Plan {
    /// The declared credential `identity/credential`.
    pub fn credential(&self, target: &str) -> Option<&CredentialState> {
        let (identity, credential) = target.split_once('/')?;
        self.credentials
            .iter()
            .find(|c| c.identity == identity && c.credential == credential)
    }
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
    /// SHA-256 of the discovered inventory's JSON; planned from saved inventories, SHA-256 over
    /// each file's SHA-256 (hex, a newline after each). `apply` refuses the plan when it changes.
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
    /// Older matching credentials still found somewhere and still valid (a copy that could
    /// still be used, or revoked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<Facts>,
    /// How many more older matching credentials were found that have expired: history, not
    /// listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub superseded_expired: usize,
    /// When the certificate in use comes due for renewal, and by what rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<Renewal>,
}

/// When a certificate comes due for renewal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// The instant.
    pub at: Time,
    /// `policy` (its `renewBefore`, or a third of the lifetime) or `ari` (the window the ACME
    /// CA suggests, RFC 9773); renewal windows then decide when the rotation runs.
    pub source: String,
    /// The window the CA suggested, for `ari`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_start: Option<Time>,
    /// Its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_end: Option<Time>,
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
            serial: c.serial.as_deref().map(str::to_owned),
            not_before: c.not_before.or(c.last_rotated).or(c.created),
            not_after: c.not_after.or(c.expires),
            locations: c.locations.iter().map(|l| l.display()).collect(),
        }
    }
}

/// The plan document around `actions` (without findings: [`super::plan`] moves them in).
pub(super) fn assemble(cx: &Context<'_>, actions: Vec<Action>) -> Plan {
    let input = cx.input;
    let rec = cx.rec;
    let inventory = &input.inventory.credentials;
    // Expired strictly after notAfter, as everywhere.
    let expired = |c: &crate::discover::Credential| {
        c.not_after.or(c.expires).is_some_and(|t| t.0 < input.now)
    };
    // Written in place on every core, not gathered in a list per part and copied.
    let mut credentials: Vec<CredentialState> = Vec::new();
    crate::parallel::extend(&mut credentials, rec.statuses.len(), |i| {
        let s = &rec.statuses[i];
        let policy = cx.policy(s);
        CredentialState {
            identity: s.identity.clone(),
            credential: s.credential.clone(),
            credential_type: cx
                .spec(s)
                .map(|(_, c)| c.credential_type.value.as_str().to_owned())
                .unwrap_or_default(),
            owner: cx.owner_of(&s.identity),
            policy: s.policy.clone(),
            trust_domain: policy.map(|p| p.spec.trust_domain.value.clone()),
            current: s.current.map(|i| Facts::of(&inventory[i])),
            superseded: s
                .superseded
                .iter()
                .map(|&i| &inventory[i])
                .filter(|c| !expired(c))
                .map(Facts::of)
                .collect(),
            superseded_expired: s
                .superseded
                .iter()
                .filter(|&&i| expired(&inventory[i]))
                .count(),
            renewal: s
                .current
                .map(|i| &inventory[i])
                .filter(|c| c.kind == crate::discover::CredentialKind::X509Certificate)
                .and_then(|c| {
                    let renew_before = policy
                        .and_then(|p| p.spec.renew_before.as_ref())
                        .map(|r| r.value);
                    crate::reconcile::renewal::due(c, renew_before, input.renewal_info)
                })
                .map(|(at, suggested)| Renewal {
                    at: Time(at),
                    source: if suggested.is_some() { "ari" } else { "policy" }.into(),
                    suggested_start: suggested.map(|s| s.start),
                    suggested_end: suggested.map(|s| s.end),
                }),
        }
    });
    let mut severities = SeverityCounts::default();
    let mut suppressed = 0;
    for f in &rec.findings {
        if f.suppressed.is_some() {
            suppressed += 1;
            continue;
        }
        *match f.severity {
            Severity::Critical => &mut severities.critical,
            Severity::High => &mut severities.high,
            Severity::Medium => &mut severities.medium,
            Severity::Low => &mut severities.low,
        } += 1;
    }
    let mut counts = ActionCounts::default();
    for a in &actions {
        *match a.kind {
            ActionKind::Rotate => &mut counts.rotate,
            ActionKind::Revoke => &mut counts.revoke,
            ActionKind::Escalate => &mut counts.escalate,
            ActionKind::Adopt => &mut counts.adopt,
            ActionKind::Review => &mut counts.review,
        } += 1;
    }
    let errored = !file::failed_sources(input.inventory).is_empty();
    let deferred = actions.iter().filter(|a| a.deferred(input.now)).count();
    let matched = rec.statuses.iter().filter(|s| s.current.is_some()).count();
    let summary = Summary {
        identities: input.model.identities.len(),
        declared: rec.statuses.len(),
        discovered: inventory.len(),
        matched,
        missing: rec.statuses.len() - matched,
        unmanaged: rec
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::Unmanaged)
            .count(),
        findings: severities,
        suppressed,
        actions: counts,
        deferred,
    };
    let applyable = !errored
        && actions.iter().any(|a| {
            matches!(
                a.kind,
                ActionKind::Rotate | ActionKind::Revoke | ActionKind::Escalate
            )
        });
    Plan {
        format_version: FORMAT_VERSION,
        id: String::new(),
        generated_at: Time(input.now),
        trustops_version: env!("CARGO_PKG_VERSION").to_owned(),
        inputs: cx.options.inputs.clone(),
        applyable,
        complete: !errored && deferred == 0,
        errored,
        summary,
        credentials,
        findings: Vec::new(),
        references: BTreeMap::new(),
        actions,
        problems: input.inventory.diagnostics.clone(),
        digest: String::new(),
        signature: None,
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
