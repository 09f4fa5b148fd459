//! The CFSSL CA API as an issuer, against a real `cfssl serve`; and the fallback when it
//! is down.

use crate::apply::crash::{amend, apply, estate_with, plan, record, sh};
use crate::support::CfsslServer;
use std::path::Path;

/// Declares the issuer `cfssl-ca` at `port` in the estate.
fn declare(dir: &Path, port: u16) {
    let hosts = "kind: Source\nmetadata: {name: hosts}";
    amend(
        dir,
        hosts,
        &format!(
            "kind: Issuer\nmetadata: {{name: cfssl-ca}}\nspec: {{cfssl: {{url: \"http://127.0.0.1:{port}\"}}}}\n---\napiVersion: trustops.dev/v1alpha1\n{hosts}"
        ),
        "a CFSSL CA",
    );
}

fn plan_and_apply(dir: &Path) -> String {
    plan(dir);
    let out = apply(dir, None).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn cfssl_signs_the_csr_and_the_chain_verifies() {
    let test = estate_with("[cfssl-ca]", "auto", "");
    let dir = test.dir.path();
    let server = CfsslServer::start(&dir.join("pki"));
    declare(dir, server.port);
    let stdout = plan_and_apply(dir);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    sh(
        &dir.join("pki"),
        "openssl",
        &["verify", "-CAfile", "ca.pem", "../deployed/db.pem"],
    );
    assert!(record(dir, "rotate-db-svc-tls.yaml").contains("issuer: cfssl-ca"));
}

#[test]
fn with_the_ca_api_down_the_next_issuer_issues_and_the_record_says_why() {
    let test = estate_with("[cfssl-ca, local-ca]", "auto", "");
    let dir = test.dir.path();
    declare(dir, crate::support::free_port());
    let stdout = plan_and_apply(dir);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let yaml = record(dir, "rotate-db-svc-tls.yaml");
    assert!(yaml.contains("issuer: local-ca"), "{yaml}");
    assert!(yaml.contains("issuer: cfssl-ca"), "{yaml}");
    assert!(yaml.contains("cannot connect"), "{yaml}");
}
