//! What people and machines read: text, Markdown, JSON and SARIF snapshots, schema checks,
//! colours, templates, the plan file and exit codes.

use super::{NOW, fixture, run_plan};
use crate::support::{python, root};
use insta::{assert_json_snapshot, assert_snapshot};
use serde_json::Value;

#[test]
fn text_summary() {
    let (_, out) = run_plan(fixture(), NOW, &[]);
    assert_snapshot!(out.status(0).stdout);
}

#[test]
fn markdown_comment() {
    let (_, out) = run_plan(fixture(), NOW, &["--format", "markdown"]);
    assert_snapshot!(out.status(0).stdout);
}

#[test]
fn json_plan() {
    let (test, out) = run_plan(fixture(), NOW, &["--format", "json"]);
    let plan: Value = serde_json::from_str(&out.status(0).stdout).unwrap();
    assert_json_snapshot!(plan);
    let file = test.dir.path().join("plan.json");
    std::fs::write(&file, serde_json::to_string(&plan).unwrap()).unwrap();
    python(
        "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
        &[
            &file.to_string_lossy(),
            &root().join("schemas/plan.schema.json").to_string_lossy(),
        ],
    );
}

#[test]
fn sarif_results_validate_against_the_sarif_schema() {
    let (test, out) = run_plan(fixture(), NOW, &["--format", "sarif"]);
    let out = out.status(0);
    let sarif: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_json_snapshot!(sarif["runs"][0]["results"]);
    let file = test.dir.path().join("plan.sarif");
    std::fs::write(&file, &out.stdout).unwrap();
    python(
        "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
        &[
            &file.to_string_lossy(),
            &root()
                .join("tests/fixtures/sarif-schema-2.1.0.json")
                .to_string_lossy(),
        ],
    );
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let expired = results.iter().find(|r| r["ruleId"] == "expired").unwrap();
    let location = &expired["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "identities.yaml");
    assert!(location["region"]["startLine"].as_u64().unwrap() > 1);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), trustops::model::FindingCode::ALL.len());
}

#[test]
fn waived_findings_are_sarif_suppressions() {
    let waiver = "apiVersion: trustops.dev/v1alpha1\nkind: Exception\nmetadata: {name: waiver}\nspec:\n  identity: long-svc\n  rule: validity-exceeds-policy\n  reason: Vendor appliance.\n  approvedBy: ciso@test.example\n  expires: 2026-12-31\n";
    let (_, out) = run_plan(
        fixture().file("waiver.yaml", waiver),
        NOW,
        &["--format", "sarif"],
    );
    let sarif: Value = serde_json::from_str(&out.status(0).stdout).unwrap();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "validity-exceeds-policy")
        .unwrap();
    assert_eq!(result["suppressions"][0]["kind"], "external");
    assert!(
        result["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("exception waiver")
    );
}

#[test]
fn colours_only_when_asked_or_on_a_terminal() {
    let (_, plain) = run_plan(fixture(), NOW, &[]);
    assert!(!plain.status(0).stdout.contains('\x1b'));
    let (_, coloured) = run_plan(fixture(), NOW, &["--color", "always"]);
    let coloured = coloured.status(0).stdout;
    assert!(coloured.contains("\x1b[1m\x1b[31mcritical"), "{coloured}");
}

#[test]
fn a_custom_template_renders_the_comment() {
    let template = "{{ plan.summary.actions.rotate }} rotations for {{ owners | map(attribute='name') | join(', ') }}\n{% for a in plan.actions if a.kind == 'adopt' %}{{ a | target }}{% endfor %}\n";
    let test = fixture().file("comment.md.j2", template);
    let (_, out) = run_plan(
        test,
        NOW,
        &["--format", "markdown", "--template", "comment.md.j2"],
    );
    assert_eq!(
        out.status(0).stdout,
        "13 rotations for team-a, unowned\nsha256:5f175d4c9744\n"
    );
    let broken = fixture().file("comment.md.j2", "{% for %}");
    let (_, out) = run_plan(
        broken,
        NOW,
        &["--format", "markdown", "--template", "comment.md.j2"],
    );
    assert!(out.status(1).stderr.contains("markdown template"));
}

#[test]
fn out_writes_the_plan_file_apply_takes() {
    let (test, out) = run_plan(fixture(), NOW, &["--out", "plan.json", "--format", "json"]);
    let printed: Value = serde_json::from_str(&out.status(0).stdout).unwrap();
    let written = std::fs::read(test.dir.path().join("plan.json")).unwrap();
    let plan = trustops::plan::file::read(&written).unwrap();
    assert_eq!(serde_json::to_value(&plan).unwrap(), printed);
    assert!(plan.id.starts_with("plan-"));
    assert_eq!(plan.digest.len(), 64);
    assert_eq!(plan.inputs.declarations_sha256.len(), 64);
    // Planned from a saved inventory: SHA-256 over the file's SHA-256 and a newline, as
    // Python's hashlib computes it from the file.
    let expected = python(
        "import hashlib, sys\nfile = hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest()\nprint(hashlib.sha256((file + '\\n').encode()).hexdigest())",
        &[&test.dir.path().join("inventory.json").to_string_lossy()],
    );
    assert_eq!(plan.inputs.inventory_sha256, expected.trim());
    let leftovers: Vec<_> = std::fs::read_dir(test.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn out_ending_in_gz_writes_the_same_plan_gzip_compressed() {
    let (test, out) = run_plan(
        fixture(),
        NOW,
        &["--out", "plan.json.gz", "--format", "json"],
    );
    let printed = out.status(0).stdout;
    // gzip itself reads it back to the bytes `--format json` printed.
    let inflated = std::process::Command::new("gzip")
        .args(["-dc", "plan.json.gz"])
        .current_dir(test.dir.path())
        .output()
        .expect("gzip (apt-get install gzip)");
    assert!(inflated.status.success(), "{inflated:?}");
    assert_eq!(String::from_utf8(inflated.stdout).unwrap(), printed);
    let written = std::fs::read(test.dir.path().join("plan.json.gz")).unwrap();
    assert!(written.len() < printed.len() / 2);
    let plan = trustops::plan::file::read(&written).unwrap();
    assert_eq!(
        serde_json::to_value(&plan).unwrap(),
        serde_json::from_str::<Value>(&printed).unwrap()
    );
}

#[test]
fn detailed_exitcode_is_two_with_actions_and_zero_without() {
    let (_, out) = run_plan(fixture(), NOW, &["--detailed-exitcode"]);
    out.status(2);
    // Only a healthy identity: nothing to do.
    let healthy = "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: healthy}\nspec:\n  owner: team-a\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {dnsNames: [healthy.test], source: hosts}\n      dnsNames: [healthy.test]\n      deploy: [{certFile: /srv/hosts/healthy.pem, keyFile: /srv/hosts/healthy.key}]\n";
    let inventory: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/plan/inventory.json")).unwrap(),
    )
    .unwrap();
    let only: Vec<&Value> = inventory["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let path = c["locations"][0]["path"].as_str().unwrap_or("");
            path == "/srv/hosts/healthy.pem" || path == "/srv/hosts/healthy.key"
        })
        .collect();
    let inventory =
        serde_json::json!({"format_version": 1, "credentials": only, "diagnostics": []});
    let test = fixture()
        .file("identities.yaml", healthy)
        .file("exceptions.yaml", "")
        .file("inventory.json", inventory.to_string());
    let (_, out) = run_plan(test, NOW, &["--detailed-exitcode"]);
    let out = out.status(0);
    assert!(out.stdout.contains("No changes."), "{}", out.stdout);
}

/// `n` certificates nobody declares, as a saved inventory.
fn rogues(n: usize) -> String {
    let credentials: Vec<Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "kind": "x509-certificate",
                "sha256": format!("{:064x}", 0xabc000 + i),
                "subject": format!("CN=rogue-{i}.example"),
                "dns_names": [format!("rogue-{i}.example")],
                "not_after": "2027-01-01T00:00:00Z",
                "locations": [{"source": "hosts", "path": format!("/srv/team-{}/rogue-{i}.pem", i % 7)}]
            })
        })
        .collect();
    serde_json::json!({"format_version": 1, "credentials": credentials, "diagnostics": []})
        .to_string()
}

/// The pull-request comment fits GitHub's limit (65,536 characters; 60,000 by default) at
/// any size: whole tables, closed blocks and code fences, the summary first, and how many rows
/// were left out for the plan artifact. Small plans are not cut.
#[test]
fn the_markdown_comment_always_fits_and_is_never_cut_inside_a_block() {
    for n in [10, 100, 10_000, 100_000] {
        let test = fixture().file("rogues.json", rogues(n));
        let (_, out) = run_plan(
            test,
            NOW,
            &["--inventory", "rogues.json", "--format", "markdown"],
        );
        let text = out.status(0).stdout;
        let chars = text.chars().count();
        assert!(chars <= 60_000, "{n}: {chars} characters");
        assert!(text.contains("**Findings:**") && text.contains("| owner | actions | findings |"));
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count(),
            "{n}: every block closed"
        );
        assert_eq!(
            text.matches("```").count() % 2,
            0,
            "{n}: every code fence closed"
        );
        let mut columns = None;
        for line in text.lines() {
            if line.starts_with('|') {
                let cells = line.replace("\\|", "").matches('|').count();
                assert_eq!(
                    *columns.get_or_insert(cells),
                    cells,
                    "{n}: a whole row: {line}"
                );
            } else {
                columns = None;
            }
        }
        let cut = text.contains("more action") || text.contains("more finding");
        assert_eq!(cut, n > 10, "{n}: cut only when too long");
        if cut {
            assert!(text.contains(": see the plan artifact."), "{n}");
        }
    }
    // No limit: every row.
    let test = fixture().file("rogues.json", rogues(100));
    let (_, out) = run_plan(
        test,
        NOW,
        &[
            "--inventory",
            "rogues.json",
            "--format",
            "markdown",
            "--max-comment-chars",
            "0",
        ],
    );
    let text = out.status(0).stdout;
    assert!(!text.contains("see the plan artifact"));
    assert!(text.chars().count() > 60_000);
}

/// A plan too big to read whole on a terminal: counts by finding code first, the first ten of
/// each code, then how many more; the same per owner and kind of action. Nothing is dropped
/// from the JSON plan.
#[test]
fn a_big_plan_in_text_is_counts_first_then_the_first_of_each_group() {
    let test = fixture().file("rogues.json", rogues(300));
    let (test, out) = run_plan(test, NOW, &["--inventory", "rogues.json"]);
    let text = out.status(0).stdout;
    let unmanaged = text
        .lines()
        .find(|l| {
            l.trim_start().starts_with("high     unmanaged")
                && l.trim_end().ends_with(char::is_numeric)
        })
        .unwrap_or_else(|| panic!("no count line for unmanaged:\n{text}"));
    let count: usize = unmanaged
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 300, "{unmanaged}");
    assert!(
        text.contains(&format!("… {} more unmanaged", count - 10)),
        "{text}"
    );
    assert!(text.contains("; the first 10 of each:"), "{text}");
    assert!(text.lines().count() < 400, "{} lines", text.lines().count());
    let (_, out) = run_plan(
        test,
        NOW,
        &["--inventory", "rogues.json", "--format", "json"],
    );
    let plan: Value = serde_json::from_str(&out.status(0).stdout).unwrap();
    let listed = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unmanaged")
        .count();
    assert_eq!(listed, count, "the JSON plan lists every one");
}
