//! Policy rules: renewal shorter than validity, sane key sizes, known signature algorithms,
//! renewal windows that can match, real time zones.

use super::invalid;
use crate::diag::{Code, Diagnostic};
use crate::load::names;
use crate::model::{KeyType, Policy, RenewBefore, Spanned, TRUST_DOMAINS};

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

/// Checks one policy.
pub(super) fn check(policy: &Policy, out: &mut Vec<Diagnostic>) {
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
    if let Some(validity) = &spec.max_validity {
        for (i, threshold) in spec.notify.before_expiry.iter().enumerate() {
            // Default thresholds carry no place in the file: only what was written is judged.
            if threshold.span.line == 0 || threshold.value < validity.value {
                continue;
            }
            out.push(
                Diagnostic::warning(
                    Code::IneffectiveNotice,
                    format!(
                        "a notice {} before expiry is not shorter than maxValidity {}: it would fire the day a certificate is issued, so it is ignored",
                        threshold.value, validity.value
                    ),
                )
                .field(format!("spec.notify.beforeExpiry[{i}]"))
                .at(path, threshold.span, "never useful")
                .also(path, validity.span, "maxValidity"),
            );
        }
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
    if let Some(value) = spec.secret_value.filter(|v| v.length < 16) {
        out.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "secretValue.length {} is too short: generated secrets have at least 16 characters",
                    value.length
                ),
            )
            .field("spec.secretValue.length")
            .at(path, policy.origin.span, "in this policy"),
        );
    }
    // Certificates are backdated a minute for clock skew: a shorter lifetime would be over, or
    // nearly, by the time the certificate is deployed and verified.
    if let Some(v) = spec
        .max_validity
        .as_ref()
        .filter(|v| (1..120).contains(&v.value.seconds()))
    {
        out.push(invalid(
            path,
            &v.text(),
            "spec.maxValidity",
            "must be at least 2m: certificates are backdated a minute for clock skew, so a shorter one is expired, or nearly, when it is deployed",
        ));
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
            KeyType::MlDsa
            | KeyType::SlhDsa
            | KeyType::MlKem
            | KeyType::CompositeMlDsa
            | KeyType::CompositeMlKem => {
                Some("post-quantum parameter sets have no size in bits; remove minSize")
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
