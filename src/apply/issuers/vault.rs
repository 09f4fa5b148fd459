//! `vault`: a HashiCorp Vault or OpenBao server. Certificates are signed by its PKI engine from the CSR
//! trustops makes (`{mount}/sign/{role}`: the key never leaves the deploy side) with the
//! declared DNS names, IPs and URI SANs (SPIFFE IDs) and the policy's lifetime; the chain comes
//! from the answer. Revocation goes through the engine (`{mount}/revoke` by serial), so its
//! CRL and OCSP responder say so. Secrets are rotated in KV v2: a new version of one field,
//! check-and-set, marked first so a resumed apply never writes twice.

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
        let session = self.session()?;
        let body = body.to_string();
        session
            .call("POST", path, Some(body.as_bytes()))
            .map_err(|e| e.within(&self.name))?
            .ok_or_else(|| Error::permanent(format!("{}: {path} answered nothing", self.name)))
    }
}

/// Custom metadata that marks a rotation in progress: `{idempotency key}@{version it writes}`.
const MARK: &str = "trustops-rotation";

impl Vault {
    /// Writes a new value to the KV v2 secret `r.secret_id` names: a new version of its
    /// `kvField`, generated as the policy says, with check-and-set on the version read so a
    /// concurrent writer is never overwritten. Before writing, the secret's metadata is marked
    /// with the idempotency key and the version about to be written; a retry that finds its own
    /// mark and that version (or later) has nothing left to do — a resumed apply never writes
    /// twice. The value is never shown: the record gets the version and its SHA-256.
    fn rotate(&self, r: &super::SecretRequest, key: &str) -> Result<Issued, Error> {
        let id = r.secret_id.as_deref().ok_or_else(|| {
            Error::permanent(format!(
                "{}: {}/{} has no match.secretId naming its KV secret (vault:MOUNT/PATH)",
                self.name, r.identity, r.credential
            ))
        })?;
        let (mount, path) = id
            .strip_prefix("vault:")
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(|| {
                Error::permanent(format!(
                    "{}: secretId {id} is not vault:MOUNT/PATH",
                    self.name
                ))
            })?;
        let session = self.session()?;
        session
            .require_kv2(mount)
            .map_err(|e| Error::permanent(format!("{}: {e}", self.name)))?;
        let meta = session
            .get(&format!("{mount}/metadata/{path}"))
            .map_err(|e| e.within(&self.name))?;
        let current = meta
            .as_ref()
            .and_then(|m| m["data"]["current_version"].as_u64())
            .unwrap_or(0);
        let custom = meta
            .as_ref()
            .and_then(|m| m["data"]["custom_metadata"].as_object().cloned())
            .unwrap_or_default();
        let reference = |version: u64| format!("vault:{mount}/{path}#v{version}");
        if let Some((marked, version)) = custom
            .get(MARK)
            .and_then(|m| m.as_str())
            .and_then(|m| m.rsplit_once('@'))
            && marked == key
            && let Ok(version) = version.parse::<u64>()
            && current >= version
        {
            return Ok(Issued::Secret {
                reference: reference(version),
                metadata: [("version".to_owned(), version.to_string())].into(),
            });
        }
        let mut marked = custom.clone();
        marked.insert(MARK.into(), format!("{key}@{}", current + 1).into());
        let body = json!({"custom_metadata": marked}).to_string();
        session
            .call(
                "POST",
                &format!("{mount}/metadata/{path}"),
                Some(body.as_bytes()),
            )
            .map_err(|e| e.within(&self.name))?;
        crate::fault::point("vault.marked");
        let value =
            generate(r.value).map_err(|e| Error::permanent(format!("{}: {e}", self.name)))?;
        let field = self.spec.kv_field.as_deref().unwrap_or("value");
        let body = json!({"options": {"cas": current}, "data": {field: value}}).to_string();
        let written = if current == 0 {
            session.call(
                "POST",
                &format!("{mount}/data/{path}"),
                Some(body.as_bytes()),
            )
        } else {
            // A patch keeps the secret's other fields.
            session.call_as(
                "PATCH",
                &format!("{mount}/data/{path}"),
                Some(body.as_bytes()),
                "application/merge-patch+json",
            )
        }
        .map_err(|e| {
            // Vault says so only in its error text (HTTP 400).
            if e.message.contains("check-and-set") {
                Error::permanent(format!(
                    "{}: {mount}/{path} changed since it was read (check-and-set); nothing written",
                    self.name
                ))
            } else {
                e.within(&self.name)
            }
        })?;
        let version = written
            .as_ref()
            .and_then(|w| w["data"]["version"].as_u64())
            .unwrap_or(current + 1);
        crate::fault::point("vault.written");
        let digest = crate::discover::sha256_hex(value.as_bytes());
        Ok(Issued::Secret {
            reference: reference(version),
            metadata: [
                ("version".to_owned(), version.to_string()),
                ("sha256".to_owned(), digest),
            ]
            .into(),
        })
    }

    fn session(&self) -> Result<crate::vault::Session<'_>, Error> {
        let spec = &self.spec;
        crate::vault::connect(
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
        .map_err(|e| e.within(&self.name))
    }
}

impl Vault {
    /// The certificate this mount already signed for `r`'s key (an interrupted apply's), with
    /// the mount's CA chain; `None` when it signed none. Candidates come from the detailed
    /// listing (OpenBao) issued since the request's start, less an hour for clocks and the
    /// engine's backdating, or from every serial where the server lists no details; each is
    /// read and its public key compared. A revoked one does not count. A role with
    /// `no_store` keeps nothing to find: there the resume signs again.
    fn signed_before(&self, r: &super::CertificateRequest) -> Result<Option<String>, Error> {
        let session = self.session()?;
        let mount = self.mount();
        let failed = |e: Error| e.within(&self.name);
        let mut listed = session
            .list_pages(&format!("{mount}/certs/detailed"))
            .map_err(failed)?;
        if listed.is_empty() {
            listed = session
                .list_pages(&format!("{mount}/certs"))
                .map_err(failed)?;
        }
        let since = r.not_before.as_second() - 3600;
        let recent = |info: &serde_json::Value| {
            info["not_before"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .is_none_or(|t| t.as_second() >= since)
        };
        for (serial, _) in listed.iter().filter(|(_, info)| recent(info)) {
            let Some(answer) = session
                .get(&format!("{mount}/cert/{serial}"))
                .map_err(failed)?
            else {
                continue;
            };
            let data = &answer["data"];
            if data["revocation_time"].as_i64().unwrap_or(0) > 0 {
                continue;
            }
            let Some(leaf) = data["certificate"].as_str() else {
                continue;
            };
            let ours = crate::discover::pem_certificates(leaf.as_bytes())
                .first()
                .and_then(|der| {
                    x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| {
                        c.public_key().subject_public_key.data.as_ref() == r.public_key
                    })
                })
                .unwrap_or(false);
            if !ours {
                continue;
            }
            let chain = session
                .get(&format!("{mount}/cert/ca_chain"))
                .map_err(failed)?;
            let cas = chain
                .as_ref()
                .and_then(|c| {
                    c["data"]["ca_chain"]
                        .as_str()
                        .or(c["data"]["certificate"].as_str())
                })
                .unwrap_or_default();
            let mut pem = format!("{}\n", leaf.trim_end());
            if !cas.trim().is_empty() {
                pem.push_str(cas.trim());
                pem.push('\n');
            }
            return Ok(Some(pem));
        }
        Ok(None)
    }
}

/// A random value of `spec.length` characters from its alphabet (rejection sampling, so every
/// character is equally likely).
fn generate(spec: crate::model::SecretValue) -> Result<String, String> {
    use ring::rand::SecureRandom;
    let alphabet = spec.alphabet.characters();
    let limit = 256 - 256 % alphabet.len();
    let random = ring::rand::SystemRandom::new();
    let mut out = String::with_capacity(usize::from(spec.length));
    let mut buffer = [0u8; 64];
    while out.len() < usize::from(spec.length) {
        random
            .fill(&mut buffer)
            .map_err(|_| "no randomness available".to_owned())?;
        for b in buffer {
            if usize::from(b) < limit && out.len() < usize::from(spec.length) {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

impl Issuer for Vault {
    fn issue(&self, request: &Request, idempotency_key: &str) -> Result<Issued, Error> {
        let r = match request {
            Request::Certificate(r) => r,
            Request::Secret(secret) => return self.rotate(secret, idempotency_key),
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
        let role = self
            .spec
            .role
            .as_ref()
            .map(|r| r.value.as_str())
            .ok_or_else(|| {
                Error::permanent(format!("{}: no PKI role is declared (`role`)", self.name))
            })?;
        if r.resumed
            && let Some(chain) = self.signed_before(r)?
        {
            return Ok(Issued::Certificate { chain_pem: chain });
        }
        let answer = self.call(&format!("{}/sign/{role}", self.mount()), &body)?;
        crate::fault::point("vault.signed");
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
