//! The runnable examples, run as a user runs them: `examples/acme-pebble/run.sh WORKDIR`,
//! `examples/acme-ari/run.sh WORKDIR` and `examples/cfssl/run.sh WORKDIR` start their CA on
//! loopback, run validate → plan → apply,
//! verify the signed audit commit and the deployed chain, and stop the server; WORKDIR keeps
//! what they made.

use crate::support::root;
use std::path::Path;
use std::process::Command;

/// Runs an example's script into `workdir`; its combined output.
fn run(example: &str, workdir: &Path) -> (bool, String) {
    let out = Command::new("bash")
        .arg(root().join("examples").join(example).join("run.sh"))
        .arg(workdir)
        .env("TRUSTOPS", env!("CARGO_BIN_EXE_trustops"))
        .output()
        .expect("bash runs the examples");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// What every example leaves in WORKDIR: a signed audit commit and a verified chain; what it
/// printed.
#[track_caller]
fn check(example: &str, deployed: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let workdir = dir.path().join("work");
    let (ok, text) = run(example, &workdir);
    assert!(ok, "{example}/run.sh failed:\n{text}");
    assert!(text.contains("Good \"git\" signature"), "{text}");
    assert!(text.contains(&format!("{deployed}.pem: OK")), "{text}");
    assert!(
        workdir
            .join("deployed")
            .join(format!("{deployed}.key"))
            .exists()
    );
    let log = Command::new("git")
        .args(["-C", "repo", "log", "--format=%s", "trustops-audit"])
        .current_dir(&workdir)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&log.stdout).contains("trustops apply"),
        "the audit commit is kept in WORKDIR/repo"
    );
    text
}

#[test]
fn acme_pebble_example_issues_through_a_real_http01_validation() {
    check("acme-pebble", "storefront");
}

#[test]
fn cfssl_example_issues_through_the_ca_api_over_https() {
    check("cfssl", "inventory-api");
}

#[test]
fn an_example_refuses_a_workdir_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("something"), "").unwrap();
    let (ok, text) = run("cfssl", dir.path());
    assert!(!ok);
    assert!(text.contains("is not empty"), "{text}");
}

#[test]
fn acme_ari_example_renews_when_the_ca_suggests() {
    let text = check("acme-ari", "storefront");
    assert!(text.contains("\"source\": \"ari\""), "{text}");
}

#[test]
fn openbao_example_issues_and_rotates_the_password_with_the_certificate() {
    let text = check("openbao", "inventory-api");
    assert!(text.contains("current_version: 2"), "{text}");
    assert!(!text.contains("the-old-password"), "{text}");
}
