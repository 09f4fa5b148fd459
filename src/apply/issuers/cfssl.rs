//! `cfssl`: the CFSSL CA API. Certificates are signed from the CSR trustops makes
//! (`/api/v1/cfssl/sign`, with the declared DNS names and IPs as `hosts`), and the chain is
//! completed with the CA certificate from `/api/v1/cfssl/info`. Revocation goes through
//! `/api/v1/cfssl/revoke`, which needs the server's certificate database (`-db-config`).

use super::{Error, Issued, Issuer, Request, Revocation};
use serde_json::{Value, json};

/// A CFSSL server, configured.
#[derive(Clone, Debug)]
pub struct Cfssl {
    /// The issuer's name, for messages.
    pub name: String,
    /// Base URL, without a trailing slash.
    pub url: String,
    /// Signing profile.
    pub profile: Option<String>,
    /// CA label, for multi-root servers.
    pub label: Option<String>,
    /// Extra roots to trust for the server's HTTPS (`caFile`, resolved).
    pub ca_file: Option<std::path::PathBuf>,
}

impl Cfssl {
    /// Calls `endpoint` with `body`; the `result` of a successful answer. Not reaching the CA,
    /// a 5xx or a 429 may pass; any other refusal will not.
    fn call(&self, endpoint: &str, body: &Value) -> Result<Value, Error> {
        let url = format!("{}/api/v1/cfssl/{endpoint}", self.url);
        let (status, bytes) =
            crate::http::post_json(&url, &body.to_string(), self.ca_file.as_deref())
                .map_err(|e| Error::retryable(format!("{}: {e}", self.name)))?;
        let classify = |message: String| {
            if status >= 500 || status == 429 {
                Error::retryable(message)
            } else {
                Error::permanent(message)
            }
        };
        let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
            classify(format!(
                "{}: {endpoint} answered {status} without JSON",
                self.name
            ))
        })?;
        if answer["success"] == true {
            return Ok(answer["result"].clone());
        }
        let errors: Vec<String> = answer["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .collect();
        Err(classify(format!(
            "{}: {endpoint} failed ({status}): {}",
            self.name,
            if errors.is_empty() {
                "no reason given".to_owned()
            } else {
                errors.join("; ")
            }
        )))
    }

    fn with_options(&self, mut body: Value) -> Value {
        if let Some(profile) = &self.profile {
            body["profile"] = json!(profile);
        }
        if let Some(label) = &self.label {
            body["label"] = json!(label);
        }
        body
    }
}

impl Issuer for Cfssl {
    fn issue(&self, request: &Request, _idempotency_key: &str) -> Result<Issued, Error> {
        let Request::Certificate(r) = request else {
            return Err(Error::permanent(format!(
                "{} issues certificates, not secrets",
                self.name
            )));
        };
        let mut hosts = r.dns_names.clone();
        hosts.extend(r.ip_addresses.iter().map(ToString::to_string));
        let signed = self.call(
            "sign",
            &self.with_options(json!({"certificate_request": r.csr_pem, "hosts": hosts})),
        )?;
        let leaf = signed["certificate"].as_str().ok_or_else(|| {
            Error::permanent(format!(
                "{}: sign answered without a certificate",
                self.name
            ))
        })?;
        let info = self.call("info", &self.with_options(json!({})))?;
        let ca = info["certificate"].as_str().unwrap_or_default();
        let mut chain = leaf.trim_end().to_owned();
        chain.push('\n');
        if !ca.is_empty() {
            chain.push_str(ca.trim_end());
            chain.push('\n');
        }
        Ok(Issued::Certificate { chain_pem: chain })
    }

    fn revoke(&self, what: &Revocation<'_>, _now: jiff::Timestamp) -> Result<String, Error> {
        // CFSSL's database keys certificates by the serial in decimal.
        let serial = crate::der::decimal(what.serial).ok_or_else(|| {
            Error::permanent(format!(
                "{}: {} is not a hex serial",
                self.name, what.serial
            ))
        })?;
        let reason = super::reason_name(what.reason);
        self.call(
            "revoke",
            &json!({"serial": serial, "authority_key_id": "", "reason": reason}),
        )?;
        Ok(format!(
            "serial {} revoked by {} ({reason})",
            what.serial, self.name
        ))
    }
}
