//! ACME as an issuer, against a real pebble: an order finalized with trustops' CSR, the
//! chain verified up to pebble's root, and the replaced certificate revoked at the end of the
//! next rotation (pebble's own status says so).

use super::{T0, deployed, plan_and_apply, renew, revoke};
use crate::apply::crash::{amend, estate_with, record, sh};
use crate::support::{Pebble, free_port};
use std::path::Path;

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

#[test]
fn pebble_issues_the_chain_verifies_and_revocations_reach_pebble() {
    let test = estate_with("[pebble]", "auto", "");
    let dir = test.dir.path();
    let pebble = Pebble::start(&dir.join("pebble"));
    declare(dir, &pebble);

    let stdout = plan_and_apply(dir, T0);
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
    assert_eq!(pebble.status(&deployed(dir).0), "Valid");

    // Renewed when due: the old certificate is revoked through pebble, which the audit trail
    // names as its issuer (pebble's CA subjects change on every start, so none are declared).
    let (old, new) = renew(dir);
    assert_eq!(pebble.status(&old), "Revoked");
    assert_eq!(pebble.status(&new), "Valid");

    // A compromised key: revoked on demand, by serial.
    let stdout = revoke(dir, &new, "keyCompromise");
    assert!(stdout.contains("keyCompromise"), "{stdout}");
    assert_eq!(pebble.status(&new), "Revoked");
}
