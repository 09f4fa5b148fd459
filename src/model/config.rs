//! `trustops.yaml`: repository-level settings at the root of a governance repository.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of a governance repository (`trustops.yaml` at its root; optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepoConfig {
    /// Folders or files (relative to the root) holding declarations. Default: the whole
    /// repository except `audit/` and hidden folders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Folders or files under `paths` to skip (e.g. discovery fixtures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// The SMTP relay that e-mails escalations to owners' `email` contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Smtp>,
    /// Owners (names of declared Owners) who approve trust changes in `trustops diff`:
    /// policies, issuers, sources, exceptions and these settings. A change's approvers are
    /// the ones declared in the base revision, never those of identities it benefits: the
    /// owners of identities under a loosened policy cannot approve it alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_approvers: Vec<super::Spanned<String>>,
    /// Refuse to apply a plan file that is not signed (`trustops plan --out FILE
    /// --signing-key KEY`) by a key the committed `allowed_signers` allows. Default: unsigned
    /// plans apply, their rotations and revocations re-derived from what apply discovers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_signed_plans: bool,
}

/// An SMTP relay. Credentials come from environment variables, never from the repository.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Smtp {
    /// Host name of the relay (also the name its TLS certificate must carry).
    pub host: String,
    /// Port. Default: 587 (submission, STARTTLS); 465 with `tls: implicit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The sender address, e.g. `trustops@example.com`.
    pub from: String,
    /// `starttls` (the default: nothing is sent unless the relay upgrades the connection),
    /// `implicit` (TLS from the first byte) or `none` (plain text, for a relay on loopback only).
    #[serde(default)]
    pub tls: SmtpTls,
    /// Environment variable holding the user name, if the relay wants a login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_env: Option<String>,
    /// Environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// PEM roots to trust for the relay's certificate besides the system's (a private CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

/// How the connection to the SMTP relay is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Upgrade with STARTTLS, and refuse to send when the relay does not offer it.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Implicit,
    /// No TLS: only to a relay on loopback.
    None,
}

/// The file name of the repository settings, at the repository root.
pub fn config_file_name() -> &'static str {
    "trustops.yaml"
}
