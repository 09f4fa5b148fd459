//! Every reference must name something declared: owners, policies, issuers, sources,
//! credentials (`rotateWith`, `dependsOn`) and exception targets.

use crate::diag::{Code, Diagnostic};
use crate::model::{Identity, Kind, Model, Spanned};
use std::collections::BTreeSet;

/// Reports every reference that does not resolve, and issuers a policy does not allow.
/// The declarations, and those refused for an error of their own (kind, name): a reference to
/// one of those is not reported again as unknown.
pub(super) struct Known<'a> {
    pub(super) model: &'a Model,
    pub(super) refused: &'a BTreeSet<(Kind, String)>,
}

impl std::ops::Deref for Known<'_> {
    type Target = Model;
    fn deref(&self) -> &Model {
        self.model
    }
}

pub(super) fn check(model: &Known<'_>, out: &mut Vec<Diagnostic>) {
    for owner in model.owners.values() {
        let path = &owner.origin.path;
        for (i, step) in owner.spec.escalation.iter().enumerate() {
            if let Some(to) = &step.owner {
                resolve(
                    model,
                    Kind::Owner,
                    to,
                    path,
                    &format!("spec.escalation[{i}].owner"),
                    out,
                );
            }
        }
    }
    for policy in model.policies.values() {
        let path = &policy.origin.path;
        for (field, list) in [
            ("issuers", &policy.spec.issuers),
            ("allowedIssuers", &policy.spec.allowed_issuers),
        ] {
            for (i, issuer) in list.iter().enumerate() {
                resolve(
                    model,
                    Kind::Issuer,
                    issuer,
                    path,
                    &format!("spec.{field}[{i}]"),
                    out,
                );
            }
        }
        if !policy.spec.allowed_issuers.is_empty() {
            for (i, issuer) in policy.spec.issuers.iter().enumerate() {
                not_allowed(
                    model,
                    policy.name(),
                    issuer,
                    path,
                    &format!("spec.issuers[{i}]"),
                    out,
                );
            }
        }
    }
    for identity in model.identities.values() {
        identity_references(model, identity, out);
    }
    for exception in model.exceptions.values() {
        let path = &exception.origin.path;
        let spec = &exception.spec;
        let Some(name) = &spec.identity else { continue };
        if !resolve(model, Kind::Identity, name, path, "spec.identity", out) {
            continue;
        }
        if let (Some(credential), Some(identity)) =
            (&spec.credential, model.identities.get(&name.value))
        {
            let names = credential_names(identity);
            credential_in(identity, &names, credential, path, "spec.credential", out);
        }
    }
}

/// Reports approvers (`trustApprovers` in `trustops.yaml`, a policy's `approvers`) that name
/// no declared owner.
pub(super) fn approvers(
    model: &Known<'_>,
    config: &crate::model::RepoConfig,
    out: &mut Vec<Diagnostic>,
) {
    for (i, owner) in config.trust_approvers.iter().enumerate() {
        resolve(
            model,
            Kind::Owner,
            owner,
            crate::model::config_file_name(),
            &format!("trustApprovers[{i}]"),
            out,
        );
    }
    for policy in model.policies.values() {
        for (i, owner) in policy.spec.approvers.iter().enumerate() {
            resolve(
                model,
                Kind::Owner,
                owner,
                &policy.origin.path,
                &format!("spec.approvers[{i}]"),
                out,
            );
        }
    }
}

fn identity_references(model: &Known<'_>, identity: &Identity, out: &mut Vec<Diagnostic>) {
    let path = &identity.origin.path;
    let spec = &identity.spec;
    if let Some(owner) = &spec.owner {
        resolve(model, Kind::Owner, owner, path, "spec.owner", out);
    }
    if let Some(policy) = &spec.policy {
        resolve(model, Kind::Policy, policy, path, "spec.policy", out);
    }
    let local = credential_names(identity);
    for (c, credential) in spec.credentials.iter().enumerate() {
        let at = format!("spec.credentials[{c}]");
        if let Some(policy) = &credential.policy {
            resolve(
                model,
                Kind::Policy,
                policy,
                path,
                &format!("{at}.policy"),
                out,
            );
        }
        let policy = crate::model::Declared::of(model, identity, credential).policy_name;
        for (i, issuer) in credential.issuers.iter().enumerate() {
            let field = format!("{at}.issuers[{i}]");
            if resolve(model, Kind::Issuer, issuer, path, &field, out)
                && let Some(policy) = policy
            {
                not_allowed(model, &policy.value, issuer, path, &field, out);
            }
        }
        if let Some(source) = &credential.match_rule.source {
            resolve(
                model,
                Kind::Source,
                source,
                path,
                &format!("{at}.match.source"),
                out,
            );
        }
        for (field, list) in [
            ("rotateWith", &credential.rotate_with),
            ("dependsOn", &credential.depends_on),
        ] {
            for (i, reference) in list.iter().enumerate() {
                let field = format!("{at}.{field}[{i}]");
                match reference.value.split_once('/') {
                    Some((other, name)) => {
                        let Some(target) = model.identities.get(other) else {
                            let wrong = Spanned {
                                value: other.to_owned(),
                                span: reference.span,
                            };
                            resolve(model, Kind::Identity, &wrong, path, &field, out);
                            continue;
                        };
                        let name = Spanned {
                            value: name.to_owned(),
                            span: reference.span,
                        };
                        credential_in(target, &credential_names(target), &name, path, &field, out);
                    }
                    None => credential_in(identity, &local, reference, path, &field, out),
                }
            }
        }
    }
}

/// The credential names of `identity`, for lookups.
fn credential_names(identity: &Identity) -> BTreeSet<&str> {
    identity
        .spec
        .credentials
        .iter()
        .map(|c| c.name.value.as_str())
        .collect()
}

fn credential_in(
    identity: &Identity,
    names: &BTreeSet<&str>,
    name: &Spanned<String>,
    path: &str,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    if names.contains(name.value.as_str()) {
        return;
    }
    out.push(
        Diagnostic::error(
            Code::UnknownReference,
            format!(
                "no credential \"{}\" in identity \"{}\"",
                name.value,
                identity.name()
            ),
        )
        .field(field)
        .at(path, name.span, "unknown credential")
        .suggest(&name.value, names.iter().copied())
        .also(
            &identity.origin.path,
            identity.origin.span,
            "identity declared here",
        ),
    );
}

/// Reports `reference` when no declaration of `kind` has that name; returns whether it resolved.
fn resolve(
    model: &Known<'_>,
    kind: Kind,
    reference: &Spanned<String>,
    path: &str,
    field: &str,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let names = model.names(kind);
    if names.contains(&reference.value.as_str()) {
        return true;
    }
    if model.refused.contains(&(kind, reference.value.clone())) {
        return false; // Its own error is reported where it is declared.
    }
    let mut d = Diagnostic::error(
        Code::UnknownReference,
        format!("no {} named \"{}\"", kind.lower(), reference.value),
    )
    .field(field)
    .at(path, reference.span, format!("unknown {}", kind.lower()))
    .suggest(&reference.value, names.iter().copied());
    if names.is_empty() {
        d = d.note(format!("no {kind} is declared in this repository"));
    }
    out.push(d);
    false
}

/// Reports `issuer` when policy `policy` has an `allowedIssuers` list without it.
fn not_allowed(
    model: &Model,
    policy: &str,
    issuer: &Spanned<String>,
    path: &str,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let Some(declared) = model.policies.get(policy) else {
        return;
    };
    let allowed = &declared.spec.allowed_issuers;
    if allowed.is_empty() || allowed.iter().any(|a| a.value == issuer.value) {
        return;
    }
    let list: Vec<&str> = allowed.iter().map(|a| a.value.as_str()).collect();
    out.push(
        Diagnostic::error(
            Code::IssuerNotAllowed,
            format!(
                "issuer \"{}\" is not allowed by policy \"{policy}\"",
                issuer.value
            ),
        )
        .field(field)
        .at(path, issuer.span, "not in the policy's allowedIssuers")
        .also(
            &declared.origin.path,
            declared.origin.span,
            "policy declared here",
        )
        .note(format!("allowedIssuers: {}", list.join(", "))),
    );
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::load::{Input, from_inputs};

    const HEAD: &str = "apiVersion: trustops.dev/v1alpha1\n";

    fn problems(docs: &[&str]) -> Vec<(Code, String)> {
        let text = docs
            .iter()
            .map(|d| format!("{HEAD}{d}"))
            .collect::<Vec<_>>()
            .join("---\n");
        let outcome = from_inputs(vec![Input {
            path: "t.yaml".into(),
            bytes: text.into_bytes(),
        }]);
        outcome
            .diagnostics
            .into_iter()
            .map(|d| (d.code, d.message))
            .collect()
    }

    const POLICY: &str = "kind: Policy\nmetadata: {name: p}\nspec:\n  trustDomain: internal-mtls\n  allowedIssuers: [ca]\n";
    const CA: &str = "kind: Issuer\nmetadata: {name: ca}\nspec:\n  localCa: {certFile: ca.pem, keyEnv: CA_KEY}\n";
    const OTHER_CA: &str = "kind: Issuer\nmetadata: {name: other}\nspec:\n  localCa: {certFile: o.pem, keyEnv: O_KEY}\n";

    #[test]
    fn resolving_references_are_silent() {
        let identity = "kind: Identity\nmetadata: {name: api}\nspec:\n  policy: p\n  credentials:\n    - name: tls\n      type: x509-certificate\n      issuers: [ca]\n      match: {uri: \"spiffe://a/b\"}\n      rotateWith: [db, worker/tls]\n    - name: db\n      type: secret\n      match: {secretId: x}\n";
        let worker = "kind: Identity\nmetadata: {name: worker}\nspec:\n  policy: p\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {uri: \"spiffe://a/w\"}\n";
        assert_eq!(problems(&[POLICY, CA, identity, worker]), []);
    }

    #[test]
    fn each_kind_of_reference_is_checked() {
        let identity = "kind: Identity\nmetadata: {name: api}\nspec:\n  owner: nobody\n  policy: p\n  credentials:\n    - name: tls\n      type: x509-certificate\n      issuers: [other, missing-ca]\n      match: {uri: \"spiffe://a/b\", source: nowhere}\n      rotateWith: [worker/tls, ghost/tls]\n";
        let exception = "kind: Exception\nmetadata: {name: e}\nspec:\n  identity: api\n  credential: tl\n  rule: weak-key\n  reason: r\n  approvedBy: me\n  expires: 2030-01-01\n";
        let found = problems(&[POLICY, CA, OTHER_CA, identity, exception]);
        let messages: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "spec.owner: no owner named \"nobody\"",
                "spec.credentials[0].issuers[0]: issuer \"other\" is not allowed by policy \"p\"",
                "spec.credentials[0].issuers[1]: no issuer named \"missing-ca\"",
                "spec.credentials[0].match.source: no source named \"nowhere\"",
                "spec.credentials[0].rotateWith[0]: no identity named \"worker\"",
                "spec.credentials[0].rotateWith[1]: no identity named \"ghost\"",
                "spec.credentials: no credential \"tl\" in identity \"api\" (did you mean \"tls\"?)"
                    .replace("spec.credentials:", "spec.credential:")
                    .as_str(),
            ]
        );
        assert_eq!(found[1].0, Code::IssuerNotAllowed);
        assert!(
            found
                .iter()
                .filter(|(c, _)| *c != Code::IssuerNotAllowed)
                .all(|(c, _)| *c == Code::UnknownReference)
        );
    }
}
