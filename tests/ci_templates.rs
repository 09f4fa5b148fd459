//! The CI templates users copy (`ci/templates/`), their shell steps run as the CI would run
//! them — a pull request reviewed, the default branch applied and pushed, a nightly run —
//! against an example governance repository with a real Git remote. Only the steps that
//! install trustops (here: already built, on PATH; `release.rs` runs them) and the steps that
//! talk to the forge's API are left out.

use crate::apply::crash::{amend, estate, sh};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The template, parsed.
fn template(name: &str) -> Value {
    let text =
        std::fs::read_to_string(crate::support::root().join("ci/templates").join(name)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A folder holding `trustops` (the binary under test), to put first on PATH.
fn bin_dir(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    if !bin.join("trustops").exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_trustops"), bin.join("trustops")).unwrap();
    }
    bin
}

/// The estate with a bare `origin` holding `main`, as a CI checkout sees it.
fn checkout() -> crate::support::Test {
    let test = estate();
    let dir = test.dir.path();
    sh(dir, "git", &["init", "-q", "--bare", "origin.git"]);
    let repo = dir.join("repo");
    sh(&repo, "git", &["remote", "add", "origin", "../origin.git"]);
    sh(&repo, "git", &["push", "-q", "origin", "main"]);
    sh(&repo, "git", &["fetch", "-q", "origin"]);
    test
}

/// Environment variables of a CI step.
type Env = BTreeMap<String, String>;

/// `pairs` as an environment.
fn env(pairs: &[(&str, &str)]) -> Env {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Runs `script` with bash in the repository, as a CI step: errexit and pipefail, `env` set.
#[track_caller]
fn step(dir: &Path, what: &str, script: &str, env: &Env) {
    let path = format!(
        "{}:{}",
        bin_dir(dir).display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", script])
        .current_dir(dir.join("repo"))
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("TRUSTOPS_SIGNING_KEY")
        .envs(env)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{script}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a GitHub Actions job's `run` steps (not `uses` actions, not installing or posting), with
/// `${{ secrets.NAME }}` from `secrets`.
fn github_job(dir: &Path, workflow: &Value, job: &str, base: &Env, secrets: &Env) {
    let steps = workflow["jobs"][job]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no job {job}"));
    let mut ran = 0;
    for s in steps {
        let Some(script) = s["run"].as_str() else {
            continue;
        };
        let name = s["name"].as_str().unwrap_or("step");
        // Installing (tests/release.rs runs those steps) and posting to the forge's API.
        if name.starts_with("Install") || name.starts_with("Post") {
            continue;
        }
        let mut env = base.clone();
        for (k, v) in s["env"].as_object().into_iter().flatten() {
            let mut value = v.as_str().unwrap_or_default().to_owned();
            for (secret, text) in secrets {
                value = value.replace(&format!("${{{{ secrets.{secret} }}}}"), text);
            }
            assert!(
                !value.contains("${{"),
                "unresolved expression in {name}: {value}"
            );
            env.insert(k.clone(), value);
        }
        step(dir, &format!("{job}: {name}"), script, &env);
        ran += 1;
    }
    assert!(ran >= 1, "{job} ran no step");
}

/// Runs a GitLab CI job's `script` lines (not `before_script`, which installs trustops).
fn gitlab_job(dir: &Path, pipeline: &Value, job: &str, env: &Env) {
    let lines = pipeline[job]["script"]
        .as_array()
        .unwrap_or_else(|| panic!("no job {job}"));
    for line in lines {
        step(dir, job, line.as_str().unwrap(), env);
    }
}

/// A pull request that loosens a policy, on branch `feature`.
fn pull_request(dir: &Path) {
    let repo = dir.join("repo");
    sh(&repo, "git", &["checkout", "-q", "-b", "feature"]);
    amend(
        dir,
        "maxValidity: 30d",
        "maxValidity: 60d",
        "longer certificates",
    );
}

/// The audit commit pushed to origin, verified with git against allowed_signers.
fn pushed_and_verified(dir: &Path) {
    let origin = dir.join("origin.git");
    let commit = sh(&origin, "git", &["rev-parse", "trustops-audit"]);
    let out = Command::new("git")
        .args(["-c", "gpg.format=ssh"])
        .arg("-c")
        .arg(format!(
            "gpg.ssh.allowedSignersFile={}",
            dir.join("repo/allowed_signers").display()
        ))
        .args(["verify-commit", commit.trim()])
        .current_dir(&origin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Good \"git\" signature"));
}

#[test]
fn the_github_actions_template_reviews_applies_and_runs_nightly() {
    let workflow = template("github-actions.yml");
    let test = checkout();
    let dir = test.dir.path();
    pull_request(dir);
    let pr = env(&[
        ("GITHUB_BASE_REF", "main"),
        ("GITHUB_EVENT_NAME", "pull_request"),
    ]);
    github_job(dir, &workflow, "review", &pr, &Env::new());
    let comment = std::fs::read_to_string(dir.join("repo/comment.md")).unwrap();
    assert!(
        comment.contains("policy-loosened") && comment.contains("maxValidity loosened: 30d → 60d"),
        "{comment}"
    );
    assert!(
        comment.contains("team@test.example"),
        "the approvals name the owner: {comment}"
    );
    for sarif in ["plan.sarif", "diff.sarif"] {
        let v: Value =
            serde_json::from_slice(&std::fs::read(dir.join("repo").join(sarif)).unwrap()).unwrap();
        assert_eq!(v["version"], "2.1.0");
    }

    sh(&dir.join("repo"), "git", &["checkout", "-q", "main"]);
    let key = std::fs::read_to_string(dir.join("audit-key")).unwrap();
    let secrets = env(&[("TRUSTOPS_SIGNING_KEY", &key)]);
    github_job(
        dir,
        &workflow,
        "apply",
        &env(&[("GITHUB_EVENT_NAME", "push")]),
        &secrets,
    );
    pushed_and_verified(dir);

    let nightly = env(&[("GITHUB_EVENT_NAME", "schedule")]);
    github_job(dir, &workflow, "nightly", &nightly, &Env::new());
    for file in ["plan.json", "report.html", "trustops.prom"] {
        assert!(dir.join("repo").join(file).exists(), "{file}");
    }
}

#[test]
fn the_gitlab_ci_template_reviews_applies_and_runs_nightly() {
    let pipeline = template("gitlab-ci.yml");
    let test = checkout();
    let dir = test.dir.path();
    pull_request(dir);
    let mr = env(&[("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")]);
    gitlab_job(dir, &pipeline, "trustops-review", &mr);
    let diff = std::fs::read_to_string(dir.join("repo/diff.md")).unwrap();
    assert!(diff.contains("policy-loosened"), "{diff}");

    sh(&dir.join("repo"), "git", &["checkout", "-q", "main"]);
    let key = dir.join("audit-key").display().to_string();
    gitlab_job(
        dir,
        &pipeline,
        "trustops-apply",
        &env(&[("TRUSTOPS_SIGNING_KEY_FILE", &key)]),
    );
    pushed_and_verified(dir);

    gitlab_job(dir, &pipeline, "trustops-nightly", &Env::new());
    assert!(dir.join("repo/report.html").exists());
}
