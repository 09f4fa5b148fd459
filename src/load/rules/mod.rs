//! Checks within one declaration that types alone cannot express: one issuer/source type,
//! policy sanity, renewal windows, contacts, escalation order, credential names and match
//! rules, exception targets. One file per kind of declaration; [`check`] runs them all.

mod format;
mod identity;
mod owner;
mod policy;

use crate::diag::{Code, Diagnostic, Span};
use crate::model::{Model, Spanned};
use format::is_host_port;

/// Runs every per-declaration rule.
pub(super) fn check(model: &Model, config: &crate::model::RepoConfig, out: &mut Vec<Diagnostic>) {
    for owner in model.owners.values() {
        owner::check(owner, config.smtp.is_some(), out);
    }
    for policy in model.policies.values() {
        policy::check(policy, out);
    }
    for issuer in model.issuers.values() {
        let kinds = issuer.spec.kinds().len();
        one_type(
            kinds,
            "Issuer",
            "localCa, acme, cfssl, exec, vault",
            &issuer.origin.path,
            issuer.origin.span,
            out,
        );
        if let Some(ca) = &issuer.spec.local_ca
            && ca.key_file.is_none()
            && ca.key_env.is_none()
        {
            out.push(missing(
                &issuer.origin.path,
                ca.cert_file.span,
                "spec.localCa.keyFile",
                "set keyFile or keyEnv for the CA private key",
            ));
        }
        if let Some(http) = issuer.spec.acme.as_ref().and_then(|a| a.http01.as_ref())
            && http.listen.is_none()
            && http.webroot.is_none()
        {
            out.push(missing(
                &issuer.origin.path,
                issuer.origin.span,
                "spec.acme.http01",
                "set listen or webroot",
            ));
        }
    }
    for source in model.sources.values() {
        let kinds = source.spec.kinds().len();
        one_type(
            kinds,
            "Source",
            "files, tls, kubernetes, exec, scanner, vault",
            &source.origin.path,
            source.origin.span,
            out,
        );
        if let Some(tls) = &source.spec.tls {
            for (i, endpoint) in tls.endpoints.iter().enumerate() {
                if !is_host_port(&endpoint.address.value) {
                    out.push(invalid(
                        &source.origin.path,
                        &endpoint.address,
                        &format!("spec.tls.endpoints[{i}].address"),
                        "expected `host:port`, e.g. `api.example.com:443` or `[::1]:8443`",
                    ));
                }
            }
        }
    }
    for identity in model.identities.values() {
        identity::check(model, identity, out);
    }
    for exception in model.exceptions.values() {
        let (path, spec) = (&exception.origin.path, &exception.spec);
        if spec.identity.is_none() && spec.fingerprint.is_none() {
            out.push(missing(
                path,
                exception.origin.span,
                "spec.identity",
                "an exception applies to an identity or to a fingerprint; set one",
            ));
        }
        if let Some(fp) = &spec.fingerprint {
            fingerprint(path, fp, "spec.fingerprint", out);
        }
        for (field, value) in [
            ("spec.reason", &spec.reason),
            ("spec.approvedBy", &spec.approved_by),
        ] {
            if value.value.trim().is_empty() {
                out.push(invalid(
                    path,
                    value,
                    field,
                    "must not be empty: an exception records why and who accepted the risk",
                ));
            }
        }
    }
}

fn one_type(
    count: usize,
    kind: &str,
    types: &str,
    path: &str,
    span: Span,
    out: &mut Vec<Diagnostic>,
) {
    if count == 1 {
        return;
    }
    let what = if count == 0 {
        "configures no type"
    } else {
        "configures several types"
    };
    out.push(
        Diagnostic::error(Code::AmbiguousType, format!("this {kind} {what}"))
            .field("spec")
            .at(path, span, format!("{kind} declared here"))
            .note(format!("set exactly one of: {types}")),
    );
}

pub(super) fn fingerprint(
    path: &str,
    fp: &Spanned<String>,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let hex: String = fp
        .value
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        out.push(invalid(path, fp, field, "expected a SHA-256 fingerprint: 64 hex digits, optionally `sha256:`-prefixed or colon-separated"));
    }
}

pub(super) fn missing(path: &str, span: Span, field: &str, why: &str) -> Diagnostic {
    Diagnostic::error(Code::MissingField, why.to_owned())
        .field(field)
        .at(path, span, "required here")
}

pub(super) fn invalid(
    path: &str,
    value: &Spanned<String>,
    field: &str,
    expected: &str,
) -> Diagnostic {
    Diagnostic::error(
        Code::InvalidValue,
        format!("invalid value \"{}\": {expected}", value.value),
    )
    .field(field)
    .at(path, value.span, "invalid value")
}
