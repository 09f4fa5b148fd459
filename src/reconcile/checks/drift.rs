//! Drift: the current certificate differs from its declaration — DNS or IP SANs, the
//! workload URI, the common name, an issuer outside the credential's issuers, or a deployed
//! key that does not belong to the certificate.

use super::{Context, certificate};
use crate::discover::{Credential, CredentialKind};
use crate::model::{CredentialType, FindingCode};
use crate::reconcile::finding::Finding;
use std::collections::BTreeSet;

/// Checks the current certificate `c` of declared credential `d`; one finding lists every
/// difference.
pub(super) fn check(cx: &Context<'_>, d: usize, c: &Credential, out: &mut Vec<Finding>) {
    let decl = &cx.declared[d];
    let spec = decl.credential;
    if c.kind != CredentialKind::X509Certificate
        || spec.credential_type.value != CredentialType::X509Certificate
    {
        return;
    }
    let mut differences: Vec<(&str, String)> = Vec::new();
    if !spec.dns_names.is_empty() {
        let want: Vec<&str> = spec.dns_names.iter().map(|n| n.value.as_str()).collect();
        compare("dns_names", &want, c.dns_names.as_deref(), &mut differences);
    }
    if !spec.ip_addresses.is_empty() {
        let want: Vec<&str> = spec.ip_addresses.iter().map(|s| s.value.as_str()).collect();
        compare(
            "ip_addresses",
            &want,
            c.ip_addresses.as_deref(),
            &mut differences,
        );
    }
    if let Some(workload) = &decl.identity.spec.workload {
        let uris: BTreeSet<String> = c.uris.iter().flatten().cloned().collect();
        if !uris.contains(&workload.value) {
            differences.push(("uris", format!("lacks the workload URI {}", workload.value)));
        }
        let others: Vec<&String> = uris.iter().filter(|u| **u != workload.value).collect();
        if !others.is_empty() {
            differences.push((
                "uris",
                format!("carries other URIs: {}", join(others.iter().copied())),
            ));
        }
    }
    if let Some(cn) = &spec.common_name {
        let found = c.subject.as_deref().and_then(common_name);
        if found.as_deref() != Some(cn.as_str()) {
            differences.push((
                "common_name",
                format!(
                    "common name is {}, declared {cn}",
                    found.unwrap_or_else(|| "absent".into())
                ),
            ));
        }
    }
    if let Some(difference) = issuer(cx, d, c) {
        differences.push(("issuer", difference));
    }
    for difference in key_mismatch(cx, d, c) {
        differences.push(("key", difference));
    }
    if differences.is_empty() {
        return;
    }
    let i = cx.matches[d].current.unwrap_or_default();
    let message = differences
        .iter()
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let mut f = cx.about_found(d, i, FindingCode::Drift, message);
    for (field, m) in differences {
        let entry = f.evidence.entry(field.to_owned());
        if !entry.is_empty() {
            entry.push_str("; ");
        }
        entry.push_str(&m);
    }
    out.push(f);
}

/// Declared against discovered names, case-insensitively; lists are short, so no sets.
fn compare(
    field: &'static str,
    want: &[&str],
    have: Option<&[String]>,
    out: &mut Vec<(&'static str, String)>,
) {
    let have = have.unwrap_or_default();
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| !have.iter().any(|h| h.eq_ignore_ascii_case(w)))
        .collect();
    let extra: Vec<&str> = have
        .iter()
        .map(String::as_str)
        .filter(|h| !want.iter().any(|w| w.eq_ignore_ascii_case(h)))
        .collect();
    if !missing.is_empty() {
        out.push((field, format!("lacks {}", sorted(missing))));
    }
    if !extra.is_empty() {
        out.push((field, format!("carries undeclared {}", sorted(extra))));
    }
}

fn sorted(mut names: Vec<&str>) -> String {
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

fn join<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// The `CN` value of an RFC 4514 DN (unescaped), if any.
pub fn common_name(dn: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ',' | '+' => parts.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .find_map(|p| p.strip_prefix("CN=").map(str::to_owned))
}

/// The certificate comes from a declared issuer that is allowed but is not one the credential
/// is issued by (`issuers` of the credential or its policy).
fn issuer(cx: &Context<'_>, d: usize, c: &Credential) -> Option<String> {
    let decl = &cx.declared[d];
    let policy = decl.policy?;
    let dn = c.issuer.as_deref()?;
    let by = cx.issuers_named(dn);
    if by.is_empty() {
        return None;
    }
    let own: Vec<&str> = if decl.credential.issuers.is_empty() {
        policy
            .spec
            .issuers
            .iter()
            .map(|s| s.value.as_str())
            .collect()
    } else {
        decl.credential
            .issuers
            .iter()
            .map(|s| s.value.as_str())
            .collect()
    };
    let allowed = certificate::allowed_issuers(cx, d, policy);
    let is_allowed = by.iter().any(|b| allowed.contains(&b.as_str()));
    (!own.is_empty() && is_allowed && !by.iter().any(|b| own.contains(&b.as_str()))).then(|| {
        format!(
            "issued by {}, declared issuers are {}",
            by.join(", "),
            own.join(", ")
        )
    })
}

/// Keys at the declared key files that are not the certificate's key.
fn key_mismatch(cx: &Context<'_>, d: usize, c: &Credential) -> Vec<String> {
    let Some(public_key) = c.public_key_sha256.as_deref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in &cx.key_files[d] {
        let found = cx.index.by_path.get(path.as_str());
        for &k in found.map_or(&[][..], |p| p.as_slice()) {
            let key = cx.credential(k);
            if key.kind == CredentialKind::PrivateKey && key.sha256 != public_key {
                out.push(format!(
                    "the key in {path} does not belong to the certificate"
                ));
            }
        }
    }
    out
}
