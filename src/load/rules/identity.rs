//! Identity rules: credential names unique and valid, a policy for every credential, the
//! workload a policy requires, match rules, addresses and file modes.

use super::format::is_uri;
use super::{fingerprint, invalid, missing};
use crate::diag::{Code, Diagnostic, Span};
use crate::load::names;
use crate::model::{Credential, Identity, Model};
use std::collections::BTreeMap;

/// Checks one identity.
pub(super) fn check(model: &Model, identity: &Identity, out: &mut Vec<Diagnostic>) {
    let (path, spec) = (&identity.origin.path, &identity.spec);
    if let Some(workload) = spec.workload.as_ref().filter(|w| !is_uri(&w.value)) {
        out.push(invalid(
            path,
            workload,
            "spec.workload",
            "expected a URI such as `spiffe://example.org/ns/prod/sa/payments`",
        ));
    }
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for (c, credential) in spec.credentials.iter().enumerate() {
        let at = format!("spec.credentials[{c}]");
        if !names::check(path, &format!("{at}.name"), &credential.name, out) {
            continue;
        }
        if let Some(first) = seen.insert(&credential.name.value, credential.name.span) {
            out.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!(
                        "credential \"{}\" is declared twice in identity \"{}\"",
                        credential.name.value,
                        identity.name()
                    ),
                )
                .field(format!("{at}.name"))
                .at(path, credential.name.span, "declared again here")
                .also(path, first, "first declared here"),
            );
        }
        credential_rules(model, identity, credential, &at, out);
    }
}

fn credential_rules(
    model: &Model,
    identity: &Identity,
    credential: &Credential,
    at: &str,
    out: &mut Vec<Diagnostic>,
) {
    let path = &identity.origin.path;
    let declared = crate::model::Declared::of(model, identity, credential);
    match declared.policy_name {
        None => out.push(missing(path, credential.name.span, &format!("{at}.policy"), "every credential needs a policy: set spec.policy on the identity or policy on the credential")),
        Some(name) => {
            let requires = declared.policy.is_some_and(|p| p.spec.require_workload);
            if requires && identity.spec.workload.is_none() {
                out.push(
                    missing(path, identity.origin.span, "spec.workload", &format!("policy \"{}\" requires a workload URI so renewal is bound to the workload", name.value))
                        .also(path, name.span, "policy chosen here"),
                );
            }
        }
    }
    let rule = &credential.match_rule;
    if rule.value.is_empty() {
        out.push(missing(path, rule.span, &format!("{at}.match"), "a match needs at least one rule (uri, dnsNames, subject, issuer, fingerprint, source, location, secretId)"));
    }
    if let Some(fp) = &rule.value.fingerprint {
        fingerprint(path, fp, &format!("{at}.match.fingerprint"), out);
    }
    for (i, ip) in credential.ip_addresses.iter().enumerate() {
        if ip.value.parse::<std::net::IpAddr>().is_err() {
            out.push(invalid(
                path,
                ip,
                &format!("{at}.ipAddresses[{i}]"),
                "expected an IPv4 or IPv6 address",
            ));
        }
    }
    for (i, name) in credential.dns_names.iter().enumerate() {
        if let Some(bad) = name.value.chars().find(|c| !c.is_ascii_graphic()) {
            out.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "invalid DNS name {:?}: it holds U+{:04X}, which a certificate cannot carry (DNS names are IA5 text)",
                        name.value,
                        u32::from(bad)
                    ),
                )
                .field(format!("{at}.dnsNames[{i}]"))
                .at(path, name.span, "not an ASCII DNS name")
                .note("write an internationalised name as its A-label (`xn--…`), and look for a look-alike or invisible character pasted in"),
            );
        }
    }
    for (d, deploy) in credential.deploy.iter().enumerate() {
        for (field, mode) in [("mode", &deploy.mode), ("keyMode", &deploy.key_mode)] {
            if let Some(mode) = mode
                .as_ref()
                .filter(|m| u32::from_str_radix(&m.value, 8).map_or(true, |v| v > 0o7777))
            {
                out.push(invalid(
                    path,
                    mode,
                    &format!("{at}.deploy[{d}].{field}"),
                    "expected an octal file mode such as `0644`",
                ));
            }
        }
        if deploy.cert_file.is_none() && deploy.key_file.is_none() && deploy.reload.is_none() {
            out.push(missing(
                path,
                credential.name.span,
                &format!("{at}.deploy[{d}].certFile"),
                "a deploy target needs certFile, keyFile or reload",
            ));
        }
    }
}
