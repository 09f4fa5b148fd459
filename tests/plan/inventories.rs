//! Inventories from elsewhere: saved by `discover --format json` in several places, merged
//! by fingerprint with their locations combined; unreadable ones are clear errors.

use super::{NOW, finding, fixture, plan_json, run_plan};
use crate::support::root;
use serde_json::{Value, json};

fn fixture_inventory() -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/plan/inventory.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn inventories_from_several_zones_merge_into_the_same_plan() {
    let whole = fixture_inventory();
    let all = whole["credentials"].as_array().unwrap();
    let (certificates, rest): (Vec<&Value>, Vec<&Value>) =
        all.iter().partition(|c| c["kind"] == "x509-certificate");
    // The second zone also sees one certificate, at another path.
    let mut seen_twice = certificates[1].clone();
    seen_twice["locations"] = json!([{"source": "hosts", "path": "/zone-b/copy.pem", "index": 0}]);
    let mut zone_b: Vec<Value> = rest.into_iter().cloned().collect();
    zone_b.push(seen_twice.clone());
    let zone_a = json!({"format_version": 1, "credentials": certificates, "diagnostics": []});
    let zone_b = json!({"format_version": 1, "credentials": zone_b, "diagnostics": []});

    let test = fixture()
        .file("zone-a.json", zone_a.to_string())
        .file("zone-b.json", zone_b.to_string());
    let test = test.reset_args().args(&[
        "plan",
        "--inventory",
        "zone-a.json",
        "--inventory",
        "zone-b.json",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    let out = test.run().status(0);
    let merged: Value = serde_json::from_str(&out.stdout).unwrap();
    let single = plan_json(fixture(), NOW);
    let codes = |p: &Value| -> Vec<String> {
        p["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}", f["code"], f["id"]))
            .collect()
    };
    assert_eq!(codes(&merged), codes(&single));
    assert_eq!(
        merged["summary"]["discovered"],
        single["summary"]["discovered"]
    );
    assert_eq!(
        merged["inputs"]["inventories"],
        json!(["zone-a.json", "zone-b.json"])
    );
    let state = merged["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["current"]["sha256"].as_str().map(|s| (s, &c["current"])))
        .find(|(sha, _)| *sha == seen_twice["sha256"].as_str().unwrap())
        .map(|(_, current)| current.clone())
        .unwrap();
    assert_eq!(state["locations"].as_array().unwrap().len(), 2, "{state:#}");
}

#[test]
fn a_broken_inventory_names_the_file_line_and_field() {
    let (_, out) = run_plan(
        fixture().file(
            "inventory.json",
            "{\"format_version\": 1, \"credentials\": [{\"kind\": \"x509\"}]}",
        ),
        NOW,
        &[],
    );
    let out = out.status(1);
    assert!(out.stderr.contains("inventory.json:1:"), "{}", out.stderr);
    assert!(out.stderr.contains("credentials[0].kind"), "{}", out.stderr);
    let (_, out) = run_plan(
        fixture().file(
            "inventory.json",
            "{\"format_version\": 7, \"credentials\": [], \"diagnostics\": []}",
        ),
        NOW,
        &[],
    );
    assert!(
        out.status(1)
            .stderr
            .contains("format_version 7 is not supported")
    );
    let (_, out) = run_plan(fixture().file("inventory.json", "{\"format_vers"), NOW, &[]);
    assert!(out.status(1).stderr.contains("inventory.json:1:"));
}

#[test]
fn a_source_that_could_not_be_read_makes_the_plan_errored() {
    let mut inventory = fixture_inventory();
    inventory["diagnostics"] =
        json!([{"location": "source vault", "message": "vault-inventory: command not found"}]);
    let inventory = inventory.to_string();
    let (_, out) = run_plan(
        fixture().file("inventory.json", &inventory),
        NOW,
        &["--format", "json"],
    );
    let out = out.status(1);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["errored"], true);
    assert_eq!(plan["applyable"], false);
    assert_eq!(plan["complete"], false);
    let (_, text) = run_plan(fixture().file("inventory.json", &inventory), NOW, &[]);
    assert!(
        text.status(1)
            .stdout
            .contains("source vault: vault-inventory: command not found")
    );
    // Live discovery: every declared source runs, and vault's command does not exist.
    let test = fixture()
        .reset_args()
        .args(&["plan", "--now", NOW, "--format", "json"]);
    let out = test.run().status(1);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["errored"], true);
    let missing = finding(&plan, "missing", "api/key");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{missing:#}"
    );
}

#[test]
fn invalid_declarations_stop_the_plan_with_their_diagnostics() {
    let test = fixture().file("broken.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: broken}\nspec: {owner: nobody, credentials: []}\n");
    let (_, out) = run_plan(test, NOW, &[]);
    let out = out.status(1);
    assert!(out.stderr.contains("broken.yaml:4:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("declarations are invalid"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn the_acme_corp_example_plans_from_the_inventories_of_three_zones() {
    let example = root().join("examples/acme-corp");
    let zones: Vec<String> = ["web-hosts", "prod-cluster", "vault"]
        .iter()
        .map(|z| {
            example
                .join(format!("inventories/{z}.json"))
                .display()
                .to_string()
        })
        .collect();
    for zone in &zones {
        crate::support::python(
            "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
            &[
                zone,
                &root()
                    .join("schemas/inventory.schema.json")
                    .to_string_lossy(),
            ],
        );
    }
    let repo = example.display().to_string();
    let mut args = vec![
        "plan",
        "--repo",
        &repo,
        "--now",
        NOW,
        "--format",
        "json",
        "--detailed-exitcode",
    ];
    for zone in &zones {
        args.extend(["--inventory", zone.as_str()]);
    }
    let out = crate::support::Test::new().args(&args).run().status(2);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        plan["summary"]["missing"], 0,
        "every declared credential is found in some zone"
    );
    assert_eq!(plan["summary"]["unmanaged"], 3);
    finding(&plan, "exception-expired", "partner-gateway/tls");
    finding(&plan, "expired", "checkout-web/tls");
    finding(
        &plan,
        "dependents-out-of-sync",
        "payments-api/stripe-api-key",
    );
    let revoke = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "rotate:kafka-broker/mtls")
        .unwrap();
    let last = revoke["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(last["step"], "revoke");
    assert_eq!(
        last["issuers"][0], "internal-ca",
        "revoked through the credential's own issuer"
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}
