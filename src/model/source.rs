//! `Source`: where credentials are discovered. Exactly one type block is set.

use super::{Duration, Kind, KindSpec, Spanned};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A place to discover certificates, keys and secrets. Set exactly one of `files`, `tls`,
/// `kubernetes`, `exec`, `scanner`.
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
}

impl KindSpec for SourceSpec {
    const KIND: Kind = Kind::Source;
    const DESCRIPTION: &'static str = "A Source: files, TLS endpoints, Kubernetes manifests, an exec plugin or a secret-scanner report to discover credentials in.";
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
