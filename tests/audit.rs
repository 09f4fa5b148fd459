//! `trustops audit`: the trail read back from real Git history. `log` lists records in commit
//! order with filters; `verify` catches a modified record, a deleted record, an unsigned
//! commit, a commit signed by an unknown key and one signed by a key past its `valid-before`;
//! `who-owned` answers at several instants around an owner change, with the commits that prove
//! it.

use crate::apply::crash::{estate, ok, sh, ssh_key, trustops};
use std::path::Path;
use std::process::{Command, Output};

const T0: &str = "2026-05-01T12:00:00Z";
/// 24 days later, the 30-day certificate is renewed.
const T1: &str = "2026-05-25T12:00:00Z";
const APPLY: [&str; 3] = ["--auto-approve", "--signing-key", "audit-key"];

/// The estate applied twice (two signed audit commits), with a work tree of the audit branch
/// at `dir/wt` for tampering.
fn applied() -> crate::support::Test {
    let test = estate();
    let dir = test.dir.path();
    for now in [T0, T1] {
        ok(&trustops(dir, now, &["plan", "--out", "plan.json"]));
        ok(&trustops(
            dir,
            now,
            &[&["apply", "plan.json"][..], &APPLY].concat(),
        ));
    }
    sh(
        &dir.join("repo"),
        "git",
        &["worktree", "add", "-q", "../wt", "trustops-audit"],
    );
    test
}

fn audit(dir: &Path, args: &[&str]) -> Output {
    trustops(dir, T1, &[&["audit"][..], args].concat())
}

/// Commits what changed in the audit work tree, signed with `key` (or unsigned).
fn tamper(dir: &Path, message: &str, key: Option<&str>) {
    let wt = dir.join("wt");
    sh(&wt, "git", &["add", "-A"]);
    let mut args = vec![
        "-c",
        "user.name=mallory",
        "-c",
        "user.email=m@test",
        "-c",
        "gpg.format=ssh",
    ];
    let signing;
    if let Some(key) = key {
        signing = format!("user.signingkey={}", dir.join(key).display());
        args.extend(["-c", &signing, "commit", "-S"]);
    } else {
        args.push("commit");
    }
    args.extend(["-qm", message]);
    sh(&wt, "git", &args);
}

/// The audit record files on the audit branch.
fn records(dir: &Path) -> Vec<String> {
    sh(&dir.join("wt"), "git", &["ls-files", "audit"])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[track_caller]
fn violation(dir: &Path, problem: &str) -> String {
    let out = audit(dir, &["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tip = sh(&dir.join("wt"), "git", &["rev-parse", "HEAD"]);
    let line = stdout
        .lines()
        .find(|l| l.contains(problem))
        .unwrap_or_else(|| panic!("no {problem:?} in:\n{stdout}"));
    assert!(
        line.contains(tip.trim()),
        "the violation names the commit {tip}: {line}"
    );
    stdout
}

#[test]
fn log_lists_records_in_commit_order_with_filters() {
    let test = applied();
    let dir = test.dir.path();
    let all = String::from_utf8(audit(dir, &["log"]).stdout).unwrap();
    let rotations: Vec<&str> = all.lines().filter(|l| l.contains(" rotate ")).collect();
    assert_eq!(rotations.len(), 2, "{all}");
    assert!(
        rotations[0].starts_with(T0) && rotations[1].starts_with(T1),
        "{all}"
    );
    let mine = String::from_utf8(
        audit(
            dir,
            &["log", "--identity", "db-svc/tls", "--since", "2026-05-20"],
        )
        .stdout,
    )
    .unwrap();
    let lines: Vec<&str> = mine.lines().filter(|l| l.contains(" by ")).collect();
    assert!(!lines.is_empty(), "{mine}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with(T1) && l.contains("db-svc/tls")),
        "{mine}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&audit(dir, &["log", "--owner", "team", "--format", "json"]).stdout)
            .unwrap();
    let entries = json.as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .all(|e| e["record"]["owner"] == "team" && e["commit"].as_str().unwrap().len() == 40)
    );
}

#[test]
fn an_untouched_trail_verifies() {
    let test = applied();
    let out = audit(test.dir.path(), &["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("2 audit commit(s)") && stdout.contains("no record changed or deleted"),
        "{stdout}"
    );
}

#[test]
fn a_modified_record_is_caught_even_in_a_signed_commit() {
    let test = applied();
    let dir = test.dir.path();
    let file = records(dir)
        .into_iter()
        .find(|f| f.ends_with("rotate-db-svc-tls.yaml"))
        .unwrap();
    let path = dir.join("wt").join(&file);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("outcome: applied", "outcome: failed");
    std::fs::write(&path, text).unwrap();
    tamper(dir, "trustops apply plan-x: 0 applied", Some("audit-key"));
    let stdout = violation(dir, "modified after it was written");
    assert!(stdout.contains(&file), "{stdout}");
}

#[test]
fn a_deleted_record_is_caught() {
    let test = applied();
    let dir = test.dir.path();
    let file = records(dir).pop().unwrap();
    sh(&dir.join("wt"), "git", &["rm", "-q", &file]);
    tamper(dir, "trustops apply plan-x: cleanup", Some("audit-key"));
    violation(dir, "an audit record was deleted");
}

#[test]
fn an_unsigned_commit_touching_the_trail_is_caught() {
    let test = applied();
    let dir = test.dir.path();
    let first = records(dir).remove(0);
    let forged = first.replace(".yaml", "-again.yaml");
    std::fs::copy(dir.join("wt").join(&first), dir.join("wt").join(&forged)).unwrap();
    tamper(dir, "trustops apply plan-x: 1 applied", None);
    violation(dir, "an unsigned commit touches audit/");
}

#[test]
fn a_commit_signed_by_an_unknown_key_is_caught() {
    let test = applied();
    let dir = test.dir.path();
    ssh_key(dir, "mallory-key", "mallory");
    let first = records(dir).remove(0);
    std::fs::copy(
        dir.join("wt").join(&first),
        dir.join("wt").join(first.replace(".yaml", "-forged.yaml")),
    )
    .unwrap();
    tamper(dir, "trustops apply plan-x: 1 applied", Some("mallory-key"));
    violation(dir, "a key not in allowed_signers");
    // A commit outside the apply path is named too.
    std::fs::write(dir.join("wt/audit/notes.yaml"), "format_version: 1\n").unwrap();
    tamper(dir, "notes", Some("audit-key"));
    violation(dir, "a commit outside the apply path touches audit/");
}

/// Commits what changed in the declarations' repository, signed with `key` (or unsigned).
fn commit_declarations(dir: &Path, message: &str, key: Option<&str>) {
    let repo = dir.join("repo");
    sh(&repo, "git", &["add", "-A"]);
    let signing = key.map(|k| format!("user.signingkey={}", dir.join(k).display()));
    let mut args = vec![
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "-c",
        "gpg.format=ssh",
    ];
    if let Some(signing) = &signing {
        args.extend(["-c", signing, "commit", "-S"]);
    } else {
        args.push("commit");
    }
    args.extend(["-qm", message]);
    sh(&repo, "git", &args);
}

#[test]
fn a_key_is_trusted_only_inside_its_validity_so_it_can_be_rotated() {
    let test = applied();
    let dir = test.dir.path();
    let signers = dir.join("repo/allowed_signers");
    let line = std::fs::read_to_string(&signers).unwrap();
    let security = ssh_key(dir, "security-key", "security@test");
    // The audit key retired between the two applies, and a security key added, in a commit
    // the audit key signs (it is allowed before the change): the T0 commit stays good, T1's
    // does not.
    let retired = line.replacen(
        "namespaces=\"git\"",
        "namespaces=\"git\",valid-before=\"20260510\"",
        1,
    );
    std::fs::write(
        &signers,
        format!("{retired}security@test namespaces=\"git\" {security}"),
    )
    .unwrap();
    commit_declarations(dir, "retire the audit key", Some("audit-key"));
    let out = audit(dir, &["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('✗')).collect();
    assert_eq!(
        lines.len(),
        1,
        "only the commit after valid-before: {stdout}"
    );
    assert!(lines[0].contains("outside the validity"), "{stdout}");
    // Rotation: a new line for the same key, valid from the retirement on, signed by the
    // security key the file now allows, trusts it again.
    let renewed = format!(
        "{}{}",
        std::fs::read_to_string(&signers).unwrap(),
        line.replacen(
            "namespaces=\"git\"",
            "namespaces=\"git\",valid-after=\"20260510\"",
            1
        )
    );
    std::fs::write(&signers, renewed).unwrap();
    commit_declarations(dir, "renew the audit key", Some("security-key"));
    let out = audit(dir, &["verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_signer_added_without_a_signature_allowed_before_vouches_for_nothing() {
    let test = applied();
    let dir = test.dir.path();
    // Mallory adds her key to the declarations' allowed_signers (unsigned: she holds no
    // allowed key), then forges a record on the audit branch signed with it. Editing the work
    // tree alone does nothing: the committed history decides.
    let mallory = ssh_key(dir, "mallory-key", "mallory");
    let signers = dir.join("repo/allowed_signers");
    let mut text = std::fs::read_to_string(&signers).unwrap();
    text.push_str(&format!("audit@test namespaces=\"git\" {mallory}"));
    std::fs::write(&signers, &text).unwrap();
    commit_declarations(dir, "add a signer", None);
    let first = records(dir).remove(0);
    std::fs::copy(
        dir.join("wt").join(&first),
        dir.join("wt").join(first.replace(".yaml", "-forged.yaml")),
    )
    .unwrap();
    tamper(dir, "trustops apply plan-x: 1 applied", Some("mallory-key"));
    let stdout = violation(dir, "a key not in allowed_signers");
    assert!(
        stdout.contains("allowed_signers was changed by a commit no key it allowed before signed"),
        "{stdout}"
    );
}

#[test]
fn records_on_the_checked_out_branch_are_checked_against_the_signers_before_each_commit() {
    let test = estate();
    let dir = test.dir.path();
    ok(&trustops(dir, T0, &["plan", "--out", "plan.json"]));
    ok(&trustops(
        dir,
        T0,
        &[&["apply", "plan.json", "--branch", "main"][..], &APPLY].concat(),
    ));
    let verify = ["verify", "--branch", "main"];
    assert_eq!(audit(dir, &verify).status.code(), Some(0));
    // One commit adds Mallory's key and a forged record, signed by that key.
    let mallory = ssh_key(dir, "mallory-key", "mallory");
    let repo = dir.join("repo");
    let mut text = std::fs::read_to_string(repo.join("allowed_signers")).unwrap();
    text.push_str(&format!("audit@test namespaces=\"git\" {mallory}"));
    std::fs::write(repo.join("allowed_signers"), &text).unwrap();
    let tracked = sh(&repo, "git", &["ls-files", "audit"]);
    let first = tracked.lines().next().unwrap();
    std::fs::copy(
        repo.join(first),
        repo.join(first.replace(".yaml", "-forged.yaml")),
    )
    .unwrap();
    commit_declarations(dir, "trustops apply plan-x: 1 applied", Some("mallory-key"));
    let out = audit(dir, &verify);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("a key not in allowed_signers"), "{stdout}");
    assert!(stdout.contains("allowed_signers was changed"), "{stdout}");
}

/// A repository whose declarations change owner on a known date: `team-a` from January,
/// `team-b` from March; an unrelated policy change in June.
fn owner_history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let commit = |date: &str, message: &str| {
        sh(repo, "git", &["add", "-A"]);
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                message,
            ])
            .current_dir(repo)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sh(repo, "git", &["rev-parse", "HEAD"]).trim().to_owned()
    };
    sh(repo, "git", &["init", "-q", "-b", "main"]);
    let owners = "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: team-a}\nspec: {contacts: [{email: a@t}]}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: team-b}\nspec: {contacts: [{email: b@t}]}\n";
    let policy = |days: u32| {
        format!(
            "apiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {{name: tls}}\nspec: {{trustDomain: internal-tls, maxValidity: {days}d}}\n"
        )
    };
    let identity = |owner: &str| {
        format!(
            "apiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: api}}\nspec:\n  owner: {owner}\n  policy: tls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [api.test]}}\n"
        )
    };
    std::fs::write(repo.join("owners.yaml"), owners).unwrap();
    std::fs::write(repo.join("policies.yaml"), policy(90)).unwrap();
    std::fs::write(repo.join("identities.yaml"), identity("team-a")).unwrap();
    let january = commit("2026-01-01T00:00:00Z", "declare api");
    std::fs::write(repo.join("identities.yaml"), identity("team-b")).unwrap();
    let march = commit("2026-03-01T00:00:00Z", "hand api to team-b");
    std::fs::write(repo.join("policies.yaml"), policy(60)).unwrap();
    let june = commit("2026-06-01T00:00:00Z", "shorter certificates");
    std::fs::write(
        repo.join("commits"),
        format!("{january}\n{march}\n{june}\n"),
    )
    .unwrap();
    dir
}

fn who_owned(repo: &Path, target: &str, at: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustops"))
        .arg("--repo")
        .arg(repo)
        .args(["audit", "who-owned", target, "--at", at, "--format", "json"])
        .output()
        .unwrap()
}

#[test]
fn who_owned_at_instants_around_an_owner_change() {
    let dir = owner_history();
    let repo = dir.path();
    let commits: Vec<String> = std::fs::read_to_string(repo.join("commits"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let (january, march, june) = (&commits[0], &commits[1], &commits[2]);
    let cases = [
        ("2026-02-01", "team-a", january, january),
        ("2026-02-28T23:59:59Z", "team-a", january, january),
        ("2026-03-01T00:00:00Z", "team-b", march, march),
        ("2026-07-01", "team-b", march, june),
    ];
    for (at, owner, declared, state) in cases {
        let out = who_owned(repo, "api/tls", at);
        assert!(
            out.status.success(),
            "{at}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["owner"], owner, "{at}: {json:#}");
        assert_eq!(json["policy"], "tls");
        assert_eq!(
            &json["declared_in"]["commit"],
            declared.as_str(),
            "{at}: {json:#}"
        );
        assert_eq!(&json["state_commit"], state.as_str(), "{at}: {json:#}");
        assert_eq!(json["declared_in"]["path"], "identities.yaml");
    }
    let before = who_owned(repo, "api", "2025-12-01");
    assert_eq!(before.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&before.stderr).contains("begins after"));
    let unknown = who_owned(repo, "api/mtls", "2026-07-01");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("declared no credential mtls"));
}

/// The change record of `target` in each applied rotation, as `audit log` shows them, in order.
fn applied_rotations(dir: &Path, target: &str) -> Vec<serde_json::Value> {
    let out = audit(dir, &["log", "--identity", target, "--format", "json"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["record"]["kind"] == "rotate" && e["record"]["outcome"] == "applied")
        .filter_map(|e| {
            e["record"]["changes"]
                .as_array()?
                .iter()
                .find(|c| c["target"] == target)
                .cloned()
        })
        .collect()
}

#[test]
fn who_owned_by_fingerprint_names_the_audit_records_around_the_instant() {
    let test = applied();
    let dir = test.dir.path();
    let rotations = applied_rotations(dir, "db-svc/tls");
    let fingerprint = rotations[0]["new_sha256"].as_str().unwrap();
    // After both applies (the declarations were committed at the real time the test ran).
    let out = trustops(
        dir,
        T1,
        &[
            "audit",
            "who-owned",
            &fingerprint[..16],
            "--at",
            "2099-01-01",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("db-svc/tls at 2099-01-01"), "{stdout}");
    assert!(stdout.contains("owner:     team"), "{stdout}");
    let before = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("before"))
        .unwrap();
    assert!(
        before.contains(T1) && before.contains("db-svc/tls"),
        "the last record before: {stdout}"
    );
}

/// who-owned names the certificate deployed at the instant: the one the last rotation before
/// it deployed (the unit tests of `audit::ownership` cover an instant between rotations).
#[test]
fn who_owned_names_the_certificate_current_at_the_instant() {
    let test = applied();
    let dir = test.dir.path();
    let rotations = applied_rotations(dir, "db-svc/tls");
    assert_eq!(rotations.len(), 2, "{rotations:#?}");
    let current = |at: &str| {
        let out = trustops(
            dir,
            T1,
            &[
                "audit",
                "who-owned",
                "db-svc/tls",
                "--at",
                at,
                "--format",
                "json",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let owned: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        owned["certificate"]["sha256"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // (The declarations were committed at the real time the test ran: ask after both.)
    // Long after: what the second deployed.
    assert_eq!(
        current("2099-01-01"),
        rotations[1]["new_sha256"].as_str().unwrap()
    );
}
