//! `trustops diff BASE [HEAD]` on a repository built here with real git: each kind of change
//! with its risk and the owners who must approve it, the exit codes, revisions read from Git
//! without a checkout, an invalid head reported with validate's diagnostics, and the outputs.

use crate::support::{python, root};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// A Git repository holding `tests/fixtures/diff`, committed on `main`.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("tests/fixtures/diff")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    commit(dir.path(), "base");
    dir
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            message,
        ],
    );
}

/// Replaces `from` with `to` in `file` of the work tree.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from:?} not in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn diff(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustops"))
        .arg("--repo")
        .arg(dir)
        .arg("diff")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The changes `diff main` reports for the work tree, checking it exits 2.
fn changes(dir: &Path) -> Vec<Value> {
    let out = diff(dir, &["main", "--format", "json", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["changes"].as_array().unwrap().clone()
}

/// Applies `edits` to a fresh repository's work tree and asserts that a change `code` with
/// `risk` and exactly `approvers` is reported (the message containing `says`).
#[track_caller]
fn expect(
    edits: &[(&str, &str, &str)],
    code: &str,
    risk: &str,
    approvers: &[&str],
    says: &str,
) -> Value {
    let dir = repository();
    for (file, from, to) in edits {
        edit(dir.path(), file, from, to);
    }
    let changes = changes(dir.path());
    let found = changes
        .iter()
        .find(|c| c["code"] == code && c["message"].as_str().unwrap().contains(says))
        .unwrap_or_else(|| panic!("no {code} saying {says:?} in {changes:#?}"));
    assert_eq!(found["risk"], risk, "{found:#}");
    let who: Vec<&str> = found["approvers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(who, approvers, "{found:#}");
    assert!(found["line"].as_u64().unwrap() > 0, "{found:#}");
    found.clone()
}

/// The owners of every identity under policy `tls`.
const ALL: &[&str] = &["data", "payments", "web"];
/// `trustApprovers` in the fixture's `trustops.yaml`.
const SECURITY: &[&str] = &["security"];

#[test]
fn loosening_a_policy_is_high_risk_and_approved_by_the_trust_approvers() {
    let p = "policies.yaml";
    expect(
        &[(p, "maxValidity: 90d", "maxValidity: 365d")],
        "policy-loosened",
        "high",
        SECURITY,
        "maxValidity loosened: 90d → 365d",
    );
    expect(
        &[(p, "renewBefore: 30d", "renewBefore: 10d")],
        "policy-loosened",
        "high",
        SECURITY,
        "renewBefore renews later",
    );
    expect(
        &[(p, "issuers: [ca-a]", "issuers: [ca-a, ca-b]")],
        "policy-loosened",
        "high",
        SECURITY,
        "issuer ca-b allowed",
    );
    expect(
        &[(
            p,
            "- {type: ec, minSize: 256}",
            "- {type: ec, minSize: 256}\n    - {type: rsa, minSize: 2048}",
        )],
        "policy-loosened",
        "high",
        SECURITY,
        "rsa keys allowed",
    );
    expect(
        &[(
            p,
            "- {type: ec, minSize: 256}",
            "- {type: ec, minSize: 224}",
        )],
        "policy-loosened",
        "high",
        SECURITY,
        "ec keys allowed from 224 bits",
    );
    expect(
        &[(p, "approval: manual", "approval: auto")],
        "policy-loosened",
        "high",
        SECURITY,
        "approval: manual → auto",
    );
    expect(
        &[(
            p,
            "forbiddenSignatureAlgorithms: [sha1WithRSAEncryption]",
            "forbiddenSignatureAlgorithms: []",
        )],
        "policy-loosened",
        "high",
        SECURITY,
        "sha1WithRSAEncryption no longer forbidden",
    );
}

#[test]
fn tightening_a_policy_is_low_risk() {
    expect(
        &[("policies.yaml", "maxValidity: 90d", "maxValidity: 60d")],
        "policy-tightened",
        "low",
        SECURITY,
        "maxValidity tightened",
    );
    expect(
        &[("policies.yaml", "renewBefore: 30d", "renewBefore: 45d")],
        "policy-tightened",
        "low",
        SECURITY,
        "renews earlier",
    );
}

#[test]
fn identities_added_removed_renamed_and_handed_over() {
    let i = "identities.yaml";
    expect(
        &[(i, "spec:\n  owner: web", "spec:\n  owner: data")],
        "owner-changed",
        "medium",
        &["data", "web"],
        "web owner: web → data",
    );
    let batch = "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: batch}\nspec:\n  owner: data\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {dnsNames: [batch.acme.test]}\n      dnsNames: [batch.acme.test]\n";
    expect(
        &[(i, batch, "")],
        "identity-removed",
        "medium",
        &["data"],
        "identity batch removed",
    );
    expect(
        &[(i, "metadata: {name: batch}", "metadata: {name: batch-jobs}")],
        "identity-renamed",
        "low",
        &["data"],
        "identity batch renamed to batch-jobs",
    );
    let added = batch.replace("batch", "reports");
    expect(
        &[(
            i,
            "---\napiVersion: trustops.dev/v1alpha1\nkind: Exception",
            &format!("{added}---\napiVersion: trustops.dev/v1alpha1\nkind: Exception"),
        )],
        "identity-added",
        "low",
        &["data"],
        "identity reports added",
    );
}

#[test]
fn credentials_matches_and_links() {
    let i = "identities.yaml";
    expect(
        &[(
            i,
            "      dnsNames: [www.acme.test]\n",
            "      dnsNames: [www.acme.test]\n    - name: client\n      type: x509-certificate\n      match: {dnsNames: [client.acme.test]}\n",
        )],
        "credential-added",
        "low",
        &["web"],
        "credential web/client added",
    );
    expect(
        &[
            (
                i,
                "    - name: db\n      type: secret\n      policy: secrets\n      match: {secretId: \"vault:db/api\"}\n",
                "",
            ),
            (i, "      rotateWith: [db]\n", ""),
        ],
        "credential-removed",
        "medium",
        &["payments"],
        "credential api/db removed",
    );
    expect(
        &[(
            i,
            "match: {dnsNames: [www.acme.test], source: hosts}",
            "match: {dnsNames: [www.acme.test]}",
        )],
        "match-widened",
        "high",
        &["web"],
        "web/tls match no longer requires source",
    );
    expect(
        &[(
            i,
            "dnsNames: [api.acme.test, api2.acme.test]\n        source",
            "dnsNames: [api.acme.test]\n        source",
        )],
        "match-widened",
        "high",
        &["payments"],
        "no longer requires [\"api2.acme.test\"]",
    );
    expect(
        &[(
            i,
            "match: {dnsNames: [batch.acme.test]}",
            "match: {dnsNames: [batch.acme.test], source: hosts}",
        )],
        "match-narrowed",
        "low",
        &["data"],
        "batch/tls match now requires source",
    );
    expect(
        &[(i, "      rotateWith: [db]\n", "")],
        "links-changed",
        "medium",
        &["payments"],
        "api/tls rotateWith",
    );
}

#[test]
fn exceptions_added_or_extended_are_high_risk() {
    let e = "identities.yaml";
    expect(
        &[(e, "expires: 2026-12-31", "expires: 2027-06-30")],
        "exception-extended",
        "high",
        SECURITY,
        "extended",
    );
    expect(
        &[(e, "  credential: tls\n  rule: weak-key", "  rule: weak-key")],
        "exception-extended",
        "high",
        SECURITY,
        "no longer limited by credential",
    );
    expect(
        &[(e, "expires: 2026-12-31", "expires: 2026-07-01")],
        "exception-shortened",
        "low",
        SECURITY,
        "shortened",
    );
    let extra = "\n---\napiVersion: trustops.dev/v1alpha1\nkind: Exception\nmetadata: {name: web-drift}\nspec:\n  identity: web\n  rule: drift\n  reason: Migrating.\n  approvedBy: security@acme.test\n  expires: 2026-09-01\n";
    expect(
        &[(e, "  ticket: SEC-42\n", &format!("  ticket: SEC-42{extra}"))],
        "exception-added",
        "high",
        SECURITY,
        "exception web-drift waives drift until 2026-09-01",
    );
}

#[test]
fn no_change_exits_0_a_change_2_and_formatting_alone_is_no_change() {
    let dir = repository();
    let out = diff(dir.path(), &["main", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No change in meaning"));
    // Reordering and reformatting YAML changes lines, not meaning.
    edit(
        dir.path(),
        "issuers.yaml",
        "spec:\n  exec: {command: [ca-a-issue]}",
        "spec:\n  exec:\n    command:\n      - ca-a-issue",
    );
    let out = diff(dir.path(), &["main", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn revisions_are_read_from_git_without_a_checkout() {
    let dir = repository();
    edit(
        dir.path(),
        "policies.yaml",
        "approval: manual",
        "approval: auto",
    );
    commit(dir.path(), "auto-approve tls");
    // The work tree may be anything meanwhile, even invalid: BASE and HEAD come from Git.
    std::fs::write(dir.path().join("broken.yaml"), "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: x}\nspec: {owner: nobody}\n").unwrap();
    let out = diff(
        dir.path(),
        &["HEAD~1", "HEAD", "--format", "json", "--detailed-exitcode"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["changes"].as_array().unwrap().len(), 1, "{json:#}");
    assert_eq!(json["base"]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(json["head"]["revision"], "HEAD");
}

#[test]
fn an_invalid_head_is_reported_with_the_validate_diagnostics() {
    let dir = repository();
    edit(dir.path(), "identities.yaml", "owner: web", "owner: wbe");
    let out = diff(dir.path(), &["main", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("identities.yaml:") && stderr.contains("error[unknown-reference]"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean \"web\""), "{stderr}");
    assert!(
        stderr.contains("the work tree's declarations are invalid"),
        "{stderr}"
    );
    let out = diff(dir.path(), &["no-such-branch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("revision no-such-branch"));
}

/// Several changes at once, for the human-facing outputs.
fn several() -> tempfile::TempDir {
    let dir = repository();
    edit(
        dir.path(),
        "policies.yaml",
        "maxValidity: 90d",
        "maxValidity: 180d",
    );
    edit(
        dir.path(),
        "identities.yaml",
        "spec:\n  owner: web",
        "spec:\n  owner: data",
    );
    edit(
        dir.path(),
        "identities.yaml",
        "expires: 2026-12-31",
        "expires: 2027-03-31",
    );
    dir
}

#[test]
fn text_markdown_and_codeowners_outputs() {
    let dir = several();
    let text = String::from_utf8(diff(dir.path(), &["main"]).stdout).unwrap();
    insta::assert_snapshot!("diff_text", text);
    let markdown =
        String::from_utf8(diff(dir.path(), &["main", "--format", "markdown"]).stdout).unwrap();
    insta::assert_snapshot!("diff_markdown", markdown);
    let codeowners = String::from_utf8(diff(dir.path(), &["main", "--codeowners"]).stdout).unwrap();
    insta::assert_snapshot!("diff_codeowners", codeowners);
}

#[test]
fn sarif_output_validates_against_the_sarif_schema() {
    let dir = several();
    let out = diff(dir.path(), &["main", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let file = dir.path().join("diff.sarif");
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
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let levels: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "error", "warning"]);
}

/// A repository whose identities live in two identity-only files, `ids/a.yaml` and
/// `ids/b.yaml`, beside its owners and policy.
/// The `policy-loosened` change `diff HEAD` reports for the work tree of `dir`.
fn policy_loosened(dir: &Path) -> Value {
    let out = diff(dir, &["HEAD", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "policy-loosened")
        .cloned()
        .unwrap_or_else(|| panic!("{json:#}"))
}

/// Rewrites what is remembered of the identity-only blob whose lines contain `line`: the
/// owner `from` becomes `to`. How many blobs were rewritten.
fn remember_other_owner(dir: &Path, line: &str, from: &str, to: &str) -> usize {
    let mut rewritten = 0;
    for entry in std::fs::read_dir(dir.join(".git/trustops/declared")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.starts_with("identities-only 2\n") && text.contains(line) {
            let text = text.replace(&format!("\t{from}\t"), &format!("\t{to}\t"));
            std::fs::write(&path, text).unwrap();
            rewritten += 1;
        }
    }
    rewritten
}

fn split_repository() -> tempfile::TempDir {
    let dir = repository();
    let identity = |name: &str, owner: &str| {
        format!(
            "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: {name}}}\nspec:\n  owner: {owner}\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [{name}.acme.test]}}\n"
        )
    };
    std::fs::create_dir_all(dir.path().join("ids")).unwrap();
    let a: String = ["x1", "x2", "x3"]
        .iter()
        .map(|n| identity(n, "web"))
        .collect();
    let b: String = ["y1", "y2", "y3"]
        .iter()
        .map(|n| identity(n, "data"))
        .collect();
    std::fs::write(dir.path().join("ids/a.yaml"), a).unwrap();
    std::fs::write(dir.path().join("ids/b.yaml"), b).unwrap();
    commit(dir.path(), "identities in their own files");
    dir
}

#[test]
fn a_change_to_one_identity_file_is_compared_from_the_files_that_changed() {
    let dir = split_repository();
    edit(
        dir.path(),
        "ids/b.yaml",
        "name: y2}\nspec:\n  owner: data",
        "name: y2}\nspec:\n  owner: payments",
    );
    commit(dir.path(), "hand y2 over");
    for _ in 0..2 {
        // The second run finds what the unchanged files declare in the cache.
        let out = diff(dir.path(), &["HEAD~1", "HEAD", "--format", "json"]);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let changes = json["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{json:#}");
        assert_eq!(changes[0]["code"], "owner-changed");
        assert_eq!(changes[0]["path"], "ids/b.yaml");
        assert_eq!(
            changes[0]["approvers"],
            serde_json::json!(["data", "payments"])
        );
    }
    let cached = std::fs::read_dir(dir.path().join(".git/trustops/declared"))
        .unwrap()
        .count();
    assert!(cached >= 1, "what unchanged blobs declare is remembered");
    // A policy change affects every identity under it: the answer includes ids/a.yaml's
    // owners, and the trust approvers approve it.
    edit(
        dir.path(),
        "policies.yaml",
        "maxValidity: 90d",
        "maxValidity: 120d",
    );
    let loosened = policy_loosened(dir.path());
    assert_eq!(
        loosened["affected"],
        serde_json::json!(["data", "payments", "web"]),
        "{loosened:#}"
    );
    assert_eq!(loosened["approvers"], serde_json::json!(["security"]));

    // Without reading ids/a.yaml: its identities' owners and policies come from what is
    // remembered of its blob. Rewritten there, the answer follows the memory.
    let rewritten = remember_other_owner(dir.path(), "x1\tweb\ttls", "web", "remembered");
    assert_eq!(rewritten, 1, "one remembered blob declares x1..x3");
    let loosened = policy_loosened(dir.path());
    assert_eq!(
        loosened["affected"],
        serde_json::json!(["data", "payments", "remembered", "web"]),
        "a policy change is answered from the index, not by loading every file: {loosened:#}"
    );
}

/// The policy that changed shares its file with the issuers it names: those stay read (only
/// identities unchanged in a changed file are skipped), and the owners under the policy come
/// from what is remembered of the identity files, which are not read.
#[test]
fn a_policy_changed_beside_its_issuers_is_answered_without_reading_identity_files() {
    let dir = split_repository();
    let issuers = std::fs::read_to_string(dir.path().join("issuers.yaml")).unwrap();
    let policies = std::fs::read_to_string(dir.path().join("policies.yaml")).unwrap();
    std::fs::write(
        dir.path().join("policies.yaml"),
        format!("{policies}\n---\n{issuers}"),
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("issuers.yaml")).unwrap();
    commit(dir.path(), "policies and issuers in one file");
    let affected = |dir: &Path| policy_loosened(dir)["affected"].clone();
    edit(
        dir.path(),
        "policies.yaml",
        "maxValidity: 90d",
        "maxValidity: 120d",
    );
    let before = affected(dir.path());
    assert!(
        before.as_array().unwrap().contains(&"data".into()),
        "{before}"
    );
    assert_eq!(
        remember_other_owner(dir.path(), "y1\tdata\ttls", "data", "remembered"),
        1
    );
    let after = affected(dir.path());
    assert!(
        after.as_array().unwrap().contains(&"remembered".into()),
        "ids/b.yaml is not read: its owners are remembered: {after}"
    );
}

/// Two thousand identities added at once: the Markdown comment still fits GitHub's limit,
/// with the riskiest changes first, whole rows and blocks, and how many more there are.
#[test]
fn a_huge_change_gives_a_comment_that_fits() {
    let dir = repository();
    let many: String = (0..2000)
        .map(|i| {
            format!(
                "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: bulk-{i}}}\nspec:\n  owner: web\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [bulk-{i}.acme.test]}}\n"
            )
        })
        .collect();
    std::fs::write(dir.path().join("bulk.yaml"), many).unwrap();
    let out = diff(dir.path(), &["HEAD", "--format", "markdown"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.chars().count() <= 60_000,
        "{} characters",
        text.chars().count()
    );
    assert!(
        text.contains("2000 change(s)"),
        "the headline counts all: {}",
        &text[..300]
    );
    let rows = text.lines().filter(|l| l.starts_with("| ")).count() - 1;
    assert!(rows > 10, "{rows} rows");
    assert!(
        text.contains(&format!("… and {} more changes", 2000 - rows)),
        "{}",
        &text[text.len() - 500..]
    );
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count()
    );
    assert_eq!(text.matches("```").count() % 2, 0);
    let whole = diff(
        dir.path(),
        &["HEAD", "--format", "markdown", "--max-comment-chars", "0"],
    );
    assert!(String::from_utf8_lossy(&whole.stdout).chars().count() > 60_000);
}

#[test]
fn a_new_identity_taking_a_name_from_an_unchanged_file_is_reported_as_a_duplicate() {
    let dir = split_repository();
    let text = std::fs::read_to_string(dir.path().join("ids/b.yaml")).unwrap();
    std::fs::write(
        dir.path().join("ids/b.yaml"),
        text.replacen("name: y3}", "name: x1}", 1),
    )
    .unwrap();
    let out = diff(dir.path(), &["HEAD", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("x1"), "{stderr}");
    assert!(stderr.contains("error["), "{stderr}");
}

/// The line of the first line of `file` (in `dir`) containing `text`.
fn line_of(dir: &Path, file: &str, text: &str) -> u64 {
    let body = std::fs::read_to_string(dir.join(file)).unwrap();
    1 + body.lines().position(|l| l.contains(text)).unwrap() as u64
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// Loosens policy `tls` in `dir`'s work tree: every change, and the loosening.
fn loosen_tls(dir: &Path) -> (Vec<Value>, Value) {
    edit(
        dir,
        "policies.yaml",
        "maxValidity: 90d",
        "maxValidity: 365d",
    );
    let all = changes(dir);
    let loosened = all
        .iter()
        .find(|c| c["code"] == "policy-loosened")
        .unwrap()
        .clone();
    (all, loosened)
}

/// Separation of duties: whoever benefits from a trust change cannot approve it alone.
#[test]
fn trust_changes_need_the_trust_approvers_never_only_the_owners_they_benefit() {
    let found = expect(
        &[("policies.yaml", "maxValidity: 90d", "maxValidity: 365d")],
        "policy-loosened",
        "high",
        SECURITY,
        "maxValidity loosened",
    );
    assert_eq!(strings(&found["affected"]), ALL, "{found:#}");
    assert_eq!(found["trust"], true);
    assert!(found["unapproved"].is_null(), "{found:#}");
    // Identity changes stay with the owners concerned.
    let handed = expect(
        &[(
            "identities.yaml",
            "spec:\n  owner: web",
            "spec:\n  owner: data",
        )],
        "owner-changed",
        "medium",
        &["data", "web"],
        "web owner",
    );
    assert_eq!(handed["trust"], false);

    // A pull request cannot name its own approvers: the base's count, and the change to
    // them is a high-risk trust change itself.
    let dir = repository();
    edit(dir.path(), "trustops.yaml", "[security]", "[security, web]");
    let (all, loosened) = loosen_tls(dir.path());
    assert_eq!(strings(&loosened["approvers"]), SECURITY);
    let approvers = all
        .iter()
        .find(|c| c["code"] == "trust-approvers-changed")
        .unwrap();
    assert_eq!(approvers["risk"], "high");
    assert_eq!(approvers["path"], "trustops.yaml");
    assert_eq!(strings(&approvers["approvers"]), SECURITY);
}

#[test]
fn without_an_independent_approver_the_change_says_so() {
    // No trustApprovers at all: the owners it affects are all there is, and the change says
    // they are not independent.
    let dir = repository();
    std::fs::remove_file(dir.path().join("trustops.yaml")).unwrap();
    commit(dir.path(), "no trust approvers");
    let (_, loosened) = loosen_tls(dir.path());
    assert_eq!(strings(&loosened["approvers"]), ALL);
    assert!(
        loosened["unapproved"]
            .as_str()
            .unwrap()
            .contains("no trust approvers are declared"),
        "{loosened:#}"
    );
    let text = String::from_utf8(diff(dir.path(), &["main"]).stdout).unwrap();
    assert!(text.contains("not independent"), "{text}");

    // A policy's own approvers replace trustApprovers; when they all benefit, it says so.
    let dir = repository();
    edit(
        dir.path(),
        "policies.yaml",
        "  approval: manual\n",
        "  approval: manual\n  approvers: [web]\n",
    );
    commit(dir.path(), "web approves tls");
    let (_, loosened) = loosen_tls(dir.path());
    assert_eq!(strings(&loosened["approvers"]), ["web"]);
    assert_eq!(
        loosened["unapproved"],
        "every trust approver (web) owns an identity it affects"
    );
}

#[test]
fn an_unknown_trust_approver_is_a_validation_error() {
    let dir = repository();
    edit(dir.path(), "trustops.yaml", "[security]", "[secruity]");
    let out = Command::new(env!("CARGO_BIN_EXE_trustops"))
        .arg("--repo")
        .arg(dir.path())
        .args(["validate", "--format", "short"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("trustops.yaml:1") && said.contains("no owner named \"secruity\""),
        "{said}"
    );
}

#[test]
fn trust_changes_have_their_own_codes_and_risks() {
    let found = expect(
        &[(
            "issuers.yaml",
            "  exec: {command: [ca-a-issue]}",
            "  caSubjects: [\"CN=Shadow CA,O=Elsewhere\"]\n  exec: {command: [ca-a-issue]}",
        )],
        "issuer-ca-added",
        "high",
        SECURITY,
        "issuer ca-a now vouches for CA CN=Shadow CA,O=Elsewhere",
    );
    assert_eq!(strings(&found["affected"]), ALL);
    expect(
        &[(
            "issuers.yaml",
            "  exec: {command: [ca-b-issue]}",
            "  exec: {command: [ca-b-issue, --fast]}",
        )],
        "declaration-changed",
        "medium",
        SECURITY,
        "issuer ca-b spec.exec.command changed",
    );
    // A wildcard on a public certificate is high risk; on an internal one, medium.
    let public = [
        (
            "policies.yaml",
            "trustDomain: internal-mtls",
            "trustDomain: public-tls",
        ),
        (
            "identities.yaml",
            "      dnsNames: [www.acme.test]\n",
            "      dnsNames: [www.acme.test, \"*.acme.test\"]\n",
        ),
    ];
    let wildcard = expect(
        &public,
        "wildcard-added",
        "high",
        SECURITY,
        "web/tls gains [\"*.acme.test\"] on a public certificate",
    );
    assert_eq!(strings(&wildcard["affected"]), ["web"]);
    expect(
        &public[1..],
        "wildcard-added",
        "medium",
        SECURITY,
        "web/tls gains [\"*.acme.test\"]",
    );
    // An exclude that hides the file holding the exceptions: every waiver in it is dropped
    // without a line of it deleted.
    let hidden = expect(
        &[(
            "trustops.yaml",
            "[security]",
            "[security]\nexclude: [identities.yaml]",
        )],
        "declarations-hidden",
        "high",
        SECURITY,
        "trustops.yaml no longer reads identities.yaml (",
    );
    let message = hidden["message"].as_str().unwrap();
    assert!(message.contains("exception api-legacy-key"), "{message}");
    assert_eq!(hidden["path"], "trustops.yaml");
    assert_eq!(hidden["line"], 2, "at the exclude");
}

/// Pull requests annotate changed lines only: each change points at the field that changed.
#[test]
fn changes_point_at_the_changed_field() {
    let cases: [(&str, &str, &str, &str, &str); 4] = [
        (
            "policies.yaml",
            "maxValidity: 90d",
            "maxValidity: 365d",
            "policy-loosened",
            "maxValidity: 365d",
        ),
        (
            "identities.yaml",
            "spec:\n  owner: web",
            "spec:\n  owner: data",
            "owner-changed",
            "owner: data",
        ),
        (
            "identities.yaml",
            "match: {dnsNames: [www.acme.test], source: hosts}",
            "match: {dnsNames: [www.acme.test]}",
            "match-widened",
            "match: {dnsNames: [www.acme.test]}",
        ),
        (
            "identities.yaml",
            "expires: 2026-12-31",
            "expires: 2027-06-30",
            "exception-extended",
            "expires: 2027-06-30",
        ),
    ];
    for (file, from, to, code, changed) in cases {
        let dir = repository();
        edit(dir.path(), file, from, to);
        let all = changes(dir.path());
        let found = all.iter().find(|c| c["code"] == code).unwrap();
        assert_eq!(
            found["line"].as_u64().unwrap(),
            line_of(dir.path(), file, changed),
            "{code}: {found:#}"
        );
    }
}

/// `--color always` paints the headline and each risk; piped without it, nothing is painted.
#[test]
fn the_text_diff_is_coloured_only_when_asked() {
    let dir = repository();
    edit(
        dir.path(),
        "policies.yaml",
        "maxValidity: 90d",
        "maxValidity: 120d",
    );
    let plain = String::from_utf8_lossy(&diff(dir.path(), &["main"]).stdout).into_owned();
    assert!(
        plain.starts_with("trustops diff:") && !plain.contains('\x1b'),
        "{plain}"
    );
    let painted = diff(dir.path(), &["main", "--color", "always"]);
    let painted = String::from_utf8_lossy(&painted.stdout).into_owned();
    assert!(painted.starts_with("\x1b[1mtrustops diff:"), "{painted:?}");
    assert!(painted.contains("\x1b[31mhigh  \x1b[0m"), "{painted:?}");
}

/// A mistyped revision is named with the branch or tag it was probably meant to be.
#[test]
fn a_mistyped_revision_suggests_the_branch_meant() {
    let dir = repository();
    git(dir.path(), &["tag", "v1.0"]);
    for (typed, meant) in [
        ("mian", "(did you mean main?)"),
        ("mian~1", "(did you mean main~1?)"),
        ("v1.1", "(did you mean v1.0?)"),
    ] {
        let out = diff(dir.path(), &[typed]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(meant), "{typed}: {stderr}");
    }
    let out = diff(dir.path(), &["completely-else"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("did you mean"));
}
