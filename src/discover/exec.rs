//! The `exec` source: run a command that prints an inventory as JSON. This is the bridge to
//! secret managers (Vault, cloud secret stores, CI secret stores): the plugin reports what
//! exists and its metadata, never values.
//!
//! The contract (JSON Schema: `schemas/exec-inventory.schema.json`), printed on stdout:
//!
//! ```json
//! {"format_version": 1,
//!  "credentials": [{"kind": "api-key", "id": "secret/payments/stripe",
//!                   "fingerprint": "<sha256 hex of the value>",
//!                   "created": "2026-01-01T00:00:00Z", "last_rotated": "2026-03-01T00:00:00Z",
//!                   "expires": null, "location": "vault://secret/payments/stripe",
//!                   "metadata": {"engine": "kv-v2"}}]}
//! ```
//!
//! The command runs in the repository root with stdin closed; a non-zero exit, a timeout or
//! output that is not the contract fails the source. `fingerprint` lets trustops see a
//! rotation (a new value has a new fingerprint) without seeing the value.

use super::inventory::{Collector, Credential, CredentialKind, Location, Time};
use super::{Context, Error, Source, blob};
use crate::command;
use crate::model::ExecSource;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What an inventory plugin prints.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecInventory {
    /// Always 1.
    pub format_version: u32,
    /// What the plugin found.
    pub credentials: Vec<ExecCredential>,
}

/// One credential a plugin reports.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecCredential {
    /// What it is.
    pub kind: ExecKind,
    /// Its id in the store, unique within this plugin's output.
    pub id: String,
    /// SHA-256 (64 hex digits) of the value, so rotations are visible; never the value.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// When it was created (RFC 3339).
    #[serde(default)]
    pub created: Option<Time>,
    /// When it was last rotated (RFC 3339).
    #[serde(default)]
    pub last_rotated: Option<Time>,
    /// When it stops working (RFC 3339).
    #[serde(default)]
    pub expires: Option<Time>,
    /// Where the value lives, e.g. `vault://secret/payments/db`.
    #[serde(default)]
    pub location: Option<String>,
    /// For `x509-certificate`: the certificate (chain) in PEM, which is public.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// Extra facts, shown as they are (never values).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// Kinds a plugin may report.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExecKind {
    /// A password or other secret.
    Secret,
    /// An API key.
    ApiKey,
    /// A token.
    Token,
    /// A certificate, given in `certificate_pem`.
    X509Certificate,
}

impl JsonSchema for Time {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Time".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date-time", "description": "RFC 3339, e.g. 2026-05-01T12:00:00Z"})
    }
}

/// Largest output read from a plugin.
const MAX_OUTPUT: usize = 256 << 20;

/// An inventory plugin.
pub(super) struct Exec {
    pub name: String,
    pub command: Vec<String>,
    pub timeout: Duration,
}

impl Exec {
    pub(super) fn declared(name: &str, spec: &ExecSource) -> Self {
        Self {
            name: name.to_owned(),
            command: spec.command.value.clone(),
            timeout: Duration::from_secs(spec.timeout.map_or(60, |t| t.seconds().max(1))),
        }
    }
}

impl Source for Exec {
    fn discover(&self, context: &Context) -> Result<Collector, Error> {
        let options = command::Options {
            argv: self.command.clone(),
            dir: context.base.clone(),
            stdin: None,
            timeout: self.timeout,
            max_output: MAX_OUTPUT,
            guard: None,
        };
        // As the exec issuer: a plugin that could not run or failed may pass; output outside
        // the contract will not.
        let outcome =
            command::run(&options).map_err(|e| Error::retryable(command::describe(&e)))?;
        if outcome.code != Some(0) {
            // Only the first line of stderr: a plugin's diagnostics, kept short.
            let said = String::from_utf8_lossy(&outcome.stderr);
            let first = said
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>();
            return Err(Error::retryable(format!(
                "{} exited with {:?}: {first}",
                self.command[0], outcome.code
            )));
        }
        let inventory: ExecInventory = serde_json::from_slice(&outcome.stdout).map_err(|e| {
            // serde's message can quote a value; say only where the output went wrong.
            Error::permanent(format!(
                "output is not the exec inventory contract (line {}, column {}: {:?})",
                e.line(),
                e.column(),
                e.classify()
            ))
        })?;
        if inventory.format_version != 1 {
            return Err(Error::permanent(format!(
                "unsupported format_version {} (this trustops reads 1)",
                inventory.format_version
            )));
        }
        let mut out = Collector::default();
        for entry in inventory.credentials {
            self.add(entry, &mut out);
        }
        Ok(out)
    }
}

impl Exec {
    fn add(&self, entry: ExecCredential, out: &mut Collector) {
        let place = Location {
            source: self.name.as_str().into(),
            object: Some(
                entry
                    .location
                    .clone()
                    .unwrap_or_else(|| entry.id.clone())
                    .into(),
            ),
            ..Location::default()
        };
        if let ExecKind::X509Certificate = entry.kind {
            let Some(pem) = &entry.certificate_pem else {
                out.problem(place.display(), "x509-certificate without certificate_pem");
                return;
            };
            if blob::scan(pem.as_bytes(), &place, None, out) == blob::Seen::Nothing {
                out.problem(place.display(), "certificate_pem holds no certificate");
            }
            return;
        }
        let fingerprint = match entry.fingerprint.as_deref().map(str::to_ascii_lowercase) {
            Some(f) if f.len() == 64 && f.chars().all(|c| c.is_ascii_hexdigit()) => f,
            Some(_) => {
                out.problem(
                    place.display(),
                    "fingerprint is not 64 hex digits (SHA-256)",
                );
                return;
            }
            // Without a fingerprint the id is the identity: rotations are then seen only
            // through `last_rotated`.
            None => super::inventory::sha256_hex(format!("{}\0{}", self.name, entry.id).as_bytes()),
        };
        out.add(Credential {
            kind: match entry.kind {
                ExecKind::Secret | ExecKind::X509Certificate => CredentialKind::Secret,
                ExecKind::ApiKey => CredentialKind::ApiKey,
                ExecKind::Token => CredentialKind::Token,
            },
            sha256: fingerprint,
            id: Some(entry.id.into()),
            created: entry.created,
            last_rotated: entry.last_rotated,
            expires: entry.expires,
            metadata: entry.metadata,
            locations: vec![place],
            ..Credential::default()
        });
    }
}
