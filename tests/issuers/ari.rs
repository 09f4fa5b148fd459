//! ACME Renewal Information (RFC 9773) against a real ARI server, acme2certifier: the renewal
//! instant comes from the window the CA suggests, the plan says so, the next order names the
//! certificate it replaces, and a CA that cannot be asked leaves the policy's instant in force.

use super::{T0, deployed, plan_and_apply};
use crate::apply::crash::{amend, estate_with, ok, trustops};
use crate::support::{Acme2Certifier, free_port};
use serde_json::Value;
use std::path::Path;

fn declare(dir: &Path, ca: &Acme2Certifier) {
    let hosts = "kind: Source\nmetadata: {name: hosts}";
    let issuer = format!(
        "kind: Issuer\nmetadata: {{name: a2c}}\nspec:\n  acme:\n    directoryUrl: {}\n    email: pki@test.example\n    accountKeyFile: ../acme/account.key\n    caFile: {}\n    http01: {{listen: \"127.0.0.1:{}\"}}\n---\napiVersion: trustops.dev/v1alpha1\n{hosts}",
        ca.directory(),
        ca.tls_root.display(),
        free_port()
    );
    amend(dir, hosts, &issuer, "an ACME CA with renewal information");
}

/// The plan at `now` as JSON.
fn plan(dir: &Path, now: &str) -> (Value, String) {
    let out = trustops(dir, now, &["plan", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

fn renewal(plan: &Value) -> Value {
    plan["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identity"] == "db-svc" && c["credential"] == "tls")
        .unwrap()["renewal"]
        .clone()
}

fn renewal_due(plan: &Value) -> Option<Value> {
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "renewal-due" && f["identity"] == "db-svc")
        .cloned()
}

#[test]
fn the_renewal_instant_comes_from_the_window_the_ca_suggests() {
    let test = estate_with("[a2c]", "auto", "");
    let dir = test.dir.path();
    let ca = Acme2Certifier::start(&dir.join("a2c"), 30);
    declare(dir, &ca);
    let stdout = plan_and_apply(dir, T0);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let (serial, not_after) = deployed(dir);

    // The certificate lasts 30 days; the policy would renew 10 days before the end, the CA
    // suggests from 85% of the lifetime: the CA's window decides.
    let now = jiff::Timestamp::now().to_string();
    let (fresh, warned) = plan(dir, &now);
    let suggested = renewal(&fresh);
    assert_eq!(suggested["source"], "ari", "{suggested:#}\n{warned}");
    let at: jiff::Timestamp = suggested["at"].as_str().unwrap().parse().unwrap();
    let start: jiff::Timestamp = suggested["suggested_start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let end: jiff::Timestamp = suggested["suggested_end"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(start <= at && at < end, "{suggested:#}");
    assert!(at < not_after, "{suggested:#}");
    let policy_due = not_after - jiff::SignedDuration::from_hours(10 * 24);
    assert!(
        at > policy_due,
        "the CA's window is later than the policy's rule: {suggested:#}"
    );

    // Between the policy's instant and the CA's, nothing is due; after the CA's, it is.
    let between = (policy_due + jiff::SignedDuration::from_hours(1)).to_string();
    assert!(renewal_due(&plan(dir, &between).0).is_none());
    // A minute after: the instant can lie anywhere in the window, up to its end.
    let after = (at + jiff::SignedDuration::from_secs(60)).to_string();
    let (later, _) = plan(dir, &after);
    let due = renewal_due(&later)
        .unwrap_or_else(|| panic!("due after {after}: {suggested:#} {not_after}\n{later:#}"));
    assert_eq!(due["evidence"]["renewal_source"], "ari", "{due:#}");
    assert!(
        due["message"]
            .as_str()
            .unwrap()
            .contains("as its ACME CA suggests"),
        "{due:#}"
    );

    // The renewal names the certificate it replaces; the new certificate has its own window.
    let stdout = ok(&trustops(dir, &after, &["plan", "--out", "plan.json"]));
    assert!(stdout.is_empty() || !stdout.contains("error"), "{stdout}");
    let applied = ok(&trustops(
        dir,
        &after,
        &[&["apply", "plan.json"][..], &super::APPLY].concat(),
    ));
    assert!(applied.contains("applied rotate:db-svc/tls"), "{applied}");
    let (renewed, _) = deployed(dir);
    assert_ne!(renewed, serial);
    let log = std::fs::read_to_string(dir.join("a2c/acme2certifier.log")).unwrap();
    assert!(log.contains("neworders"), "{log}");
    let (next, _) = plan(dir, &now);
    let window = renewal(&next);
    assert_eq!(window["source"], "ari");
    // Its own window, bound to its own CertID: a different instant (drawn from the CertID),
    // even when two issuances in one second share a window start.
    assert_ne!(
        window["at"], suggested["at"],
        "not the old certificate's window"
    );

    // The CA goes away: with nothing kept, the policy's instant applies, and the plan says why.
    drop(ca);
    std::fs::remove_dir_all(dir.join("repo/.git/trustops/ari")).unwrap();
    let (fallback, warned) = plan(dir, &now);
    assert_eq!(renewal(&fallback)["source"], "policy");
    assert!(
        warned.contains("renewal information of issuer a2c unavailable"),
        "{warned}"
    );
}
