//! Certificate checks: revoked, expired, renewal due, lifetime over policy, weak key,
//! forbidden signature algorithm, issuer not allowed.

use super::{Context, day, exact, human};
use crate::discover::{Credential, CredentialKind};
use crate::model::{FindingCode, KeyType, Policy};
use crate::reconcile::finding::Finding;
use crate::reconcile::{public_tls, renewal};

/// Checks the current credential `c` of declared credential `d`.
pub(super) fn check(cx: &Context<'_>, d: usize, c: &Credential, out: &mut Vec<Finding>) {
    let i = cx.matches[d].current.unwrap_or_default();
    let now = cx.input.now;
    let policy = cx.declared[d].policy;
    if let Some(finding) = weak_key(cx, d, i, c, policy) {
        out.push(finding);
    }
    if let Some(finding) = quantum_vulnerable(cx, d, i, c, policy) {
        out.push(finding);
    }
    if c.kind != CredentialKind::X509Certificate {
        return;
    }
    if let Some(revoked) = cx.input.revoked.get(&c.sha256) {
        let why = revoked
            .reason
            .as_deref()
            .map_or_else(String::new, |r| format!(" ({r})"));
        let mut f = cx
            .about_found(
                d,
                i,
                FindingCode::Revoked,
                format!(
                    "certificate revoked {}{why} by its CA and still in use",
                    day(revoked.at.0)
                ),
            )
            .with("revoked_at", revoked.at.0)
            .with("source", &revoked.source);
        if let Some(reason) = &revoked.reason {
            f = f.with("reason", reason);
        }
        out.push(f);
    }
    let (Some(_), Some(na)) = (c.not_before, c.not_after) else {
        return;
    };
    let left = na.0.as_second() - now.as_second();
    // notAfter is inclusive (RFC 5280 §4.1.2.5): expired strictly after it, as cert-manager.
    if left < 0 {
        out.push(
            cx.about_found(
                d,
                i,
                FindingCode::Expired,
                format!("certificate expired {} ago ({})", human(left), day(na.0)),
            )
            .with("not_after", na.0),
        );
    } else {
        let spec = policy.map(|p| &p.spec);
        let renew_before = spec.and_then(|s| s.renew_before.as_ref().map(|r| r.value));
        let (due, suggested) =
            renewal::due(c, renew_before, cx.input.renewal_info).unwrap_or((na.0, None));
        if due <= now {
            let rule = match suggested {
                Some(s) => format!(
                    "ACME renewal information from {}: renew between {} and {}",
                    s.issuer, s.start.0, s.end.0
                ),
                None => renew_before.map_or_else(
                    || "one third of the lifetime (default)".to_owned(),
                    |r| match r {
                        crate::model::RenewBefore::Duration(d) => format!("{d} before expiry"),
                        crate::model::RenewBefore::Percent(p) => format!("{p}% of the lifetime"),
                    },
                ),
            };
            out.push(
                cx.about_found(
                    d,
                    i,
                    FindingCode::RenewalDue,
                    format!(
                        "renewal due since {}{}: {} left before expiry ({})",
                        day(due),
                        if suggested.is_some() {
                            ", as its ACME CA suggests"
                        } else {
                            ""
                        },
                        human(left),
                        day(na.0)
                    ),
                )
                .with("not_after", na.0)
                .with("renewal_due", due)
                .with(
                    "renewal_source",
                    if suggested.is_some() { "ari" } else { "policy" },
                )
                .with("renew_before", rule),
            );
        }
    }
    let Some(policy) = policy else { return };
    if let Some(finding) = validity(cx, d, i, c, policy) {
        out.push(finding);
    }
    let client_auth = c
        .extended_key_usage
        .iter()
        .flatten()
        .any(|u| &**u == "clientAuth");
    if client_auth && policy.spec.trust_domain.value == public_tls::DOMAIN {
        out.push(
            cx.about_found(
                d,
                i,
                FindingCode::ClientAuthOnPublicTls,
                "carries the clientAuth extended key usage: public CAs stop issuing it in TLS server certificates (Chrome Root Program, from 2026-06-15), so a renewal drops it and client authentication that relies on it breaks; move client certificates to a private CA",
            )
            .with("extended_key_usage", c.extended_key_usage.iter().flatten().cloned().collect::<Vec<_>>().join(", ")),
        );
    }
    if let Some(algorithm) = &c.signature_algorithm {
        let forbidden = &policy.spec.forbidden_signature_algorithms;
        if forbidden
            .iter()
            .any(|f| f.value.eq_ignore_ascii_case(algorithm))
        {
            out.push(
                cx.about_found(
                    d,
                    i,
                    FindingCode::ForbiddenSignatureAlgorithm,
                    format!("signed with {algorithm}, which {} forbids", policy.name()),
                )
                .with("signature_algorithm", algorithm),
            );
        }
    }
    if let Some(finding) = issuer(cx, d, i, c, policy) {
        out.push(finding);
    }
}

/// A key whose algorithm is not in the policy's `keyAlgorithms`, or is smaller than allowed.
fn weak_key(
    cx: &Context<'_>,
    d: usize,
    i: usize,
    c: &Credential,
    policy: Option<&Policy>,
) -> Option<Finding> {
    let policy = policy?;
    let allowed = &policy.spec.key_algorithms;
    let key_type = c.key_type.as_deref()?;
    if allowed.is_empty() {
        return None;
    }
    let bits = c.key_bits.unwrap_or(0);
    let fits = allowed.iter().any(|a| {
        name(a.key_type.value) == key_type && a.min_size.as_ref().is_none_or(|m| bits >= m.value)
    });
    if fits {
        return None;
    }
    let wanted: Vec<String> = allowed
        .iter()
        .map(|a| match &a.min_size {
            Some(m) => format!("{} >= {}", name(a.key_type.value), m.value),
            None => name(a.key_type.value).to_owned(),
        })
        .collect();
    Some(
        cx.about_found(
            d,
            i,
            FindingCode::WeakKey,
            format!(
                "{key_type} {bits}-bit key; {} allows {}",
                policy.name(),
                wanted.join(", ")
            ),
        )
        .with("key_type", key_type)
        .with("key_bits", bits)
        .with("allowed", wanted.join(", ")),
    )
}

/// A key a quantum computer would break, under a policy with a post-quantum deadline, from
/// its `warnFrom`: low until two years before `requiredBy`, then medium, high in the last
/// year, critical once it has passed.
fn quantum_vulnerable(
    cx: &Context<'_>,
    d: usize,
    i: usize,
    c: &Credential,
    policy: Option<&Policy>,
) -> Option<Finding> {
    use crate::discover::algorithms::QuantumSafety;
    use crate::model::Severity;
    let policy = policy?;
    let deadline = policy.spec.post_quantum.as_ref()?;
    let key_type = c.key_type.as_deref()?;
    if QuantumSafety::of_key_type(key_type) != Some(QuantumSafety::Vulnerable) {
        return None;
    }
    let now = cx.input.now;
    if deadline.warn_from.as_ref().is_some_and(|w| now < w.value.0) {
        return None;
    }
    let by = deadline.required_by.value.0;
    let left = by.as_second() - now.as_second();
    const YEAR: i64 = 365 * 86_400;
    const TWO_YEARS: i64 = 2 * YEAR;
    let severity = match left {
        ..0 => Severity::Critical,
        0..YEAR => Severity::High,
        YEAR..=TWO_YEARS => Severity::Medium,
        _ => Severity::Low,
    };
    let when = if left < 0 {
        format!("was required by {}", day(by))
    } else {
        format!("is required by {} ({} left)", day(by), human(left))
    };
    let mut finding = cx
        .about_found(
            d,
            i,
            FindingCode::QuantumVulnerable,
            format!(
                "{key_type} key is quantum-vulnerable; {} says post-quantum {when}",
                policy.name()
            ),
        )
        .with("key_type", key_type)
        .with("required_by", by)
        .with(
            "see",
            "NIST IR 8547 (RSA and ECC deprecated after 2030, disallowed after 2035)",
        );
    finding.severity = severity;
    Some(finding)
}

fn name(t: KeyType) -> &'static str {
    match t {
        KeyType::Rsa => "rsa",
        KeyType::Ec => "ec",
        KeyType::Ed25519 => "ed25519",
        KeyType::Ed448 => "ed448",
        KeyType::Dsa => "dsa",
        KeyType::MlDsa => "ml-dsa",
        KeyType::SlhDsa => "slh-dsa",
        KeyType::MlKem => "ml-kem",
        KeyType::CompositeMlDsa => "composite-ml-dsa",
        KeyType::CompositeMlKem => "composite-ml-kem",
    }
}

/// The policy's allowed issuers: `allowedIssuers`, else its `issuers` and the credential's.
pub(super) fn allowed_issuers<'a>(cx: &Context<'a>, d: usize, policy: &'a Policy) -> Vec<&'a str> {
    let spec = &policy.spec;
    if !spec.allowed_issuers.is_empty() {
        return spec
            .allowed_issuers
            .iter()
            .map(|s| s.value.as_str())
            .collect();
    }
    let mut all: Vec<&str> = spec.issuers.iter().map(|s| s.value.as_str()).collect();
    for own in &cx.declared[d].credential.issuers {
        if !all.contains(&own.value.as_str()) {
            all.push(&own.value);
        }
    }
    all
}

/// A certificate whose issuer DN belongs to no allowed issuer. Checked only when the CA
/// subjects of every allowed issuer are known (a local CA's certificate, or `caSubjects`).
fn issuer(
    cx: &Context<'_>,
    d: usize,
    i: usize,
    c: &Credential,
    policy: &Policy,
) -> Option<Finding> {
    let dn = c.issuer.as_deref()?;
    let allowed = allowed_issuers(cx, d, policy);
    if allowed.is_empty() || !allowed.iter().all(|a| cx.knows_issuer(a)) {
        return None;
    }
    let by = cx.issuers_named(dn);
    if by.iter().any(|b| allowed.contains(&b.as_str())) {
        return None;
    }
    let whom = match by.first() {
        Some(name) => format!("issuer {name} ({dn})"),
        None if c.subject.as_deref() == Some(dn) => format!("itself ({dn}, self-signed)"),
        None => format!("{dn}, which is no declared issuer"),
    };
    Some(
        cx.about_found(
            d,
            i,
            FindingCode::IssuerNotAllowed,
            format!(
                "issued by {whom}; {} allows {}",
                policy.name(),
                allowed.join(", ")
            ),
        )
        .with("issuer", dn)
        .with("allowed", allowed.join(", ")),
    )
}

/// `validity-exceeds-policy`: a lifetime longer than the policy's `maxValidity`, or for a
/// `public-tls` policy than SC-081 allows on the day the certificate was issued, whichever is
/// shorter.
fn validity(
    cx: &Context<'_>,
    d: usize,
    i: usize,
    c: &Credential,
    policy: &Policy,
) -> Option<Finding> {
    let (nb, na) = (c.not_before?.0, c.not_after?.0);
    let lifetime = na.as_second() - nb.as_second();
    let seconds = |s: u64| i64::try_from(s).unwrap_or(i64::MAX);
    let declared = policy.spec.max_validity.as_ref().map(|max| {
        (
            seconds(max.value.seconds()),
            format!("the {} that {} allows", max.value, policy.name()),
            max.value.to_string(),
        )
    });
    let scheduled = (policy.spec.trust_domain.value == public_tls::DOMAIN).then(|| {
        let (from, days) = public_tls::step_at(nb);
        let from = if from == jiff::Timestamp::UNIX_EPOCH {
            "before 2026-03-15".to_owned()
        } else {
            format!("from {}", public_tls::day(from))
        };
        (
            seconds(days * 86_400),
            format!(
                "the {days} days that {} allows public TLS certificates issued {from}",
                public_tls::RULE
            ),
            format!("{days}d"),
        )
    });
    let (max, rule, shown) = [declared, scheduled]
        .into_iter()
        .flatten()
        .min_by_key(|(max, _, _)| *max)?;
    // notAfter is inclusive, so a 90-day certificate may last 90 days and one second.
    if lifetime <= max.saturating_add(1) {
        return None;
    }
    Some(
        cx.about_found(
            d,
            i,
            FindingCode::ValidityExceedsPolicy,
            format!(
                "valid for {} ({} over {rule})",
                human(lifetime),
                exact(lifetime - max),
            ),
        )
        .with("not_before", nb)
        .with("not_after", na)
        .with("max_validity", shown),
    )
}
