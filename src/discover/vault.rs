//! The `vault` source: a HashiCorp Vault or OpenBao server through its HTTP API (the same
//! calls for both). KV v2 mounts are listed recursively and each secret's *metadata* read —
//! never a value: created and updated times, current version, custom metadata — and reported
//! as a `secret` whose fingerprint changes with each new version. PKI mounts report every
//! certificate they issued (listed by serial, each read), so trustops sees what Vault issued
//! before it is deployed. Login: a token from the environment, AppRole, or Kubernetes auth.
//! Errors name the server and path, never the token.

use super::inventory::{Collector, Credential, CredentialKind, Location, Time};
use super::{Context, Error, Source, blob};
use crate::environment::Environment;
use crate::model::VaultSource;

/// How many secrets one source reads at most (a guard against runaway listings).
const MAX_SECRETS: usize = crate::vault::MAX_KEYS;

/// The metadata key of a certificate the PKI engine that issued it says it revoked: when.
pub(crate) const REVOKED: &str = "vault_revoked";

/// A Vault/OpenBao server as declared.
pub(super) struct Vault {
    name: String,
    spec: VaultSource,
    env: Environment,
}

impl Vault {
    pub(super) fn declared(name: &str, spec: &VaultSource, env: &Environment) -> Self {
        Vault {
            name: name.to_owned(),
            spec: spec.clone(),
            env: env.clone(),
        }
    }
}

impl Source for Vault {
    fn discover(&self, context: &Context) -> Result<Collector, Error> {
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
            &context.base,
        )?;
        let mut out = Collector::default();
        for kv in &spec.kv {
            let mount = kv.mount.value.trim_matches('/');
            let prefix = kv.prefix.as_deref().unwrap_or("").trim_start_matches('/');
            self.kv(&session, mount, prefix, &mut out)?;
        }
        for pki in &spec.pki {
            self.pki(&session, pki.value.trim_matches('/'), &mut out)?;
        }
        Ok(out)
    }
}

impl Vault {
    /// Every secret under `mount`/`prefix`, depth first.
    fn kv(
        &self,
        session: &crate::vault::Session<'_>,
        mount: &str,
        prefix: &str,
        out: &mut Collector,
    ) -> Result<(), Error> {
        session.require_kv2(mount)?;
        let mut folders = vec![prefix.to_owned()];
        let mut seen = 0;
        while let Some(folder) = folders.pop() {
            for key in session.list(&format!("{mount}/metadata/{folder}"))? {
                let path = format!("{folder}{key}");
                if key.ends_with('/') {
                    folders.push(path);
                    continue;
                }
                seen += 1;
                if seen > MAX_SECRETS {
                    return Err(Error::permanent(format!(
                        "{} {mount}: more than {MAX_SECRETS} secrets; narrow it with a prefix",
                        session.address
                    )));
                }
                if let Some(meta) = session.get(&format!("{mount}/metadata/{path}"))? {
                    self.secret(session, mount, &path, &meta["data"], out);
                }
            }
        }
        Ok(())
    }

    /// One KV v2 secret from its metadata; a deleted or destroyed current version is gone.
    fn secret(
        &self,
        session: &crate::vault::Session<'_>,
        mount: &str,
        path: &str,
        meta: &serde_json::Value,
        out: &mut Collector,
    ) {
        let version = meta["current_version"].as_u64().unwrap_or(0);
        let current = &meta["versions"][version.to_string()];
        let deleted = current["deletion_time"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
            || current["destroyed"].as_bool() == Some(true);
        if version == 0 || deleted {
            return;
        }
        let time = |v: &serde_json::Value| v.as_str().and_then(|t| t.parse().ok()).map(Time);
        let id = format!("{mount}/{path}");
        let mut metadata: std::collections::BTreeMap<String, String> = meta["custom_metadata"]
            .as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        metadata.insert("engine".into(), "kv-v2".into());
        metadata.insert("version".into(), version.to_string());
        if let Some(kept) = meta["max_versions"].as_u64() {
            metadata.insert("max_versions".into(), kept.to_string());
        }
        out.add(Credential {
            kind: CredentialKind::Secret,
            // A new version is a new value: a new fingerprint, without seeing either value.
            sha256: super::inventory::sha256_hex(
                format!("vault\0{}\0{id}\0{version}", session.address).as_bytes(),
            ),
            id: Some(format!("vault:{id}").into()),
            created: time(&meta["created_time"]),
            last_rotated: time(&current["created_time"]).or_else(|| time(&meta["updated_time"])),
            metadata,
            locations: vec![Location {
                source: self.name.as_str().into(),
                object: Some(id.into()),
                endpoint: Some(session.address.as_str().into()),
                ..Location::default()
            }],
            ..Credential::default()
        });
    }

    /// Every certificate a PKI mount issued, and its CAs.
    fn pki(
        &self,
        session: &crate::vault::Session<'_>,
        mount: &str,
        out: &mut Collector,
    ) -> Result<(), Error> {
        let serials = session.list(&format!("{mount}/certs"))?;
        for serial in serials {
            let Some(answer) = session.get(&format!("{mount}/cert/{serial}"))? else {
                continue;
            };
            let Some(pem) = answer["data"]["certificate"].as_str() else {
                continue;
            };
            let place = Location {
                source: self.name.as_str().into(),
                object: Some(format!("{mount}/cert/{serial}").into()),
                endpoint: Some(session.address.as_str().into()),
                ..Location::default()
            };
            let mut one = Collector::default();
            if blob::scan(pem.as_bytes(), &place, None, &mut one) == blob::Seen::Nothing {
                out.problem(place.display(), "holds no certificate");
            }
            // What the engine itself says it revoked (a Unix time; 0 for never).
            let revoked = answer["data"]["revocation_time"]
                .as_i64()
                .filter(|t| *t > 0)
                .map(|t| Time::from_unix(t).0.to_string());
            let found = one.finish();
            for mut credential in found.credentials {
                if let Some(at) = &revoked {
                    credential.metadata.insert(REVOKED.into(), at.clone());
                }
                out.add(credential);
            }
            for problem in found.diagnostics {
                out.problem(problem.location, problem.message);
            }
        }
        Ok(())
    }
}
