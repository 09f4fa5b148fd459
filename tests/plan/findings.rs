//! Every finding code: the fixture produces it, and an Exception waives exactly that finding
//! (the plan names the exception, and no action cites the finding any more).

use super::{NOW, finding, fixture, plan_json, target};
use serde_json::Value;
use std::collections::BTreeSet;

/// What a waiver names.
enum By {
    /// `identity` and optionally one credential.
    Identity(&'static str, Option<&'static str>),
    /// The fingerprint of the discovered credential.
    Fingerprint,
}

fn exception(code: &str, by: &By, found: &Value) -> String {
    let target = match by {
        By::Identity(identity, Some(credential)) => {
            format!("identity: {identity}\n  credential: {credential}")
        }
        By::Identity(identity, None) => format!("identity: {identity}"),
        By::Fingerprint => format!(
            "fingerprint: \"sha256:{}\"",
            found["fingerprint"].as_str().unwrap()
        ),
    };
    format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Exception\nmetadata: {{name: waiver}}\nspec:\n  {target}\n  rule: {code}\n  reason: Accepted for the test.\n  approvedBy: ciso@test.example\n  expires: 2026-12-31\n"
    )
}

fn active(plan: &Value) -> usize {
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .count()
}

#[track_caller]
fn produced_and_waived(code: &str, target_name: &str, by: By) {
    let plan = plan_json(fixture(), NOW);
    let found = finding(&plan, code, target_name);
    assert!(found["suppressed"].is_null(), "{found:#}");
    assert!(!found["message"].as_str().unwrap().is_empty());
    assert!(
        !plan["references"][code]["nist_csf"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{found:#}"
    );
    let id = found["id"].as_str().unwrap().to_owned();

    let waived = plan_json(
        fixture().file("waiver.yaml", exception(code, &by, found)),
        NOW,
    );
    let again = finding(&waived, code, target_name);
    assert_eq!(again["suppressed"]["exception"], "waiver", "{again:#}");
    assert_eq!(again["suppressed"]["approved_by"], "ciso@test.example");
    assert_eq!(
        active(&waived),
        active(&plan) - 1,
        "it waives exactly one finding"
    );
    for a in waived["actions"].as_array().unwrap() {
        assert!(
            !a["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == id.as_str()),
            "action {} still cites the waived {id}",
            a["id"]
        );
    }
}

#[test]
fn the_fixture_produces_every_finding_code() {
    let plan = plan_json(fixture(), NOW);
    let codes: BTreeSet<&str> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    let all: BTreeSet<&str> = trustops::model::FindingCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(codes, all);
}

#[test]
fn unmanaged() {
    produced_and_waived("unmanaged", "5f175d4c9744", By::Fingerprint);
}

#[test]
fn missing() {
    produced_and_waived(
        "missing",
        "missing-svc/tls",
        By::Identity("missing-svc", None),
    );
}

#[test]
fn expired() {
    produced_and_waived(
        "expired",
        "expired-svc/tls",
        By::Identity("expired-svc", Some("tls")),
    );
}

#[test]
fn renewal_due() {
    produced_and_waived(
        "renewal-due",
        "due-svc/tls",
        By::Identity("due-svc", Some("tls")),
    );
}

#[test]
fn validity_exceeds_policy() {
    produced_and_waived(
        "validity-exceeds-policy",
        "long-svc/tls",
        By::Identity("long-svc", None),
    );
}

#[test]
fn quantum_vulnerable() {
    // The windowed policy wants post-quantum keys by 2027-01-01: seven months from NOW, high.
    produced_and_waived(
        "quantum-vulnerable",
        "window-svc/tls",
        By::Identity("window-svc", Some("tls")),
    );
    let plan = plan_json(fixture(), NOW);
    assert_eq!(
        finding(&plan, "quantum-vulnerable", "window-svc/tls")["severity"],
        "high"
    );
}

#[test]
fn weak_key() {
    // The fixture's own exception for this finding expired, so it is reported; a new one waives it.
    produced_and_waived(
        "weak-key",
        "weak-svc/tls",
        By::Identity("weak-svc", Some("tls")),
    );
}

#[test]
fn forbidden_signature_algorithm() {
    produced_and_waived(
        "forbidden-signature-algorithm",
        "sha1-svc/tls",
        By::Identity("sha1-svc", Some("tls")),
    );
}

#[test]
fn issuer_not_allowed() {
    produced_and_waived(
        "issuer-not-allowed",
        "rogue-issuer-svc/tls",
        By::Identity("rogue-issuer-svc", None),
    );
}

#[test]
fn owner_missing() {
    produced_and_waived(
        "owner-missing",
        "unowned-svc",
        By::Identity("unowned-svc", None),
    );
}

#[test]
fn secret_too_old() {
    produced_and_waived(
        "secret-too-old",
        "api/key",
        By::Identity("api", Some("key")),
    );
}

#[test]
fn drift() {
    produced_and_waived(
        "drift",
        "drift-svc/tls",
        By::Identity("drift-svc", Some("tls")),
    );
}

#[test]
fn exception_expired() {
    produced_and_waived(
        "exception-expired",
        "weak-svc/tls",
        By::Identity("weak-svc", Some("tls")),
    );
}

#[test]
fn dependents_out_of_sync() {
    produced_and_waived(
        "dependents-out-of-sync",
        "db-svc/password",
        By::Identity("db-svc", Some("password")),
    );
}

#[test]
fn shared_credential() {
    produced_and_waived(
        "shared-credential",
        "shared-a/tls",
        By::Identity("shared-a", Some("tls")),
    );
}

#[test]
fn orphan_private_key_without_certificate() {
    produced_and_waived("orphan-private-key", "96b93935b66c", By::Fingerprint);
}

#[test]
fn orphan_private_key_outside_declared_key_files() {
    produced_and_waived(
        "orphan-private-key",
        "keycopy-svc/tls",
        By::Identity("keycopy-svc", Some("tls")),
    );
}

#[test]
fn findings_carry_evidence_and_point_at_the_declaration() {
    let plan = plan_json(fixture(), NOW);
    let expired = finding(&plan, "expired", "expired-svc/tls");
    assert_eq!(expired["severity"], "critical");
    assert_eq!(expired["evidence"]["not_after"], "2026-05-20T00:00:00Z");
    assert_eq!(expired["location"], "/srv/hosts/expired-svc.pem");
    assert_eq!(expired["declared"]["path"], "identities.yaml");
    assert!(expired["declared"]["line"].as_u64().unwrap() > 0);
    assert_eq!(expired["owner"], "team-a");
    let drift = finding(&plan, "drift", "drift-svc/tls");
    assert_eq!(
        drift["evidence"]["dns_names"],
        "lacks www.drift-svc.test; carries undeclared extra.test"
    );
    let weak = finding(&plan, "weak-key", "weak-svc/tls");
    assert_eq!(weak["evidence"]["key_bits"], "1024");
    // The framework references are listed once per code, not in every finding.
    assert!(weak.get("references").is_none(), "{weak:#}");
    assert!(
        plan["references"]["weak-key"]["owasp_nhi"][0]
            .as_str()
            .unwrap()
            .starts_with("NHI4")
    );
    // The CA certificate in the chain files signs the others: it is no unmanaged identity.
    let unmanaged: Vec<String> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unmanaged")
        .map(target)
        .collect();
    assert_eq!(unmanaged, ["5f175d4c9744"]);
}

#[test]
fn the_newest_valid_certificate_is_current_and_older_ones_are_superseded() {
    let plan = plan_json(fixture(), NOW);
    let healthy = plan["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identity"] == "healthy")
        .unwrap();
    assert_eq!(healthy["current"]["not_after"], "2026-07-30T00:00:00Z");
    assert_eq!(
        healthy["superseded"][0]["locations"][0],
        "/srv/backup/healthy-old.pem"
    );
    assert!(
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["identity"] != "healthy"),
        "superseded certificates are reported, not findings"
    );
}

/// notAfter is inclusive (RFC 5280 §4.1.2.5; cert-manager agrees): at notAfter a certificate is
/// still valid (its renewal is due), one second later it is expired.
#[test]
fn a_certificate_is_expired_strictly_after_its_not_after() {
    let at_not_after = plan_json(fixture(), "2026-05-20T00:00:00Z");
    let codes: Vec<&str> = at_not_after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["identity"] == "expired-svc")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"expired"), "{codes:?}");
    let due = finding(&at_not_after, "renewal-due", "expired-svc/tls");
    assert!(
        due["message"].as_str().unwrap().contains("0 seconds left"),
        "{due}"
    );
    let after = plan_json(fixture(), "2026-05-20T00:00:01Z");
    let expired = finding(&after, "expired", "expired-svc/tls");
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .contains("expired 1 second ago"),
        "{expired}"
    );
}

/// A lifetime over the policy's maximum says by how much, exactly: two seconds over is not
/// "longer than 90d" next to "valid for 90 days".
#[test]
fn validity_over_the_policy_names_the_excess() {
    let path = crate::support::root().join("tests/fixtures/plan/inventory.json");
    let mut inventory: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for c in inventory["credentials"].as_array_mut().unwrap() {
        if c["subject"] == "CN=long-svc.test,O=Test" {
            // 90 days and two seconds from 2026-01-01; notAfter is inclusive, so one is allowed.
            c["not_after"] = "2026-04-01T00:00:02Z".into();
        }
    }
    let plan = plan_json(
        fixture().file("inventory.json", inventory.to_string()),
        "2026-02-01T00:00:00Z",
    );
    let long = finding(&plan, "validity-exceeds-policy", "long-svc/tls");
    assert_eq!(
        long["message"],
        "valid for 90 days (2 seconds over the 90d that tls allows)"
    );
}

/// The wrong key in a declared key file is the certificate's drift, fixed by rotating it; it is
/// not a stray key to remove (that advice would delete a deployed file).
#[test]
fn a_wrong_key_in_a_declared_key_file_is_drift_not_a_stray_to_remove() {
    let path = crate::support::root().join("tests/fixtures/plan/inventory.json");
    let mut inventory: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let credentials = inventory["credentials"].as_array_mut().unwrap();
    // healthy.key now holds the stray key, and healthy's own key is gone.
    credentials.retain(|c| c["locations"][0]["path"] != "/srv/hosts/healthy.key");
    for c in credentials.iter_mut() {
        if c["locations"][0]["path"] == "/srv/hosts/stray.key" {
            c["locations"][0]["path"] = "/srv/hosts/healthy.key".into();
        }
    }
    let plan = plan_json(fixture().file("inventory.json", inventory.to_string()), NOW);
    let drift = finding(&plan, "drift", "healthy/tls");
    assert!(
        drift["message"]
            .as_str()
            .unwrap()
            .contains("the key in /srv/hosts/healthy.key does not belong to the certificate"),
        "{drift}"
    );
    let about_the_file: Vec<&Value> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "orphan-private-key" && f["location"] == "/srv/hosts/healthy.key")
        .collect();
    assert!(about_the_file.is_empty(), "{about_the_file:#?}");
    let advice = plan["actions"].to_string();
    assert!(
        !advice.contains("remove the stray key at /srv/hosts/healthy.key"),
        "{advice}"
    );
}

/// An exception that waives nothing (its target has no such finding) is said on stderr, with
/// where it is declared: dead weight an auditor will ask about. One that waives something is not.
#[test]
fn an_exception_that_waives_nothing_is_a_warning() {
    let idle = exception(
        "weak-key",
        &By::Identity("healthy", Some("tls")),
        &Value::Null,
    );
    let (_, out) = super::run_plan(fixture().file("waiver.yaml", idle), NOW, &[]);
    let out = out.status(0);
    assert!(
        out.stderr.contains(
            "warning: exception waiver waives nothing: there is no weak-key finding about healthy/tls (waiver.yaml:3); remove it, or correct its target"
        ),
        "{}",
        out.stderr
    );
    let used = exception(
        "weak-key",
        &By::Identity("weak-svc", Some("tls")),
        &Value::Null,
    );
    let (_, out) = super::run_plan(fixture().file("waiver.yaml", used), NOW, &[]);
    assert!(!out.status(0).stderr.contains("waiver waives nothing"));
}

/// `match.location: "**/…"` means anywhere: discovered files live outside the repository.
#[test]
fn a_location_glob_starting_with_double_star_matches_absolute_paths() {
    let identity = "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: found-anywhere}\nspec:\n  owner: team-a\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {location: \"**/hosts/unknown.pem\"}\n";
    let plan = plan_json(fixture().file("anywhere.yaml", identity), NOW);
    let about: Vec<String> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["identity"] == "found-anywhere"
                || f["message"].as_str().unwrap().contains("unknown.test")
        })
        .map(|f| format!("{} {}", f["code"], f["message"]))
        .collect();
    assert!(
        !about
            .iter()
            .any(|f| f.contains("missing") || f.contains("unmanaged")),
        "matched where it lies: {about:?}"
    );
}

/// An identity `found-anywhere` that claims the unmanaged /srv/hosts/unknown.pem by `rule`.
fn claiming(rule: &str) -> String {
    format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: found-anywhere}}\nspec:\n  owner: team-a\n  policy: tls\n  credentials:\n    - name: tls\n      type: {rule}\n"
    )
}

fn missing_message(rule: &str) -> String {
    let plan = plan_json(fixture().file("anywhere.yaml", claiming(rule)), NOW);
    finding(&plan, "missing", "found-anywhere/tls")["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A mistyped rule shows as one: `missing` names the credential that came closest and the
/// condition it fails.
#[test]
fn missing_names_the_closest_credential_and_the_condition_it_fails() {
    assert_eq!(
        missing_message(
            "x509-certificate\n      match: {dnsNames: [unknown.test], source: hosts, location: \"**/hosts/unknwn.pem\"}"
        ),
        "no discovered credential matches its match rule; closest is /srv/hosts/unknown.pem, which has dnsNames, source but not location **/hosts/unknwn.pem"
    );
    // Some of the names, not all: the ones it lacks.
    assert_eq!(
        missing_message(
            "x509-certificate\n      match: {dnsNames: [unknown.test, www.unknown.test]}"
        ),
        "no discovered credential matches its match rule; closest is /srv/hosts/unknown.pem, which has dnsNames [unknown.test] but not dnsNames [www.unknown.test]"
    );
    // A relative location is the repository's: the message says where that is.
    let relative = missing_message(
        "x509-certificate\n      match: {dnsNames: [unknown.test], location: hosts/unknown.pem}",
    );
    assert!(
        relative.contains("not location hosts/unknown.pem (that is /")
            && relative.ends_with("/hosts/unknown.pem)"),
        "{relative}"
    );
    // Every condition met, but a certificate is not a key.
    assert_eq!(
        missing_message("private-key\n      match: {dnsNames: [unknown.test]}"),
        "no discovered credential matches its match rule: /srv/hosts/unknown.pem meets every condition (dnsNames) but is a x509-certificate, not a private-key"
    );
}

#[test]
fn missing_says_what_nothing_has_when_nothing_comes_close() {
    let plan = plan_json(fixture(), NOW);
    assert_eq!(
        finding(&plan, "missing", "missing-svc/tls")["message"],
        "no discovered credential matches its match rule: nothing discovered has dnsNames [missing-svc.test]"
    );
}

/// An accepted risk is reviewed at least yearly: a waiver running longer is warned about.
#[test]
fn an_exception_running_more_than_a_year_is_warned_about() {
    let waiver = exception(
        "weak-key",
        &By::Identity("weak-svc", Some("tls")),
        &Value::Null,
    );
    let (_, out) = super::run_plan(fixture().file("waiver.yaml", &waiver), NOW, &[]);
    assert!(!out.status(0).stderr.contains("reviewed within a year"));
    let decade = waiver.replace("expires: 2026-12-31", "expires: 2036-06-01");
    let (_, out) = super::run_plan(fixture().file("waiver.yaml", decade), NOW, &[]);
    let said = out.status(0).stderr;
    assert!(
        said.contains("exception waiver waives weak-key until 2036-06-01 (3653 days from now, waiver.yaml:10): an accepted risk should be reviewed within a year"),
        "{said}"
    );
}

/// A fixture whose `tls` policy (public-tls) declares no maxValidity, so SC-081 alone limits
/// lifetimes, with `extra` certificates like healthy's added to the inventory.
fn public_tls_by_date(extra: &[(&str, &str, &str)]) -> crate::support::Test {
    let root = crate::support::root().join("tests/fixtures/plan");
    let policies = std::fs::read_to_string(root.join("policies.yaml"))
        .unwrap()
        .replacen("  maxValidity: 90d\n", "", 1);
    let mut inventory: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("inventory.json")).unwrap())
            .unwrap();
    let credentials = inventory["credentials"].as_array_mut().unwrap();
    let healthy = credentials
        .iter()
        .find(|c| c["serial"] == "1002")
        .unwrap()
        .clone();
    let mut identities = std::fs::read_to_string(root.join("identities.yaml")).unwrap();
    for (n, (name, not_before, not_after)) in extra.iter().enumerate() {
        let mut c = healthy.clone();
        let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
        c["sha256"] = Value::from(format!("{hex:0<64}"));
        c["serial"] = Value::from(format!("20{n}"));
        c["subject"] = Value::from(format!("CN={name}.test,O=Test"));
        c["dns_names"] = serde_json::json!([format!("{name}.test")]);
        c["not_before"] = Value::from(*not_before);
        c["not_after"] = Value::from(*not_after);
        c["locations"] =
            serde_json::json!([{"source": "hosts", "path": format!("/srv/hosts/{name}.pem")}]);
        credentials.push(c);
        identities.push_str(&format!(
            "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: {name}}}\nspec:\n  owner: team-a\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [{name}.test], source: hosts}}\n      dnsNames: [{name}.test]\n"
        ));
    }
    fixture()
        .file("policies.yaml", policies)
        .file("identities.yaml", identities)
        .file("inventory.json", serde_json::to_string(&inventory).unwrap())
}

/// SC-081 caps public TLS lifetimes by the day of issuance: 398 days before 2026-03-15, 200
/// days from then.
#[test]
fn public_tls_lifetimes_follow_sc081_by_issuance_date() {
    let plan = plan_json(
        public_tls_by_date(&[
            ("old-rules", "2026-01-10T00:00:00Z", "2027-02-01T00:00:00Z"), // 387 days
            ("new-rules", "2026-04-01T00:00:00Z", "2027-01-26T00:00:00Z"), // 300 days
        ]),
        NOW,
    );
    let codes = |target: &str| -> Vec<String> {
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| super::target(f) == target)
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!codes("old-rules/tls").contains(&"validity-exceeds-policy".to_owned()));
    assert_eq!(
        finding(&plan, "validity-exceeds-policy", "new-rules/tls")["message"],
        "valid for 300 days (100 days over the 200 days that CA/Browser Forum ballot SC-081 allows public TLS certificates issued from 2026-03-15)"
    );
}

/// Ahead of a step (within 180 days), the plan warns about public-tls policies that allow
/// longer than the step will.
#[test]
fn the_plan_warns_ahead_of_the_next_sc081_step() {
    let step = "from 2027-03-15 CA/Browser Forum ballot SC-081 allows at most 100 days";
    let (_, out) = super::run_plan(public_tls_by_date(&[]), "2026-12-01T00:00:00Z", &[]);
    let said = out.status(0).stderr;
    assert!(
        said.contains(
            "policy tls (policies.yaml:3) allows public TLS certificates of 200 days, but "
        ) && said.contains(step),
        "{said}"
    );
    // Six months before, or with a maxValidity under the step: no warning.
    let (_, out) = super::run_plan(public_tls_by_date(&[]), NOW, &[]);
    assert!(!out.status(0).stderr.contains(step));
    let (_, out) = super::run_plan(fixture(), "2026-12-01T00:00:00Z", &[]);
    assert!(!out.status(0).stderr.contains(step));
}

#[test]
fn client_auth_on_public_tls() {
    let plan = plan_json(fixture(), NOW);
    let found = finding(&plan, "client-auth-on-public-tls", "mtls-edge/tls");
    assert_eq!(
        found["evidence"]["extended_key_usage"],
        "serverAuth, clientAuth"
    );
    assert!(
        found["message"]
            .as_str()
            .unwrap()
            .contains("Chrome Root Program")
    );
}
