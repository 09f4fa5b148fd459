//! The apply building blocks, checked with independent tools: a local CA issues for a key
//! generated on the deploy side, the files land atomically with their modes, and `openssl`
//! verifies the chain. (The `apply` command builds on these.)

use std::path::Path;
use trustops::apply::deploy::{self, NewKey};
use trustops::apply::issuers::{
    CertificateRequest, Issued, Issuer, KeyAlgorithm, LocalCa, Request,
};
use trustops::model::{Deploy, Spanned};

fn openssl(args: &[&str], dir: &Path) -> (bool, String) {
    crate::support::tool("openssl", args, dir)
}

fn openssl_ca(dir: &Path) -> (String, String) {
    crate::support::openssl_ca(dir, "/CN=Test Issuing CA/O=trustops", 30)
}

fn request(now: jiff::Timestamp) -> CertificateRequest {
    CertificateRequest {
        target: "payments-api/mtls".into(),
        common_name: None,
        dns_names: vec!["payments-api.payments.svc".into()],
        ip_addresses: vec!["10.0.0.7".parse().unwrap()],
        uris: vec!["spiffe://test.example/ns/payments/sa/payments-api".into()],
        not_before: now,
        not_after: jiff::Timestamp::from_second(now.as_second() + 30 * 86_400).unwrap(),
        public_key: Vec::new(),
        key_algorithm: KeyAlgorithm::EcP256,
        csr_pem: String::new(),
        replaces: None,
        resumed: false,
    }
}

#[test]
fn a_local_ca_issues_for_a_key_made_where_it_is_deployed() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, ca_key) = openssl_ca(dir.path());
    let ca = LocalCa::new(&ca_pem, &ca_key).unwrap();
    let now = jiff::Timestamp::now();
    for algorithm in [
        KeyAlgorithm::EcP256,
        KeyAlgorithm::EcP384,
        KeyAlgorithm::Ed25519,
    ] {
        let key = NewKey::generate(algorithm).unwrap();
        assert!(!format!("{key:?}").contains("PRIVATE"));
        let mut wanted = request(now);
        key.fill(&mut wanted).unwrap();
        assert!(
            wanted
                .csr_pem
                .starts_with("-----BEGIN CERTIFICATE REQUEST-----")
        );
        let Issued::Certificate { chain_pem } =
            ca.issue(&Request::Certificate(wanted), "test").unwrap()
        else {
            panic!("a certificate");
        };
        let target = Deploy {
            cert_file: Some(Spanned::new("out/tls.crt".into())),
            key_file: Some(Spanned::new("out/tls.key".into())),
            ..Deploy::default()
        };
        let written = deploy::write(&target, dir.path(), &chain_pem, &key).unwrap();
        assert_eq!(written.files.len(), 2);
        let (ok, text) = openssl(&["verify", "-CAfile", "ca.pem", "out/tls.crt"], dir.path());
        assert!(ok, "{algorithm:?}: {text}");
        let (_, text) = openssl(
            &[
                "x509",
                "-in",
                "out/tls.crt",
                "-noout",
                "-ext",
                "subjectAltName",
            ],
            dir.path(),
        );
        assert!(text.contains("DNS:payments-api.payments.svc"), "{text}");
        assert!(
            text.contains("URI:spiffe://test.example/ns/payments/sa/payments-api"),
            "{text}"
        );
        assert!(text.contains("IP Address:10.0.0.7"), "{text}");
        // The deployed key is the certificate's key.
        let (_, cert_key) = openssl(
            &["x509", "-in", "out/tls.crt", "-noout", "-pubkey"],
            dir.path(),
        );
        let (_, file_key) = openssl(&["pkey", "-in", "out/tls.key", "-pubout"], dir.path());
        assert_eq!(cert_key, file_key, "{algorithm:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |f: &str| {
                std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode("out/tls.key"), 0o600);
            assert_eq!(mode("out/tls.crt"), 0o644);
        }
        let leftovers: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary files remain: {leftovers:?}"
        );

        // A certificate for another key is refused before anything is written.
        let before = std::fs::read(dir.path().join("out/tls.key")).unwrap();
        let other = NewKey::generate(algorithm).unwrap();
        let refused = deploy::write(&target, dir.path(), &chain_pem, &other).unwrap_err();
        assert!(refused.to_string().contains("not for the key"), "{refused}");
        assert_eq!(
            std::fs::read(dir.path().join("out/tls.key")).unwrap(),
            before
        );
    }
}

#[test]
fn declared_modes_apply_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, ca_key) = openssl_ca(dir.path());
    let ca = LocalCa::new(&ca_pem, &ca_key).unwrap();
    let key = NewKey::generate(KeyAlgorithm::EcP256).unwrap();
    let mut wanted = request(jiff::Timestamp::now());
    key.fill(&mut wanted).unwrap();
    let Issued::Certificate { chain_pem } =
        ca.issue(&Request::Certificate(wanted), "test").unwrap()
    else {
        panic!("a certificate");
    };
    let target = Deploy {
        cert_file: Some(Spanned::new("tls.crt".into())),
        key_file: Some(Spanned::new("tls.key".into())),
        mode: Some(Spanned::new("0640".into())),
        key_mode: Some(Spanned::new("0400".into())),
        ..Deploy::default()
    };
    deploy::write(&target, dir.path(), &chain_pem, &key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| {
            std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("tls.crt"), 0o640);
        assert_eq!(mode("tls.key"), 0o400);
    }
    let bad = Deploy {
        cert_file: Some(Spanned::new("other.crt".into())),
        mode: Some(Spanned::new("rw-r--r--".into())),
        ..Deploy::default()
    };
    let err = deploy::write(&bad, dir.path(), &chain_pem, &key)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an octal file mode"), "{err}");
    assert!(
        !dir.path().join("other.crt").exists(),
        "nothing half-written"
    );
    let err = LocalCa::new("junk", &ca_key).err().unwrap();
    assert!(err.contains("CA certificate"), "{err}");
}

#[cfg(unix)]
mod end_to_end {
    //! `plan --out` → `apply`, twice: a missing certificate is issued, then renewed when due;
    //! checked with real git, openssl and rediscovery.

    use super::crash::{estate, ok, sh, trustops};
    use serde_json::Value;
    use std::process::{Command, Output};

    /// The first apply, and 24 days later when the 30-day certificate is due (renewBefore 10d).
    const T0: &str = "2026-05-01T12:00:00Z";
    const T1: &str = "2026-05-25T12:00:00Z";

    #[track_caller]
    fn refused(out: &Output, why: &str) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(why), "expected {why:?} in:\n{stderr}");
    }

    const APPLY: [&str; 3] = ["--auto-approve", "--signing-key", "audit-key"];

    /// A push whose plan has nothing to carry out (everything done; at most actions for a
    /// person) leaves the audit branch as it was: no empty commit.
    #[test]
    fn an_apply_that_carries_out_nothing_adds_no_audit_commit() {
        let test = estate();
        let dir = test.dir.path();
        let repo = dir.join("repo");
        ok(&trustops(dir, T0, &["plan", "--out", "p0.json"]));
        ok(&trustops(
            dir,
            T0,
            &[&["apply", "p0.json"][..], &APPLY].concat(),
        ));
        let head = sh(&repo, "git", &["rev-parse", "trustops-audit"]);
        ok(&trustops(dir, T0, &["plan", "--out", "again.json"]));
        let out = ok(&trustops(
            dir,
            T0,
            &[&["apply", "again.json"][..], &APPLY].concat(),
        ));
        assert!(out.contains("no audit commit"), "{out}");
        assert!(!out.contains("Audit commit"), "{out}");
        assert_eq!(sh(&repo, "git", &["rev-parse", "trustops-audit"]), head);
    }

    #[test]
    fn apply_issues_renews_verifies_and_writes_signed_audit_commits() {
        let test = estate();
        let dir = test.dir.path();
        let repo = dir.join("repo");
        ok(&trustops(dir, T0, &["plan", "--out", "p0.json"]));
        ok(&trustops(
            dir,
            T0,
            &[&["apply", "p0.json"][..], &APPLY].concat(),
        ));
        let first = std::fs::read(dir.join("deployed/db.pem")).unwrap();

        let due = ok(&trustops(dir, T1, &["plan", "--out", "p1.json"]));
        assert!(due.contains("renewal-due"), "{due}");
        let out = ok(&trustops(
            dir,
            T1,
            &[&["apply", "p1.json"][..], &APPLY].concat(),
        ));
        assert!(out.contains("applied rotate:db-svc/tls"), "{out}");
        assert!(out.contains("verify-commit"), "{out}");
        assert_ne!(
            std::fs::read(dir.join("deployed/db.pem")).unwrap(),
            first,
            "renewed"
        );

        // Stock git accepts both signed audit commits; the work tree and index are untouched.
        let log = sh(
            &repo,
            "git",
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                "gpg.ssh.allowedSignersFile=allowed_signers",
                "log",
                "--show-signature",
                "--format=%s",
                "trustops-audit",
            ],
        );
        assert_eq!(
            log.matches("Good \"git\" signature for audit@test").count(),
            2,
            "{log}"
        );
        sh(&repo, "git", &["fsck", "--strict"]);
        assert!(
            sh(&repo, "git", &["status", "--porcelain"])
                .trim()
                .is_empty()
        );
        let files = sh(
            &repo,
            "git",
            &["ls-tree", "-r", "--name-only", "trustops-audit", "audit/"],
        );
        let p1: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("p1.json")).unwrap()).unwrap();
        let p1_id = p1["id"].as_str().unwrap();
        let renewal = files
            .lines()
            .find(|f| f.contains(p1_id) && f.ends_with("rotate-db-svc-tls.yaml"))
            .unwrap();
        let record = sh(
            &repo,
            "git",
            &["show", &format!("trustops-audit:{renewal}")],
        );
        for field in [
            "owner: team",
            "policy: tls",
            "issuer: local-ca",
            "outcome: applied",
            "old_sha256:",
            "new_sha256:",
            "reference: ../services/app.env:DB_SVC_PASSWORD#v2",
        ] {
            assert!(record.contains(field), "{field}:\n{record}");
        }
        assert!(!record.contains("PRIVATE"), "no key material in records");

        // The replaced certificate is on the local CA's revocation list, which openssl accepts.
        let old_serial = record
            .lines()
            .find_map(|l| l.trim().strip_prefix("old_serial: "))
            .unwrap()
            .trim_matches('"')
            .to_ascii_uppercase();
        let crl = super::crash::verified_crl(dir);
        assert!(
            crl.to_ascii_uppercase().contains(&old_serial),
            "{old_serial} in:\n{crl}"
        );
        assert!(crl.contains("Superseded"), "{crl}");
        assert!(record.contains("added to"), "{record}");

        // What was deployed chains to the CA, carries the declared name, and the key is 0600.
        sh(
            &dir.join("pki"),
            "openssl",
            &[
                "verify",
                "-no_check_time",
                "-CAfile",
                "ca.pem",
                "../deployed/db.pem",
            ],
        );
        let sans = sh(
            &dir.join("deployed"),
            "openssl",
            &["x509", "-in", "db.pem", "-noout", "-ext", "subjectAltName"],
        );
        assert!(sans.contains("DNS:db.test"), "{sans}");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("deployed/db.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // A new plan has nothing left to rotate.
        let after: Value =
            serde_json::from_str(&ok(&trustops(dir, T1, &["plan", "--format", "json"]))).unwrap();
        let rotations: Vec<&Value> = after["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "rotate")
            .collect();
        assert!(rotations.is_empty(), "{rotations:#?}");

        // The same plan never applies twice.
        refused(
            &trustops(dir, T1, &[&["apply", "p1.json"][..], &APPLY].concat()),
            "was already applied",
        );

        // A key nobody allowed does not verify.
        let public = super::crash::ssh_key(dir, "stranger", "stranger");
        std::fs::write(
            dir.join("other_signers"),
            format!("audit@test namespaces=\"git\" {public}"),
        )
        .unwrap();
        let other = format!(
            "gpg.ssh.allowedSignersFile={}",
            dir.join("other_signers").display()
        );
        let out = Command::new("git")
            .args([
                "-c",
                "gpg.format=ssh",
                "-c",
                &other,
                "verify-commit",
                "trustops-audit",
            ])
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(!out.status.success());
    }

    #[test]
    fn records_can_go_to_the_checked_out_branch_and_git_status_stays_clean() {
        let test = estate();
        let dir = test.dir.path();
        let repo = dir.join("repo");
        // A gzip-compressed plan file, as `--out *.gz` writes it.
        ok(&trustops(dir, T0, &["plan", "--out", "p0.json.gz"]));
        let out = ok(&trustops(
            dir,
            T0,
            &[&["apply", "p0.json.gz", "--branch", "main"][..], &APPLY].concat(),
        ));
        assert!(out.contains("applied rotate:db-svc/tls"), "{out}");
        crate::support::verify_commit(&repo, "HEAD");
        assert!(
            sh(&repo, "git", &["status", "--porcelain"])
                .trim()
                .is_empty(),
            "work tree and index follow the commit"
        );
        let tracked = sh(&repo, "git", &["ls-files", "audit"]);
        let first = tracked.lines().next().unwrap();
        assert!(repo.join(first).exists(), "{tracked}");
        sh(&repo, "git", &["fsck", "--strict"]);
    }

    #[test]
    fn stale_edited_unsigned_and_unconfirmed_applies_are_refused_and_do_nothing() {
        let test = estate();
        let dir = test.dir.path();
        ok(&trustops(dir, T0, &["plan", "--out", "plan.json"]));
        refused(
            &trustops(
                dir,
                T0,
                &["apply", "plan.json", "--signing-key", "audit-key"],
            ),
            "no terminal to confirm on",
        );
        refused(
            &trustops(dir, T0, &["apply", "plan.json", "--auto-approve"]),
            "audit commits are signed",
        );

        let text = std::fs::read_to_string(dir.join("plan.json")).unwrap();
        assert!(
            text.contains("\"approval\":\"auto\""),
            "the edit below changes something"
        );
        std::fs::write(
            dir.join("edited.json"),
            text.replacen("\"approval\":\"auto\"", "\"approval\":\"manual\"", 1),
        )
        .unwrap();
        refused(
            &trustops(dir, T0, &[&["apply", "edited.json"][..], &APPLY].concat()),
            "modified after it was written",
        );
        std::fs::write(dir.join("truncated.json"), &text[..text.len() / 2]).unwrap();
        refused(
            &trustops(
                dir,
                T0,
                &[&["apply", "truncated.json"][..], &APPLY].concat(),
            ),
            "not a plan file",
        );
        ok(&trustops(dir, T0, &["plan", "--out", "plan.json.gz"]));
        let gzip = std::fs::read(dir.join("plan.json.gz")).unwrap();
        std::fs::write(dir.join("cut.json.gz"), &gzip[..gzip.len() - 9]).unwrap();
        refused(
            &trustops(dir, T0, &[&["apply", "cut.json.gz"][..], &APPLY].concat()),
            "not a plan file: the gzip data is truncated",
        );
        std::fs::write(
            dir.join("future.json"),
            text.replacen("\"format_version\":2", "\"format_version\":3", 1),
        )
        .unwrap();
        refused(
            &trustops(dir, T0, &[&["apply", "future.json"][..], &APPLY].concat()),
            "format_version 3 is not supported",
        );

        // Planned from a saved inventory: the same file applies, a changed one is stale (by
        // its bytes: even re-indented).
        let inventory = ok(&trustops(dir, T0, &["discover", "--format", "json"]));
        std::fs::write(dir.join("inv.json"), &inventory).unwrap();
        ok(&trustops(
            dir,
            T0,
            &["plan", "--inventory", "inv.json", "--out", "saved.json"],
        ));
        let pretty: serde_json::Value = serde_json::from_str(&inventory).unwrap();
        std::fs::write(
            dir.join("inv.json"),
            serde_json::to_string_pretty(&pretty).unwrap(),
        )
        .unwrap();
        refused(
            &trustops(dir, T0, &[&["apply", "saved.json"][..], &APPLY].concat()),
            "what discovery finds changed since it was made (inv.json)",
        );

        // The declarations change after the plan: stale.
        let file = dir.join("repo/declarations.yaml");
        let mut yaml = std::fs::read_to_string(&file).unwrap();
        yaml.push_str("# reviewed\n");
        std::fs::write(&file, yaml).unwrap();
        refused(
            &trustops(dir, T0, &[&["apply", "plan.json"][..], &APPLY].concat()),
            "the plan is stale: the declarations changed",
        );

        assert!(
            !dir.join("deployed/db.pem").exists(),
            "nothing was deployed"
        );
        let out = Command::new("git")
            .args(["rev-parse", "--verify", "-q", "trustops-audit"])
            .current_dir(dir.join("repo"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "nothing was committed");
    }
}

#[cfg(unix)]
pub(crate) mod crash {
    //! An apply killed in the middle of a rotation group resumes: every step runs once, no
    //! record is lost, the journal is empty afterwards; a second apply meanwhile fails clean.

    use crate::support::{Test, root};
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    pub(crate) const NOW: &str = "2026-05-01T12:00:00Z";

    /// A new unencrypted Ed25519 key `dir/NAME` (an SSH signing key); its public line.
    pub(crate) fn ssh_key(dir: &Path, name: &str, comment: &str) -> String {
        sh(
            dir,
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", name],
        );
        std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap()
    }

    /// The text of the local CA's CRL in the estate, after checking `openssl crl -verify`
    /// accepts it against the CA.
    #[track_caller]
    pub(crate) fn verified_crl(dir: &Path) -> String {
        let crl = sh(
            &dir.join("pki"),
            "openssl",
            &[
                "crl", "-in", "ca.crl", "-CAfile", "ca.pem", "-verify", "-noout", "-text",
            ],
        );
        assert!(crl.contains("verify OK"), "{crl}");
        crl
    }

    /// `trustops --repo repo --now NOW ARGS` in the estate folder.
    pub(crate) fn trustops(dir: &Path, now: &str, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_trustops"))
            .args(["--repo", "repo", "--now", now])
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("TRUSTOPS_SIGNING_KEY")
            .output()
            .unwrap()
    }

    /// The stdout of a run that must have succeeded.
    #[track_caller]
    pub(crate) fn ok(out: &std::process::Output) -> String {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    pub(crate) fn sh(dir: &Path, program: &str, args: &[&str]) -> String {
        let (ok, text) = crate::support::tool(program, args, dir);
        assert!(ok, "{program} {args:?}: {text}");
        text
    }

    /// A repository whose certificate (local CA) rotates with a dotenv secret (exec issuer).
    pub(crate) fn estate() -> Test {
        estate_with("[local-ca]", "auto", "")
    }

    /// The same with the certificate policy's issuers and approval, and extra deploy fields.
    pub(crate) fn estate_with(issuers: &str, approval: &str, deploy: &str) -> Test {
        let rotate = root()
            .join("examples/exec-plugins/rotate-secret.py")
            .display()
            .to_string();
        let inventory = root()
            .join("examples/exec-plugins/dotenv-inventory.py")
            .display()
            .to_string();
        let declarations = format!(
            r#"apiVersion: trustops.dev/v1alpha1
kind: Owner
metadata: {{name: team}}
spec: {{contacts: [{{email: team@test.example}}]}}
---
apiVersion: trustops.dev/v1alpha1
kind: Policy
metadata: {{name: tls}}
spec: {{trustDomain: internal-mtls, maxValidity: 30d, renewBefore: 10d, issuers: {issuers}, approval: {approval}, keyAlgorithms: [{{type: ec, minSize: 256}}]}}
---
apiVersion: trustops.dev/v1alpha1
kind: Policy
metadata: {{name: secrets}}
spec: {{trustDomain: api-key, maxAge: 30d, issuers: [dotenv]}}
---
apiVersion: trustops.dev/v1alpha1
kind: Issuer
metadata: {{name: local-ca}}
spec: {{localCa: {{certFile: ../pki/ca.pem, keyFile: ../pki/ca.key, crlFile: ../pki/ca.crl}}}}
---
apiVersion: trustops.dev/v1alpha1
kind: Issuer
metadata: {{name: offline-ca}}
spec: {{exec: {{command: [sh, -c, "echo 'CA is down for maintenance' >&2; exit 3"]}}}}
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
  policy: tls
  credentials:
    - name: tls
      type: x509-certificate
      match: {{dnsNames: [db.test], source: hosts}}
      dnsNames: [db.test]
      deploy: [{{certFile: ../deployed/db.pem, keyFile: ../deployed/db.key{deploy}}}]
      rotateWith: [password]
    - name: password
      type: secret
      policy: secrets
      match: {{secretId: "../services/app.env:DB_SVC_PASSWORD", source: env}}
"#
        );
        let test = Test::new()
            .file("repo/declarations.yaml", declarations)
            .file("services/app.env", "DB_SVC_PASSWORD=old\n");
        let dir = test.dir.path();
        std::fs::create_dir_all(dir.join("pki")).unwrap();
        std::fs::create_dir_all(dir.join("deployed")).unwrap();
        crate::support::openssl_ca(&dir.join("pki"), "/CN=Crash Test CA", 3650);
        let public = ssh_key(dir, "audit-key", "audit@test");
        let repo = dir.join("repo");
        std::fs::write(
            repo.join("allowed_signers"),
            format!("audit@test namespaces=\"git\" {public}"),
        )
        .unwrap();
        sh(&repo, "git", &["init", "-q", "-b", "main"]);
        sh(&repo, "git", &["add", "."]);
        sh(
            &repo,
            "git",
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "-m",
                "declare",
            ],
        );
        test
    }

    /// `trustops plan --out plan.json` on the estate at [`NOW`].
    pub(crate) fn plan(dir: &Path) {
        let out = Command::new(env!("CARGO_BIN_EXE_trustops"))
            .args(["--repo", "repo", "--now", NOW, "plan", "--out", "plan.json"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The audit record whose file name ends with `suffix` (the first on the audit branch).
    pub(crate) fn record(dir: &Path, suffix: &str) -> String {
        record_where(dir, |files| files.find(|f| f.ends_with(suffix)))
    }

    /// The audit record `pick` chooses among the files on the audit branch.
    pub(crate) fn record_where(
        dir: &Path,
        pick: impl for<'a> FnOnce(&mut std::str::Lines<'a>) -> Option<&'a str>,
    ) -> String {
        let repo = dir.join("repo");
        let files = sh(
            &repo,
            "git",
            &["ls-tree", "-r", "--name-only", "trustops-audit"],
        );
        let file = pick(&mut files.lines())
            .unwrap_or_else(|| panic!("no such record in:\n{files}"))
            .to_owned();
        sh(&repo, "git", &["show", &format!("trustops-audit:{file}")])
    }

    /// Replaces `from` with `to` in the estate's declarations and commits the change.
    pub(crate) fn amend(dir: &Path, from: &str, to: &str, message: &str) {
        let repo = dir.join("repo");
        let file = repo.join("declarations.yaml");
        let yaml = std::fs::read_to_string(&file).unwrap();
        assert!(yaml.contains(from), "{from} not in the declarations");
        std::fs::write(&file, yaml.replace(from, to)).unwrap();
        commit_all(&repo, message);
    }

    /// Commits everything in the estate's repository as the test user.
    pub(crate) fn commit_all(repo: &Path, message: &str) {
        sh(repo, "git", &["add", "-A"]);
        sh(
            repo,
            "git",
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

    pub(crate) fn apply(dir: &Path, block: Option<&Path>) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trustops"));
        command
            .args([
                "--repo",
                "repo",
                "--now",
                NOW,
                "apply",
                "plan.json",
                "--auto-approve",
                "--signing-key",
                "audit-key",
            ])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("TRUSTOPS_EXAMPLE_BLOCK");
        if let Some(marker) = block {
            command.env("TRUSTOPS_EXAMPLE_BLOCK", marker);
        }
        command
    }

    #[test]
    fn a_killed_apply_resumes_and_runs_every_step_once() {
        let test = estate();
        let dir = test.dir.path();
        plan(dir);
        let plan = std::fs::read_to_string(dir.join("plan.json")).unwrap();
        assert!(plan.contains("rotate:db-svc/tls"), "{plan}");

        // First apply: the secret's issuer rotates, then hangs; the whole process group is killed.
        let marker = dir.join("blocking");
        let mut first = apply(dir, Some(&marker))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::fs::read_to_string(&marker).map_or(true, |pid| pid.is_empty()) {
            assert!(Instant::now() < deadline, "the issuer never started");
            assert!(
                first.try_wait().unwrap().is_none(),
                "apply ended before the issuer blocked"
            );
            std::thread::sleep(Duration::from_millis(50));
        }

        // Meanwhile a second apply fails clean and names the holder.
        let second = apply(dir, None).output().unwrap();
        assert_eq!(second.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(
            stderr.contains(&format!("another apply is running (pid {}", first.id())),
            "{stderr}"
        );

        // SIGKILL: trustops and the issuer it was waiting for (which runs in its own group).
        sh(
            dir,
            "kill",
            &["-s", "KILL", "--", &format!("-{}", first.id())],
        );
        let _ = first.wait();
        let issuer = std::fs::read_to_string(&marker).unwrap();
        sh(dir, "kill", &["-s", "KILL", issuer.trim()]);
        let journal = std::fs::read_dir(dir.join("repo/.git/trustops/journal"))
            .unwrap()
            .count();
        assert_eq!(journal, 1, "the interrupted apply left its journal");

        // Re-run: resumes, rotates nothing twice, commits every record.
        let out = apply(dir, None).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("Resumed the interrupted apply"), "{stdout}");
        assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
        let ledger: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("services/app.env.rotations.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            ledger.as_object().unwrap().len(),
            1,
            "the secret was rotated once: {ledger}"
        );
        let env = std::fs::read_to_string(dir.join("services/app.env")).unwrap();
        assert!(!env.contains("DB_SVC_PASSWORD=old"), "{env}");
        assert!(
            !stdout.contains(env.trim().split('=').nth(1).unwrap()),
            "the secret value is never printed"
        );
        assert_eq!(
            std::fs::read_dir(dir.join("repo/.git/trustops/journal"))
                .unwrap()
                .count(),
            0,
            "journal empty"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("repo/.git/trustops/apply.lock")).unwrap(),
            "",
            "the lock is released and names nobody"
        );
        let staged: Vec<_> = std::fs::read_dir(dir.join("deployed"))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            staged.iter().all(|f| !f.contains("trustops-staged")),
            "{staged:?}"
        );
        sh(
            &dir.join("pki"),
            "openssl",
            &[
                "verify",
                "-no_check_time",
                "-CAfile",
                "ca.pem",
                "../deployed/db.pem",
            ],
        );

        let repo = dir.join("repo");
        let message = sh(
            &repo,
            "git",
            &["log", "-1", "--format=%B", "trustops-audit"],
        );
        assert!(message.contains("1 applied, 0 failed"), "{message}");
        crate::support::verify_commit(&repo, "trustops-audit");
        let yaml = record(dir, "rotate-db-svc-tls.yaml");
        assert!(
            yaml.contains("reference: ../services/app.env:DB_SVC_PASSWORD#v1"),
            "{yaml}"
        );
        assert!(yaml.contains("done before the interruption"), "{yaml}");
    }
}

#[cfg(unix)]
mod outcomes {
    //! Fallback issuers, manual approval, and a group that fails verification.

    use super::crash::{apply, estate_with, plan, record};

    #[test]
    fn when_the_primary_issuer_fails_the_next_one_issues_and_the_record_names_both() {
        let test = estate_with("[offline-ca, local-ca]", "auto", "");
        let dir = test.dir.path();
        plan(dir);
        let out = apply(dir, None).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let yaml = record(dir, "rotate-db-svc-tls.yaml");
        assert!(yaml.contains("issuer: local-ca"), "{yaml}");
        assert!(yaml.contains("issuer: offline-ca"), "{yaml}");
        assert!(yaml.contains("CA is down for maintenance"), "{yaml}");
    }

    #[test]
    fn manual_actions_wait_for_a_named_approval() {
        let test = estate_with("[local-ca]", "manual", "");
        let dir = test.dir.path();
        plan(dir);
        let out = apply(dir, None).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("skipped rotate:db-svc/tls"), "{stdout}");
        assert!(stdout.contains("--approve rotate:db-svc/tls"), "{stdout}");
        assert!(!dir.join("deployed/db.pem").exists(), "nothing was issued");

        // Approved by name, on a fresh plan, it runs.
        plan(dir);
        let out = apply(dir, None)
            .args(["--approve", "rotate:db-svc/tls"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    }

    #[test]
    fn a_deployed_certificate_that_does_not_match_its_declaration_fails_the_group() {
        // The reload step swaps in a certificate for another name: verification catches it,
        // the previous files are put back, the record says why, and apply exits 1.
        let test = estate_with(
            "[local-ca]",
            "auto",
            ", reload: [sh, -c, \"cp ../pki/ca.pem ../deployed/db.pem\"]",
        );
        let dir = test.dir.path();
        std::fs::write(dir.join("deployed/db.pem"), "previous\n").unwrap();
        plan(dir);
        let out = apply(dir, None).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains("failed  rotate:db-svc/tls"), "{stdout}");
        assert!(stdout.contains("previous files were put back"), "{stdout}");
        assert_eq!(
            std::fs::read_to_string(dir.join("deployed/db.pem")).unwrap(),
            "previous\n"
        );
        assert!(
            !dir.join("deployed/db.key").exists(),
            "a key file that did not exist is removed again"
        );
        let yaml = record(dir, "rotate-db-svc-tls.yaml");
        assert!(yaml.contains("outcome: failed"), "{yaml}");
    }
}

#[cfg(unix)]
mod notices {
    //! Escalations reach the owner's webhook, each notice is an audit record, and a failed
    //! delivery is a failed record rather than a crash.

    use super::crash::{amend, estate, record};
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::path::Path;
    use std::process::Command;
    use std::sync::{Arc, Mutex};

    const T0: &str = "2026-05-01T12:00:00Z";
    /// 10 days left on the 30-day certificate: under the 15-day notice.
    const T1: &str = "2026-05-21T12:00:00Z";

    /// A loopback HTTP receiver that answers 200 and keeps every request body.
    pub(crate) fn receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|n| n.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if body.len() >= length {
                            kept.lock().unwrap().push(body.to_owned());
                            break;
                        }
                    }
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        (port, bodies)
    }

    fn trustops(dir: &Path, now: &str, url: &str, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_trustops"))
            .args(["--repo", "repo", "--now", now])
            .args(args)
            .current_dir(dir)
            .env("TEAM_WEBHOOK", url)
            .output()
            .unwrap()
    }

    fn with_webhook() -> crate::support::Test {
        let test = estate();
        amend(
            test.dir.path(),
            "contacts: [{email: team@test.example}]",
            "contacts: [{webhookEnv: TEAM_WEBHOOK}]",
            "notify by webhook",
        );
        test
    }

    const APPLY: [&str; 5] = [
        "apply",
        "plan.json",
        "--auto-approve",
        "--signing-key",
        "audit-key",
    ];

    #[test]
    fn escalations_reach_the_webhook_and_are_recorded() {
        let test = with_webhook();
        let dir = test.dir.path();
        let (port, bodies) = receiver();
        let url = format!("http://127.0.0.1:{port}/hooks/team");
        for now in [T0, T1] {
            let out = trustops(dir, now, &url, &["plan", "--out", "plan.json"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = trustops(dir, now, &url, &APPLY);
            assert!(
                out.status.success(),
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let bodies = bodies.lock().unwrap().clone();
        assert_eq!(bodies.len(), 1, "one notice, at T1: {bodies:?}");
        let body: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .contains("days left (threshold 15d)"),
            "{body}"
        );
        assert_eq!(body["target"], "db-svc/tls");
        let record = record(dir, "escalate-db-svc-tls.yaml");
        assert!(
            record.contains("outcome: applied") && record.contains("answered 200"),
            "{record}"
        );
        assert!(
            !record.contains(&port.to_string()),
            "the webhook URL is a secret: {record}"
        );
    }

    #[test]
    fn a_failed_delivery_is_a_failed_record_not_a_crash() {
        let test = with_webhook();
        let dir = test.dir.path();
        let closed = crate::support::free_port();
        let url = format!("http://127.0.0.1:{closed}/hooks/team");
        for now in [T0, T1] {
            let out = trustops(dir, now, &url, &["plan", "--out", "plan.json"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let _ = trustops(dir, now, &url, &APPLY);
        }
        let record = record(dir, "escalate-db-svc-tls.yaml");
        assert!(record.contains("outcome: failed"), "{record}");
        assert!(record.contains("failed after 3 attempts"), "{record}");
        assert!(
            !record.contains(&closed.to_string()),
            "the webhook URL is a secret: {record}"
        );
    }
}

#[cfg(unix)]
mod ladder {
    //! The escalation ladder over several runs: the owner first, the next step once its delay
    //! has passed since the first notice recorded in the audit trail, silence once rotated.

    use super::crash::{amend, estate_with};
    use super::notices::receiver;
    use std::path::Path;
    use std::process::Command;

    fn run(dir: &Path, now: &str, urls: (&str, &str), args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_trustops"))
            .args(["--repo", "repo", "--now", now])
            .args(args)
            .current_dir(dir)
            .env("TEAM_WEBHOOK", urls.0)
            .env("SECURITY_WEBHOOK", urls.1)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn plan_and_apply(dir: &Path, now: &str, urls: (&str, &str), approve: &[&str]) {
        run(dir, now, urls, &["plan", "--out", "plan.json"]);
        let apply = [
            &[
                "apply",
                "plan.json",
                "--auto-approve",
                "--signing-key",
                "audit-key",
            ][..],
            approve,
        ]
        .concat();
        run(dir, now, urls, &apply);
    }

    #[test]
    fn the_owner_first_then_the_next_step_then_silence_once_rotated() {
        // Rotations need an approver here, so the certificate keeps ageing until one is given.
        let test = estate_with("[local-ca]", "manual", "");
        let dir = test.dir.path();
        amend(
            dir,
            "spec: {contacts: [{email: team@test.example}]}",
            "spec: {contacts: [{webhookEnv: TEAM_WEBHOOK}], escalation: [{after: 3d, owner: security}]}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: security}\nspec: {contacts: [{webhookEnv: SECURITY_WEBHOOK}]}",
            "escalate to security",
        );
        let (team_port, team) = receiver();
        let (security_port, security) = receiver();
        let team_url = format!("http://127.0.0.1:{team_port}/team");
        let security_url = format!("http://127.0.0.1:{security_port}/security");
        let urls = (team_url.as_str(), security_url.as_str());
        let count = || (team.lock().unwrap().len(), security.lock().unwrap().len());

        plan_and_apply(
            dir,
            "2026-05-01T12:00:00Z",
            urls,
            &["--approve", "rotate:db-svc/tls"],
        );
        assert_eq!(count(), (0, 0), "a new certificate: nobody is told");
        plan_and_apply(dir, "2026-05-21T12:00:00Z", urls, &[]);
        assert_eq!(count(), (1, 0), "under 15 days: the owner first");
        plan_and_apply(dir, "2026-05-23T12:00:00Z", urls, &[]);
        assert_eq!(
            count(),
            (2, 0),
            "2 days after the first notice: still the owner only"
        );
        plan_and_apply(
            dir,
            "2026-05-25T12:00:00Z",
            urls,
            &["--approve", "rotate:db-svc/tls"],
        );
        assert_eq!(
            count(),
            (3, 1),
            "3 days after the first notice: security too"
        );
        plan_and_apply(dir, "2026-05-26T12:00:00Z", urls, &[]);
        assert_eq!(count(), (3, 1), "rotated: silence");
    }

    /// An owner reached only by e-mail, with no SMTP relay declared: validate warns, the plan
    /// says the contact cannot be reached, the record says why nothing was sent, and the
    /// ladder still counts from that first due notice, so security is told on time.
    #[test]
    fn an_owner_nobody_can_reach_still_escalates_on_time() {
        let test = estate_with("[local-ca]", "manual", "");
        let dir = test.dir.path();
        amend(
            dir,
            "spec: {contacts: [{email: team@test.example}]}",
            "spec: {contacts: [{email: team@test.example}], escalation: [{after: 3d, owner: security}]}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: security}\nspec: {contacts: [{webhookEnv: SECURITY_WEBHOOK}]}",
            "e-mail only, escalating to security",
        );
        let (security_port, security) = receiver();
        let security_url = format!("http://127.0.0.1:{security_port}/security");
        let urls = ("unused", security_url.as_str());
        let validate = run(
            dir,
            "2026-05-01T12:00:00Z",
            urls,
            &["validate", "--format", "short"],
        );
        assert!(
            validate.contains("warning[unreachable-contact]: spec.contacts[0].email: team@test.example cannot be reached"),
            "{validate}"
        );
        plan_and_apply(
            dir,
            "2026-05-01T12:00:00Z",
            urls,
            &["--approve", "rotate:db-svc/tls"],
        );
        let plan = run(dir, "2026-05-21T12:00:00Z", urls, &["plan"]);
        assert!(
            plan.contains("to team@test.example (cannot be reached: no smtp relay is declared in trustops.yaml)"),
            "{plan}"
        );
        plan_and_apply(dir, "2026-05-21T12:00:00Z", urls, &[]);
        let record = super::crash::record(dir, "escalate-db-svc-tls.yaml");
        assert!(
            record.contains("no contact could be reached: e-mail to team@test.example not sent: trustops.yaml declares no smtp relay"),
            "{record}"
        );
        plan_and_apply(dir, "2026-05-23T12:00:00Z", urls, &[]);
        assert_eq!(
            security.lock().unwrap().len(),
            0,
            "2 days after the first notice"
        );
        plan_and_apply(dir, "2026-05-25T12:00:00Z", urls, &[]);
        assert_eq!(
            security.lock().unwrap().len(),
            1,
            "3 days after the first due notice, undelivered as it was: security is told"
        );
    }
}
