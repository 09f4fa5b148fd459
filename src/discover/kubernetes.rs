//! The `kubernetes` source: manifests on disk (a folder of manifests, or a `kubectl get
//! secrets -A -o yaml` export). `kubernetes.io/tls` Secrets (and any Secret with `tls.crt`)
//! give certificates and keys located at `namespace/name`; cert-manager `Certificate`
//! resources say which of those secrets they manage.

use super::blob::scan;
use super::glob::{self, Glob};
use super::inventory::{Collector, Location};
use super::{Context, Error, Source};
use crate::model::KubernetesSource;
use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;

/// Keys of a TLS secret that hold certificates or keys.
const KEYS: [&str; 3] = ["tls.crt", "ca.crt", "tls.key"];

/// Kubernetes manifests.
pub(super) struct Kubernetes {
    pub name: String,
    pub manifests: Vec<String>,
}

impl Kubernetes {
    pub(super) fn declared(name: &str, spec: &KubernetesSource) -> Self {
        Self {
            name: name.to_owned(),
            manifests: spec.manifests.value.clone(),
        }
    }
}

impl Source for Kubernetes {
    fn discover(&self, context: &Context) -> Result<Collector, Error> {
        let mut out = Collector::default();
        let mut objects = Vec::new();
        let mut paths = Vec::new();
        for pattern in &self.manifests {
            glob::walk(&Glob::new(&context.base, pattern), &[], &mut out, |path| {
                paths.push(path);
                true
            });
        }
        let files = paths.len();
        for path in paths {
            let shown = path.display().to_string();
            match std::fs::read(&path) {
                Ok(bytes) => read_manifests(&bytes, &shown, &mut objects, &mut out),
                Err(e) => out.problem(&shown, format!("cannot read: {e}")),
            }
        }
        if files == 0 {
            return Err(Error::permanent(format!(
                "no manifest matches {}",
                self.manifests.join(", ")
            )));
        }
        // cert-manager Certificates name the secret they keep: namespace/secretName → manager.
        let mut managers: BTreeMap<String, String> = BTreeMap::new();
        for (_, object) in objects.iter().filter(|(_, o)| {
            o["kind"] == "Certificate"
                && o["apiVersion"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("cert-manager.io/"))
        }) {
            let ns = namespace(object);
            if let Some(secret) = object["spec"]["secretName"].as_str() {
                let issuer = object["spec"]["issuerRef"]["name"].as_str().unwrap_or("?");
                let name = object["metadata"]["name"].as_str().unwrap_or("?");
                managers.insert(
                    format!("{ns}/{secret}"),
                    format!("cert-manager Certificate {ns}/{name} (issuer {issuer})"),
                );
            }
        }
        let mut seen_secrets = Vec::new();
        for (path, object) in objects.iter().filter(|(_, o)| o["kind"] == "Secret") {
            let id = format!(
                "{}/{}",
                namespace(object),
                object["metadata"]["name"].as_str().unwrap_or("?")
            );
            let typed = object["type"] == "kubernetes.io/tls";
            for key in KEYS {
                let Some(bytes) = value(object, key, path, &id, &mut out) else {
                    continue;
                };
                let place = Location {
                    source: self.name.as_str().into(),
                    path: Some(path.as_str().into()),
                    object: Some(format!("{id}:{key}").into()),
                    managed_by: managers.get(&id).map(|m| m.as_str().into()),
                    ..Location::default()
                };
                if scan(&bytes, &place, None, &mut out) == super::blob::Seen::Nothing
                    && typed
                    && !bytes.is_empty()
                {
                    out.problem(place.display(), "no certificate or key in this value");
                }
            }
            seen_secrets.push(id);
        }
        for (secret, manager) in &managers {
            if !seen_secrets.contains(secret) {
                out.problem(
                    manager,
                    format!("its secret {secret} is not in the manifests"),
                );
            }
        }
        Ok(out)
    }
}

/// Every object in a file: documents, and the items of `kind: List`.
fn read_manifests(
    bytes: &[u8],
    path: &str,
    objects: &mut Vec<(String, Value)>,
    out: &mut Collector,
) {
    let mut options = serde_saphyr::Options::default();
    let mut budget = serde_saphyr::Budget::default();
    // Cluster exports are large, but still bounded.
    budget.max_reader_input_bytes = Some(1 << 30);
    budget.max_nodes = 50_000_000;
    budget.max_events = 100_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    budget.max_documents = 1_000_000;
    options.budget = Some(budget);
    options.with_snippet = false;
    let mut reader = bytes;
    for (i, document) in
        serde_saphyr::read_with_options::<_, Value>(&mut reader, options).enumerate()
    {
        match document {
            Ok(Value::Object(mut object)) => match object.remove("items") {
                Some(Value::Array(items))
                    if object.get("kind").is_some_and(|k| {
                        k == "List" || k.as_str().is_some_and(|k| k.ends_with("List"))
                    }) =>
                {
                    objects.extend(items.into_iter().map(|item| (path.to_owned(), item)));
                }
                items => {
                    if let Some(items) = items {
                        object.insert("items".into(), items);
                    }
                    objects.push((path.to_owned(), Value::Object(object)));
                }
            },
            Ok(_) => {}
            Err(e) => out.problem(
                path,
                format!("document {i}: not valid YAML: {}", e.without_snippet()),
            ),
        }
    }
}

fn namespace(object: &Value) -> &str {
    object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
}

/// The bytes of `key` in a Secret: `data` (base64) or `stringData` (plain).
fn value(object: &Value, key: &str, path: &str, id: &str, out: &mut Collector) -> Option<Vec<u8>> {
    if let Some(text) = object["stringData"][key].as_str() {
        return Some(text.as_bytes().to_vec());
    }
    let encoded = object["data"][key].as_str()?;
    let cleaned: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(cleaned) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            out.problem(format!("{path} {id}:{key}"), "value is not valid base64");
            None
        }
    }
}
