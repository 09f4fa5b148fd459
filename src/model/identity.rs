//! `Identity`: a workload or service account, who owns it, and the credentials it uses.

use super::{Kind, KindSpec, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A workload, service account or machine and the credentials it uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentitySpec {
    /// What this identity is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The Owner responsible for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Spanned<String>>,
    /// The workload identity as a URI, usually a SPIFFE ID
    /// (`spiffe://example.org/ns/prod/sa/payments`). New certificates carry it as a URI SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Spanned<String>>,
    /// The Policy for its credentials (each credential may name its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Spanned<String>>,
    /// The credentials this identity uses.
    #[serde(default)]
    pub credentials: Vec<Credential>,
}

impl IdentitySpec {
    /// Gives back the room deserializing left in its lists: a list read from YAML starts with
    /// room for four, so an identity of one credential kept about 2.3 KB it never used, a third
    /// of what 100,000 declared identities took in memory.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.credentials.shrink_to_fit();
        for c in &mut self.credentials {
            c.issuers.shrink_to_fit();
            c.dns_names.shrink_to_fit();
            c.ip_addresses.shrink_to_fit();
            c.deploy.shrink_to_fit();
            c.rotate_with.shrink_to_fit();
            c.depends_on.shrink_to_fit();
            c.match_rule.value.dns_names.shrink_to_fit();
            for d in &mut c.deploy {
                if let Some(reload) = &mut d.reload {
                    reload.shrink_to_fit();
                }
            }
        }
    }
}

impl KindSpec for IdentitySpec {
    const KIND: Kind = Kind::Identity;
    const DESCRIPTION: &'static str =
        "An Identity: a workload or service account, its owner, policy and credentials.";
}

/// One credential of an identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Credential {
    /// Name, unique within the identity; `rotateWith`/`dependsOn` refer to it.
    pub name: Spanned<String>,
    /// What it is.
    #[serde(rename = "type")]
    pub credential_type: Spanned<CredentialType>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A Policy for this credential instead of the identity's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Spanned<String>>,
    /// Issuers in order of preference, overriding the policy's `issuers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<Spanned<String>>,
    /// How to recognise this credential among discovered ones. Every rule given must hold.
    #[serde(rename = "match")]
    pub match_rule: Spanned<Match>,
    /// Common name for new certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    /// DNS names a certificate must carry (its declared SANs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<Spanned<String>>,
    /// IP addresses a certificate must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<Spanned<String>>,
    /// Where a new credential is written, and what to run afterwards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deploy: Vec<Deploy>,
    /// Credentials rotated in the same step, after this one: `name` in this identity or
    /// `identity/name` elsewhere (e.g. the database password a certificate's service uses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotate_with: Vec<Spanned<String>>,
    /// Credentials that must be rotated before this one (same reference form).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Spanned<String>>,
}

/// The `(identity, credential)` a `rotateWith`/`dependsOn` entry of `identity` names: `name`
/// in the same identity, or `other/name`.
pub fn split_reference<'a>(identity: &'a str, reference: &'a str) -> (&'a str, &'a str) {
    reference.split_once('/').unwrap_or((identity, reference))
}

/// Credential types.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Deserialize,
    Serialize,
    JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialType {
    /// An X.509 certificate (with its private key).
    #[default]
    X509Certificate,
    /// A private key on its own.
    PrivateKey,
    /// An SSH key pair.
    SshKey,
    /// A secret such as a password.
    Secret,
    /// An API key.
    ApiKey,
    /// A bearer or service-account token.
    Token,
}

impl CredentialType {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::X509Certificate => "x509-certificate",
            CredentialType::PrivateKey => "private-key",
            CredentialType::SshKey => "ssh-key",
            CredentialType::Secret => "secret",
            CredentialType::ApiKey => "api-key",
            CredentialType::Token => "token",
        }
    }
}

/// Rules that recognise a credential in the inventory. At least one must be set; all that
/// are set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Match {
    /// A URI SAN the certificate carries, usually the SPIFFE ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// DNS SANs the certificate carries (all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    /// Subject DN in RFC 4514 form, e.g. `CN=api.example.com,O=Acme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Issuer DN in RFC 4514 form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// SHA-256 fingerprint (hex, optionally `sha256:`-prefixed) of the certificate or key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Spanned<String>>,
    /// Only credentials found by this Source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Spanned<String>>,
    /// Only credentials found at this location: a path glob, `host:port`, or
    /// `namespace/name` for Kubernetes objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The id a secret store reports for a secret, API key or token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
}

impl Match {
    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        self.uri.is_none()
            && self.dns_names.is_empty()
            && self.subject.is_none()
            && self.issuer.is_none()
            && self.fingerprint.is_none()
            && self.source.is_none()
            && self.location.is_none()
            && self.secret_id.is_none()
    }
}

/// A deploy target for a new credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Deploy {
    /// File for the certificate chain (leaf first), PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<Spanned<String>>,
    /// File for the private key, PEM; written with `keyMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<Spanned<String>>,
    /// Mode of the certificate file, octal. Default: `0644`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Spanned<String>>,
    /// Mode of the key file, octal. Default: `0600`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_mode: Option<Spanned<String>>,
    /// Command run after the files are written (e.g. `systemctl reload nginx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload: Option<Vec<String>>,
}
