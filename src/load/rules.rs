//! Checks within one declaration that types alone cannot express: one issuer/source type,
//! policy sanity, renewal windows, contacts, escalation order, credential names and match
//! rules, exception targets.

use super::names;
use crate::diag::{Code, Diagnostic, Span};
use crate::model::{
    Credential, Identity, KeyType, Model, Owner, Policy, RenewBefore, Spanned, TRUST_DOMAINS,
};
use std::collections::BTreeMap;

/// Signature algorithms `forbiddenSignatureAlgorithms` may name (OpenSSL names, as discovery
/// reports them).
pub(super) const SIGNATURE_ALGORITHMS: [&str; 16] = [
    "md2WithRSAEncryption",
    "md5WithRSAEncryption",
    "sha1WithRSAEncryption",
    "sha224WithRSAEncryption",
    "sha256WithRSAEncryption",
    "sha384WithRSAEncryption",
    "sha512WithRSAEncryption",
    "rsassaPss",
    "dsaWithSHA1",
    "dsa_with_SHA256",
    "ecdsa-with-SHA1",
    "ecdsa-with-SHA224",
    "ecdsa-with-SHA256",
    "ecdsa-with-SHA384",
    "ecdsa-with-SHA512",
    "ED25519",
];

/// Runs every per-declaration rule.
pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for owner in model.owners.values() {
        owner_rules(owner, out);
    }
    for policy in model.policies.values() {
        policy_rules(policy, out);
    }
    for issuer in model.issuers.values() {
        let kinds = issuer.spec.kinds().len();
        one_type(
            kinds,
            "Issuer",
            "localCa, acme, cfssl, exec",
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
            "files, tls, kubernetes, exec, scanner",
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
        identity_rules(model, identity, out);
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

fn owner_rules(owner: &Owner, out: &mut Vec<Diagnostic>) {
    let path = &owner.origin.path;
    let mut contacts: Vec<(String, &crate::model::Contact)> = owner
        .spec
        .contacts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.contacts[{i}]"), c))
        .collect();
    let mut previous: Option<&Spanned<crate::model::Duration>> = None;
    for (i, step) in owner.spec.escalation.iter().enumerate() {
        let field = format!("spec.escalation[{i}]");
        if step.owner.is_none() && step.contacts.is_empty() {
            out.push(missing(
                path,
                step.after.span,
                &format!("{field}.owner"),
                "an escalation step names an owner or contacts to tell",
            ));
        }
        if let Some(to) = step.owner.as_ref().filter(|o| o.value == owner.name()) {
            out.push(invalid(
                path,
                to,
                &format!("{field}.owner"),
                "an owner cannot escalate to itself",
            ));
        }
        if let Some(prev) = previous.filter(|p| p.value >= step.after.value) {
            out.push(
                Diagnostic::error(
                    Code::EscalationOrder,
                    format!(
                        "escalation after {} does not come after the previous step ({})",
                        step.after.value, prev.value
                    ),
                )
                .field(format!("{field}.after"))
                .at(path, step.after.span, "not later than the step before")
                .also(path, prev.span, "previous step"),
            );
        }
        previous = Some(&step.after);
        contacts.extend(
            step.contacts
                .iter()
                .enumerate()
                .map(|(j, c)| (format!("{field}.contacts[{j}]"), c)),
        );
    }
    for (field, contact) in contacts {
        if contact.email.is_none() && contact.webhook_env.is_none() {
            out.push(missing(
                path,
                owner.origin.span,
                &format!("{field}.email"),
                "a contact needs an email or a webhookEnv",
            ));
        }
        if let Some(email) = contact.email.as_ref().filter(|e| !is_email(&e.value)) {
            out.push(invalid(
                path,
                email,
                &format!("{field}.email"),
                "expected an e-mail address like `team@example.com`",
            ));
        }
        if let Some(env) = contact
            .webhook_env
            .as_ref()
            .filter(|e| !is_env_name(&e.value))
        {
            out.push(invalid(path, env, &format!("{field}.webhookEnv"), "expected the name of an environment variable, e.g. `PAYMENTS_SLACK_WEBHOOK`; the URL itself is a secret and stays out of the repository"));
        }
    }
}

fn policy_rules(policy: &Policy, out: &mut Vec<Diagnostic>) {
    let (path, spec) = (&policy.origin.path, &policy.spec);
    let domain = &spec.trust_domain;
    if !names::is_valid(&domain.value) {
        out.push(invalid(
            path,
            domain,
            "spec.trustDomain",
            "expected a kebab-case trust domain such as `internal-mtls`",
        ));
    } else if !TRUST_DOMAINS.contains(&domain.value.as_str())
        && let Some(close) = crate::diag::did_you_mean(&domain.value, TRUST_DOMAINS)
    {
        out.push(
            Diagnostic::warning(
                Code::InvalidValue,
                format!(
                    "custom trust domain \"{}\" looks like a typo of \"{close}\"",
                    domain.value
                ),
            )
            .field("spec.trustDomain")
            .at(path, domain.span, "custom trust domain"),
        );
    }
    if let (Some(validity), Some(before)) = (&spec.max_validity, &spec.renew_before)
        && let RenewBefore::Duration(d) = before.value
        && d >= validity.value
    {
        out.push(
            Diagnostic::error(
                Code::RenewBeforeExceedsValidity,
                format!(
                    "renewBefore {d} is not shorter than maxValidity {}",
                    validity.value
                ),
            )
            .field("spec.renewBefore")
            .at(
                path,
                before.span,
                "every certificate would always be due for renewal",
            )
            .also(path, validity.span, "maxValidity"),
        );
    }
    for (field, value) in [
        ("maxValidity", &spec.max_validity),
        ("maxAge", &spec.max_age),
    ] {
        if let Some(v) = value.as_ref().filter(|v| v.value.seconds() == 0) {
            out.push(invalid(
                path,
                &v.text(),
                &format!("spec.{field}"),
                "must be longer than zero",
            ));
        }
    }
    for (i, key) in spec.key_algorithms.iter().enumerate() {
        let field = format!("spec.keyAlgorithms[{i}].minSize");
        let Some(size) = &key.min_size else { continue };
        let problem = match key.key_type.value {
            KeyType::Rsa if !(1024..=16384).contains(&size.value) => {
                Some("RSA sizes run from 1024 to 16384 bits")
            }
            KeyType::Ec if ![224, 256, 384, 521].contains(&size.value) => {
                Some("EC sizes are curve sizes: 224, 256, 384 or 521")
            }
            KeyType::Ed25519 | KeyType::Ed448 => {
                Some("Ed25519 and Ed448 have a fixed size; remove minSize")
            }
            KeyType::Dsa if !(1024..=3072).contains(&size.value) => {
                Some("DSA sizes run from 1024 to 3072 bits")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            out.push(invalid(
                path,
                &Spanned {
                    value: size.value.to_string(),
                    span: size.span,
                },
                &field,
                problem,
            ));
        }
    }
    for (i, alg) in spec.forbidden_signature_algorithms.iter().enumerate() {
        if !SIGNATURE_ALGORITHMS.contains(&alg.value.as_str()) {
            out.push(
                invalid(
                    path,
                    alg,
                    &format!("spec.forbiddenSignatureAlgorithms[{i}]"),
                    "not a known signature algorithm",
                )
                .suggest(&alg.value, SIGNATURE_ALGORITHMS)
                .note(format!("known: {}", SIGNATURE_ALGORITHMS.join(", "))),
            );
        }
    }
    for (i, threshold) in spec.notify.before_expiry.iter().enumerate() {
        if threshold.value.seconds() == 0 {
            out.push(invalid(
                path,
                &threshold.text(),
                &format!("spec.notify.beforeExpiry[{i}]"),
                "must be longer than zero",
            ));
        }
    }
    for (i, window) in spec.renewal_windows.iter().enumerate() {
        let field = format!("spec.renewalWindows[{i}]");
        if !window.schedule.value.can_match() {
            out.push(
                Diagnostic::error(Code::ImpossibleRenewalWindow, format!("schedule `{}` never matches a real date", window.schedule.value.as_str()))
                    .field(format!("{field}.schedule"))
                    .at(path, window.schedule.span, "no month has this day")
                    .note("rotations under this policy could never run; check the day of month against the months"),
            );
        }
        if window.duration.value.seconds() < 60 {
            out.push(invalid(
                path,
                &window.duration.text(),
                &format!("{field}.duration"),
                "a renewal window must stay open at least 1m",
            ));
        }
        let tz = &window.time_zone;
        if jiff::tz::TimeZone::get(&tz.value).is_err() {
            let names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
            out.push(
                Diagnostic::error(
                    Code::UnknownTimeZone,
                    format!("unknown time zone \"{}\"", tz.value),
                )
                .field(format!("{field}.timeZone"))
                .at(path, tz.span, "not an IANA time zone")
                .suggest(&tz.value, names.iter().map(String::as_str))
                .note("use an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`"),
            );
        }
    }
}

fn identity_rules(model: &Model, identity: &Identity, out: &mut Vec<Diagnostic>) {
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
    let policy_name = credential.policy.as_ref().or(identity.spec.policy.as_ref());
    match policy_name {
        None => out.push(missing(path, credential.name.span, &format!("{at}.policy"), "every credential needs a policy: set spec.policy on the identity or policy on the credential")),
        Some(name) => {
            let requires = model.policies.get(&name.value).is_some_and(|p| p.spec.require_workload);
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

fn fingerprint(path: &str, fp: &Spanned<String>, field: &str, out: &mut Vec<Diagnostic>) {
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

fn missing(path: &str, span: Span, field: &str, why: &str) -> Diagnostic {
    Diagnostic::error(Code::MissingField, why.to_owned())
        .field(field)
        .at(path, span, "required here")
}

fn invalid(path: &str, value: &Spanned<String>, field: &str, expected: &str) -> Diagnostic {
    Diagnostic::error(
        Code::InvalidValue,
        format!("invalid value \"{}\": {expected}", value.value),
    )
    .field(field)
    .at(path, value.span, "invalid value")
}

fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
    })
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let spiffe_ok = scheme != "spiffe"
        || rest
            .strip_prefix("//")
            .is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    scheme_ok && !rest.is_empty() && spiffe_ok && !s.contains(char::is_whitespace)
}

fn is_host_port(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else {
        return false;
    };
    let host_ok =
        !host.is_empty() && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')));
    host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_uris_addresses_and_env_names() {
        assert!(is_uri("spiffe://acme.example/ns/prod/sa/api"));
        assert!(is_uri("urn:acme:service:billing"));
        assert!(!is_uri("spiffe:///no-domain"));
        assert!(!is_uri("payments-api"));
        assert!(is_host_port("api.example.com:443"));
        assert!(is_host_port("[::1]:8443"));
        assert!(!is_host_port("::1:8443"));
        assert!(!is_host_port("example.com"));
        assert!(!is_host_port("example.com:0"));
        assert!(is_env_name("SLACK_WEBHOOK_1"));
        assert!(!is_env_name("https://hooks.slack.com/x"));
        assert!(is_email("a@b.io"));
        assert!(!is_email("not-an-email"));
    }
}
