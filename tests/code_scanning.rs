//! SARIF as GitHub code scanning takes it, checked by Microsoft's SARIF multitool
//! (`validate --rule-kind "Sarif;Ghas"`: the SARIF rules and GitHub Advanced Security's): the
//! output of `validate`, `plan` and `diff`, and a plan with more results than GitHub accepts in
//! one run. Every finding about a credential no identity declares points into the repository
//! (the Source declaration that found it).

use crate::support::{Test, root};
use serde_json::Value;
use std::path::Path;

/// What the multitool reports about `sarif` (a file in `dir`): its error and warning lines.
fn complaints(dir: &Path, sarif: &str) -> Vec<String> {
    let out = std::process::Command::new("sarif-multitool")
        .args(["validate", "--rule-kind", "Sarif;Ghas", "--max-file-size-in-kb", "500000"])
        .args(["--output", &format!("{sarif}.checked"), sarif])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("the SARIF multitool is needed: npm install @microsoft/sarif-multitool (ci/check.sh does): {e}")
        });
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("Analyzing"),
        "the multitool did not run: {text}"
    );
    text.lines()
        .filter(|l| l.contains(": error ") || l.contains(": warning "))
        .map(str::to_owned)
        .collect()
}

/// Runs trustops with `args`, saves its stdout as `name` in the test's folder and checks it.
fn checked(test: Test, args: &[&str], name: &str) -> (Test, Value) {
    let test = test.reset_args().args(args);
    let out = test.run();
    std::fs::write(test.dir.path().join(name), &out.stdout).unwrap();
    let found = complaints(test.dir.path(), name);
    assert!(found.is_empty(), "{name}:\n{}", found.join("\n"));
    let value = serde_json::from_str(&out.stdout).unwrap();
    (test, value)
}

#[test]
fn validate_plan_and_diff_satisfy_code_scanning() {
    let acme = root().join("examples/acme-corp");
    let acme = acme.to_string_lossy();
    let inventories = root().join("examples/acme-corp/inventories");
    let (test, _) = checked(
        Test::new(),
        &["--repo", &acme, "validate", "--format", "sarif"],
        "validate.sarif",
    );
    let invalid = root().join("examples/invalid");
    let (test, _) = checked(
        test,
        &[
            "--repo",
            &invalid.to_string_lossy(),
            "validate",
            "--format",
            "sarif",
        ],
        "invalid.sarif",
    );
    let mut args = vec![
        "--repo",
        &acme,
        "--now",
        "2026-06-01",
        "plan",
        "--format",
        "sarif",
    ];
    let files: Vec<String> = ["web-hosts", "prod-cluster", "vault"]
        .iter()
        .map(|z| {
            inventories
                .join(format!("{z}.json"))
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for file in &files {
        args.extend(["--inventory", file]);
    }
    let (_, plan) = checked(test, &args, "plan.sarif");
    for result in plan["runs"][0]["results"].as_array().unwrap() {
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_else(|| panic!("no location: {result:#}"));
        assert!(
            !uri.starts_with("file:"),
            "outside the repository: {result:#}"
        );
    }
    let unmanaged = plan["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "unmanaged")
        .unwrap();
    assert!(
        unmanaged["message"]["text"]
            .as_str()
            .unwrap()
            .contains("found at"),
        "the discovered place is in the message: {unmanaged:#}"
    );

    let repo = Test::new().copy_dir(&root().join("tests/fixtures/diff"));
    let dir = repo.dir.path();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "base"]);
    let policies = std::fs::read_to_string(dir.join("policies.yaml")).unwrap();
    std::fs::write(
        dir.join("policies.yaml"),
        policies.replacen("maxValidity: 90d", "maxValidity: 120d", 1),
    )
    .unwrap();
    let (_, diff) = checked(
        repo,
        &["--repo", ".", "diff", "HEAD", "--format", "sarif"],
        "diff.sarif",
    );
    assert!(!diff["runs"][0]["results"].as_array().unwrap().is_empty());
}

/// More findings than GitHub accepts in one run (25,000): the first 24,999 and one that says
/// how many more the JSON plan has.
#[test]
fn a_plan_with_more_results_than_code_scanning_takes_is_capped() {
    let credentials: Vec<Value> = (0..25_500)
        .map(|i| {
            serde_json::json!({
                "kind": "x509-certificate",
                "sha256": format!("{:064x}", 0xabc000 + i),
                "subject": format!("CN=rogue-{i}.example"),
                "locations": [{"source": "hosts", "path": format!("/srv/rogue-{i}.pem")}]
            })
        })
        .collect();
    let inventory =
        serde_json::json!({"format_version": 1, "credentials": credentials, "diagnostics": []});
    let test = crate::plan::fixture().file("rogues.json", inventory.to_string());
    let (_, sarif) = checked(
        test,
        &[
            "plan",
            "--inventory",
            "rogues.json",
            "--now",
            crate::plan::NOW,
            "--format",
            "sarif",
        ],
        "plan.sarif",
    );
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    let last = &results[24_999];
    assert!(
        last["message"]["text"]
            .as_str()
            .unwrap()
            .contains("more results are not shown here"),
        "{last:#}"
    );
    // Under a rule of its own, not the first result's.
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(last["ruleId"], "results-left-out", "{last:#}");
    let index = last["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "results-left-out");
    assert_ne!(results[0]["ruleId"], last["ruleId"]);
}
