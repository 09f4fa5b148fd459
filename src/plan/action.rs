//! Actions: what the plan proposes to do, each with the findings that call for it.

use crate::discover::Time;
use crate::model::Approval;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Kinds of action, in the order a plan lists them.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Replace a credential and everything linked to it, as one group.
    #[default]
    Rotate,
    /// Revoke a certificate that was replaced but is still valid.
    Revoke,
    /// Tell the owner (and the escalation ladder) about an approaching or past expiry.
    Escalate,
    /// Declare an unmanaged credential: a ready-to-commit Identity.
    Adopt,
    /// Something only a person can settle.
    Review,
}

impl ActionKind {
    /// Every kind, in plan order.
    pub const ALL: [ActionKind; 5] = [
        ActionKind::Rotate,
        ActionKind::Revoke,
        ActionKind::Escalate,
        ActionKind::Adopt,
        ActionKind::Review,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Rotate => "rotate",
            ActionKind::Revoke => "revoke",
            ActionKind::Escalate => "escalate",
            ActionKind::Adopt => "adopt",
            ActionKind::Review => "review",
        }
    }
}

/// One planned action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    /// Stable id, e.g. `rotate:payments-api/mtls`; `apply --approve` takes it.
    pub id: String,
    /// What kind of action.
    pub kind: ActionKind,
    /// The owner who answers for it (grouping key of the text and Markdown output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The identity concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The credential concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// The discovered credential concerned (revoke, adopt, review of unowned keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// One line for people.
    pub summary: String,
    /// Ids of the findings behind it.
    pub reasons: Vec<String>,
    /// `manual`: `apply` carries it out only with `--approve ID`.
    pub approval: Approval,
    /// Not before this time (the next renewal window); absent: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Time>,
    /// Why it runs when it does, when that is not simply now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Rotate and revoke: the steps, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Escalate: who is told, and why now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Box<Notice>>,
    /// Adopt: the Identity declaration to commit (as YAML: [`Action::declaration`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adoption: Option<Box<super::Adoption>>,
}

impl Action {
    /// Adopt: the Identity declaration to commit, as YAML.
    pub fn declaration(&self) -> Option<String> {
        let adoption = self.adoption.as_ref()?;
        Some(adoption.yaml(self.owner.as_deref()))
    }

    /// True when `apply` would not carry it out right now: scheduled later, waiting for an
    /// approver, or needing a person.
    pub fn deferred(&self, now: jiff::Timestamp) -> bool {
        self.approval == Approval::Manual
            || self.kind == ActionKind::Review
            || self.kind == ActionKind::Adopt
            || self.not_before.is_some_and(|t| t.0 > now)
    }
}

/// Kinds of rotation step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Get a new credential from the first issuer that answers.
    #[default]
    Issue,
    /// Write it to its deploy targets and run the reload command.
    Deploy,
    /// Rediscover the deployed locations and check them against the declaration.
    Verify,
    /// Revoke the replaced certificate through the issuer that issued it.
    Revoke,
}

/// One step of a rotation or revocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// What the step does.
    pub step: StepKind,
    /// `identity/credential`.
    pub target: String,
    /// Issue: the issuers to try, in order. Revoke: the issuer that issued the certificate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<String>,
    /// Deploy and verify: files written or checked, as declared. Revoke: files the
    /// certificate was found in (ACME revokes by the certificate's contents).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Deploy: the reload command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reload: Vec<Vec<String>>,
    /// Revoke: the certificate's SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Revoke: the certificate's serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Revoke: the RFC 5280 reason, by name (`keyCompromise`); absent: `superseded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why and whom an escalation tells.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Notice {
    /// When the credential expires.
    pub expires: Time,
    /// Seconds left (negative: expired).
    pub seconds_left: i64,
    /// The tightest `notify.beforeExpiry` threshold crossed, e.g. `15d`.
    pub threshold: String,
    /// When the first notice was sent (the one recorded in the audit trail), or now when this
    /// is the first. The ladder counts from here.
    pub first_notice: Time,
    /// Who is told: the owner's contacts (`step` 0), then each ladder step reached.
    pub recipients: Vec<Recipient>,
}

/// One person or channel to tell.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Recipient {
    /// 0 for the owner, n for the n-th escalation step.
    pub step: usize,
    /// The owner whose contact this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The contact's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Environment variable holding a webhook URL (the URL itself is a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_env: Option<String>,
    /// Why this contact cannot be reached, when it cannot (an e-mail address with no SMTP relay
    /// declared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
}
