//! The record of one applied action.

use crate::discover::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One applied (or failed, or skipped) action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Record {
    /// Always [`super::FORMAT_VERSION`].
    pub format_version: u32,
    /// The plan applied.
    pub plan: String,
    /// The action's id in that plan.
    pub action: String,
    /// What kind of action it was.
    pub kind: crate::plan::ActionKind,
    /// The identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// The identity's owner at that moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The effective policy at that moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The commit holding the declarations the plan was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declarations_commit: Option<String>,
    /// Who approved: a CI actor (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`) or the local Git identity.
    pub approver: String,
    /// When the action started.
    pub started: Time,
    /// When it ended.
    pub finished: Time,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Per credential of the group: old and new facts, and the issuer used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Every step, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
}

/// How an action ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every step succeeded.
    #[default]
    Applied,
    /// A step failed; the old credential stays deployed.
    Failed,
    /// A step failed after other credentials of the group were issued, deployed and
    /// verified: those stay deployed, the rest did not rotate with them. Needs attention.
    Partial,
    /// Not run (waiting for approval, or its time has not come).
    Skipped,
}

impl Outcome {
    /// Whether a step failed (the whole group or part of it did not rotate).
    pub fn failed(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Partial)
    }
}

/// How a step ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepResult {
    /// It did what it says.
    #[default]
    Ok,
    /// It failed; the detail says why.
    Failed,
    /// Not attempted (an e-mail with no relay declared).
    Skipped,
}

/// One credential replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// `identity/credential`.
    pub target: String,
    /// The issuer that issued the new credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Issuers tried before it, and why each failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuer_failures: Vec<IssuerFailure>,
    /// SHA-256 of the replaced credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_sha256: Option<String>,
    /// Its serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_serial: Option<String>,
    /// Its notAfter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_not_after: Option<Time>,
    /// SHA-256 of the new credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_sha256: Option<String>,
    /// Its serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_serial: Option<String>,
    /// Its notAfter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_not_after: Option<Time>,
    /// Where a new secret was stored (a reference, never the value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// An issuer that failed before another issued.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IssuerFailure {
    /// The issuer.
    pub issuer: String,
    /// What went wrong.
    pub error: String,
    /// Whether it may pass by itself (the network, a timeout, a 5xx, a rate limit); a
    /// refusal is not retried until the declarations change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
}

/// One step of an action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepRecord {
    /// `issue`, `deploy`, `verify`, `revoke`.
    pub step: String,
    /// `identity/credential`.
    pub target: String,
    /// How the step ended.
    pub result: StepResult,
    /// What happened (files written, issuer used, the error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
