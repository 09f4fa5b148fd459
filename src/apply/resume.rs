//! Resuming a rotation group after an interruption: what a finished issue step journaled (the
//! public chain, or a secret's reference) and the key staged beside its key file are enough to
//! deploy without issuing again.

use super::Run;
use super::deploy::{self, NewKey};
use super::group::{Fresh, Group};
use super::issuers::Issued;
use crate::plan::StepKind;
use std::collections::BTreeMap;

/// Rebuilds what a step finished before an interruption left for the next steps.
pub(super) fn rebuild(
    run: &Run<'_>,
    kind: StepKind,
    target: &str,
    detail: Option<&str>,
    group: &mut Group,
) {
    let change = group
        .changes
        .entry(target.to_owned())
        .or_insert_with(|| run.old(target));
    if kind != StepKind::Issue {
        return;
    }
    let Some(detail) = detail else { return };
    if let Ok(saved) = serde_json::from_str::<Saved>(detail) {
        change.issuer = Some(saved.issuer.clone());
        let issued = match saved.chain_pem {
            Some(chain_pem) => Issued::Certificate { chain_pem },
            None => Issued::Secret {
                reference: saved.reference.clone().unwrap_or_default(),
                metadata: BTreeMap::new(),
            },
        };
        change.reference = saved.reference;
        group.replaced.extend(saved.replaced);
        let key = staged_key(run, target)
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|pem| NewKey::from_pem(&pem).ok());
        group.fresh.insert(target.to_owned(), Fresh { key, issued });
    }
}

/// What a finished issue step journals: public material only.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Saved {
    pub(super) issuer: String,
    #[serde(default)]
    pub(super) chain_pem: Option<String>,
    #[serde(default)]
    pub(super) reference: Option<String>,
    /// What the certificate files held before (public PEM), for revoking by contents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) replaced: Vec<String>,
}

/// Where the new key of `target` is staged: beside its first declared key file.
pub(super) fn staged_key(run: &Run<'_>, target: &str) -> Option<std::path::PathBuf> {
    let credential = run.declared(target).ok()?.credential;
    let key_file = credential.deploy.iter().find_map(|d| d.key_file.as_ref())?;
    Some(deploy::staged(&crate::reconcile::resolve(
        run.base,
        &key_file.value,
    )))
}
