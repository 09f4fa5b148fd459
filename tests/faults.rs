//! The crash and race harness of `apply`: an apply killed at every journal step, every deploy
//! sub-step, inside the exec issuer before and after it mints, and at random instants, then
//! resumed; applies raced against each other and against outside commits. After each trial
//! the estate must hold: no record lost, nothing issued twice, every deployed certificate
//! paired with its key, journal and lock released, no temporary or kept file left, `git fsck
//! --strict` clean, every audit commit verified by `git verify-commit` and `trustops audit
//! verify`.
//!
//! Kills come from the test-only hook `TRUSTOPS_TEST_FAULT` (`src/fault.rs`) or from a SIGKILL
//! after a random delay. The random trials are seeded: the seed is printed, and
//! `TRUSTOPS_FAULT_SEED=N` replays it; `TRUSTOPS_FAULT_TRIALS=N` runs more (the bench count).

use crate::apply::crash::{commit_all, sh, ssh_key};
use crate::support::{Test, root};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const T0: &str = "2026-05-01T12:00:00Z";
/// 10 days left on the 30-day certificates: both are due.
pub(crate) const T1: &str = "2026-05-21T12:00:00Z";

/// An estate whose `db-svc` certificate comes from an exec CA plugin (sign-csr.py) and rotates
/// with a dotenv secret (rotate-secret.py), and whose `web` certificate comes from the local
/// CA; deployed once at T0, with a plan at T1 that rotates both.
pub(crate) fn estate() -> Test {
    let plugin = |name: &str| {
        root()
            .join("examples/exec-plugins")
            .join(name)
            .display()
            .to_string()
    };
    let (sign, rotate, inventory) = (
        plugin("sign-csr.py"),
        plugin("rotate-secret.py"),
        plugin("dotenv-inventory.py"),
    );
    let declarations = format!(
        r#"apiVersion: trustops.dev/v1alpha1
kind: Owner
metadata: {{name: team}}
spec: {{contacts: [{{email: team@test.example}}]}}
---
apiVersion: trustops.dev/v1alpha1
kind: Policy
metadata: {{name: exec-tls}}
spec: {{trustDomain: internal-mtls, maxValidity: 30d, renewBefore: 15d, issuers: [team-ca], keyAlgorithms: [{{type: ec, minSize: 256}}]}}
---
apiVersion: trustops.dev/v1alpha1
kind: Policy
metadata: {{name: ca-tls}}
spec: {{trustDomain: internal-mtls, maxValidity: 30d, renewBefore: 15d, issuers: [local-ca], keyAlgorithms: [{{type: ec, minSize: 256}}]}}
---
apiVersion: trustops.dev/v1alpha1
kind: Policy
metadata: {{name: secrets}}
spec: {{trustDomain: api-key, maxAge: 30d, issuers: [dotenv]}}
---
apiVersion: trustops.dev/v1alpha1
kind: Issuer
metadata: {{name: team-ca}}
spec: {{exec: {{command: [python3, "{sign}", ../pki/team.pem, ../pki/team.key, ../pki/issued.json]}}}}
---
apiVersion: trustops.dev/v1alpha1
kind: Issuer
metadata: {{name: local-ca}}
spec: {{localCa: {{certFile: ../pki/ca.pem, keyFile: ../pki/ca.key, crlFile: ../pki/ca.crl}}}}
---
apiVersion: trustops.dev/v1alpha1
kind: Issuer
metadata: {{name: dotenv}}
spec: {{exec: {{command: [python3, "{rotate}", ../services/app.env]}}}}
---
apiVersion: trustops.dev/v1alpha1
kind: Source
metadata: {{name: hosts}}
spec: {{files: {{paths: ["../deployed/**"]}}}}
---
apiVersion: trustops.dev/v1alpha1
kind: Source
metadata: {{name: env}}
spec: {{exec: {{command: [python3, "{inventory}", ../services]}}}}
---
apiVersion: trustops.dev/v1alpha1
kind: Identity
metadata: {{name: db-svc}}
spec:
  owner: team
  policy: exec-tls
  credentials:
    - name: tls
      type: x509-certificate
      match: {{dnsNames: [db.test], source: hosts}}
      dnsNames: [db.test]
      deploy: [{{certFile: ../deployed/db.pem, keyFile: ../deployed/db.key}}]
      rotateWith: [password]
    - name: password
      type: secret
      policy: secrets
      match: {{secretId: "../services/app.env:DB_SVC_PASSWORD", source: env}}
---
apiVersion: trustops.dev/v1alpha1
kind: Identity
metadata: {{name: web}}
spec:
  owner: team
  policy: ca-tls
  credentials:
    - name: tls
      type: x509-certificate
      match: {{dnsNames: [web.test], source: hosts}}
      dnsNames: [web.test]
      deploy: [{{certFile: ../deployed/web.pem, keyFile: ../deployed/web.key}}]
"#
    );
    let test = Test::new()
        .file("repo/declarations.yaml", declarations)
        .file("services/app.env", "DB_SVC_PASSWORD=old\n");
    let dir = test.dir.path();
    std::fs::create_dir_all(dir.join("deployed")).unwrap();
    crate::support::openssl_ca(&dir.join("pki"), "/CN=Fault Test CA", 3650);
    for f in ["ca.pem", "ca.key"] {
        std::fs::rename(
            dir.join("pki").join(f),
            dir.join("pki").join(f.replace("ca", "team")),
        )
        .unwrap();
    }
    crate::support::openssl_ca(&dir.join("pki"), "/CN=Fault Local CA", 3650);
    let public = ssh_key(dir, "audit-key", "audit@test");
    let repo = dir.join("repo");
    std::fs::write(
        repo.join("allowed_signers"),
        format!("audit@test namespaces=\"git\" {public}"),
    )
    .unwrap();
    sh(&repo, "git", &["init", "-q", "-b", "main"]);
    commit_all(&repo, "declare");
    for (now, plan) in [(T0, "p0.json"), (T1, "plan.json")] {
        let out = trustops(dir, &["--now", now, "plan", "--out", plan]);
        assert!(out.status.success(), "{}", text(&out));
        if now == T0 {
            let out = apply(dir, now, plan, &[]).output().unwrap();
            assert!(out.status.success(), "{}", text(&out));
        }
    }
    let plan = std::fs::read_to_string(dir.join("plan.json")).unwrap();
    for action in ["rotate:db-svc/tls", "rotate:web/tls"] {
        assert!(plan.contains(action), "{action} in the plan: {plan}");
    }
    test
}

pub(crate) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn trustops(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args(["--repo", "repo"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("TRUSTOPS_TEST_FAULT")
        .env_remove("TRUSTOPS_EXAMPLE_KILL")
        .output()
        .unwrap()
}

pub(crate) fn apply(dir: &Path, now: &str, plan: &str, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trustops"));
    command
        .args(["--repo", "repo", "--now", now, "apply", plan])
        .args(["--auto-approve", "--signing-key", "audit-key"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("TRUSTOPS_TEST_FAULT")
        .env_remove("TRUSTOPS_EXAMPLE_KILL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The estate for one trial, in the folder the plan was made in (discovery records absolute
/// locations): what `base` held when the estate was built.
fn fresh(base: &Path, at: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(at);
    copy(base, at);
    at.to_owned()
}

/// A copy of a folder (the estate, its repository included).
fn copy(from: &Path, to: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// What a trial did: the first apply's exit, and the resume's.
struct Trial {
    name: String,
    dir: PathBuf,
    first: Output,
}

/// Resumes the trial's apply and checks every invariant.
#[track_caller]
fn resume_and_check(trial: &Trial) {
    let dir = &trial.dir;
    let name = &trial.name;
    let killed = trial.first.status.signal() == Some(9);
    // Whatever the first run left running (a plugin outliving it) is the resume's to wait for.
    let second = apply(dir, T1, "plan.json", &[]).output().unwrap();
    let said = text(&second);
    let committed_before = String::from_utf8_lossy(&trial.first.stdout).contains("Audit commit");
    match second.status.code() {
        Some(0) => {}
        Some(1) if said.contains("was already applied") => {}
        _ => panic!(
            "{name}: the resume failed (first run killed: {killed}, committed: {committed_before})\nfirst:\n{}\nresume:\n{said}",
            text(&trial.first)
        ),
    }
    let repo = dir.join("repo");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    let id = plan["id"].as_str().unwrap();

    // No record lost, none twice: each action of the plan is recorded once, applied.
    let files = sh(
        &repo,
        "git",
        &["ls-tree", "-r", "--name-only", "trustops-audit"],
    );
    for action in plan["actions"].as_array().unwrap() {
        let action_id = action["id"].as_str().unwrap();
        let safe = action_id.replace([':', '/'], "-");
        let records: Vec<&str> = files
            .lines()
            .filter(|f| f.contains(id) && f.ends_with(&format!("-{safe}.yaml")))
            .collect();
        assert_eq!(
            records.len(),
            1,
            "{name}: {action_id} recorded once: {records:?}"
        );
        if action["kind"] == "rotate" {
            let record = sh(
                &repo,
                "git",
                &["show", &format!("trustops-audit:{}", records[0])],
            );
            assert!(record.contains("outcome: applied"), "{name}: {record}");
        }
    }

    // Nothing issued twice: one certificate minted and one secret rotated for this plan.
    let minted = std::fs::read_to_string(dir.join("pki/issued.json.minted")).unwrap();
    let this_plan: Vec<&str> = minted.lines().filter(|l| l.starts_with(id)).collect();
    assert_eq!(
        this_plan.len(),
        1,
        "{name}: one certificate minted: {this_plan:?}"
    );
    let ledger: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("services/app.env.rotations.json")).unwrap(),
    )
    .unwrap();
    let rotations = ledger
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with(id))
        .count();
    assert_eq!(rotations, 1, "{name}: the secret rotated once: {ledger}");

    // Every deployed pair matches, and is the new one.
    let p0 = std::fs::read_to_string(dir.join("p0.json")).unwrap();
    for host in ["db", "web"] {
        let deployed = dir.join("deployed");
        let cert = sh(
            &deployed,
            "openssl",
            &["x509", "-in", &format!("{host}.pem"), "-noout", "-pubkey"],
        );
        let key = sh(
            &deployed,
            "openssl",
            &["pkey", "-in", &format!("{host}.key"), "-pubout"],
        );
        assert_eq!(cert, key, "{name}: {host} certificate and key pair");
        let serial = sh(
            &deployed,
            "openssl",
            &["x509", "-in", &format!("{host}.pem"), "-noout", "-serial"],
        );
        let serial = serial
            .trim()
            .trim_start_matches("serial=")
            .to_ascii_lowercase();
        assert!(
            !p0.to_ascii_lowercase().contains(&serial),
            "{name}: {host} was rotated"
        );
    }

    // The journal, the lock, temporaries, kept files and staged keys are gone.
    let journal = repo.join(".git/trustops/journal");
    let left = std::fs::read_dir(&journal).map_or(0, |d| d.count());
    assert_eq!(left, 0, "{name}: journal cleared");
    let lock = std::fs::read_to_string(repo.join(".git/trustops/apply.lock")).unwrap_or_default();
    assert!(lock.is_empty(), "{name}: lock released: {lock}");
    for folder in ["deployed", "services", "pki"] {
        let stray: Vec<String> = std::fs::read_dir(dir.join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.contains(".trustops-") || f.ends_with(".tmp"))
            .collect();
        assert!(stray.is_empty(), "{name}: left in {folder}: {stray:?}");
    }

    // Git agrees: a clean object store, signed commits, an intact trail.
    sh(&repo, "git", &["fsck", "--strict", "--no-progress"]);
    let commits = sh(&repo, "git", &["rev-list", "trustops-audit"]);
    for commit in commits.lines() {
        crate::support::verify_commit(&repo, commit);
    }
    let audit = trustops(dir, &["audit", "verify"]);
    assert!(audit.status.success(), "{name}: {}", text(&audit));
}

/// Every named point, at each time it is reached in one apply of the plan.
const POINTS: &[(&str, usize)] = &[
    ("lock.taken", 1),
    ("journal.append", 1),
    ("journal.appended", 1),
    ("issue.staged", 1),
    ("journal.appended", 2),
    ("journal.append", 3),
    ("deploy.staged", 1),
    ("deploy.renamed", 1),
    ("deploy.renamed", 2),
    ("journal.appended", 3),
    ("journal.appended", 4),
    ("journal.appended", 5),
    ("journal.appended", 6),
    ("journal.appended", 7),
    ("journal.appended", 8),
    ("issue.staged", 2),
    ("journal.appended", 9),
    ("deploy.staged", 2),
    ("deploy.renamed", 3),
    ("deploy.renamed", 4),
    ("journal.appended", 10),
    ("journal.appended", 11),
    ("journal.appended", 12),
    ("journal.appended", 13),
    ("journal.appended", 14),
    ("journal.appended", 15),
    ("journal.appended", 16),
    ("durable.renaming", 1),
    ("durable.renaming", 2),
    ("durable.renaming", 3),
    // The local CA's CRL, written by the revoke step.
    ("durable.renaming", 9),
    ("git.ref-update", 1),
    ("apply.committed", 1),
    ("journal.finish", 1),
];

#[test]
fn an_apply_killed_at_every_step_resumes_and_loses_nothing() {
    let estate = estate();
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("base");
    copy(estate.dir.path(), &base);
    let mut kills = 0;
    let plugin = [
        ("before-mint", "TRUSTOPS_EXAMPLE_KILL"),
        ("after-mint", "TRUSTOPS_EXAMPLE_KILL"),
    ];
    let named = POINTS.iter().map(|(point, n)| {
        (
            format!("kill@{point}#{n}"),
            ("TRUSTOPS_TEST_FAULT", format!("kill@{point}#{n}")),
        )
    });
    let inside = plugin
        .iter()
        .map(|(at, var)| (format!("plugin {at}"), (*var, (*at).to_owned())));
    for (name, (var, value)) in named.chain(inside) {
        let dir = fresh(&base, estate.dir.path());
        let first = apply(&dir, T1, "plan.json", &[(var, &value)])
            .output()
            .unwrap();
        if first.status.signal() == Some(9) {
            kills += 1;
        }
        resume_and_check(&Trial {
            name,
            dir: dir.clone(),
            first,
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        kills >= POINTS.len() - 2,
        "most points are reached: {kills} kills"
    );
}

/// A small seeded generator (xorshift), so a failing trial can be replayed.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
#[allow(
    clippy::print_stderr,
    reason = "the seed is printed so a failure can be replayed"
)]
fn applies_killed_at_random_instants_resume_and_lose_nothing() {
    let estate = estate();
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("base");
    copy(estate.dir.path(), &base);
    let seed = std::env::var("TRUSTOPS_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        });
    let trials: usize = std::env::var("TRUSTOPS_FAULT_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    eprintln!(
        "random kill trials: {trials}, seed {seed} (TRUSTOPS_FAULT_SEED={seed} replays them)"
    );
    // How long an apply takes here, so kills land anywhere inside one.
    let probe = fresh(&base, estate.dir.path());
    let start = Instant::now();
    let out = apply(&probe, T1, "plan.json", &[]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let span = start.elapsed().as_millis().max(50) as u64;
    let mut random = Seeded(seed);
    let mut killed = 0;
    for n in 0..trials {
        let dir = fresh(&base, estate.dir.path());
        let delay = random.below(span);
        let mut child = apply(&dir, T1, "plan.json", &[]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let first = child.wait_with_output().unwrap();
        if first.status.signal() == Some(9) {
            killed += 1;
        }
        let name = format!("random trial {n} (seed {seed}, SIGKILL after {delay} ms of {span})");
        resume_and_check(&Trial {
            name,
            dir: dir.clone(),
            first,
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("{killed} of {trials} applies were killed mid-way");
    assert!(
        killed * 2 >= trials,
        "most trials kill an apply mid-way: {killed}"
    );
}

#[test]
fn racing_applies_of_the_same_and_of_rival_plans_rotate_once() {
    let estate = estate();
    let dir = estate.dir.path();
    // A rival plan of the same estate at the same instant, with another id.
    let out = trustops(
        dir,
        &[
            "--now",
            "2026-05-21T12:00:01Z",
            "plan",
            "--out",
            "rival.json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let children: Vec<_> = ["plan.json", "rival.json", "plan.json", "rival.json"]
        .iter()
        .map(|plan| {
            apply(
                dir,
                T1,
                plan,
                &[("TRUSTOPS_TEST_FAULT", "delay@lock.taken=300")],
            )
            .spawn()
            .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let won: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one apply ran: {:#?}",
        outs.iter().map(text).collect::<Vec<_>>()
    );
    for lost in outs.iter().filter(|o| !o.status.success()) {
        let said = text(lost);
        assert!(
            said.contains("another apply is running (pid ")
                || said.contains("the plan is stale")
                || said.contains("was already applied"),
            "{said}"
        );
        assert!(
            !said.contains("remove"),
            "no advice to remove a live lock: {said}"
        );
    }
    let minted = std::fs::read_to_string(dir.join("pki/issued.json.minted")).unwrap();
    assert_eq!(
        minted.lines().count(),
        2,
        "one mint at T0, one for the winning plan: {minted}"
    );
    let repo = dir.join("repo");
    sh(&repo, "git", &["fsck", "--strict", "--no-progress"]);
    let audit = trustops(dir, &["audit", "verify"]);
    assert!(audit.status.success(), "{}", text(&audit));
}

#[test]
fn an_outside_commit_during_the_audit_commit_is_kept_and_the_apply_rebuilds_on_it() {
    let estate = estate();
    let dir = estate.dir.path();
    let repo = dir.join("repo");
    let child = Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args([
            "--repo",
            "repo",
            "--now",
            T1,
            "apply",
            "plan.json",
            "--branch",
            "main",
        ])
        .args(["--auto-approve", "--signing-key", "audit-key"])
        .current_dir(dir)
        .env("TRUSTOPS_TEST_FAULT", "delay@git.ref-update=1500")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // While the apply waits at its ref update, someone commits to the same branch.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(repo.join(".git/trustops/journal")).map_or(true, |d| d.count() == 0) {
        assert!(Instant::now() < deadline, "the apply never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(700));
    std::fs::write(repo.join("NOTES.md"), "reviewed\n").unwrap();
    sh(&repo, "git", &["add", "NOTES.md"]);
    sh(
        &repo,
        "git",
        &[
            "-c",
            "user.name=o",
            "-c",
            "user.email=o@o",
            "commit",
            "-qm",
            "outside",
        ],
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let log = sh(&repo, "git", &["log", "--format=%s", "main"]);
    assert!(
        log.contains("outside") && log.contains("trustops apply"),
        "{log}"
    );
    sh(&repo, "git", &["fsck", "--strict", "--no-progress"]);
    crate::support::verify_commit(&repo, "main");
}

#[test]
fn a_ref_lock_left_by_a_killed_commit_is_recovered_and_any_other_is_named() {
    let estate = estate();
    let dir = estate.dir.path();
    let lock = dir.join("repo/.git/refs/heads/trustops-audit.lock");
    // Someone else's lock, with no journal of ours: refused before anything is rotated.
    std::fs::write(&lock, "").unwrap();
    let db_before = std::fs::read(dir.join("deployed/db.pem")).unwrap();
    let out = apply(dir, T1, "plan.json", &[]).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&lock.display().to_string()),
        "names the lock: {said}"
    );
    assert_eq!(
        std::fs::read(dir.join("deployed/db.pem")).unwrap(),
        db_before
    );
    std::fs::remove_file(&lock).unwrap();

    // Killed at the ref update, holding the ref lock as Git does: the resume recovers it.
    let first = apply(
        dir,
        T1,
        "plan.json",
        &[("TRUSTOPS_TEST_FAULT", "kill@git.ref-update")],
    )
    .output()
    .unwrap();
    assert_eq!(first.status.signal(), Some(9), "{}", text(&first));
    std::fs::write(&lock, "").unwrap();
    resume_and_check(&Trial {
        name: "stale ref lock".into(),
        dir: dir.to_owned(),
        first,
    });
    assert!(!lock.exists());
}

#[test]
fn a_journal_whose_commit_landed_is_cleared_and_an_approval_runs_as_a_new_apply() {
    let test = crate::apply::crash::estate_with("[local-ca]", "manual", "");
    let dir = test.dir.path();
    crate::apply::crash::plan(dir);
    // Everything waits for approval; the apply is killed after its commit.
    let first = crate::apply::crash::apply(dir, None)
        .env("TRUSTOPS_TEST_FAULT", "kill@apply.committed")
        .output()
        .unwrap();
    assert_eq!(first.status.signal(), Some(9), "{}", text(&first));
    let journal = dir.join("repo/.git/trustops/journal");
    assert_eq!(std::fs::read_dir(&journal).unwrap().count(), 1);

    let out = crate::apply::crash::apply(dir, None)
        .args(["--approve", "rotate:db-svc/tls"])
        .output()
        .unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        !said.contains("Resumed"),
        "a new apply, not a resume: {said}"
    );
    assert!(said.contains("applied rotate:db-svc/tls"), "{said}");
    assert_eq!(std::fs::read_dir(&journal).unwrap().count(), 0);
    let files = sh(
        &dir.join("repo"),
        "git",
        &["ls-tree", "-r", "--name-only", "trustops-audit"],
    );
    let records: Vec<&str> = files
        .lines()
        .filter(|f| f.ends_with("rotate-db-svc-tls.yaml"))
        .collect();
    assert_eq!(records.len(), 2, "skipped once, applied once: {records:?}");
    assert!(
        records[0].contains("/1/") && records[1].contains("/2/"),
        "{records:?}"
    );
}

#[test]
fn a_group_that_fails_after_a_resume_puts_back_what_was_deployed_before_it_began() {
    // The reload swaps in a certificate for another name, so verification fails in every run.
    let test = crate::apply::crash::estate_with(
        "[local-ca]",
        "auto",
        ", reload: [sh, -c, \"cp ../pki/ca.pem ../deployed/db.pem\"]",
    );
    let dir = test.dir.path();
    std::fs::write(dir.join("deployed/db.pem"), "previous\n").unwrap();
    crate::apply::crash::plan(dir);
    // Killed between the deploy's two renames: the new key is in place, the old certificate too.
    let first = crate::apply::crash::apply(dir, None)
        .env("TRUSTOPS_TEST_FAULT", "kill@deploy.renamed#1")
        .output()
        .unwrap();
    assert_eq!(first.status.signal(), Some(9), "{}", text(&first));
    assert!(
        dir.join("deployed/db.key").exists(),
        "the new key was renamed in"
    );
    let out = crate::apply::crash::apply(dir, None).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("previous files were put back"), "{said}");
    // What was there before the group began, not what the killed run left.
    assert_eq!(
        std::fs::read_to_string(dir.join("deployed/db.pem")).unwrap(),
        "previous\n"
    );
    assert!(
        !dir.join("deployed/db.key").exists(),
        "the key that did not exist is gone"
    );
    let left: Vec<String> = std::fs::read_dir(dir.join("deployed"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.contains(".trustops-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_audit_trail_that_cannot_be_read_is_a_warning_not_a_silent_empty_trail() {
    let test = crate::apply::crash::estate();
    let dir = test.dir.path();
    let repo = dir.join("repo");
    // The audit branch points at a blob: Git history nobody can walk.
    std::fs::write(repo.join("blob.txt"), "not a commit\n").unwrap();
    let blob = sh(&repo, "git", &["hash-object", "-w", "blob.txt"]);
    std::fs::write(repo.join(".git/refs/heads/trustops-audit"), blob).unwrap();
    std::fs::remove_file(repo.join("blob.txt")).unwrap();
    let out = crate::apply::crash::trustops(dir, crate::apply::crash::NOW, &["plan"]);
    let said = text(&out);
    assert!(
        said.contains("warning: the audit trail on trustops-audit cannot be read"),
        "{said}"
    );
}

/// SIGTERM mid-apply (a cancelled CI job): the action running finishes and is committed, the
/// rest is left and said so (exit 1); a new plan finishes the rest, issuing nothing twice.
#[test]
fn a_sigterm_mid_apply_commits_the_running_action_and_a_rerun_finishes_the_rest() {
    let estate = estate();
    let dir = estate.dir.path();
    let child = apply(
        dir,
        T1,
        "plan.json",
        &[("TRUSTOPS_TEST_FAULT", "delay@issue.staged=2000")],
    )
    .spawn()
    .unwrap();
    // The first certificate's key is staged: its action is running.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !crate::support::key_staged_in(&dir.join("deployed")) {
        assert!(Instant::now() < deadline, "no key was staged");
        std::thread::sleep(Duration::from_millis(20));
    }
    sh(dir, "kill", &["-TERM", &child.id().to_string()]);
    let out = child.wait_with_output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("✓ applied rotate:")
            && said.contains("Stopped by a signal: ")
            && said.contains("action(s) not started")
            && said.contains("Audit commit"),
        "{said}"
    );
    let out = trustops(dir, &["--now", T1, "plan", "--out", "rest.json"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = apply(dir, T1, "rest.json", &[]).output().unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert_eq!(
        said.matches("✓ applied rotate:").count(),
        1,
        "the other one: {said}"
    );
    let minted = std::fs::read_to_string(dir.join("pki/issued.json.minted")).unwrap();
    assert_eq!(
        minted.lines().count(),
        2,
        "one mint at T0, one at T1: {minted}"
    );
    let repo = dir.join("repo");
    let records = sh(
        &repo,
        "git",
        &["ls-tree", "-r", "--name-only", "trustops-audit"],
    );
    for action in ["rotate-db-svc-tls.yaml", "rotate-web-tls.yaml"] {
        assert_eq!(
            records.lines().filter(|f| f.ends_with(action)).count(),
            2,
            "{action}: once at T0, once at T1: {records}"
        );
    }
    sh(&repo, "git", &["fsck", "--strict", "--no-progress"]);
    let audit = trustops(dir, &["audit", "verify"]);
    assert!(audit.status.success(), "{}", text(&audit));
}
