//! Policies compared field by field: a field that lets more through is *loosened* (high risk),
//! one that lets less through is *tightened* (low). Approvers: the owners of every identity
//! under the policy.

use super::{Changes, Draft, Risk, added, text};
use crate::model::{Approval, Kind, MissedWindow, Model, Policy, PolicySpec, RenewBefore};

pub(super) fn compare(base: &Model, head: &Model, out: &mut Changes<'_>) {
    for (name, before) in &base.policies {
        let owners = out.approvers.policy(name);
        match head.policies.get(name) {
            None => out.push_trust(
                Kind::Policy,
                name,
                &before.origin,
                owners,
                Draft::new(
                    "declaration-removed",
                    Risk::Medium,
                    format!("policy {name} removed"),
                ),
            ),
            Some(after) => {
                for draft in fields(&before.spec, &after.spec) {
                    out.push_trust(Kind::Policy, name, &after.origin, owners.clone(), draft);
                }
            }
        }
    }
    for (name, after) in &head.policies {
        if !base.policies.contains_key(name) {
            added_policy(name, after, out);
        }
    }
}

fn added_policy(name: &str, after: &Policy, out: &mut Changes<'_>) {
    let owners = out.approvers.policy(name);
    out.push_trust(
        Kind::Policy,
        name,
        &after.origin,
        owners,
        Draft::new(
            "declaration-added",
            Risk::Low,
            format!("policy {name} added"),
        ),
    );
}

/// Which way a field moved.
fn moved(loosened: bool, field: &str, message: String, before: String, after: String) -> Draft {
    let (code, risk) = if loosened {
        ("policy-loosened", Risk::High)
    } else {
        ("policy-tightened", Risk::Low)
    };
    Draft::new(code, risk, message).field(field, Some(before), Some(after))
}

/// A limit that is looser when larger (or absent).
fn limit(
    field: &str,
    what: &str,
    before: Option<u64>,
    after: Option<u64>,
    show: impl Fn(Option<u64>) -> String,
) -> Option<Draft> {
    if before == after {
        return None;
    }
    let loosened = match (before, after) {
        (Some(b), Some(a)) => a > b,
        (Some(_), None) => true,
        _ => false,
    };
    let (b, a) = (show(before), show(after));
    let verb = if loosened { "loosened" } else { "tightened" };
    Some(moved(
        loosened,
        field,
        format!("{what} {verb}: {b} → {a}"),
        b,
        a,
    ))
}

fn fields(b: &PolicySpec, a: &PolicySpec) -> Vec<Draft> {
    let mut out = Vec::new();
    let duration = |d: Option<u64>| {
        d.map_or_else(
            || "unlimited".to_owned(),
            |s| crate::model::Duration(s).to_string(),
        )
    };
    out.extend(limit(
        "spec.maxValidity",
        "maxValidity",
        b.max_validity.as_ref().map(|d| d.value.seconds()),
        a.max_validity.as_ref().map(|d| d.value.seconds()),
        duration,
    ));
    out.extend(limit(
        "spec.maxAge",
        "maxAge",
        b.max_age.as_ref().map(|d| d.value.seconds()),
        a.max_age.as_ref().map(|d| d.value.seconds()),
        duration,
    ));
    out.extend(renew_before(b, a));
    for issuer in added(&b.issuers, &a.issuers) {
        out.push(moved(
            true,
            "spec.issuers",
            format!("issuer {} allowed", issuer.value),
            text(&b.issuers),
            text(&a.issuers),
        ));
    }
    for issuer in added(&a.issuers, &b.issuers) {
        out.push(moved(
            false,
            "spec.issuers",
            format!("issuer {} no longer used", issuer.value),
            text(&b.issuers),
            text(&a.issuers),
        ));
    }
    for issuer in added(&b.allowed_issuers, &a.allowed_issuers) {
        out.push(moved(
            true,
            "spec.allowedIssuers",
            format!("certificates from {} accepted", issuer.value),
            text(&b.allowed_issuers),
            text(&a.allowed_issuers),
        ));
    }
    out.extend(keys(b, a));
    for algorithm in added(
        &a.forbidden_signature_algorithms,
        &b.forbidden_signature_algorithms,
    ) {
        out.push(moved(
            true,
            "spec.forbiddenSignatureAlgorithms",
            format!(
                "signature algorithm {} no longer forbidden",
                algorithm.value
            ),
            text(&b.forbidden_signature_algorithms),
            text(&a.forbidden_signature_algorithms),
        ));
    }
    for algorithm in added(
        &b.forbidden_signature_algorithms,
        &a.forbidden_signature_algorithms,
    ) {
        out.push(moved(
            false,
            "spec.forbiddenSignatureAlgorithms",
            format!("signature algorithm {} forbidden", algorithm.value),
            text(&b.forbidden_signature_algorithms),
            text(&a.forbidden_signature_algorithms),
        ));
    }
    let flags = [
        (
            "spec.approval",
            "approval",
            b.approval == Approval::Manual,
            a.approval == Approval::Manual,
            text(&b.approval),
            text(&a.approval),
        ),
        (
            "spec.requireWorkload",
            "requireWorkload",
            b.require_workload,
            a.require_workload,
            b.require_workload.to_string(),
            a.require_workload.to_string(),
        ),
        (
            "spec.revokeOnRotate",
            "revokeOnRotate",
            b.revoke_on_rotate,
            a.revoke_on_rotate,
            b.revoke_on_rotate.to_string(),
            a.revoke_on_rotate.to_string(),
        ),
        // Waiting for the next window delays renewals that are already due: looser.
        (
            "spec.missedWindow",
            "missedWindow",
            b.missed_window == MissedWindow::Renew,
            a.missed_window == MissedWindow::Renew,
            text(&b.missed_window),
            text(&a.missed_window),
        ),
    ];
    for (field, what, strict_before, strict_after, before, after) in flags {
        if strict_before != strict_after {
            out.push(moved(
                strict_before,
                field,
                format!("{what}: {before} → {after}"),
                before,
                after,
            ));
        }
    }
    let other: [(&str, String, String); 4] = [
        (
            "spec.trustDomain",
            text(&b.trust_domain),
            text(&a.trust_domain),
        ),
        ("spec.notify", text(&b.notify), text(&a.notify)),
        (
            "spec.renewalWindows",
            text(&b.renewal_windows),
            text(&a.renewal_windows),
        ),
        (
            "spec.description",
            text(&b.description),
            text(&a.description),
        ),
    ];
    let approvers = |s: &PolicySpec| {
        s.approvers
            .iter()
            .map(|o| o.value.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    if approvers(b) != approvers(a) {
        let (was, now) = (text(&approvers(b)), text(&approvers(a)));
        out.push(
            Draft::new(
                "trust-approvers-changed",
                Risk::High,
                format!("who approves changes to this policy: {was} → {now}"),
            )
            .field("spec.approvers", Some(was), Some(now)),
        );
    }
    for (field, before, after) in other {
        if before != after {
            let risk = if field == "spec.description" {
                Risk::Low
            } else {
                Risk::Medium
            };
            out.push(
                Draft::new("policy-changed", risk, format!("{field} changed")).field(
                    field,
                    Some(before),
                    Some(after),
                ),
            );
        }
    }
    out
}

/// Renewing later (a shorter `renewBefore`) loosens; renewing earlier tightens.
fn renew_before(b: &PolicySpec, a: &PolicySpec) -> Option<Draft> {
    let (before, after) = (
        b.renew_before.as_ref().map(|r| r.value),
        a.renew_before.as_ref().map(|r| r.value),
    );
    if before == after {
        return None;
    }
    let show = |r: Option<RenewBefore>| r.map_or_else(|| "default (33%)".to_owned(), |r| text(&r));
    let loosened = match (before, after) {
        (Some(RenewBefore::Duration(x)), Some(RenewBefore::Duration(y))) => {
            y.seconds() < x.seconds()
        }
        (Some(RenewBefore::Percent(x)), Some(RenewBefore::Percent(y))) => y < x,
        _ => {
            return Some(
                Draft::new(
                    "policy-changed",
                    Risk::Medium,
                    format!("renewBefore changed: {} → {}", show(before), show(after)),
                )
                .field("spec.renewBefore", Some(show(before)), Some(show(after))),
            );
        }
    };
    let verb = if loosened {
        "renews later"
    } else {
        "renews earlier"
    };
    Some(moved(
        loosened,
        "spec.renewBefore",
        format!("renewBefore {verb}: {} → {}", show(before), show(after)),
        show(before),
        show(after),
    ))
}

/// A key type newly allowed, or allowed smaller, loosens; the reverse tightens.
fn keys(b: &PolicySpec, a: &PolicySpec) -> Vec<Draft> {
    let mut out = Vec::new();
    let (before, after) = (text(&b.key_algorithms), text(&a.key_algorithms));
    let min = |spec: &PolicySpec, key: &crate::model::KeyAlgorithm| {
        spec.key_algorithms
            .iter()
            .find(|k| k.key_type == key.key_type)
            .map(|k| k.min_size.as_ref().map_or(0, |m| m.value))
    };
    let mut push = |loosened: bool, message: String| {
        out.push(moved(
            loosened,
            "spec.keyAlgorithms",
            message,
            before.clone(),
            after.clone(),
        ));
    };
    if a.key_algorithms.is_empty() && !b.key_algorithms.is_empty() {
        push(true, "any key algorithm allowed".into());
        return out;
    }
    for key in &a.key_algorithms {
        let name = text(&key.key_type);
        let now = key.min_size.as_ref().map_or(0, |m| m.value);
        match min(b, key) {
            _ if b.key_algorithms.is_empty() => {}
            None => push(true, format!("{name} keys allowed (min {now} bits)")),
            Some(was) if now < was => push(
                true,
                format!("{name} keys allowed from {now} bits (was {was})"),
            ),
            Some(was) if now > was => {
                push(false, format!("{name} keys need {now} bits (was {was})"))
            }
            Some(_) => {}
        }
    }
    for key in &b.key_algorithms {
        if min(a, key).is_none() && !a.key_algorithms.is_empty() {
            push(
                false,
                format!("{} keys no longer allowed", text(&key.key_type)),
            );
        }
    }
    if b.key_algorithms.is_empty() && !a.key_algorithms.is_empty() {
        push(false, format!("key algorithms limited to {after}"));
    }
    out
}
