//! Verifying a deployment by rediscovery: the deployed certificate files are read again the
//! way `discover` reads them and checked against the declaration — the declared DNS names,
//! the workload URI (renewal stays bound to the workload identity), and a key file holding the
//! certificate's key.

use super::Run;
use crate::audit::Change;
use crate::discover::{self, CredentialKind};
use std::collections::BTreeMap;

/// Rediscovers the deployed certificate files and checks them against the declaration: the
/// declared SANs and workload URI, and a key file holding the certificate's key.
pub(super) fn check(
    run: &mut Run<'_>,
    target: &str,
    changes: &mut BTreeMap<String, Change>,
) -> Result<String, String> {
    let crate::model::Declared {
        identity,
        credential,
        ..
    } = run.declared(target)?;
    let paths: Vec<std::path::PathBuf> = credential
        .deploy
        .iter()
        .flat_map(|d| [&d.cert_file, &d.key_file])
        .flatten()
        .map(|f| crate::reconcile::resolve(run.base, &f.value))
        .collect();
    let found = discover::discover(
        &discover::Options {
            paths: paths.clone(),
            ..discover::Options::default()
        },
        &discover::Context::new(run.base.to_owned()),
    );
    let inventory = &found.inventory.credentials;
    let mut checked = 0;
    for d in &credential.deploy {
        let Some(cert_file) = &d.cert_file else {
            continue;
        };
        let path = crate::reconcile::resolve(run.base, &cert_file.value)
            .to_string_lossy()
            .into_owned();
        let leaf = inventory
            .iter()
            .find(|c| {
                c.kind == CredentialKind::X509Certificate
                    && c.locations
                        .iter()
                        .any(|l| l.path.as_deref() == Some(&path) && l.index.unwrap_or(0) == 0)
            })
            .ok_or_else(|| format!("no certificate found in {path}"))?;
        let mut want: Vec<String> = credential
            .dns_names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        want.sort();
        let mut have: Vec<String> = leaf
            .dns_names
            .iter()
            .flatten()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        have.sort();
        if want != have {
            return Err(format!(
                "{path} carries DNS names {have:?}, declared {want:?}"
            ));
        }
        if let Some(workload) = &identity.spec.workload
            && !leaf.uris.iter().flatten().any(|u| *u == workload.value)
        {
            return Err(format!("{path} lacks the workload URI {}", workload.value));
        }
        if let Some(key_file) = &d.key_file {
            let key_path = crate::reconcile::resolve(run.base, &key_file.value)
                .to_string_lossy()
                .into_owned();
            let key = inventory
                .iter()
                .find(|c| {
                    c.kind == CredentialKind::PrivateKey
                        && c.locations
                            .iter()
                            .any(|l| l.path.as_deref() == Some(&key_path))
                })
                .ok_or_else(|| format!("no private key found in {key_path}"))?;
            if leaf.public_key_sha256.as_deref() != Some(key.sha256.as_str()) {
                return Err(format!(
                    "the key in {key_path} does not belong to the certificate in {path}"
                ));
            }
        }
        if let Some(change) = changes.get_mut(target) {
            change.new_sha256 = Some(leaf.sha256.clone());
            change.new_serial = leaf.serial.as_deref().map(str::to_owned);
            change.new_not_after = leaf.not_after;
        }
        checked += 1;
    }
    if checked == 0 {
        return Ok("nothing deployed to check".into());
    }
    Ok(format!(
        "{checked} deployed certificate(s) match the declaration"
    ))
}
