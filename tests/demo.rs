//! `trustops demo`: a runnable demo repository with freshly minted certificates, checked with
//! real `git` and `openssl`.

use crate::support::{Test, tool};
use insta::assert_snapshot;

#[test]
fn demo_creates_a_committed_repo_and_certificates_relative_to_now() {
    let test = Test::new().args(&["--now", "2026-05-01T12:00:00Z", "demo", "demo"]);
    let out = test.run().status(0);
    let stdout = out
        .stdout
        .replace(&test.dir.path().display().to_string(), "[tmp]");
    // Each condition the demo plants is a finding of the plan it runs.
    for code in [
        "expired",
        "renewal-due",
        "weak-key",
        "exception-expired",
        "unmanaged",
        "orphan-private-key",
        "drift",
        "missing",
    ] {
        assert!(
            stdout.contains(&format!(" {code} ")),
            "{code} missing:\n{stdout}"
        );
    }
    assert_snapshot!(redact_hex(&stdout));

    let demo = test.dir.path().join("demo");
    let repo = demo.join("repo");
    // Real git sees one clean commit holding every declaration, and no private key.
    let (ok, status) = tool("git", &["status", "--porcelain"], &repo);
    assert!(ok && status.trim().is_empty(), "git status: {status}");
    let (ok, files) = tool("git", &["ls-files"], &repo);
    assert!(ok, "{files}");
    assert_snapshot!(files, @r"
    allowed_signers
    exceptions.yaml
    identities.yaml
    issuers.yaml
    owners.yaml
    policies.yaml
    schemas/document.schema.json
    schemas/exception.schema.json
    schemas/identity.schema.json
    schemas/issuer.schema.json
    schemas/owner.schema.json
    schemas/policy.schema.json
    schemas/source.schema.json
    schemas/trustops-config.schema.json
    sources.yaml
    trustops.yaml
    ");
    let (ok, fsck) = tool("git", &["fsck", "--strict"], &repo);
    assert!(ok, "{fsck}");
    // The demo applied its plan: stock git accepts the signed audit commit it printed.
    let (ok, verified) = tool(
        "git",
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            "gpg.ssh.allowedSignersFile=allowed_signers",
            "verify-commit",
            "trustops-audit",
        ],
        &repo,
    );
    assert!(
        ok && verified.contains("Good \"git\" signature"),
        "{verified}"
    );
    assert!(stdout.contains("applied rotate:ledger/mtls"), "{stdout}");

    // The certificates chain to the demo CA, and their dates are relative to --now.
    let pki = demo.join("pki");
    let verify = |files: &[&str]| {
        let at = ["verify", "-attime", "1777636800", "-CAfile", "ca/ca.pem"];
        tool("openssl", &[&at[..], files].concat(), &pki)
    };
    let (ok, chained) = verify(&["hosts/web/www.pem", "hosts/payments/ledger.pem"]);
    assert!(ok, "{chained}");
    // The planted expired certificate was renewed by the demo's apply.
    let (ok, renewed) = verify(&["hosts/web/billing.pem"]);
    assert!(ok, "{renewed}");
    let (_, text) = tool(
        "openssl",
        &["x509", "-in", "hosts/data/analytics.pem", "-noout", "-text"],
        &pki,
    );
    assert!(text.contains("Public-Key: (1024 bit)"), "{text}");
    let end = |file: &str| {
        tool(
            "openssl",
            &["x509", "-in", file, "-noout", "-enddate"],
            &pki,
        )
        .1
    };
    // Minted relative to --now, and not due: untouched.
    assert_eq!(
        end("hosts/payments/payments-api.pem").trim(),
        "notAfter=May 29 12:00:00 2026 GMT"
    );
    // Due in 3 days: renewed for the policy's 30 days (from a minute before --now).
    assert_eq!(
        end("hosts/payments/ledger.pem").trim(),
        "notAfter=May 31 11:59:00 2026 GMT"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(pki.join("hosts/web/www.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(pki.join("ca/ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn demo_refuses_a_non_empty_folder() {
    let out = Test::new()
        .file("demo/keep.txt", "mine")
        .args(&["demo", "demo"])
        .run()
        .status(1);
    assert!(
        out.stderr.contains("already exists and is not empty"),
        "{}",
        out.stderr
    );
}

/// Replaces runs of 12 or more hex digits (commit ids, fingerprints, serials, plan ids: random
/// in every demo) with `[hex]`.
fn redact_hex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for ch in text.chars().chain(std::iter::once('\n')) {
        if ch.is_ascii_digit() || ('a'..='f').contains(&ch) {
            run.push(ch);
            continue;
        }
        if run.len() >= 12 {
            out.push_str("[hex]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(ch);
    }
    out.pop();
    out
}
