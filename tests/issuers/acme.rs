//! ACME as an issuer, against a real pebble: an order finalized with trustops' CSR, the
//! chain verified up to pebble's root, and the replaced certificate revoked at the end of the
//! next rotation (pebble's own status says so).

use crate::apply::crash::{amend, estate_with, ok, record, sh, trustops};
use crate::support::{Pebble, free_port};
use std::path::Path;

const T0: &str = "2026-05-01T12:00:00Z";
const APPLY: [&str; 3] = ["--auto-approve", "--signing-key", "audit-key"];

/// Declares the issuer `pebble` in the estate.
pub(super) fn declare(dir: &Path, pebble: &Pebble) {
    let hosts = "kind: Source\nmetadata: {name: hosts}";
    let issuer = format!(
        "kind: Issuer\nmetadata: {{name: pebble}}\nspec:\n  acme:\n    directoryUrl: {}\n    email: pki@test.example\n    accountKeyFile: ../acme/account.key\n    caFile: {}\n    http01: {{listen: \"127.0.0.1:{}\"}}\n---\napiVersion: trustops.dev/v1alpha1\n{hosts}",
        pebble.directory(),
        pebble.tls_root.display(),
        free_port()
    );
    amend(dir, hosts, &issuer, "an ACME CA");
}

/// The serial (lowercase hex) and end of validity of the deployed certificate.
fn deployed(dir: &Path) -> (String, jiff::Timestamp) {
    let text = sh(
        dir,
        "openssl",
        &[
            "x509",
            "-in",
            "deployed/db.pem",
            "-noout",
            "-serial",
            "-enddate",
            "-dateopt",
            "iso_8601",
        ],
    );
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .trim()
            .to_owned()
    };
    let serial = field("serial=").to_ascii_lowercase();
    let end = field("notAfter=").replace(' ', "T");
    (serial, end.parse().unwrap())
}

#[test]
fn pebble_issues_the_chain_verifies_and_the_replaced_certificate_is_revoked() {
    let test = estate_with("[pebble]", "auto", "");
    let dir = test.dir.path();
    let pebble = Pebble::start(&dir.join("pebble"));
    declare(dir, &pebble);

    ok(&trustops(dir, T0, &["plan", "--out", "plan.json"]));
    let stdout = ok(&trustops(
        dir,
        T0,
        &[&["apply", "plan.json"][..], &APPLY].concat(),
    ));
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    std::fs::write(dir.join("pebble-root.pem"), pebble.issuing_root()).unwrap();
    sh(
        dir,
        "openssl",
        &[
            "verify",
            "-CAfile",
            "pebble-root.pem",
            "-untrusted",
            "deployed/db.pem",
            "deployed/db.pem",
        ],
    );
    assert!(record(dir, "rotate-db-svc-tls.yaml").contains("issuer: pebble"));
    let key = std::fs::metadata(dir.join("acme/account.key")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777,
        0o600,
        "the account key is created private"
    );
    let (first, not_after) = deployed(dir);
    assert_eq!(pebble.status(&first), "Valid");

    // Five days before it expires the certificate is renewed, and the old one is revoked
    // through pebble, which the audit trail names as its issuer.
    let t1 = (not_after - jiff::SignedDuration::from_hours(5 * 24)).to_string();
    ok(&trustops(dir, &t1, &["plan", "--out", "plan.json"]));
    let stdout = ok(&trustops(
        dir,
        &t1,
        &[&["apply", "plan.json"][..], &APPLY].concat(),
    ));
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let (second, _) = deployed(dir);
    assert_ne!(first, second);
    assert_eq!(pebble.status(&first), "Revoked");
    assert_eq!(pebble.status(&second), "Valid");
}
