//! Editors: the schemas as the YAML language server (yaml-language-server, what VS Code's YAML
//! extension runs) reads them through the modelines trustops writes and the schemas `trustops
//! schema --out` and `trustops demo` put beside the declarations. The demo's files, wherever
//! the demo is, check clean; a mistake gives the server's diagnostic; completing a `spec` offers
//! the required fields and only the model's own defaults.

use crate::support::{Test, root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What yaml-language-server says about `files` (diagnostics by path) and, with `complete`
/// (`FILE:LINE:COLUMN`, 0-based), the completion items there.
fn language_server(files: &[PathBuf], complete: Option<&str>) -> Value {
    let mut command = Command::new("python3");
    command
        .arg(root().join("tests/support/yaml_lsp.py"))
        .arg("yaml-language-server")
        .args(files);
    if let Some(at) = complete {
        command.args(["--complete", at]);
    }
    let out = command.output().expect("python3 (ci/check.sh installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "yaml-language-server is needed: npm install yaml-language-server, linked as /usr/local/bin/yaml-language-server (ci/check.sh does)\n{stderr}"
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"))
}

fn diagnostics(answer: &Value, file: &Path) -> Vec<String> {
    answer["diagnostics"][file.to_string_lossy().as_ref()]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnostics for {}: {answer}", file.display()))
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect()
}

/// The demo, created somewhere no checkout of trustops is near.
fn demo() -> (Test, PathBuf) {
    let test = Test::new().args(&["--now", "2026-05-01T12:00:00Z", "demo", "elsewhere/demo"]);
    test.run().status(0);
    let repo = test.dir.path().join("elsewhere/demo/repo");
    (test, repo)
}

fn yaml_files(repo: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_demo_files_check_clean_in_the_language_server_wherever_the_demo_is() {
    let (_test, repo) = demo();
    let files = yaml_files(&repo);
    assert!(files.len() >= 6, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let modeline = text.lines().next().unwrap_or_default();
        let target = modeline
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} starts with a modeline: {modeline}", file.display()));
        assert!(
            file.parent().unwrap().join(target).is_file(),
            "{} names {target}, which is not there",
            file.display()
        );
    }
    let answer = language_server(&files, None);
    for file in &files {
        assert_eq!(
            diagnostics(&answer, file),
            Vec::<String>::new(),
            "{}",
            file.display()
        );
    }
}

#[test]
fn a_mistake_gets_the_language_servers_diagnostic() {
    // A governance repository of one's own: `trustops schema --out schemas` puts the schemas
    // where relative modelines find them.
    let test = Test::new().args(&["schema", "--out", "schemas"]);
    test.run().status(0);
    let repo = test.dir.path().to_owned();
    let modeline = "# yaml-language-server: $schema=schemas/document.schema.json\n";
    let cases = [
        (
            "unknown-field.yaml",
            "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: ops}\nspec:\n  contacts: [{email: ops@example.com}]\n  colour: blue\n",
            "Property colour is not allowed.",
        ),
        (
            "wrong-enum.yaml",
            "apiVersion: trustops.dev/v1alpha1\nkind: Exception\nmetadata: {name: x}\nspec:\n  rule: week-key\n  reason: r\n  approvedBy: me\n  expires: 2026-06-01\n",
            "Value is not accepted. Valid values: \"unmanaged\"",
        ),
        (
            "missing-required.yaml",
            "apiVersion: trustops.dev/v1alpha1\nkind: Exception\nmetadata: {name: x}\nspec:\n  rule: weak-key\n  reason: r\n  approvedBy: me\n",
            "Missing property \"expires\".",
        ),
    ];
    let mut files = Vec::new();
    for (name, body, _) in &cases {
        let path = repo.join(name);
        std::fs::write(&path, format!("{modeline}{body}")).unwrap();
        files.push(path);
    }
    let answer = language_server(&files, None);
    for ((_, _, expected), file) in cases.iter().zip(&files) {
        let said = diagnostics(&answer, file);
        assert!(
            said.iter().any(|d| d.contains(expected)),
            "{}: {said:?}",
            file.display()
        );
    }
    // trustops agrees that each is wrong.
    let out = Test::new()
        .args(&[
            "--repo",
            &repo.to_string_lossy(),
            "validate",
            "--format",
            "short",
        ])
        .run()
        .status(1);
    for (name, _, _) in &cases {
        assert!(out.stdout.contains(name), "{name}: {}", out.stdout);
    }
}

/// The snippet completing an empty `spec:` of `kind`.
fn spec_snippet(repo: &Path, kind: &str) -> String {
    let file = repo.join(format!("new-{kind}.yaml"));
    std::fs::write(
        &file,
        format!("# yaml-language-server: $schema=schemas/document.schema.json\napiVersion: trustops.dev/v1alpha1\nkind: {kind}\nmetadata: {{name: x}}\n\n"),
    )
    .unwrap();
    let answer = language_server(
        std::slice::from_ref(&file),
        Some(&format!("{}:4:0", file.display())),
    );
    std::fs::remove_file(&file).unwrap();
    answer["completion"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "spec")
        .and_then(|i| i["insertText"].as_str())
        .unwrap_or_else(|| panic!("no spec completion: {answer}"))
        .to_owned()
}

#[test]
fn completing_a_spec_offers_the_required_fields_and_only_real_defaults() {
    let (_test, repo) = demo();
    let exception = spec_snippet(&repo, "Exception");
    for field in ["rule:", "reason:", "approvedBy:", "expires:"] {
        assert!(exception.contains(field), "{field} in {exception:?}");
    }
    let policy = spec_snippet(&repo, "Policy");
    assert!(policy.contains("trustDomain:"), "{policy:?}");
    // Any value the snippet fills in (`${n:value}`) is the model's own default, from the schema.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join("schemas/policy.schema.json")).unwrap(),
    )
    .unwrap();
    let properties = &schema["definitions"]["PolicySpec"]["properties"];
    for line in policy.lines().skip(1) {
        let (field, value) = line.trim().split_once(": ").unwrap();
        if let Some(filled) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
            let filled = filled.split_once(':').map_or("", |(_, v)| v);
            assert_eq!(
                properties[field]["default"].to_string().trim_matches('"'),
                filled,
                "{field}: {policy:?}"
            );
        }
    }
}
