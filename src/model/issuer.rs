//! `Issuer`: where new credentials come from. Exactly one type block is set, as in
//! cert-manager (`localCa`, `acme`, `cfssl` or `exec`).

use super::{Duration, Kind, KindSpec, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A certificate authority or other credential issuer. Set exactly one of `localCa`, `acme`,
/// `cfssl`, `exec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IssuerSpec {
    /// What this issuer is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Subject DNs (RFC 4514, as `trustops discover` prints them) of the CA certificates that
    /// sign for this issuer, so a discovered certificate can be traced to it, e.g.
    /// `CN=R11,O=Let's Encrypt,C=US`. For `localCa` the subject of `certFile` is added
    /// automatically. Certificates are checked against `allowedIssuers` only when every
    /// allowed issuer's subjects are known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_subjects: Vec<String>,
    /// Where this issuer publishes its certificate revocation list: an `http(s)://` URL or a
    /// file (relative to the repository). Certificates its CAs signed are checked against it,
    /// besides the distribution points they name. `localCa.crlFile` and a cfssl server's CRL
    /// are used without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl: Option<Spanned<String>>,
    /// A CA whose certificate and key are files on the machine running trustops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_ca: Option<LocalCa>,
    /// An RFC 8555 ACME server (Let's Encrypt, step-ca, pebble, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<Acme>,
    /// A CFSSL CA API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfssl: Option<Cfssl>,
    /// A command speaking trustops' issuer JSON contract on stdin/stdout (for Vault, cloud
    /// secret managers, databases, anything else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecIssuer>,
    /// A HashiCorp Vault or OpenBao PKI engine: signs trustops' CSR through a role and
    /// revokes by serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultIssuer>,
}

/// A Vault / OpenBao PKI role that signs certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultIssuer {
    /// The server's address, e.g. `https://vault.internal:8200`.
    pub address: Spanned<String>,
    /// How to log in. Default: a token in the environment variable `VAULT_TOKEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<super::VaultAuth>,
    /// A Vault Enterprise / OpenBao namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// PEM roots to trust for the server's HTTPS besides the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<Spanned<String>>,
    /// The PKI mount. Default: `pki`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    /// The role that signs (`{mount}/sign/{role}`): it decides which names are allowed.
    /// Needed to issue certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Spanned<String>>,
    /// The field of a KV v2 secret that a rotation writes a new value to (its other fields are
    /// kept). The secret is the credential's `match.secretId` (`vault:MOUNT/PATH`). Default:
    /// `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_field: Option<String>,
    /// How long one request may take. Default: 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

impl KindSpec for IssuerSpec {
    const KIND: Kind = Kind::Issuer;
    const DESCRIPTION: &'static str = "An Issuer: a local CA, an ACME server, a CFSSL CA API, a Vault/OpenBao PKI role or an exec plugin that issues credentials.";
}

/// The type of an issuer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuerKind {
    /// `localCa`.
    LocalCa,
    /// `acme`.
    Acme,
    /// `cfssl`.
    Cfssl,
    /// `exec`.
    Exec,
    /// `vault`.
    Vault,
}

impl IssuerSpec {
    /// The types configured (valid specs have exactly one).
    pub fn kinds(&self) -> Vec<IssuerKind> {
        [
            self.local_ca.as_ref().map(|_| IssuerKind::LocalCa),
            self.acme.as_ref().map(|_| IssuerKind::Acme),
            self.cfssl.as_ref().map(|_| IssuerKind::Cfssl),
            self.exec.as_ref().map(|_| IssuerKind::Exec),
            self.vault.as_ref().map(|_| IssuerKind::Vault),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A CA from files. Paths are relative to the repository root unless absolute; the key must
/// live outside the repository (or be given through `keyEnv`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LocalCa {
    /// PEM file with the CA certificate.
    pub cert_file: Spanned<String>,
    /// PEM file with the CA private key (PKCS#8 or SEC1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<Spanned<String>>,
    /// Environment variable holding the CA private key PEM, instead of `keyFile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<Spanned<String>>,
    /// Where the CA's certificate revocation list is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_file: Option<Spanned<String>>,
}

/// An ACME account on a directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Acme {
    /// The directory URL, e.g. `https://acme-v02.api.letsencrypt.org/directory`.
    pub directory_url: Spanned<String>,
    /// Contact e-mail for the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// File holding the account key; created on first use.
    pub account_key_file: Spanned<String>,
    /// A PEM root certificate to trust for the directory's HTTPS instead of the system's
    /// roots (private ACME servers such as step-ca or pebble): the first certificate in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<Spanned<String>>,
    /// Solve http-01 challenges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http01: Option<Http01>,
    /// Solve dns-01 challenges through a hook command, called with `present|cleanup`, the
    /// record name and its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns01_command: Option<Vec<String>>,
}

/// How to answer http-01 challenges: a built-in responder or files in a web root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Http01 {
    /// Address for the built-in responder, e.g. `0.0.0.0:80`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<Spanned<String>>,
    /// A folder served at `/.well-known/acme-challenge/` by an existing web server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webroot: Option<Spanned<String>>,
}

/// A CFSSL server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cfssl {
    /// Base URL, e.g. `https://ca.internal:8888`.
    pub url: Spanned<String>,
    /// Signing profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// CA label, for multi-root servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Extra PEM roots to trust for the server's HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<Spanned<String>>,
}

/// A command that issues credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecIssuer {
    /// Program and arguments; the program is found on `PATH` or relative to the repository.
    pub command: Spanned<Vec<String>>,
    /// How long one call may take. Default: 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}
