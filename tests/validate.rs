//! `trustops validate`: valid repositories pass, every broken one fails naming file, line and
//! field, and the output formats are stable.

use crate::support::{Test, python, root};
use insta::{assert_snapshot, with_settings};

#[test]
fn acme_corp_example_is_valid() {
    let repo = root().join("examples/acme-corp");
    let out = Test::new()
        .args(&["validate", "--repo", &repo.to_string_lossy()])
        .run()
        .status(0);
    assert_snapshot!(out.stdout, @"valid: 9 files, 37 documents (5 owners, 5 policies, 4 issuers, 5 sources, 16 identities, 2 exceptions; 23 credentials), 0 errors, 0 warnings");
}

#[test]
fn demo_template_is_valid() {
    let repo = root().join("examples/demo");
    Test::new()
        .args(&["validate", "--repo", &repo.to_string_lossy()])
        .run()
        .status(0);
}

/// One file per diagnostic class: each fails alone with its own code, naming file and line.
#[test]
fn every_invalid_example_fails_with_its_code_file_and_line() {
    let mut cases: Vec<_> = std::fs::read_dir(root().join("examples/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "examples/invalid should cover every class"
    );
    let mut all = String::new();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let code = name.trim_end_matches(".yaml");
        let out = Test::new()
            .copy(&case)
            .args(&["validate", "--format", "short"])
            .in_repo()
            .run()
            .status(1);
        let first = out.stdout.lines().next().unwrap_or_default().to_owned();
        assert!(
            first.starts_with(&format!("{name}:")),
            "{name}: no file:line in {first}"
        );
        let line: u32 = first
            .split(':')
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        assert!(line > 0, "{name}: no line in {first}");
        assert!(
            first.contains(&format!("error[{code}]")),
            "{name}: expected code {code}, got {first}"
        );
        all.push_str(&out.stdout);
    }
    assert_snapshot!("invalid_examples_short", all);
}

#[test]
fn reports_every_problem_in_one_run() {
    let out = Test::new()
        .file(
            "identities.yaml",
            "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata:\n  name: api\nspec:\n  owner: nobody\n  policy: none\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {}\n",
        )
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    assert_snapshot!(out.stdout, @r#"
    identities.yaml:11:14: error[missing-field]: spec.credentials[0].match: a match needs at least one rule (uri, dnsNames, subject, issuer, fingerprint, source, location, secretId)
    identities.yaml:6:10: error[unknown-reference]: spec.owner: no owner named "nobody"
    identities.yaml:7:11: error[unknown-reference]: spec.policy: no policy named "none"
    invalid: 1 file, 1 document (1 identity; 1 credential), 3 errors, 0 warnings
    "#);
}

#[test]
fn rich_text_shows_snippets_labels_and_hints() {
    let out = Test::new()
        .copy(&root().join("examples/invalid/unknown-reference.yaml"))
        .copy(&root().join("examples/invalid/duplicate-name.yaml"))
        .copy(&root().join("examples/invalid/renew-before-exceeds-validity.yaml"))
        .copy(&root().join("examples/invalid/unknown-kind.yaml"))
        .args(&["validate"])
        .in_repo()
        .run()
        .status(1);
    assert_snapshot!(out.stdout);
}

#[test]
fn json_output_is_stable() {
    let out = Test::new()
        .copy(&root().join("examples/invalid/unknown-reference.yaml"))
        .args(&["validate", "--format", "json"])
        .in_repo()
        .run()
        .status(1);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    insta::assert_json_snapshot!(value);
}

#[test]
fn sarif_output_is_valid_sarif_with_regions() {
    let test = Test::new()
        .copy(&root().join("examples/invalid/unknown-reference.yaml"))
        .copy(&root().join("examples/invalid/duplicate-name.yaml"))
        .args(&["validate", "--format", "sarif"])
        .in_repo();
    let out = test.run().status(1);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    with_settings!({filters => vec![(r#""version": "\d+\.\d+\.\d+""#, r#""version": "[version]""#)]}, {
        let results = serde_json::to_string_pretty(&value["runs"][0]["results"]).unwrap();
        assert_snapshot!(results);
    });
    let sarif = test.dir.path().join("out.sarif");
    std::fs::write(&sarif, &out.stdout).unwrap();
    let schema = root().join("tests/fixtures/sarif-schema-2.1.0.json");
    python(
        "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
        &[&sarif.to_string_lossy(), &schema.to_string_lossy()],
    );
}

#[test]
fn foreign_yaml_is_skipped_and_a_repo_without_declarations_fails_with_a_hint() {
    let out = Test::new()
        .file(
            "k8s/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {}\n",
        )
        .file("ansible.yml", "- hosts: all\n  tasks: []\n")
        .file(".hidden/broken.yaml", "{{{{")
        .file("audit/2026/01/x.yaml", "{{{{")
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    assert_snapshot!(out.stdout, @r"
    error[no-declarations]: no trustops declarations found; documents need `apiVersion: trustops.dev/v1alpha1`
    invalid: 2 files, 0 documents (none; 0 credentials), 1 error, 0 warnings
    ");
    let out = Test::new()
        .file("README.md", "not a declaration\n")
        .args(&["validate"])
        .in_repo()
        .run()
        .status(1);
    assert!(
        out.stdout
            .contains("run trustops in the governance repository, or pass --repo DIR"),
        "{}",
        out.stdout
    );
}

#[test]
fn trustops_yaml_limits_paths_and_is_checked() {
    let bad =
        "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: Bad_Name}\nspec: {}\n";
    Test::new()
        .file("trustops.yaml", "paths: [owners]\n")
        .file(
            "owners/a.yaml",
            "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: a}\nspec: {}\n",
        )
        .file("fixtures/bad.yaml", bad)
        .args(&["validate"])
        .in_repo()
        .run()
        .status(0);
    let out = Test::new()
        .file("trustops.yaml", "pathz: [owners]\n")
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    assert!(
        out.stdout
            .starts_with("trustops.yaml:1:1: error[invalid-config]"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_missing_repository_is_an_error_not_a_panic() {
    let out = Test::new()
        .args(&["validate", "--repo", "does/not/exist"])
        .run()
        .status(1);
    assert_snapshot!(out.stderr, @"error: cannot validate does/not/exist: repository does/not/exist does not exist or is not a folder");
}

#[test]
fn examples_name_their_schema_and_pass_it() {
    let mut files = Vec::new();
    for dir in ["examples/acme-corp", "examples/demo"] {
        for entry in walk(&root().join(dir)) {
            let text = std::fs::read_to_string(&entry).unwrap();
            let first = text.lines().next().unwrap_or_default();
            let schema = first
                .strip_prefix("# yaml-language-server: $schema=")
                .unwrap_or_else(|| {
                    panic!(
                        "{} does not start with a yaml-language-server line",
                        entry.display()
                    )
                });
            let schema = entry.parent().unwrap().join(schema);
            assert!(
                schema.exists(),
                "{}: schema {} missing",
                entry.display(),
                schema.display()
            );
            files.push(format!("{}={}", entry.display(), schema.display()));
        }
    }
    // Every document must pass the published schema, so editors agree with the loader.
    let checked = python(
        "import sys, json, yaml, jsonschema\n# YAML 1.2 has no timestamps: keep dates as strings, as trustops reads them.\nclass L(yaml.SafeLoader): pass\nL.yaml_implicit_resolvers = {k: [r for r in v if r[0] != 'tag:yaml.org,2002:timestamp'] for k, v in L.yaml_implicit_resolvers.items()}\nn = 0\nfor pair in sys.argv[1:]:\n    f, s = pair.split('=')\n    schema = json.load(open(s))\n    for doc in yaml.load_all(open(f), Loader=L):\n        jsonschema.validate(doc, schema); n += 1\nprint(n)",
        &files.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(checked.trim().parse::<u32>().unwrap() > 40);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// A Cyrillic letter or a zero-width space pasted into a DNS name passes every eye and fails
/// only when a CA is asked to encode it: validate refuses it, naming file, line and field.
#[test]
fn dns_names_with_look_alike_or_invisible_characters_are_refused() {
    let identity = "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: web}\nspec: {contacts: [{webhookEnv: WEB_HOOK}]}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: tls}\nspec: {trustDomain: public-tls}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: shop}\nspec:\n  owner: web\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {dnsNames: [shop.example.com]}\n      dnsNames:\n        - shop.example.com\n        - p\u{430}y.example.com\n        - cart\u{200b}.example.com\n        - xn--80ak6aa92e.com\n";
    let out = Test::new()
        .file("identities.yaml", identity)
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(lines[2].contains("2 errors"), "{}", out.stdout);
    assert!(
        lines[0].starts_with(
            "identities.yaml:23:11: error[invalid-value]: spec.credentials[0].dnsNames[1]"
        ) && lines[0].contains("U+0430"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(
            "identities.yaml:24:11: error[invalid-value]: spec.credentials[0].dnsNames[2]"
        ) && lines[1].contains("U+200B"),
        "{}",
        lines[1]
    );
}

/// One bad field in a policy is one error, at that field: the identities that use the policy
/// are not also told it does not exist.
#[test]
fn an_invalid_policy_is_one_error_not_a_cascade_of_unknown_references() {
    let declarations = "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: web}\nspec: {contacts: [{webhookEnv: WEB_HOOK}]}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: tls}\nspec: {trustDomain: public-tls, maxValidity: ninety}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: shop}\nspec:\n  owner: web\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {dnsNames: [shop.example.com]}\n";
    let out = Test::new()
        .file("declarations.yaml", declarations)
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0].starts_with("declarations.yaml:9:46: error[invalid-value]: spec.maxValidity"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("unknown-reference"), "{}", out.stdout);
}

/// A notice threshold as long as the certificates live would fire the day each is issued: it
/// is ignored, and validate says so where it was written (defaults are not judged).
#[test]
fn a_notice_threshold_as_long_as_the_validity_is_a_warning() {
    let declarations = "apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: short}\nspec:\n  trustDomain: internal-mtls\n  maxValidity: 7d\n  notify: {beforeExpiry: [7d, 2d]}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: defaults}\nspec: {trustDomain: internal-mtls, maxValidity: 7d}\n";
    let out = Test::new()
        .file("policies.yaml", declarations)
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one warning, for the written 7d only: {}",
        out.stdout
    );
    assert!(
        lines[0].starts_with("policies.yaml:7:27: warning[ineffective-notice]: spec.notify.beforeExpiry[0]: a notice 7d before expiry is not shorter than maxValidity 7d"),
        "{}",
        out.stdout
    );
}

/// Certificates are backdated a minute: a maxValidity under two minutes would be expired, or
/// nearly, when deployed.
#[test]
fn a_max_validity_under_two_minutes_is_refused() {
    let policy = |validity: &str| {
        format!(
            "apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {{name: short}}\nspec:\n  trustDomain: internal-mtls\n  maxValidity: {validity}\n  notify: {{beforeExpiry: [1m]}}\n"
        )
    };
    let out = Test::new()
        .file("policies.yaml", policy("90s"))
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    assert!(
        out.stdout
            .contains("policies.yaml:6:16: error[invalid-value]: spec.maxValidity")
            && out.stdout.contains("must be at least 2m"),
        "{}",
        out.stdout
    );
    Test::new()
        .file("policies.yaml", policy("2m"))
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(0);
}

#[test]
fn a_generated_secret_shorter_than_16_characters_is_refused() {
    let policy = "apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {name: secrets}\nspec:\n  trustDomain: api-key\n  secretValue: {length: 8}\n";
    let out = Test::new()
        .file("policies.yaml", policy)
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    assert!(
        out.stdout.contains("spec.secretValue.length")
            && out.stdout.contains("at least 16 characters"),
        "{}",
        out.stdout
    );
}
