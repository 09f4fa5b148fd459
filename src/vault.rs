//! A Vault / OpenBao HTTP API client shared by the `vault` source and issuer: login (a token
//! from the environment, AppRole, Kubernetes auth), a namespace header, a private CA, a deadline
//! per request. Errors name the server and path, never the token, and say whether they may pass
//! (the network, a timeout, a 5xx, a rate limit) or not (a refusal, a missing variable).

use crate::environment::Environment;
use crate::model::{Spanned, VaultAuth};
use crate::remote::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where and how to reach a server.
pub(crate) struct Connection<'a> {
    pub address: &'a str,
    pub auth: Option<&'a VaultAuth>,
    pub namespace: Option<&'a str>,
    pub ca_file: Option<&'a str>,
    pub timeout: Option<u64>,
}

impl<'a> Connection<'a> {
    /// The connection a `vault` source or issuer declares.
    pub(crate) fn declared(
        address: &'a Spanned<String>,
        auth: Option<&'a VaultAuth>,
        namespace: Option<&'a String>,
        ca_file: Option<&'a Spanned<String>>,
        timeout: Option<crate::model::Duration>,
    ) -> Self {
        Connection {
            address: &address.value,
            auth,
            namespace: namespace.map(String::as_str),
            ca_file: ca_file.map(|f| f.value.as_str()),
            timeout: timeout.map(|t| t.seconds()),
        }
    }
}

/// One logged-in session.
pub(crate) struct Session<'a> {
    pub address: String,
    token: String,
    namespace: Option<&'a str>,
    roots: Option<PathBuf>,
    timeout: Duration,
}

impl Session<'_> {
    /// GETs `/v1/{path}`: the JSON answer, `None` for 404 (nothing there).
    pub(crate) fn get(&self, path: &str) -> Result<Option<serde_json::Value>, Error> {
        self.call("GET", path, None)
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Option<serde_json::Value>, Error> {
        self.call_as(method, path, body, "application/json")
    }

    /// Like [`Session::call`], with the body's media type (`application/merge-patch+json`
    /// for a KV v2 patch).
    pub(crate) fn call_as(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        media_type: &str,
    ) -> Result<Option<serde_json::Value>, Error> {
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
            content_type: body.map(|_| media_type),
            body: body.unwrap_or_default(),
            extra_roots: self.roots.as_deref(),
            timeout: self.timeout,
            limit: 64 << 20,
            headers: &headers,
        };
        let answer = crate::http::exchange(&request)
            .map_err(|e| Error::retryable(format!("{} /v1/{path}: {e}", self.address)))?;
        match answer.status {
            200 => serde_json::from_slice(&answer.body).map(Some).map_err(|_| {
                Error::permanent(format!(
                    "{} /v1/{path}: the answer is not JSON",
                    self.address
                ))
            }),
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
                let message = format!(
                    "{} /v1/{path}: HTTP {status}{}",
                    self.address,
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(" ({errors})")
                    }
                );
                // A sealed or standby server answers 503, a rate limit 429: both pass.
                Err(if status == 429 || status >= 500 {
                    Error::retryable(message)
                } else {
                    Error::permanent(message)
                })
            }
        }
    }

    /// The keys a LIST of `path` returns (folders end with `/`), page by page.
    pub(crate) fn list(&self, path: &str) -> Result<Vec<String>, Error> {
        Ok(self.list_pages(path)?.into_iter().map(|(k, _)| k).collect())
    }

    /// LIST of `path` page by page (OpenBao's `after` and `limit`; a server that ignores them
    /// answers everything at once, which ends the paging too): each key with its `key_info`
    /// (`Null` where the server gives none). At most [`MAX_KEYS`] keys.
    pub(crate) fn list_pages(&self, path: &str) -> Result<Vec<(String, serde_json::Value)>, Error> {
        paged(PAGE, MAX_KEYS, |after| {
            self.get(&match after {
                None => format!("{path}?list=true&limit={PAGE}"),
                Some(key) => format!("{path}?list=true&limit={PAGE}&after={}", query_escape(key)),
            })
        })
        .map_err(|e| match e {
            Paged::Fetch(e) => e,
            Paged::Over(cap) => Error::permanent(format!(
                "{} /v1/{path}: more than {cap} keys; declare narrower prefixes",
                self.address
            )),
        })
    }
}

/// The keys of a LIST answered page by page: `fetch` is given the last key read (`None` for
/// the first page) and answers the page after it of at most `page` keys, or `None` (nothing
/// there). A short page is the last; so is a longer one (the server ignored `limit`) and one
/// with nothing after the last key (the server ignored `after`). Keys come sorted.
fn paged<E>(
    page: usize,
    cap: usize,
    mut fetch: impl FnMut(Option<&str>) -> Result<Option<serde_json::Value>, E>,
) -> Result<Vec<(String, serde_json::Value)>, Paged<E>> {
    let mut out: Vec<(String, serde_json::Value)> = Vec::new();
    loop {
        let after = out.last().map(|(k, _)| k.clone());
        let Some(answer) = fetch(after.as_deref()).map_err(Paged::Fetch)? else {
            break;
        };
        let data = &answer["data"];
        let keys: Vec<&str> = data["keys"]
            .as_array()
            .map(|keys| keys.iter().filter_map(|k| k.as_str()).collect())
            .unwrap_or_default();
        let count = keys.len();
        let before = out.len();
        for key in keys {
            if after.as_deref().is_none_or(|a| key > a) {
                out.push((key.to_owned(), data["key_info"][key].clone()));
            }
        }
        if out.len() > cap {
            return Err(Paged::Over(cap));
        }
        if count != page || out.len() == before {
            break;
        }
    }
    Ok(out)
}

/// Why [`paged`] stopped short.
#[derive(Debug, PartialEq)]
enum Paged<E> {
    /// A page could not be read.
    Fetch(E),
    /// There are more keys than the cap.
    Over(usize),
}

/// Keys asked for per LIST page.
const PAGE: usize = 1000;

/// The most keys one LIST reads, over all its pages.
pub(crate) const MAX_KEYS: usize = 200_000;

/// `key` for a query string: everything but unreserved characters percent-encoded.
fn query_escape(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Session<'_> {
    /// Refuses a mount that is not KV version 2: on a KV v1 mount, the `metadata/` listing is
    /// just an empty path (a silent miss) and a `data/` write creates the wrong secret.
    pub(crate) fn require_kv2(&self, mount: &str) -> Result<(), Error> {
        let answer = self.get(&format!("sys/internal/ui/mounts/{mount}"))?;
        let data = answer.as_ref().map(|a| &a["data"]);
        let kind = data.and_then(|d| d["type"].as_str()).unwrap_or("nothing");
        let version = data
            .and_then(|d| d["options"]["version"].as_str())
            .unwrap_or("1");
        if kind == "kv" && version == "2" {
            Ok(())
        } else {
            Err(Error::permanent(format!(
                "{} {mount}: not a KV version 2 mount (found {kind}, version {version})",
                self.address
            )))
        }
    }
}

/// Logs in to the server `connection` names; a session.
pub(crate) fn connect<'a>(
    connection: &Connection<'a>,
    env: &Environment,
    base: &Path,
) -> Result<Session<'a>, Error> {
    let mut session = Session {
        address: connection.address.trim_end_matches('/').to_owned(),
        token: String::new(),
        namespace: connection.namespace,
        roots: connection
            .ca_file
            .map(|f| crate::reconcile::resolve(base, f)),
        timeout: Duration::from_secs(connection.timeout.unwrap_or(10).max(1)),
    };
    session.token = login(&session, connection.auth, env, base)?;
    Ok(session)
}

/// A token: from the environment, or by logging in with AppRole or Kubernetes auth.
fn login(
    session: &Session<'_>,
    auth: Option<&VaultAuth>,
    env: &Environment,
    base: &Path,
) -> Result<String, Error> {
    let auth = auth.cloned().unwrap_or(VaultAuth {
        token_env: Some("VAULT_TOKEN".into()),
        ..VaultAuth::default()
    });
    let secret = |variable: &Option<String>, file: &Option<String>, what: &str| {
        if let Some(name) = variable {
            return env.get(name).map(str::to_owned).ok_or_else(|| {
                Error::permanent(format!(
                    "the environment variable {name} ({what}) is not set"
                ))
            });
        }
        if let Some(path) = file {
            let path = crate::reconcile::resolve(base, path);
            return std::fs::read_to_string(&path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| {
                    Error::permanent(format!(
                        "cannot read {what} from {}: {}",
                        path.display(),
                        e.kind()
                    ))
                });
        }
        Err(Error::permanent(format!("no {what} is declared")))
    };
    let login = |mount: &str, body: serde_json::Value| -> Result<String, Error> {
        let body = body.to_string();
        let answer = session
            .call(
                "POST",
                &format!("auth/{mount}/login"),
                Some(body.as_bytes()),
            )?
            .ok_or_else(|| {
                Error::permanent(format!("{} auth/{mount}/login: no answer", session.address))
            })?;
        answer["auth"]["client_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::permanent(format!(
                    "{} auth/{mount}/login: no token in the answer",
                    session.address
                ))
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
        let jwt =
            secret(
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

#[cfg(test)]
mod tests {
    use super::{Paged, paged};
    use serde_json::json;

    /// A sorted store of `n` keys answering LIST as a server that honours `after` and `limit`
    /// (`honours`), or one that ignores both and answers everything.
    fn store(
        n: usize,
        honours: bool,
    ) -> impl FnMut(Option<&str>) -> Result<Option<serde_json::Value>, ()> {
        let keys: Vec<String> = (0..n).map(|i| format!("k{i:05}")).collect();
        move |after| {
            let from = match (honours, after) {
                (true, Some(a)) => keys
                    .iter()
                    .position(|k| k.as_str() > a)
                    .unwrap_or(keys.len()),
                _ => 0,
            };
            let end = if honours {
                (from + 3).min(keys.len())
            } else {
                keys.len()
            };
            Ok(Some(json!({"data": {"keys": keys[from..end]}})))
        }
    }

    #[test]
    fn every_key_is_read_once_whether_or_not_the_server_pages() {
        for n in [0, 1, 3, 7, 9] {
            for honours in [true, false] {
                let got = paged(3, 100, store(n, honours)).unwrap();
                let names: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
                let want: Vec<String> = (0..n).map(|i| format!("k{i:05}")).collect();
                assert_eq!(names, want, "{n} keys, server pages: {honours}");
            }
        }
    }

    #[test]
    fn a_listing_over_the_cap_is_refused_not_cut() {
        assert_eq!(paged(3, 5, store(9, true)), Err(Paged::Over(5)));
    }
}
