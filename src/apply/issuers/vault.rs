//! `vault`: a HashiCorp Vault or OpenBao PKI engine. Certificates are signed from the CSR
//! trustops makes (`{mount}/sign/{role}`: the key never leaves the deploy side) with the
//! declared DNS names, IPs and URI SANs (SPIFFE IDs) and the policy's lifetime; the chain comes
//! from the answer. Revocation goes through the engine (`{mount}/revoke` by serial), so its
//! CRL and OCSP responder say so.

use super::{Error, Issued, Issuer, Request, Revocation};
use crate::environment::Environment;
use crate::model::VaultIssuer;
use serde_json::json;
use std::path::PathBuf;

/// A Vault PKI role, declared.
pub struct Vault {
    /// The issuer's name, for messages.
    pub name: String,
    /// What was declared.
    pub spec: VaultIssuer,
    /// The environment secrets are read from.
    pub env: Environment,
    /// The repository root (relative files are under it).
    pub base: PathBuf,
}

impl Vault {
    fn mount(&self) -> &str {
        self.spec
            .mount
            .as_deref()
            .unwrap_or("pki")
            .trim_matches('/')
    }

    /// Logs in and calls `path` with `body`. Not reaching the server or a 5xx may pass; a
    /// refusal (a role that does not allow the names, a wrong token) will not.
    fn call(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, Error> {
        let spec = &self.spec;
        let session = crate::vault::connect(
            &crate::vault::Connection::declared(
                &spec.address,
                spec.auth.as_ref(),
                spec.namespace.as_ref(),
                spec.ca_file.as_ref(),
                spec.timeout,
            ),
            &self.env,
            &self.base,
        )
        .map_err(|e| classify(format!("{}: {e}", self.name)))?;
        let body = body.to_string();
        session
            .call("POST", path, Some(body.as_bytes()))
            .map_err(|e| classify(format!("{}: {e}", self.name)))?
            .ok_or_else(|| Error::permanent(format!("{}: {path} answered nothing", self.name)))
    }
}

/// A server error or an unreachable server may pass; anything else is a refusal.
fn classify(message: String) -> Error {
    let passing = [
        "HTTP 5",
        "cannot connect",
        "timed out",
        "does not resolve",
        "no HTTP answer",
    ]
    .iter()
    .any(|s| message.contains(s));
    if passing {
        Error::retryable(message)
    } else {
        Error::permanent(message)
    }
}

impl Issuer for Vault {
    fn issue(&self, request: &Request, _idempotency_key: &str) -> Result<Issued, Error> {
        let Request::Certificate(r) = request else {
            return Err(Error::permanent(format!(
                "{} issues certificates, not secrets",
                self.name
            )));
        };
        let common_name = r
            .common_name
            .clone()
            .or_else(|| r.dns_names.first().cloned())
            .ok_or_else(|| {
                Error::permanent(format!("{}: a certificate needs a name", self.name))
            })?;
        let ttl = (r.not_after.as_second() - r.not_before.as_second()).max(60);
        let body = json!({
            "csr": r.csr_pem,
            "common_name": common_name,
            "alt_names": r.dns_names.join(","),
            "ip_sans": r.ip_addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            "uri_sans": r.uris.join(","),
            "ttl": format!("{ttl}s"),
            "format": "pem",
        });
        let role = self.spec.role.value.as_str();
        let answer = self.call(&format!("{}/sign/{role}", self.mount()), &body)?;
        let data = &answer["data"];
        let leaf = data["certificate"].as_str().ok_or_else(|| {
            Error::permanent(format!(
                "{}: sign answered without a certificate",
                self.name
            ))
        })?;
        let mut chain = format!("{}\n", leaf.trim_end());
        let cas: Vec<&str> = match data["ca_chain"].as_array() {
            Some(list) => list.iter().filter_map(|c| c.as_str()).collect(),
            None => data["issuing_ca"].as_str().into_iter().collect(),
        };
        for ca in cas {
            chain.push_str(ca.trim_end());
            chain.push('\n');
        }
        Ok(Issued::Certificate { chain_pem: chain })
    }

    fn revoke(&self, what: &Revocation<'_>, _now: jiff::Timestamp) -> Result<String, Error> {
        // Vault names serials as colon-separated hex pairs.
        let hex = if what.serial.len() % 2 == 1 {
            format!("0{}", what.serial)
        } else {
            what.serial.to_owned()
        };
        let serial: Vec<&str> = (0..hex.len())
            .step_by(2)
            .filter_map(|i| hex.get(i..i + 2))
            .collect();
        let serial = serial.join(":");
        self.call(
            &format!("{}/revoke", self.mount()),
            &json!({"serial_number": serial}),
        )?;
        Ok(format!(
            "revoked serial {serial} through {} ({}/revoke)",
            self.name,
            self.mount()
        ))
    }
}
