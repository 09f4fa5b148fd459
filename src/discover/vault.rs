//! The `vault` source: a HashiCorp Vault or OpenBao server through its HTTP API (the same
//! calls for both). KV v2 mounts are listed recursively and each secret's *metadata* read —
//! never a value: created and updated times, current version, custom metadata — and reported
//! as a `secret` whose fingerprint changes with each new version. PKI mounts report every
//! certificate they issued (listed by serial, each read), so trustops sees what Vault issued
//! before it is deployed. Login: a token from the environment, AppRole, or Kubernetes auth.
//! Errors name the server and path, never the token.

use super::inventory::{Collector, Credential, CredentialKind, Location, Time};
use super::{Context, Source, blob};
use crate::environment::Environment;
use crate::model::{VaultAuth, VaultSource};
use std::path::PathBuf;
use std::time::Duration;

/// How many secrets one source reads at most (a guard against runaway listings).
const MAX_SECRETS: usize = 200_000;

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

/// One logged-in session.
struct Session<'a> {
    address: String,
    token: String,
    namespace: Option<&'a str>,
    roots: Option<PathBuf>,
    timeout: Duration,
}

impl Session<'_> {
    /// GETs `/v1/{path}`: the JSON answer, `None` for 404 (nothing there).
    fn get(&self, path: &str) -> Result<Option<serde_json::Value>, String> {
        self.call("GET", path, None)
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Option<serde_json::Value>, String> {
        let url = format!("{}/v1/{path}", self.address);
        let mut headers = vec![("X-Vault-Request", "true")];
        if !self.token.is_empty() {
            headers.push(("X-Vault-Token", self.token.as_str()));
        }
        if let Some(ns) = self.namespace {
            headers.push(("X-Vault-Namespace", ns));
        }
        let request = crate::http::Request {
            method,
            url: &url,
            content_type: body.map(|_| "application/json"),
            body: body.unwrap_or_default(),
            extra_roots: self.roots.as_deref(),
            timeout: self.timeout,
            limit: 64 << 20,
            headers: &headers,
        };
        let answer = crate::http::exchange(&request)
            .map_err(|e| format!("{} /v1/{path}: {e}", self.address))?;
        match answer.status {
            200 => serde_json::from_slice(&answer.body)
                .map(Some)
                .map_err(|_| format!("{} /v1/{path}: the answer is not JSON", self.address)),
            204 | 404 => Ok(None),
            status => {
                // Vault's `errors` say why (permission denied, sealed); they never echo a token.
                let errors = serde_json::from_slice::<serde_json::Value>(&answer.body)
                    .ok()
                    .and_then(|v| {
                        v["errors"].as_array().map(|e| {
                            e.iter()
                                .filter_map(|x| x.as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                    })
                    .unwrap_or_default();
                Err(format!(
                    "{} /v1/{path}: HTTP {status}{}",
                    self.address,
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(" ({errors})")
                    }
                ))
            }
        }
    }

    /// The keys a LIST of `path` returns (folders end with `/`).
    fn list(&self, path: &str) -> Result<Vec<String>, String> {
        Ok(self
            .get(&format!("{path}?list=true"))?
            .and_then(|v| {
                v["data"]["keys"].as_array().map(|keys| {
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
            })
            .unwrap_or_default())
    }
}

impl Source for Vault {
    fn discover(&self, context: &Context) -> Result<Collector, String> {
        let spec = &self.spec;
        let address = spec.address.value.trim_end_matches('/').to_owned();
        let mut session = Session {
            address,
            token: String::new(),
            namespace: spec.namespace.as_deref(),
            roots: spec
                .ca_file
                .as_ref()
                .map(|f| crate::reconcile::resolve(&context.base, &f.value)),
            timeout: Duration::from_secs(spec.timeout.map_or(10, |t| t.seconds().max(1))),
        };
        session.token = self.login(&session, context)?;
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
    /// A token: from the environment, or by logging in with AppRole or Kubernetes auth.
    fn login(&self, session: &Session<'_>, context: &Context) -> Result<String, String> {
        let auth = self.spec.auth.clone().unwrap_or(VaultAuth {
            token_env: Some("VAULT_TOKEN".into()),
            ..VaultAuth::default()
        });
        let secret =
            |env: &Option<String>, file: &Option<String>, what: &str| {
                if let Some(name) = env {
                    return self.env.get(name).map(str::to_owned).ok_or_else(|| {
                        format!("the environment variable {name} ({what}) is not set")
                    });
                }
                if let Some(path) = file {
                    let path = crate::reconcile::resolve(&context.base, path);
                    return std::fs::read_to_string(&path)
                        .map(|s| s.trim().to_owned())
                        .map_err(|e| {
                            format!("cannot read {what} from {}: {}", path.display(), e.kind())
                        });
                }
                Err(format!("no {what} is declared"))
            };
        let login = |mount: &str, body: serde_json::Value| -> Result<String, String> {
            let body = body.to_string();
            let answer = session
                .call(
                    "POST",
                    &format!("auth/{mount}/login"),
                    Some(body.as_bytes()),
                )?
                .ok_or_else(|| format!("{} auth/{mount}/login: no answer", session.address))?;
            answer["auth"]["client_token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| {
                    format!(
                        "{} auth/{mount}/login: no token in the answer",
                        session.address
                    )
                })
        };
        if let Some(role) = &auth.app_role {
            let role_id = secret(&role.role_id_env, &role.role_id_file, "AppRole role id")?;
            let secret_id = secret(
                &role.secret_id_env,
                &role.secret_id_file,
                "AppRole secret id",
            )?;
            return login(
                role.mount.as_deref().unwrap_or("approle"),
                serde_json::json!({"role_id": role_id, "secret_id": secret_id}),
            );
        }
        if let Some(k8s) = &auth.kubernetes {
            let jwt = secret(
                &None,
                &Some(k8s.jwt_file.clone().unwrap_or_else(|| {
                    "/var/run/secrets/kubernetes.io/serviceaccount/token".into()
                })),
                "service-account token",
            )?;
            return login(
                k8s.mount.as_deref().unwrap_or("kubernetes"),
                serde_json::json!({"role": k8s.role, "jwt": jwt}),
            );
        }
        secret(&auth.token_env, &None, "Vault token")
    }

    /// Every secret under `mount`/`prefix`, depth first.
    fn kv(
        &self,
        session: &Session<'_>,
        mount: &str,
        prefix: &str,
        out: &mut Collector,
    ) -> Result<(), String> {
        // A KV v1 mount, or no mount at all, answers the metadata listing with an error.
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
                    return Err(format!(
                        "{} {mount}: more than {MAX_SECRETS} secrets; narrow it with a prefix",
                        session.address
                    ));
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
        session: &Session<'_>,
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
            id: Some(format!("vault:{id}")),
            created: time(&meta["created_time"]),
            last_rotated: time(&current["created_time"]).or_else(|| time(&meta["updated_time"])),
            metadata,
            locations: vec![Location {
                source: self.name.clone(),
                object: Some(id),
                endpoint: Some(session.address.clone()),
                ..Location::default()
            }],
            ..Credential::default()
        });
    }

    /// Every certificate a PKI mount issued, and its CAs.
    fn pki(&self, session: &Session<'_>, mount: &str, out: &mut Collector) -> Result<(), String> {
        let serials = session.list(&format!("{mount}/certs"))?;
        if serials.len() > MAX_SECRETS {
            return Err(format!(
                "{} {mount}: more than {MAX_SECRETS} certificates",
                session.address
            ));
        }
        for serial in serials {
            let Some(answer) = session.get(&format!("{mount}/cert/{serial}"))? else {
                continue;
            };
            let Some(pem) = answer["data"]["certificate"].as_str() else {
                continue;
            };
            let place = Location {
                source: self.name.clone(),
                object: Some(format!("{mount}/cert/{serial}")),
                endpoint: Some(session.address.clone()),
                ..Location::default()
            };
            if blob::scan(pem.as_bytes(), &place, None, out) == blob::Seen::Nothing {
                out.problem(place.display(), "holds no certificate");
            }
        }
        Ok(())
    }
}
