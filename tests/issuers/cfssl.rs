//! The CFSSL CA API as an issuer, against a real `cfssl serve`; and the fallback when it
//! is down.

use super::{T0, deployed, plan_and_apply, renew, revocation_record, revoke};
use crate::apply::crash::{amend, estate_with, record, sh};
use crate::support::CfsslServer;
use std::path::Path;

/// Declares the issuer `cfssl-ca` at `url` in the estate, trusting `ca_file` for HTTPS.
fn declare(dir: &Path, url: &str, ca_file: Option<&Path>) {
    let hosts = "kind: Source\nmetadata: {name: hosts}";
    let ca_file = ca_file.map_or(String::new(), |f| format!(", caFile: {}", f.display()));
    amend(
        dir,
        hosts,
        &format!(
            "kind: Issuer\nmetadata: {{name: cfssl-ca}}\nspec: {{cfssl: {{url: \"{url}\"{ca_file}}}}}\n---\napiVersion: trustops.dev/v1alpha1\n{hosts}"
        ),
        "a CFSSL CA",
    );
}

#[test]
fn cfssl_signs_the_csr_the_chain_verifies_and_revocations_reach_its_database() {
    let test = estate_with("[cfssl-ca]", "auto", "");
    let dir = test.dir.path();
    // Over HTTPS, with the server's private CA trusted through caFile.
    let (server, https_ca) = CfsslServer::start_https(&dir.join("pki"));
    declare(
        dir,
        &format!("https://localhost:{}", server.port),
        Some(&https_ca),
    );
    let stdout = plan_and_apply(dir, T0);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    sh(
        &dir.join("pki"),
        "openssl",
        &["verify", "-CAfile", "ca.pem", "../deployed/db.pem"],
    );
    assert!(record(dir, "rotate-db-svc-tls.yaml").contains("issuer: cfssl-ca"));
    assert_eq!(server.status(&deployed(dir).0), "good 0");

    // Renewed when due: the old certificate is revoked as superseded (RFC 5280 code 4).
    let (old, new) = renew(dir);
    assert_eq!(server.status(&old), "revoked 4");
    assert_eq!(server.status(&new), "good 0");

    // A compromised key: revoked on demand by identity/credential, code 1.
    let stdout = revoke(dir, "db-svc/tls", "keycompromise");
    assert!(stdout.contains("applied revoke:"), "{stdout}");
    assert_eq!(server.status(&new), "revoked 1");
    let yaml = revocation_record(dir);
    assert!(
        yaml.contains("kind: revoke") && yaml.contains("keyCompromise"),
        "{yaml}"
    );
}

#[test]
fn with_the_ca_api_down_the_next_issuer_issues_and_the_record_says_why() {
    let test = estate_with("[cfssl-ca, local-ca]", "auto", "");
    let dir = test.dir.path();
    let closed = crate::support::free_port();
    declare(dir, &format!("http://127.0.0.1:{closed}"), None);
    let stdout = plan_and_apply(dir, T0);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let yaml = record(dir, "rotate-db-svc-tls.yaml");
    assert!(yaml.contains("issuer: local-ca"), "{yaml}");
    assert!(yaml.contains("issuer: cfssl-ca"), "{yaml}");
    assert!(yaml.contains("cannot connect"), "{yaml}");
}
