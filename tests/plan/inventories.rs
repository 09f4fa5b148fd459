//! Inventories from elsewhere: saved by `discover --format json` in several places, merged
//! by fingerprint with their locations combined; unreadable ones are clear errors.

use super::{NOW, finding, fixture, plan_json, run_plan};
use crate::support::{Test, root};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

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
            "{\"format_version\": 1, \"credentials\": [{\"kind\": \"x509\"}], \"diagnostics\": []}",
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
    let legacy = inventory.to_string();
    // As `discover` writes it now; inventories written before mark a failed source only by
    // its location (`legacy`), and are read the same.
    inventory["diagnostics"][0]["source_failed"] = json!({"source": "vault", "retry": "permanent"});
    for inventory in [legacy, inventory.to_string()] {
        a_failed_source_errors_the_plan(&inventory);
    }
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

/// A plan from `inventory`, which says source `vault` failed, is errored, not applyable, and
/// its text names the source.
fn a_failed_source_errors_the_plan(inventory: &str) {
    let (_, out) = run_plan(
        fixture().file("inventory.json", inventory),
        NOW,
        &["--format", "json"],
    );
    let out = out.status(1);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["errored"], true);
    assert_eq!(plan["applyable"], false);
    assert_eq!(plan["complete"], false);
    let (_, text) = run_plan(fixture().file("inventory.json", inventory), NOW, &[]);
    assert!(
        text.status(1)
            .stdout
            .contains("source vault: vault-inventory: command not found")
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
    // The example's CAs live elsewhere: their CRLs and renewal information cannot be read from
    // here, which the plan says rather than calling the certificates "not revoked" or silently
    // using the policies' instants; and one waiver runs 13 months.
    for line in out.stderr.lines() {
        assert!(
            (line.starts_with("warning: revocation unknown for ")
                && line.contains("cfssl/crl cannot be fetched"))
                || line
                    .starts_with("warning: renewal information of issuer letsencrypt unavailable")
                || line.contains("should be reviewed within a year"),
            "{}",
            out.stderr
        );
    }
}

/// The findings and actions of a plan, without what says how it was made (its inputs, id).
fn verdicts(plan: &str) -> (Vec<Value>, Vec<Value>) {
    let plan: Value = serde_json::from_str(plan).unwrap();
    (
        plan["findings"].as_array().unwrap().clone(),
        plan["actions"].as_array().unwrap().clone(),
    )
}

/// A saved inventory is the documented path past one machine: `discover` run from another
/// folder (with a relative `--repo`), planned from a third, gives the live plan exactly.
#[test]
fn a_plan_from_an_inventory_saved_anywhere_equals_the_live_plan_on_the_demo() {
    let test = Test::new();
    Test::new()
        .args(&[
            "--now",
            NOW,
            "demo",
            &test.dir.path().join("demo").to_string_lossy(),
        ])
        .run()
        .status(0);
    let dir = test.dir.path();
    std::fs::create_dir_all(dir.join("elsewhere/deeper")).unwrap();
    let saved = Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args([
            "--repo",
            "../../demo/repo",
            "discover",
            "--format",
            "json",
            "--zone",
            "eu-1",
        ])
        .current_dir(dir.join("elsewhere/deeper"))
        .output()
        .unwrap();
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let inventory: Value = serde_json::from_slice(&saved.stdout).unwrap();
    assert_eq!(inventory["seen_by"]["zone"], "eu-1");
    assert!(
        inventory["seen_by"]["host"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    let paths: Vec<&str> = inventory["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["locations"].as_array().unwrap())
        .filter_map(|l| l["path"].as_str())
        .collect();
    assert!(
        !paths.is_empty()
            && paths
                .iter()
                .all(|p| p.starts_with('/') && !p.contains("..")),
        "locations are absolute: {paths:?}"
    );
    std::fs::write(dir.join("elsewhere/eu-1.json"), &saved.stdout).unwrap();
    let plan = |extra: &[&str], cwd: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_trustops"))
            .args(["--now", NOW, "plan", "--format", "json"])
            .args(extra)
            .current_dir(cwd)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let repo = dir.join("demo/repo").display().to_string();
    let live = plan(&["--repo", &repo], dir);
    let from_saved = plan(
        &["--repo", "demo/repo", "--inventory", "elsewhere/eu-1.json"],
        dir,
    );
    let (live, from_saved) = (verdicts(&live), verdicts(&from_saved));
    assert!(!live.0.is_empty(), "the demo has findings");
    assert_eq!(live.0, from_saved.0, "the same findings");
    assert_eq!(live.1, from_saved.1, "the same actions");
}

/// The acme-corp inventories record absolute locations: planned from any folder, the same
/// verdicts, and no declared key file reported as a stray copy of itself.
#[test]
fn the_acme_corp_plan_does_not_depend_on_where_it_runs() {
    let example = root().join("examples/acme-corp");
    let zones = ["web-hosts", "prod-cluster", "vault"];
    let plan = |cwd: &Path, inventories: &Path| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trustops"));
        command
            .args(["--repo", &example.to_string_lossy(), "--now", NOW])
            .args(["plan", "--format", "json"])
            .current_dir(cwd);
        for zone in zones {
            command
                .arg("--inventory")
                .arg(inventories.join(format!("{zone}.json")));
        }
        String::from_utf8_lossy(&command.output().unwrap().stdout).into_owned()
    };
    let copy = Test::new();
    for zone in zones {
        std::fs::copy(
            example.join(format!("inventories/{zone}.json")),
            copy.dir.path().join(format!("{zone}.json")),
        )
        .unwrap();
    }
    let here = plan(&example, &example.join("inventories"));
    let there = plan(Path::new("/"), copy.dir.path());
    let (here, there) = (verdicts(&here), verdicts(&there));
    assert_eq!(here, there);
    // A stray copy is a real finding (acme-corp keeps a .bak); the declared file itself is not.
    let false_alarms: Vec<&Value> = here
        .0
        .iter()
        .filter(|f| f["code"] == "orphan-private-key")
        .filter(|f| {
            let declared = f["evidence"]["declared_key_files"]
                .as_str()
                .unwrap_or_default();
            let location = f["location"].as_str().unwrap_or_default();
            declared.split(", ").any(|d| d == location)
        })
        .collect();
    assert!(false_alarms.is_empty(), "{false_alarms:#?}");
    assert!(
        here.0.iter().any(|f| f["code"] == "orphan-private-key"
            && f["location"] == "/etc/nginx/certs/checkout.acme.example.key.bak"),
        "the real stray copy is still found"
    );
}
