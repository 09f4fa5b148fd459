//! `trustops controller` against a governance repository with a real bare remote: a 2-minute
//! certificate is rotated without a human when it comes due, the signed audit commits land on
//! the remote, a real Prometheus scrapes `/metrics`, `/readyz` follows the remote's
//! reachability, an invalid commit on the remote is refused while the last good declarations
//! keep running, SIGTERM exits 0, and a restarted controller issues nothing twice.

use crate::apply::crash::{amend, estate, sh};
use crate::support::{Running, free_port, verify_commit};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// GET `path` on loopback `port`: (status code, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((code, body))
}

/// Waits up to `seconds` for `check`, with `what` in the failure.
#[track_caller]
fn wait_for(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `trustops --repo repo controller --interval 1s --signing-key audit-key ARGS` in `dir`.
fn trustops_controller(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trustops"));
    command
        .args(["--repo", "repo", "controller", "--interval", "1s"])
        .args(["--signing-key", "audit-key"])
        .args(args)
        .current_dir(dir);
    command
}

fn controller(dir: &Path, port: u16, extra: &[&str]) -> Running {
    Running::new(
        trustops_controller(dir, &["--remote", "origin"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("controller-{port}.log"))).unwrap())
            .spawn()
            .unwrap(),
    )
}

/// A real Prometheus scraping `target` every second, stopped when dropped.
struct Prometheus {
    child: Child,
    port: u16,
}

impl Prometheus {
    fn start(dir: &Path, target: u16) -> Prometheus {
        let port = free_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n  - job_name: trustops\n    static_configs: [{{targets: ['127.0.0.1:{target}']}}]\n"
            ),
        )
        .unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus is needed: apt-get install prometheus (ci/check.sh does)");
        Prometheus { child, port }
    }

    /// The result of an instant PromQL query, as JSON.
    fn query(&self, promql: &str) -> Option<serde_json::Value> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let (code, body) = get(self.port, &format!("/api/v1/query?query={encoded}"))?;
        (code == 200)
            .then(|| serde_json::from_str(&body).ok())
            .flatten()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn remote_audit(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .args([
            "--git-dir",
            "remote.git",
            "rev-parse",
            "--verify",
            "-q",
            "trustops-audit",
        ])
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn rotations(dir: &Path) -> usize {
    let files = sh(
        dir,
        "git",
        &[
            "--git-dir",
            "remote.git",
            "ls-tree",
            "-r",
            "--name-only",
            "trustops-audit",
        ],
    );
    files
        .lines()
        .filter(|f| f.ends_with("rotate-db-svc-tls.yaml"))
        .count()
}

#[test]
fn the_controller_rotates_without_a_human_pushes_serves_metrics_and_stops_cleanly() {
    let test = estate();
    let dir = test.dir.path();
    // Two-minute certificates: renewal is due 40 s before notAfter (a third of the lifetime),
    // so about 20 s after each issue.
    amend(
        dir,
        "maxValidity: 30d, renewBefore: 10d",
        "maxValidity: 2m",
        "short-lived",
    );
    sh(dir, "git", &["init", "-q", "--bare", "remote.git"]);
    let repo = dir.join("repo");
    sh(&repo, "git", &["remote", "add", "origin", "../remote.git"]);
    sh(&repo, "git", &["push", "-q", "origin", "main"]);
    let port = free_port();
    let mut running = controller(
        dir,
        port,
        &["--metrics-compat", "x509-certificate-exporter"],
    );
    let log =
        || std::fs::read_to_string(dir.join(format!("controller-{port}.log"))).unwrap_or_default();

    // The missing certificate is issued and the signed audit commit reaches the remote.
    wait_for(60, "the first audit commit on the remote", || {
        remote_audit(dir).is_some()
    });
    verify_commit(&repo, &remote_audit(dir).unwrap());
    assert_eq!(get(port, "/healthz").map(|r| r.0), Some(200));
    wait_for(10, "ready", || {
        get(port, "/readyz").is_some_and(|r| r.0 == 200)
    });

    // A real Prometheus scrapes it and finds the credential with its owner.
    let prometheus = Prometheus::start(dir, port);
    wait_for(60, "the expiry in Prometheus", || {
        prometheus
            .query("trustops_credential_not_after_timestamp_seconds{owner=\"team\",identity=\"db-svc\"}")
            .is_some_and(|v| v["data"]["result"].as_array().is_some_and(|r| !r.is_empty()))
    });
    // And what dashboards and alerts written for x509-certificate-exporter ask for: the
    // deployed certificate by file, expiring, and the source up.
    for query in [
        "x509_cert_not_after{filename=\"db.pem\"} - time() > 0",
        "x509_cert_expired{filename=\"db.pem\"} == 0",
        "x509_source_up{source_kind=\"trustops\"} == 1",
        "trustops_certificate_not_after_timestamp_seconds{state=\"current\",owner=\"team\"}",
    ] {
        wait_for(30, query, || {
            prometheus.query(query).is_some_and(|v| {
                v["data"]["result"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty())
            })
        });
    }
    drop(prometheus);

    // It comes due and is rotated again, by nobody.
    wait_for(90, "the renewal of the 2-minute certificate", || {
        rotations(dir) >= 2
    });
    assert!(log().contains("cycle ok"), "{}", log());

    // The remote goes away: not ready; it comes back: ready.
    std::fs::rename(dir.join("remote.git"), dir.join("remote.away")).unwrap();
    wait_for(30, "unready without the remote", || {
        get(port, "/readyz").is_some_and(|r| r.0 == 503)
    });
    std::fs::rename(dir.join("remote.away"), dir.join("remote.git")).unwrap();
    wait_for(30, "ready again", || {
        get(port, "/readyz").is_some_and(|r| r.0 == 200)
    });

    // Someone pushes invalid declarations: refused, the last good ones keep running.
    let good = sh(&repo, "git", &["rev-parse", "HEAD"]);
    sh(
        dir,
        "git",
        &["clone", "-q", "-b", "main", "remote.git", "other"],
    );
    let other = dir.join("other");
    let file = other.join("declarations.yaml");
    let mut yaml = std::fs::read_to_string(&file).unwrap();
    yaml.push_str("---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {name: broken}\nspec: {owner: nobody}\n");
    std::fs::write(&file, yaml).unwrap();
    sh(
        &other,
        "git",
        &[
            "-c",
            "user.name=o",
            "-c",
            "user.email=o@o",
            "commit",
            "-qam",
            "broken",
        ],
    );
    sh(&other, "git", &["push", "-q", "origin", "main"]);
    wait_for(30, "the refusal in the metrics", || {
        get(port, "/metrics")
            .is_some_and(|r| r.1.contains("\ntrustops_controller_declarations_refused 1"))
    });
    assert_eq!(
        sh(&repo, "git", &["rev-parse", "HEAD"]),
        good,
        "still on the last good commit"
    );
    assert_eq!(get(port, "/readyz").map(|r| r.0), Some(200), "{}", log());
    assert!(log().contains("whose declarations have"), "{}", log());

    // SIGTERM: exits 0 promptly.
    let before = rotations(dir);
    sh(dir, "kill", &["-TERM", &running.id().to_string()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = running.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the controller did not stop: {}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0), "{}", log());

    // A restarted controller (two cycles) has nothing to do that was already done.
    let out = trustops_controller(dir, &["--remote", "origin", "--cycles", "2"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        rotations(dir) <= before + 1,
        "no double issue: {before} then {}",
        rotations(dir)
    );
    sh(&repo, "git", &["fsck", "--strict", "--no-progress"]);
    let audit = Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args(["--repo", "repo", "audit", "verify"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
}

#[test]
fn two_controllers_on_one_repository_issue_nothing_twice() {
    let test = estate();
    let dir = test.dir.path();
    let run = || {
        trustops_controller(dir, &["--cycles", "4"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (run(), run());
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "no cycle failed:\n{said}");
    }
    let files = sh(
        &dir.join("repo"),
        "git",
        &["ls-tree", "-r", "--name-only", "trustops-audit"],
    );
    let issued = files
        .lines()
        .filter(|f| f.ends_with("rotate-db-svc-tls.yaml"))
        .count();
    assert_eq!(issued, 1, "one replica applied, the other waited: {files}");
    let ledger = std::fs::read_to_string(dir.join("services/app.env.rotations.json")).unwrap();
    let rotated: serde_json::Value = serde_json::from_str(&ledger).unwrap();
    assert_eq!(
        rotated.as_object().unwrap().len(),
        1,
        "the secret rotated once: {ledger}"
    );
}

/// `trustops controller --cycles N` on the estate (no remote); its log (stderr).
fn cycles(dir: &Path, n: &str, extra: &[&str]) -> String {
    let out = trustops_controller(dir, &["--cycles", n])
        .args(extra)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    said
}

/// The outcomes of the `rotate:db-svc/tls` records on the audit branch, oldest first.
fn outcomes(dir: &Path) -> Vec<String> {
    field_of_rotations(dir, "outcome")
}

/// `field` of every `rotate-db-svc-tls` record on the audit branch.
fn field_of_rotations(dir: &Path, field: &str) -> Vec<String> {
    let prefix = format!("{field}: ");
    let repo = dir.join("repo");
    let files = sh(
        &repo,
        "git",
        &["ls-tree", "-r", "--name-only", "trustops-audit"],
    );
    files
        .lines()
        .filter(|f| f.ends_with("rotate-db-svc-tls.yaml"))
        .map(|f| {
            let record = sh(&repo, "git", &["show", &format!("trustops-audit:{f}")]);
            record
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn an_issuer_refusal_is_not_retried_until_the_declarations_change() {
    let test = crate::apply::crash::estate_with("[offline-ca]", "auto", "");
    let dir = test.dir.path();
    amend(
        dir,
        r#"echo 'CA is down for maintenance' >&2; exit 3"#,
        r#"echo '{\"error\": \"refused: the name is not ours\"}'"#,
        "a CA that refuses",
    );
    let log = cycles(dir, "3", &[]);
    assert_eq!(outcomes(dir), ["failed"], "tried once:\n{log}");
    assert!(log.contains("its issuer refused it"), "{log}");
    // A restarted controller learns the refusal from the audit trail.
    let log = cycles(dir, "2", &[]);
    assert_eq!(
        outcomes(dir),
        ["failed"],
        "not retried after a restart:\n{log}"
    );
    assert!(log.contains("its issuer refused it"), "{log}");
    let record = crate::apply::crash::record(dir, "rotate-db-svc-tls.yaml");
    assert!(record.contains("refused: the name is not ours"), "{record}");
    assert!(!record.contains("retryable"), "a refusal: {record}");
}

#[test]
fn an_issuer_that_is_down_is_retried_with_backoff() {
    let test = crate::apply::crash::estate_with("[offline-ca]", "auto", "");
    let dir = test.dir.path();
    let log = cycles(dir, "6", &[]);
    let tried = outcomes(dir);
    assert!(tried.iter().all(|o| o == "failed"), "{tried:?}");
    assert!(
        (1..6).contains(&tried.len()),
        "retried, but not every cycle: {} of 6\n{log}",
        tried.len()
    );
    assert!(log.contains("backing off after"), "{log}");
    // A restart keeps backing off: the audit trail has the failures in a row. (At the instant
    // of the last failure, so the backoff cannot have run out while the test ran.)
    let before = tried.len();
    let mut started = field_of_rotations(dir, "started");
    started.sort();
    let last = started
        .last()
        .unwrap()
        .trim_matches('\'')
        .trim_matches('"')
        .to_owned();
    let log = cycles(dir, "1", &["--now", &last]);
    assert_eq!(outcomes(dir).len(), before, "still backing off:\n{log}");
    assert!(log.contains("backing off after"), "{log}");
    let record = crate::apply::crash::record(dir, "rotate-db-svc-tls.yaml");
    assert!(record.contains("retryable: true"), "{record}");
}

#[test]
fn rotations_per_identity_per_day_are_capped() {
    let test = estate();
    let dir = test.dir.path();
    cycles(dir, "1", &[]);
    assert_eq!(outcomes(dir), ["applied"]);
    // The deployed files vanish: the credential is missing again, and would be issued again.
    std::fs::remove_file(dir.join("deployed/db.pem")).unwrap();
    std::fs::remove_file(dir.join("deployed/db.key")).unwrap();
    let log = cycles(dir, "2", &["--max-issuances-per-day", "1"]);
    assert_eq!(outcomes(dir), ["applied"], "{log}");
    assert!(
        log.contains("the most allowed (--max-issuances-per-day)"),
        "{log}"
    );
}

/// SIGTERM while a rotation is running: the rotation finishes, its audit commit lands, and the
/// controller exits 0; a restarted controller has nothing left to issue.
#[test]
fn a_sigterm_mid_rotation_finishes_it_commits_and_a_restart_issues_nothing_twice() {
    let test = estate();
    let dir = test.dir.path();
    let running = Running::new(
        trustops_controller(dir, &[])
            .env("TRUSTOPS_TEST_FAULT", "delay@issue.staged=2000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_for(30, "the new key staged (the rotation running)", || {
        crate::support::key_staged_in(&dir.join("deployed"))
    });
    sh(dir, "kill", &["-TERM", &running.id().to_string()]);
    let started = Instant::now();
    let out = running.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(started.elapsed() < Duration::from_secs(30), "{said}");
    assert!(said.contains("1 applied"), "the rotation finished: {said}");
    let repo = dir.join("repo");
    let records = || {
        sh(
            &repo,
            "git",
            &["ls-tree", "-r", "--name-only", "trustops-audit"],
        )
        .lines()
        .filter(|f| f.ends_with("rotate-db-svc-tls.yaml"))
        .count()
    };
    assert_eq!(records(), 1, "committed before exiting");
    let restart = cycles(dir, "1", &[]);
    assert_eq!(records(), 1, "nothing issued twice: {restart}");
    let ledger = std::fs::read_to_string(dir.join("services/app.env.rotations.json")).unwrap();
    let rotated: serde_json::Value = serde_json::from_str(&ledger).unwrap();
    assert_eq!(rotated.as_object().unwrap().len(), 1, "{ledger}");
}
