//! `trustops revoke` through the local CA: the serial goes into the CRL the CA keeps
//! (`crlFile`), which `openssl crl -verify` accepts; what cannot be revoked is refused with
//! nothing done.

use super::{T0, deployed, plan_and_apply, revocation_record, revoke};
use crate::apply::crash::{estate, sh, trustops, verified_crl};

#[test]
fn a_certificate_named_by_fingerprint_is_revoked_in_the_local_ca_crl() {
    let test = estate();
    let dir = test.dir.path();
    plan_and_apply(dir, T0);
    let (serial, _) = deployed(dir);
    let der = sh(
        dir,
        "openssl",
        &[
            "x509",
            "-in",
            "deployed/db.pem",
            "-outform",
            "DER",
            "-out",
            "db.der",
        ],
    );
    assert!(der.is_empty(), "{der}");
    let fingerprint = sha256_of(&dir.join("db.der"));

    let stdout = revoke(dir, &fingerprint[..12], "cessationOfOperation");
    assert!(stdout.contains("applied revoke:"), "{stdout}");
    let crl = verified_crl(dir);
    assert!(
        crl.to_ascii_lowercase().contains(&serial),
        "{serial} not in\n{crl}"
    );
    assert!(crl.contains("Cessation Of Operation"), "{crl}");
    let yaml = revocation_record(dir);
    assert!(yaml.contains("outcome: applied"), "{yaml}");
    assert!(
        yaml.contains(&format!("fingerprint: {fingerprint}")) || yaml.contains(&serial),
        "{yaml}"
    );
}

#[test]
fn unknown_certificates_and_reasons_are_refused_and_nothing_is_recorded() {
    let test = estate();
    let dir = test.dir.path();
    plan_and_apply(dir, T0);
    let before = sh(&dir.join("repo"), "git", &["rev-parse", "trustops-audit"]);
    let refused = |args: &[&str], why: &str| {
        let out = trustops(dir, T0, &[&["revoke"][..], args, &super::APPLY].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(why), "expected {why:?} in:\n{stderr}");
    };
    refused(
        &["deadbeefdeadbeef", "--reason", "keyCompromise"],
        "no discovered certificate has the fingerprint or serial deadbeefdeadbeef",
    );
    refused(
        &["nobody/tls", "--reason", "keyCompromise"],
        "nobody/tls is not a declared credential",
    );
    refused(
        &["db-svc/password", "--reason", "keyCompromise"],
        "not a certificate",
    );
    refused(
        &["db-svc/tls", "--reason", "lost"],
        "expected one of unspecified, keyCompromise",
    );
    let after = sh(&dir.join("repo"), "git", &["rev-parse", "trustops-audit"]);
    assert_eq!(before, after, "no audit commit for a refused revocation");
}

fn sha256_of(path: &std::path::Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// After `trustops revoke`, the next plan knows from the local CA's CRL that the deployed
/// certificate is revoked, says so (critical), and rotates it at once; once rotated, the new
/// certificate is not revoked.
#[test]
fn the_next_plan_finds_a_revoked_certificate_and_rotates_it() {
    let test = estate();
    let dir = test.dir.path();
    plan_and_apply(dir, T0);
    let (serial, _) = deployed(dir);
    revoke(dir, "db-svc/tls", "keyCompromise");
    let out = trustops(dir, T0, &["plan", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = plan["findings"].as_array().unwrap();
    let revoked = findings
        .iter()
        .find(|f| f["code"] == "revoked")
        .unwrap_or_else(|| panic!("no revoked finding: {findings:#?}"));
    assert_eq!(revoked["identity"], "db-svc");
    assert_eq!(revoked["severity"], "critical");
    assert_eq!(revoked["evidence"]["reason"], "keyCompromise");
    assert!(
        revoked["evidence"]["source"]
            .as_str()
            .unwrap()
            .ends_with(".crl"),
        "{revoked:#}"
    );
    let rotate = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "rotate:db-svc/tls")
        .unwrap();
    assert!(rotate["not_before"].is_null(), "{rotate:#}");
    assert!(
        !rotate["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["step"] == "revoke"),
        "not revoked twice: {rotate:#}"
    );
    // The CRL trustops keeps for its local CA records every revocation it made: past its
    // nextUpdate (a week on) it still counts, with no staleness warning.
    let later = trustops(dir, "2026-05-20T12:00:00Z", &["plan", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&later.stderr);
    assert!(!stderr.contains("stale"), "{stderr}");
    let later: serde_json::Value = serde_json::from_slice(&later.stdout).unwrap();
    assert!(
        later["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "revoked"),
        "{later:#}"
    );
    let stdout = plan_and_apply(dir, T0);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let (now_serial, _) = deployed(dir);
    assert_ne!(now_serial, serial);
    let out = trustops(dir, T0, &["plan", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "revoked"),
        "{plan:#}"
    );
}
