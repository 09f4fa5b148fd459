//! `Owner`: who answers for identities, how to reach them, and whom to escalate to.

use super::{Duration, Kind, KindSpec, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A team, person or service responsible for identities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OwnerSpec {
    /// Human-readable name, e.g. "Payments Platform".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Whether this owner is a team (default), a person or a service.
    #[serde(default, rename = "type")]
    pub owner_type: OwnerType,
    /// How to reach this owner; notices go to every contact.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// The escalation ladder: when a notice is not resolved `after` this long since the first
    /// notice, the step's owner or contacts are told too. Steps in increasing `after` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<EscalationStep>,
}

impl KindSpec for OwnerSpec {
    const KIND: Kind = Kind::Owner;
    const DESCRIPTION: &'static str = "An Owner: a team or person responsible for identities, with contacts and an escalation ladder.";
}

/// What sort of owner this is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerType {
    /// A team (the default).
    #[default]
    Team,
    /// A single person.
    Person,
    /// An automated service or bot account.
    Service,
}

/// One way to reach an owner. Set at least one of `email` and `webhookEnv`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Contact {
    /// Who this is, for messages ("on-call", "Jane Doe").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Spanned<String>>,
    /// The name of an environment variable holding a webhook URL (Slack, Teams or any JSON
    /// receiver). The URL is a secret, so it is never written in the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_env: Option<Spanned<String>>,
}

/// One rung of an escalation ladder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EscalationStep {
    /// How long after the first notice this step applies, e.g. `3d`.
    pub after: Spanned<Duration>,
    /// Another owner whose contacts are told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Spanned<String>>,
    /// Extra contacts told at this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
}
