//! `Source`: where credentials are discovered. Exactly one type block is set.

use super::{Duration, Kind, KindSpec, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A place to discover certificates, keys and secrets. Set exactly one of `files`, `tls`,
/// `kubernetes`, `exec`, `scanner`, `vault`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceSpec {
    /// What this source covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Certificate and key files (PEM, DER, PKCS#7, PKCS#12, OpenSSH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<FilesSource>,
    /// TLS endpoints whose served chains are recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSource>,
    /// Kubernetes manifests: `kubernetes.io/tls` Secrets and cert-manager Certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubernetesSource>,
    /// A command printing an inventory as JSON (Vault, cloud secret stores, CI secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecSource>,
    /// A secret scanner's JSON report (gitleaks, trufflehog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<ScannerSource>,
    /// A HashiCorp Vault or OpenBao server: KV v2 secret metadata and PKI certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultSource>,
}

impl KindSpec for SourceSpec {
    const KIND: Kind = Kind::Source;
    const DESCRIPTION: &'static str = "A Source: files, TLS endpoints, Kubernetes manifests, an exec plugin, a secret-scanner report or a Vault/OpenBao server to discover credentials in.";
}

/// The type of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// `files`.
    Files,
    /// `tls`.
    Tls,
    /// `kubernetes`.
    Kubernetes,
    /// `exec`.
    Exec,
    /// `scanner`.
    Scanner,
    /// `vault`.
    Vault,
}

impl SourceSpec {
    /// The types configured (valid specs have exactly one).
    pub fn kinds(&self) -> Vec<SourceKind> {
        [
            self.files.as_ref().map(|_| SourceKind::Files),
            self.tls.as_ref().map(|_| SourceKind::Tls),
            self.kubernetes.as_ref().map(|_| SourceKind::Kubernetes),
            self.exec.as_ref().map(|_| SourceKind::Exec),
            self.scanner.as_ref().map(|_| SourceKind::Scanner),
            self.vault.as_ref().map(|_| SourceKind::Vault),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Files matched by glob patterns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilesSource {
    /// Glob patterns (`/etc/ssl/**/*.pem`); relative ones start at the repository root.
    pub paths: Spanned<Vec<String>>,
    /// Glob patterns to skip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Environment variable holding the password of PKCS#12 files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12_password_env: Option<Spanned<String>>,
}

/// TLS endpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSource {
    /// Endpoints to connect to.
    pub endpoints: Vec<Endpoint>,
    /// Per-endpoint connect and handshake timeout. Default: 5s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

/// One TLS endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Endpoint {
    /// `host:port`, e.g. `api.example.com:443` or `[::1]:8443`.
    pub address: Spanned<String>,
    /// Server name to send (SNI). Default: the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
}

/// Kubernetes manifests on disk (`kubectl get secrets -A -o yaml` exports or a folder).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesSource {
    /// Glob patterns of manifest files.
    pub manifests: Spanned<Vec<String>>,
}

/// An inventory plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecSource {
    /// Program and arguments.
    pub command: Spanned<Vec<String>>,
    /// How long the command may run. Default: 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

/// A secret scanner's report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScannerSource {
    /// Which scanner wrote the report.
    pub format: ScannerFormat,
    /// Path of the JSON report.
    pub report: Spanned<String>,
}

/// Supported secret scanners.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScannerFormat {
    /// gitleaks `--report-format json`.
    #[default]
    Gitleaks,
    /// trufflehog `--json` (one object per line).
    Trufflehog,
}

/// A HashiCorp Vault or OpenBao server, read through its HTTP API: the metadata of KV v2
/// secrets (never their values) and the certificates PKI mounts issued.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultSource {
    /// The server's address, e.g. `https://vault.internal:8200`.
    pub address: Spanned<String>,
    /// How to log in. Default: a token in the environment variable `VAULT_TOKEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<VaultAuth>,
    /// A Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// PEM roots to trust for the server's HTTPS besides the system's (a private CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<Spanned<String>>,
    /// KV version 2 mounts to list, each with an optional path prefix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kv: Vec<VaultKv>,
    /// PKI mounts whose issued certificates are read, e.g. `pki`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pki: Vec<Spanned<String>>,
    /// How long one request may take. Default: 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

/// One KV v2 mount, optionally only under a path prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultKv {
    /// The mount, e.g. `secret`.
    pub mount: Spanned<String>,
    /// Only secrets under this path, e.g. `payments/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// How trustops logs in to Vault/OpenBao. Secrets come from the environment or files, never
/// from the repository.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultAuth {
    /// A token in this environment variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// AppRole: the role id and secret id, each from an environment variable or a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_role: Option<VaultAppRole>,
    /// Kubernetes auth: a service-account token file (default
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token`) and the Vault role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<VaultKubernetes>,
}

/// AppRole credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultAppRole {
    /// The auth mount. Default: `approle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    /// Environment variable holding the role id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id_env: Option<String>,
    /// File holding the role id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id_file: Option<String>,
    /// Environment variable holding the secret id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id_env: Option<String>,
    /// File holding the secret id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id_file: Option<String>,
}

/// Kubernetes auth.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultKubernetes {
    /// The auth mount. Default: `kubernetes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    /// The Vault role to log in as.
    pub role: String,
    /// The service-account token file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_file: Option<String>,
}
