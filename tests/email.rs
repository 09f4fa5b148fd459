//! E-mail escalations through a real SMTP server on loopback (aiosmtpd) that requires STARTTLS
//! and a login: the owner's address gets one message when the notice threshold is crossed, the
//! record says the relay accepted it, and a refused login is a failed record, not a crash.

use crate::apply::crash::{commit_all, estate, record};
use crate::support::SmtpSink;
use std::path::Path;
use std::process::{Command, Output};

const T0: &str = "2026-05-01T12:00:00Z";
/// 10 days left on the 30-day certificate: under the 15-day notice.
const T1: &str = "2026-05-21T12:00:00Z";

/// Declares the sink as the repository's SMTP relay and commits it.
fn declare_relay(dir: &Path, sink: &SmtpSink) {
    let repo = dir.join("repo");
    std::fs::write(
        repo.join("trustops.yaml"),
        format!(
            "smtp:\n  host: localhost\n  port: {}\n  from: trustops@test.example\n  usernameEnv: SMTP_USER\n  passwordEnv: SMTP_PASSWORD\n  caFile: {}\n",
            sink.port,
            sink.ca.display()
        ),
    )
    .unwrap();
    commit_all(&repo, "an SMTP relay");
}

fn trustops(dir: &Path, now: &str, password: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args(["--repo", "repo", "--now", now])
        .args(args)
        .current_dir(dir)
        .env("SMTP_USER", "trustops")
        .env("SMTP_PASSWORD", password)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Plans and applies at T0 (nothing due) and T1 (the 15-day notice); the last apply's output.
fn two_runs(dir: &Path, password: &str) -> Output {
    let mut last = None;
    for now in [T0, T1] {
        let out = trustops(dir, now, password, &["plan", "--out", "plan.json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        last = Some(trustops(
            dir,
            now,
            password,
            &[
                "apply",
                "plan.json",
                "--auto-approve",
                "--signing-key",
                "audit-key",
            ],
        ));
    }
    last.unwrap()
}

#[test]
fn the_owner_is_emailed_over_starttls_and_the_record_says_the_relay_accepted_it() {
    let test = estate();
    let dir = test.dir.path();
    let sink = SmtpSink::start(&dir.join("smtp"));
    declare_relay(dir, &sink);
    let out = two_runs(dir, "sink-password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one notice, at T1: {messages:?}");
    let mail = &messages[0];
    assert!(mail.contains("X-Envelope-To: team@test.example"), "{mail}");
    assert!(
        mail.contains("X-Was-TLS: True"),
        "sent after STARTTLS: {mail}"
    );
    assert!(
        mail.contains("Subject: trustops: db-svc/tls needs attention"),
        "{mail}"
    );
    assert!(mail.contains("days left (threshold 15d)"), "{mail}");

    let yaml = record(dir, "escalate-db-svc-tls.yaml");
    assert!(yaml.contains("outcome: applied"), "{yaml}");
    assert!(
        yaml.contains("e-mail to team@test.example accepted by localhost"),
        "{yaml}"
    );
    assert!(
        !yaml.contains("sink-password"),
        "credentials stay out of records: {yaml}"
    );
}

/// A refused login (SMTP 5xx) will not pass by itself: one attempt, no retry storm.
#[test]
fn a_refused_login_is_a_failed_record_not_a_crash() {
    let test = estate();
    let dir = test.dir.path();
    let sink = SmtpSink::start(&dir.join("smtp"));
    declare_relay(dir, &sink);
    let out = two_runs(dir, "wrong-password");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sink.messages().is_empty());
    let yaml = record(dir, "escalate-db-svc-tls.yaml");
    assert!(yaml.contains("outcome: failed"), "{yaml}");
    assert!(
        yaml.contains("failed after 1 attempt:"),
        "a permanent refusal is not retried: {yaml}"
    );
    assert!(yaml.contains("535"), "the relay's refusal is named: {yaml}");
    assert!(
        !yaml.contains("wrong-password"),
        "credentials stay out of records: {yaml}"
    );
}

#[test]
fn without_a_relay_the_email_is_skipped_and_says_why() {
    let test = estate();
    let dir = test.dir.path();
    let out = two_runs(dir, "unused");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let yaml = record(dir, "escalate-db-svc-tls.yaml");
    assert!(
        yaml.contains("trustops.yaml declares no smtp relay"),
        "{yaml}"
    );
}
