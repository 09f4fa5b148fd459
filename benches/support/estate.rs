//! Generated estates for the benchmarks: declarations of N identities and an inventory of
//! 10·N discovered credentials (see `benches/plan.rs`).

#![allow(dead_code, reason = "each bench uses part of it")]

use jiff::Timestamp;
use std::fmt::Write as _;
use trustops::discover::{Credential, CredentialKind, Location, Time, sha256_hex};

const DAY: i64 = 86_400;

/// N identities across 10 owners, one certificate each, every fourth with a secret; a file
/// per 1,000 identities, as a repository would split them.
pub(crate) fn declarations(n: usize) -> Vec<trustops::load::Input> {
    let mut y = String::new();
    for t in 0..10 {
        let _ = write!(
            y,
            "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {{name: team-{t}}}\nspec: {{contacts: [{{email: team-{t}@bench.example}}], escalation: [{{after: 3d, owner: security}}]}}\n---\n"
        );
    }
    y.push_str("apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: security}\nspec: {contacts: [{email: security@bench.example}]}\n---\n");
    y.push_str("apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: tls}\nspec: {trustDomain: internal-mtls, maxValidity: 90d, renewBefore: 30d, issuers: [ca], keyAlgorithms: [{type: ec, minSize: 256}]}\n---\n");
    y.push_str("apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: secrets}\nspec: {trustDomain: api-key, maxAge: 90d, issuers: [vault]}\n---\n");
    y.push_str("apiVersion: trustops.dev/v1alpha1\nkind: Issuer\nmetadata: {name: ca}\nspec: {caSubjects: [\"CN=Bench CA\"], cfssl: {url: \"http://127.0.0.1:8888\"}}\n---\n");
    y.push_str("apiVersion: trustops.dev/v1alpha1\nkind: Issuer\nmetadata: {name: vault}\nspec: {exec: {command: [rotate]}}\n---\n");
    y.push_str("apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: hosts}\nspec: {files: {paths: [\"/srv/**\"]}}\n---\n");
    y.push_str("apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: vault}\nspec: {exec: {command: [inventory]}}\n");
    let mut inputs = vec![trustops::load::Input {
        path: "common.yaml".into(),
        bytes: std::mem::take(&mut y).into_bytes(),
    }];
    for i in 0..n {
        let t = i % 10;
        if i % 1000 == 0 && !y.is_empty() {
            inputs.push(trustops::load::Input {
                path: format!("identities-{}.yaml", i / 1000),
                bytes: std::mem::take(&mut y).into_bytes(),
            });
        }
        let _ = write!(
            y,
            "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: svc-{i}}}\nspec:\n  owner: team-{t}\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [svc-{i}.bench.example], source: hosts}}\n      dnsNames: [svc-{i}.bench.example]\n      deploy: [{{certFile: /srv/team-{t}/svc-{i}.pem, keyFile: /srv/team-{t}/svc-{i}.key}}]\n"
        );
        if i % 4 == 0 {
            let _ = write!(
                y,
                "      rotateWith: [password]\n    - name: password\n      type: secret\n      policy: secrets\n      match: {{secretId: \"vault:svc-{i}\", source: vault}}\n"
            );
        }
    }
    inputs.push(trustops::load::Input {
        path: "identities-last.yaml".into(),
        bytes: y.into_bytes(),
    });
    inputs
}

fn at(seconds: i64) -> Option<Time> {
    Some(Time::from_unix(seconds))
}

fn certificate(label: &str, dns: &str, path: String, not_before: i64, lifetime: i64) -> Credential {
    Credential {
        kind: CredentialKind::X509Certificate,
        sha256: sha256_hex(label.as_bytes()),
        serial: Some(sha256_hex(label.as_bytes())[..16].into()),
        subject: Some(format!("CN={dns}").into()),
        issuer: Some("CN=Bench CA".into()),
        not_before: at(not_before),
        not_after: at(not_before + lifetime),
        dns_names: Some([dns.to_owned()].into()),
        ip_addresses: Some(Box::default()),
        uris: Some(Box::default()),
        key_type: Some("ec".into()),
        key_bits: Some(256),
        curve: Some("prime256v1".into()),
        signature_algorithm: Some("ecdsa-with-SHA256".into()),
        is_ca: Some(false),
        public_key_sha256: Some(sha256_hex(format!("key:{label}").as_bytes()).into()),
        locations: vec![Location::file("hosts", &path, 0)],
        ..Credential::default()
    }
}

/// 10·N discovered credentials: per identity the current certificate (issued 0 to
/// `max_age_days - 1` days before `now`, 90-day lifetime: with 95, about a third are due and a
/// few expired; with 50, none is due), its key, six superseded certificates, a quarter with a
/// secret; and 1.75·N unmanaged certificates.
pub(crate) fn inventory(n: usize, now: Timestamp, max_age_days: i64) -> Vec<Credential> {
    let now = now.as_second();
    let mut all = Vec::with_capacity(n * 10 + n / 4);
    for i in 0..n {
        let t = i % 10;
        let dns = format!("svc-{i}.bench.example");
        let issued = now - (i as i64 % max_age_days) * DAY;
        let current = certificate(
            &format!("cert:{i}"),
            &dns,
            format!("/srv/team-{t}/svc-{i}.pem"),
            issued,
            90 * DAY,
        );
        let mut key = Credential {
            kind: CredentialKind::PrivateKey,
            sha256: current.public_key_sha256.as_deref().unwrap().to_owned(),
            key_type: Some("ec".into()),
            key_bits: Some(256),
            format: Some("pkcs8".into()),
            locations: vec![Location::file(
                "hosts",
                &format!("/srv/team-{t}/svc-{i}.key"),
                0,
            )],
            ..Credential::default()
        };
        key.public_key_sha256 = Some(key.sha256.as_str().into());
        all.push(current);
        all.push(key);
        for old in 1..=6 {
            all.push(certificate(
                &format!("cert:{i}:{old}"),
                &dns,
                format!("/srv/archive/team-{t}/svc-{i}.{old}.pem"),
                issued - old * 90 * DAY,
                90 * DAY,
            ));
        }
        if i % 4 == 0 {
            all.push(Credential {
                kind: CredentialKind::Secret,
                sha256: sha256_hex(format!("secret:{i}").as_bytes()),
                id: Some(format!("vault:svc-{i}").into()),
                // The planning estate has secrets a day or two behind their certificate
                // (dependents out of sync); a steady one (max_age_days <= 60) keeps them in step.
                last_rotated: at(issued - if max_age_days > 60 { i as i64 % 3 } else { 0 } * DAY),
                locations: vec![Location {
                    source: "vault".into(),
                    object: Some(format!("svc-{i}").into()),
                    ..Location::default()
                }],
                ..Credential::default()
            });
        }
    }
    for j in 0..(n * 7 / 4) {
        let t = j % 10;
        all.push(certificate(
            &format!("rogue:{j}"),
            &format!("rogue-{j}.bench.example"),
            format!("/srv/team-{t}/rogue-{j}.pem"),
            now - 10 * DAY,
            365 * DAY,
        ));
    }
    all
}
