//! Plan throughput and memory on generated estates, at three sizes, against a baseline
//! measured in the same run: merging the same inventory (deduplication by fingerprint, the
//! pass every inventory goes through before planning).
//!
//! ```sh
//! cargo bench --bench plan                          # 10k, 50k and 100k identities
//! cargo bench --bench plan -- --sizes 1000,10000
//! ```
//!
//! Each size runs in a child process that does nothing else, so its peak RSS is its own. An
//! estate of N identities has N certificate credentials (a quarter with a dependent secret
//! rotated with them) and 10·N discovered credentials: per identity the current certificate,
//! its key and six superseded ones, the secrets, and 1.75·N unmanaged certificates. Targets
//! (issue 4): 100,000 identities against 1,000,000 credentials under 10 s and 4 GiB, time
//! growing linearly.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark report"
)]

use jiff::Timestamp;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;
use trustops::discover::{Credential, CredentialKind, Inventory, Location, Time, sha256_hex};

const DAY: i64 = 86_400;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        return child(args[i + 1].parse().unwrap());
    }
    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--sizes")
        .map(|i| args[i + 1].split(',').map(|s| s.parse().unwrap()).collect())
        .unwrap_or_else(|| vec![10_000, 50_000, 100_000]);
    println!(
        "{:>11} {:>11} {:>8} {:>8} {:>11} {:>8} {:>8} {:>12} {:>10} {:>9} {:>9}",
        "identities",
        "discovered",
        "load s",
        "merge s",
        "reconcile s",
        "total s",
        "ratio",
        "µs/credential",
        "peak RSS",
        "findings",
        "actions"
    );
    for n in sizes {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--child", &n.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    println!(
        "total = reconcile + plan; ratio = total / merge of the same inventory; peak RSS of the whole child"
    );
}

fn child(n: usize) {
    let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let started = Instant::now();
    let loaded = trustops::load::from_inputs(declarations(n));
    assert!(
        !trustops::diag::has_errors(&loaded.diagnostics),
        "{:?}",
        loaded.diagnostics.first()
    );
    let load = started.elapsed().as_secs_f64();

    let credentials = inventory(n, now);
    let discovered = credentials.len();
    let started = Instant::now();
    let merged = trustops::discover::merge(vec![Inventory {
        format_version: 1,
        credentials,
        diagnostics: Vec::new(),
    }]);
    let merge = started.elapsed().as_secs_f64();

    let subjects: BTreeMap<String, Vec<String>> =
        [("ca".to_owned(), vec!["CN=Bench CA".to_owned()])].into();
    let started = Instant::now();
    let input = trustops::reconcile::Input {
        model: &loaded.model,
        inventory: &merged,
        now,
        base: std::path::Path::new("/"),
        issuer_subjects: &subjects,
        issued_by: &Default::default(),
    };
    let reconciled = trustops::reconcile::reconcile(&input);
    let reconcile = started.elapsed().as_secs_f64();
    let plan = trustops::plan::plan(&input, reconciled, &trustops::plan::Options::default());
    let planned = started.elapsed().as_secs_f64();
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!(
        "{:>11} {:>11} {:>8.2} {:>8.2} {:>11.2} {:>8.2} {:>7.1}× {:>12.2} {:>7} MB {:>9} {:>9}",
        n,
        discovered,
        load,
        merge,
        reconcile,
        planned,
        planned / merge,
        planned * 1e6 / discovered as f64,
        peak / 1024,
        plan.findings.len(),
        plan.actions.len()
    );
}

/// N identities across 10 owners, one certificate each, every fourth with a secret; a file
/// per 1,000 identities, as a repository would split them.
fn declarations(n: usize) -> Vec<trustops::load::Input> {
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
        serial: Some(sha256_hex(label.as_bytes())[..16].to_owned()),
        subject: Some(format!("CN={dns}")),
        issuer: Some("CN=Bench CA".into()),
        not_before: at(not_before),
        not_after: at(not_before + lifetime),
        dns_names: Some(vec![dns.to_owned()]),
        ip_addresses: Some(Vec::new()),
        uris: Some(Vec::new()),
        key_type: Some("ec".into()),
        key_bits: Some(256),
        curve: Some("prime256v1".into()),
        signature_algorithm: Some("ecdsa-with-SHA256".into()),
        is_ca: Some(false),
        public_key_sha256: Some(sha256_hex(format!("key:{label}").as_bytes())),
        locations: vec![Location::file("hosts", &path, 0)],
        ..Credential::default()
    }
}

/// 10·N discovered credentials (see the module docs).
fn inventory(n: usize, now: Timestamp) -> Vec<Credential> {
    let now = now.as_second();
    let mut all = Vec::with_capacity(n * 10 + n / 4);
    for i in 0..n {
        let t = i % 10;
        let dns = format!("svc-{i}.bench.example");
        // Issued 0–89 days ago: about a third inside renewBefore, a few expired.
        let issued = now - (i as i64 % 95) * DAY;
        let current = certificate(
            &format!("cert:{i}"),
            &dns,
            format!("/srv/team-{t}/svc-{i}.pem"),
            issued,
            90 * DAY,
        );
        let mut key = Credential {
            kind: CredentialKind::PrivateKey,
            sha256: current.public_key_sha256.clone().unwrap(),
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
        key.public_key_sha256 = Some(key.sha256.clone());
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
                id: Some(format!("vault:svc-{i}")),
                last_rotated: at(issued - (i as i64 % 3) * DAY),
                locations: vec![Location {
                    source: "vault".into(),
                    object: Some(format!("svc-{i}")),
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
