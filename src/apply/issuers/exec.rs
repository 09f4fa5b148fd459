//! `exec`: a command speaking trustops' issuer contract — one JSON request on stdin, one JSON
//! response on stdout (`schemas/exec-issuer-request.schema.json`,
//! `schemas/exec-issuer-response.schema.json`). The bridge to Vault, cloud secret managers,
//! databases and in-house CAs.
//!
//! ```json
//! {"contract": "trustops.dev/issuer/v1", "operation": "issue",
//!  "idempotency_key": "plan-1a2b…/rotate:db-svc/tls/2",
//!  "identity": "db-svc", "credential": "password", "type": "secret",
//!  "workload": "spiffe://…", "dns_names": [], "ip_addresses": [], "uris": [],
//!  "not_before": null, "not_after": null, "csr_pem": null}
//! ```
//! answered by `{"certificate_chain_pem": "…"}` for certificates, or
//! `{"reference": "vault:secret/db#v7", "metadata": {"version": "7"}}` for secrets, API keys and
//! tokens — where the new value was stored, never the value — or `{"error": "…"}`. A plugin
//! that sees an idempotency key again must answer as it did the first time: that is how a
//! resumed apply never issues twice.

use super::{Issued, Issuer, Request};
use crate::discover::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The contract name and version requests carry.
pub const CONTRACT: &str = "trustops.dev/issuer/v1";

/// What trustops sends an exec issuer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExecRequest {
    /// Always `trustops.dev/issuer/v1`.
    pub contract: String,
    /// Always `issue` in this version.
    pub operation: String,
    /// The same for every retry of the same step: answer a repeated key as the first time.
    pub idempotency_key: String,
    /// The identity.
    pub identity: String,
    /// The credential's name.
    pub credential: String,
    /// `x509-certificate`, `secret`, `api-key` or `token`.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// The identity's workload URI (SPIFFE ID), if declared.
    pub workload: Option<String>,
    /// Certificates: DNS SANs.
    pub dns_names: Vec<String>,
    /// Certificates: IP SANs.
    pub ip_addresses: Vec<String>,
    /// Certificates: URI SANs.
    pub uris: Vec<String>,
    /// Certificates: start of validity.
    pub not_before: Option<Time>,
    /// Certificates: end of validity.
    pub not_after: Option<Time>,
    /// Certificates: the PKCS#10 request, PEM (the private key stays with trustops).
    pub csr_pem: Option<String>,
}

/// What an exec issuer answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecResponse {
    /// Certificates: the chain, leaf first, PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_chain_pem: Option<String>,
    /// Secrets: where the new value was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Secrets: facts about the new value (version, expiry), never the value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Why it could not issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `error`: whether trying again later may succeed (the backend was unreachable,
    /// overloaded or rate-limited). Default false: the request was refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
}

/// An exec issuer, configured.
#[derive(Clone, Debug)]
pub struct Exec {
    /// The issuer's name, for messages.
    pub name: String,
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Folder the program runs in (the repository root).
    pub dir: PathBuf,
    /// Longest a call may take.
    pub timeout: Duration,
}

impl Exec {
    /// The request for `request`, with its idempotency key.
    pub fn request(request: &Request, idempotency_key: &str) -> ExecRequest {
        let mut out = ExecRequest {
            contract: CONTRACT.into(),
            operation: "issue".into(),
            idempotency_key: idempotency_key.into(),
            ..ExecRequest::default()
        };
        match request {
            Request::Certificate(r) => {
                let (identity, credential) = r.target.split_once('/').unwrap_or((&r.target, ""));
                out.identity = identity.into();
                out.credential = credential.into();
                out.credential_type = "x509-certificate".into();
                out.workload = r.uris.first().cloned();
                out.dns_names = r.dns_names.clone();
                out.ip_addresses = r.ip_addresses.iter().map(ToString::to_string).collect();
                out.uris = r.uris.clone();
                out.not_before = Some(Time(r.not_before));
                out.not_after = Some(Time(r.not_after));
                out.csr_pem = Some(r.csr_pem.clone());
            }
            Request::Secret(r) => {
                out.identity = r.identity.clone();
                out.credential = r.credential.clone();
                out.credential_type = r.credential_type.clone();
                out.workload = r.workload.clone();
            }
        }
        out
    }
}

impl Issuer for Exec {
    /// A plugin that cannot be started, times out or exits non-zero may pass (its backend was
    /// down); an answer outside the contract will not; an `error` answer says which it is.
    fn issue(&self, request: &Request, idempotency_key: &str) -> Result<Issued, super::Error> {
        self.call(request, idempotency_key)
    }
}

impl Exec {
    fn call(&self, request: &Request, idempotency_key: &str) -> Result<Issued, super::Error> {
        use super::Error;
        let body = serde_json::to_vec(&Self::request(request, idempotency_key))
            .map_err(|e| Error::permanent(e.to_string()))?;
        let options = crate::command::Options {
            argv: self.argv.clone(),
            dir: self.dir.clone(),
            stdin: Some(body),
            timeout: self.timeout,
            max_output: 4 << 20,
            guard: crate::git::git_dir(&self.dir).ok().map(|git| {
                let id = crate::discover::sha256_hex(idempotency_key.as_bytes());
                git.join("trustops")
                    .join("running")
                    .join(format!("{}.json", &id[..16]))
            }),
        };
        let outcome = crate::command::run(&options)
            .map_err(|e| Error::retryable(crate::command::describe(&e)))?;
        if outcome.code != Some(0) {
            let stderr = String::from_utf8_lossy(&outcome.stderr);
            return Err(Error::retryable(format!(
                "{} exited with {}: {}",
                self.name,
                outcome
                    .code
                    .map_or_else(|| "a signal".into(), |c| c.to_string()),
                stderr.lines().last().unwrap_or("").trim()
            )));
        }
        let response: ExecResponse = serde_json::from_slice(&outcome.stdout).map_err(|e| {
            Error::permanent(format!("{} answered outside the contract: {e}", self.name))
        })?;
        match response {
            ExecResponse {
                error: Some(error),
                retryable,
                ..
            } => {
                let message = format!("{}: {error}", self.name);
                Err(if retryable {
                    Error::retryable(message)
                } else {
                    Error::permanent(message)
                })
            }
            ExecResponse {
                certificate_chain_pem: Some(chain),
                ..
            } if matches!(request, Request::Certificate(_)) => {
                Ok(Issued::Certificate { chain_pem: chain })
            }
            ExecResponse {
                reference: Some(reference),
                metadata,
                ..
            } if matches!(request, Request::Secret(_)) => Ok(Issued::Secret {
                reference,
                metadata,
            }),
            _ => Err(Error::permanent(format!(
                "{} answered without {}",
                self.name,
                if matches!(request, Request::Certificate(_)) {
                    "certificate_chain_pem"
                } else {
                    "reference"
                }
            ))),
        }
    }
}
