//! Actions: rotation groups in dependency order, renewal windows, approval, revocation of
//! replaced certificates, the escalation ladder over time, adoption and review.

use super::{NOW, action, first_action, fixture, has_action, plan_json, run_plan};
use crate::support::root;
use serde_json::Value;

fn steps(a: &Value) -> Vec<String> {
    a["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["step"].as_str().unwrap(),
                s["target"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_rotation_group_issues_deploys_and_verifies_each_credential_then_its_dependents_then_revokes() {
    // Each credential is verified before the next is issued: a dependent that fails leaves the
    // verified certificate deployed, not put back.
    let plan = plan_json(fixture(), NOW);
    let group = action(&plan, "rotate:db-svc/tls");
    assert_eq!(
        steps(group),
        [
            "issue db-svc/tls",
            "deploy db-svc/tls",
            "verify db-svc/tls",
            "issue db-svc/password",
            "revoke db-svc/tls",
        ]
    );
    assert_eq!(group["steps"][0]["issuers"][0], "ca-one");
    assert_eq!(group["steps"][3]["issuers"][0], "vault");
    assert_eq!(
        group["steps"][1]["files"],
        serde_json::json!(["/srv/hosts/db-svc.pem", "/srv/hosts/db-svc.key"])
    );
    assert_eq!(group["steps"][4]["serial"], "1010");
    assert_eq!(
        group["reasons"][0],
        "dependents-out-of-sync:db-svc/password"
    );
    assert!(
        !has_action(&plan, "rotate:db-svc/password"),
        "the dependent rotates inside its group, not on its own"
    );
}

#[test]
fn an_expired_certificate_is_not_revoked_and_a_missing_one_is_issued() {
    let plan = plan_json(fixture(), NOW);
    let expired = action(&plan, "rotate:expired-svc/tls");
    assert!(!steps(expired).iter().any(|s| s.starts_with("revoke")));
    let missing = action(&plan, "rotate:missing-svc/tls");
    assert!(
        missing["summary"]
            .as_str()
            .unwrap()
            .starts_with("issue missing-svc/tls")
    );
}

/// window-svc's certificate (valid to 2026-06-25, `renewBefore: 30d`) is due from Tuesday
/// 2026-05-26; its policy `windowed` opens a window on Saturdays 02:00–06:00 UTC.
#[test]
fn a_rotation_due_outside_the_renewal_windows_runs_at_the_next_window_start() {
    let wednesday = plan_json(fixture(), "2026-05-27T00:00:00Z");
    let waiting = action(&wednesday, "rotate:window-svc/tls");
    assert_eq!(waiting["not_before"], "2026-05-30T02:00:00Z");
    assert!(waiting["schedule"].as_str().unwrap().contains("windowed"));
    assert!(action(&wednesday, "rotate:due-svc/tls")["not_before"].is_null());
    // Inside the window, closing instant included, it runs now.
    for open in ["2026-05-30T03:00:00Z", "2026-05-30T06:00:00Z"] {
        let plan = plan_json(fixture(), open);
        assert!(action(&plan, "rotate:window-svc/tls")["not_before"].is_null());
    }
}

#[test]
fn a_missed_renewal_window_does_not_delay_a_due_rotation_unless_the_policy_says_wait() {
    // Like cert-manager: the window at 2026-05-30 02:00 has passed, so it rotates at once.
    let monday = plan_json(fixture(), NOW);
    let late = action(&monday, "rotate:window-svc/tls");
    assert!(late["not_before"].is_null(), "{late:#}");
    let schedule = late["schedule"].as_str().unwrap();
    assert!(
        schedule.contains("opened at 2026-05-30 02:00 UTC and has passed"),
        "{schedule}"
    );
    // `missedWindow: wait` only ever rotates inside a window...
    let policies = std::fs::read_to_string(root().join("tests/fixtures/plan/policies.yaml"))
        .unwrap()
        .replace(
            "    - {schedule: \"0 2 * * SAT\", duration: 4h}\n",
            "    - {schedule: \"0 2 * * SAT\", duration: 4h}\n  missedWindow: wait\n",
        );
    assert!(policies.contains("missedWindow: wait"));
    let strict = || fixture().file("policies.yaml", &policies);
    let waiting = plan_json(strict(), NOW);
    assert_eq!(
        action(&waiting, "rotate:window-svc/tls")["not_before"],
        "2026-06-06T02:00:00Z"
    );
    // ...unless the certificate expires before the next window opens.
    let plan = plan_json(strict(), "2026-06-22T12:00:00Z");
    let urgent = action(&plan, "rotate:window-svc/tls");
    assert!(urgent["not_before"].is_null(), "{urgent:#}");
    assert!(urgent["schedule"].as_str().unwrap().contains("expires"));
}

#[test]
fn manual_policies_need_an_approver_and_revocations_of_replaced_certificates_too() {
    let plan = plan_json(fixture(), NOW);
    assert_eq!(action(&plan, "rotate:manual-svc/tls")["approval"], "manual");
    assert_eq!(action(&plan, "rotate:due-svc/tls")["approval"], "auto");
    let revoke = first_action(&plan, |a| a["kind"] == "revoke");
    assert_eq!(revoke["identity"], "healthy");
    assert_eq!(revoke["approval"], "manual");
    assert_eq!(revoke["steps"][0]["issuers"][0], "ca-one");
    assert!(
        revoke["summary"]
            .as_str()
            .unwrap()
            .contains("/srv/backup/healthy-old.pem")
    );
    assert_eq!(plan["complete"], false, "actions wait for people");
}

fn recipients(plan: &Value, id: &str) -> Vec<String> {
    action(plan, id)["notice"]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["step"],
                r["email"].as_str().or(r["webhook_env"].as_str()).unwrap()
            )
        })
        .collect()
}

#[test]
fn escalation_tells_the_owner_once_a_threshold_is_crossed() {
    // due-svc expires 2026-06-20: the 30-day threshold is crossed on 2026-05-21. With no notice
    // in the audit trail yet, this one is the first, so the ladder has not started: the owner
    // alone is told (the ladder over several applies is tested in apply::notices).
    let early = plan_json(fixture(), "2026-05-19T00:00:00Z");
    assert!(
        !has_action(&early, "escalate:due-svc/tls"),
        "nobody is told before the first threshold"
    );
    for now in ["2026-05-22T00:00:00Z", "2026-05-25T00:00:00Z"] {
        let plan = plan_json(fixture(), now);
        assert_eq!(
            recipients(&plan, "escalate:due-svc/tls"),
            ["0 team-a@test.example"]
        );
        assert_eq!(
            action(&plan, "escalate:due-svc/tls")["notice"]["first_notice"],
            now
        );
    }
    let close = plan_json(fixture(), "2026-06-10T00:00:00Z");
    assert_eq!(
        action(&close, "escalate:due-svc/tls")["notice"]["threshold"],
        "15d"
    );
}

#[test]
fn a_replaced_credential_is_no_longer_notified() {
    // healthy's replaced certificate expires 2026-06-30, inside the 30-day threshold; only the
    // current one (2026-07-30) counts.
    let plan = plan_json(fixture(), NOW);
    assert!(!has_action(&plan, "escalate:healthy/tls"));
}

#[test]
fn an_adopted_declaration_validates_and_then_matches() {
    let plan = plan_json(fixture(), NOW);
    let adopt = first_action(&plan, |a| a["kind"] == "adopt");
    assert_eq!(
        adopt["owner"], "team-a",
        "guessed from the declared certificates beside it"
    );
    // The declaration as a reviewer copies it from the pull-request comment.
    let (_, comment) = run_plan(fixture(), NOW, &["--format", "markdown"]);
    let yaml = declaration(
        &comment.status(0).stdout,
        adopt["fingerprint"].as_str().unwrap(),
    );
    assert!(yaml.contains("owner: team-a"), "{yaml}");
    let test = fixture().file("adopted.yaml", &yaml);
    let test = test.reset_args().args(&["validate", "--format", "short"]);
    let out = test.run().status(0);
    // The fixture declares no smtp relay: its e-mail contacts are the only warnings.
    assert!(
        out.stdout.contains("0 errors")
            && out
                .stdout
                .lines()
                .filter(|l| l.contains("warning["))
                .all(|l| l.contains("warning[unreachable-contact]")),
        "{}",
        out.stdout
    );
    let after = plan_json(test, NOW);
    assert!(
        !after["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "unmanaged"),
        "the adopted certificate is managed now"
    );
}

#[test]
fn what_needs_a_person_becomes_a_review() {
    let plan = plan_json(fixture(), NOW);
    let shared = action(&plan, "review:shared-a/tls");
    assert_eq!(shared["reasons"][0], "shared-credential:shared-a/tls");
    let owner = action(&plan, "review:unowned-svc");
    assert!(owner["owner"].is_null());
    assert!(owner["summary"].as_str().unwrap().contains("owner"));
    let stray = first_action(&plan, |a| {
        a["kind"] == "review" && a["fingerprint"].is_string()
    });
    assert!(
        stray["summary"]
            .as_str()
            .unwrap()
            .contains("/srv/hosts/stray.key")
    );
}

#[test]
fn a_rotation_that_cannot_run_alone_is_a_review() {
    // Without deploy targets nothing can put a new certificate in place.
    let identities = std::fs::read_to_string(
        crate::support::root().join("tests/fixtures/plan/identities.yaml"),
    )
    .unwrap()
    .replace(
        "\n      deploy: [{certFile: /srv/hosts/due-svc.pem, keyFile: /srv/hosts/due-svc.key}]",
        "",
    );
    let plan = plan_json(fixture().file("identities.yaml", identities), NOW);
    let review = action(&plan, "review:due-svc/tls");
    assert!(
        review["summary"]
            .as_str()
            .unwrap()
            .contains("due-svc/tls declares no deploy target")
    );
    assert!(!has_action(&plan, "rotate:due-svc/tls"));
}

/// The fixture inventory with `extra` credentials appended.
fn inventory_with(extra: &[Value]) -> String {
    let text = std::fs::read_to_string(root().join("tests/fixtures/plan/inventory.json")).unwrap();
    let mut inventory: Value = serde_json::from_str(&text).unwrap();
    let credentials = inventory["credentials"].as_array_mut().unwrap();
    credentials.extend(extra.iter().cloned());
    serde_json::to_string_pretty(&inventory).unwrap()
}

/// The adopt action of the credential with fingerprint `sha256`.
/// The declaration the pull-request comment proposes to adopt the credential `sha256`.
fn declaration(comment: &str, sha256: &str) -> String {
    let heading = format!("Declaration to adopt `{}`:", &sha256[..12]);
    let after = comment
        .split_once(&heading)
        .unwrap_or_else(|| panic!("no {heading} in\n{comment}"))
        .1;
    let body = after.split_once("```yaml\n").unwrap().1;
    body.split_once("```").unwrap().0.to_owned()
}

fn adoption<'a>(plan: &'a Value, sha256: &str) -> &'a Value {
    first_action(plan, |a| a["kind"] == "adopt" && a["fingerprint"] == sha256)
}

/// db/password (team-a's) lives in the same Vault as everyone's secrets: a new secret beside
/// it says nothing about whose it is. Only evidence about the secret itself does.
#[test]
fn adoption_guesses_an_owner_only_from_evidence_about_the_credential() {
    let secret = |sha: &str, object: &str, metadata: Value| {
        serde_json::json!({
            "kind": "secret", "sha256": sha, "id": format!("vault:{object}"),
            "created": "2026-01-01T00:00:00Z",
            "locations": [{"source": "vault", "object": object}],
            "metadata": metadata,
        })
    };
    let unrelated = "aa".repeat(32);
    let labelled = "bb".repeat(32);
    let inventory = inventory_with(&[
        secret(&unrelated, "db/legacy-token", serde_json::json!({})),
        secret(
            &labelled,
            "db/report-token",
            serde_json::json!({"team": "team-a"}),
        ),
    ]);
    let plan = plan_json(fixture().file("inventory.json", &inventory), NOW);
    let guessless = adoption(&plan, &unrelated);
    assert!(guessless["owner"].is_null(), "{guessless:#}");
    assert!(
        guessless["summary"]
            .as_str()
            .unwrap()
            .ends_with("(owner unknown)"),
        "{guessless:#}"
    );
    assert!(
        guessless["adoption"]["guessed_from"].is_null(),
        "{guessless:#}"
    );
    let test = fixture().file("inventory.json", &inventory);
    let (_, text) = run_plan(test, NOW, &["--format", "markdown"]);
    assert!(
        declaration(&text.status(0).stdout, &unrelated).contains("# No owner could be guessed")
    );
    let labelled = adoption(&plan, &labelled);
    assert_eq!(labelled["owner"], "team-a");
    assert!(
        labelled["summary"]
            .as_str()
            .unwrap()
            .contains("guessed from its team label")
    );
}

/// A folder where two owners keep certificates is no evidence for either.
#[test]
fn a_folder_shared_by_several_owners_guesses_nobody() {
    // unowned-svc has no owner; make it security's, beside team-a's certificates.
    let identities = std::fs::read_to_string(root().join("tests/fixtures/plan/identities.yaml"))
        .unwrap()
        .replace(
            "metadata: {name: unowned-svc}\nspec:\n",
            "metadata: {name: unowned-svc}\nspec:\n  owner: security\n",
        );
    assert!(identities.contains("owner: security"));
    let plan = plan_json(fixture().file("identities.yaml", identities), NOW);
    let adopt = first_action(&plan, |a| a["kind"] == "adopt");
    assert!(adopt["owner"].is_null(), "{adopt:#}");
}

/// At scale (8,192 declared credentials and more) what declared credentials say about public
/// keys is gathered on two cores, a part each: a key two identities declare, one in each
/// part, still points at the first of them, as when gathered in one pass.
#[test]
fn at_scale_an_unmanaged_certificate_is_guessed_from_the_first_identity_declaring_its_key() {
    let bulk: String = (0..8_200)
        .map(|i| {
            let owner = if i < 4_200 { "team-a" } else { "security" };
            format!(
                "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: bulk-{i:05}}}\nspec:\n  owner: {owner}\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [bulk-{i:05}.test], source: hosts}}\n      dnsNames: [bulk-{i:05}.test]\n"
            )
        })
        .collect();
    let key = "cc".repeat(32);
    let certificate = |sha256: &str, name: &str, path: &str| {
        serde_json::json!({
            "kind": "x509-certificate", "sha256": sha256, "serial": &sha256[..8],
            "subject": format!("CN={name}"), "issuer": "CN=CA One,O=Test",
            "not_before": "2026-05-01T00:00:00Z", "not_after": "2026-07-30T00:00:00Z",
            "dns_names": [name], "key_type": "ec", "key_bits": 256, "curve": "prime256v1",
            "signature_algorithm": "ecdsa-with-SHA256", "is_ca": false,
            "public_key_sha256": key,
            "locations": [{"source": "hosts", "path": path, "index": 0}],
        })
    };
    let stray = "d3".repeat(32);
    let inventory = inventory_with(&[
        certificate(&"d1".repeat(32), "bulk-00001.test", "/srv/bulk/1.pem"),
        certificate(&"d2".repeat(32), "bulk-08100.test", "/srv/bulk/8100.pem"),
        certificate(&stray, "other.test", "/elsewhere/other.pem"),
    ]);
    let test = fixture()
        .file("bulk.yaml", bulk)
        .file("inventory.json", &inventory);
    let plan = plan_json(test, NOW);
    let adopted = adoption(&plan, &stray);
    assert_eq!(adopted["owner"], "team-a", "{adopted:#}");
    assert!(
        adopted["summary"]
            .as_str()
            .unwrap()
            .contains("its key, which identity bulk-00001 declares"),
        "{adopted:#}"
    );
}
