//! The apply building blocks, checked with independent tools: a local CA issues for a key
//! generated on the deploy side, the files land atomically with their modes, and `openssl`
//! verifies the chain. (The `apply` command builds on these.)

use std::path::Path;
use std::process::Command;
use trustops::apply::deploy::{self, NewKey};
use trustops::apply::issuers::{
    CertificateRequest, Issued, Issuer, KeyAlgorithm, LocalCa, Request,
};
use trustops::model::{Deploy, Spanned};

fn openssl(args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed: apt-get install openssl (ci/check.sh does)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A CA made by openssl, as a user would have one.
fn openssl_ca(dir: &Path) -> (String, String) {
    let (ok, text) = openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Test Issuing CA/O=trustops",
        ],
        dir,
    );
    assert!(ok, "{text}");
    (
        std::fs::read_to_string(dir.join("ca.pem")).unwrap(),
        std::fs::read_to_string(dir.join("ca.key")).unwrap(),
    )
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
        let leftovers = std::fs::read_dir(dir.path().join("out")).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary files remain");
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

mod end_to_end {
    //! `plan --out` → `apply` on the demo repository, checked with real git and rediscovery.

    use crate::support::Test;
    use serde_json::Value;
    use std::path::Path;
    use std::process::Command;

    const NOW: &str = "2026-05-01T12:00:00Z";

    fn run(dir: &Path, program: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("{program} is needed (ci/check.sh installs it): {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// The demo repository with an allowed signer committed, and the signing key beside it.
    fn demo() -> Test {
        let test = Test::new().args(&["--now", NOW, "demo", "demo"]);
        test.run().status(0);
        let repo = test.dir.path().join("demo/repo");
        let key = test.dir.path().join("audit-key");
        let (ok, text) = run(
            &repo,
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "audit@demo",
                "-f",
                &key.display().to_string(),
            ],
        );
        assert!(ok, "{text}");
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        std::fs::write(
            repo.join("allowed_signers"),
            format!("audit@demo namespaces=\"git\" {public}"),
        )
        .unwrap();
        for args in [
            &["add", "allowed_signers"][..],
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "-m",
                "allow the audit key",
            ],
        ] {
            let (ok, text) = run(&repo, "git", args);
            assert!(ok, "{text}");
        }
        test
    }

    fn trustops(test: &Test, args: &[&str]) -> crate::support::Output {
        let repo = test.dir.path().join("demo/repo").display().to_string();
        let mut all = vec!["--repo", repo.as_str(), "--now", NOW];
        all.extend_from_slice(args);
        Test::new().args(&all).run()
    }

    fn plan_json(test: &Test) -> Value {
        serde_json::from_str(
            &trustops(test, &["plan", "--format", "json"])
                .status(0)
                .stdout,
        )
        .unwrap()
    }

    #[test]
    fn apply_rotates_deploys_verifies_and_writes_a_signed_audit_commit() {
        let test = demo();
        let dir = test.dir.path();
        let repo = dir.join("demo/repo");
        let plan_file = dir.join("plan.json").display().to_string();
        let key = dir.join("audit-key").display().to_string();
        trustops(&test, &["plan", "--out", &plan_file]).status(0);

        let out = trustops(
            &test,
            &["apply", &plan_file, "--auto-approve", "--signing-key", &key],
        )
        .status(0);
        for rotated in [
            "ledger/mtls",
            "checkout/tls",
            "legacy-billing/tls",
            "www/tls",
            "reports/tls",
        ] {
            assert!(
                out.stdout.contains(&format!("applied rotate:{rotated}")),
                "{rotated}:\n{}",
                out.stdout
            );
        }
        assert!(out.stdout.contains("verify-commit"), "{}", out.stdout);

        // Stock git accepts the signed audit commit; the work tree and index are untouched.
        let (ok, text) = run(
            &repo,
            "git",
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                "gpg.ssh.allowedSignersFile=allowed_signers",
                "verify-commit",
                "trustops-audit",
            ],
        );
        assert!(
            ok && text.contains("Good \"git\" signature for audit@demo"),
            "{text}"
        );
        let (ok, text) = run(&repo, "git", &["fsck", "--strict"]);
        assert!(ok, "{text}");
        let (_, status) = run(&repo, "git", &["status", "--porcelain"]);
        assert!(status.trim().is_empty(), "{status}");
        let (_, files) = run(
            &repo,
            "git",
            &["ls-tree", "-r", "--name-only", "trustops-audit", "audit/"],
        );
        assert!(
            files
                .lines()
                .any(|f| f.ends_with("rotate-ledger-mtls.yaml")),
            "{files}"
        );
        let (_, record) = run(
            &repo,
            "git",
            &[
                "show",
                &format!(
                    "trustops-audit:{}",
                    files
                        .lines()
                        .find(|f| f.ends_with("rotate-ledger-mtls.yaml"))
                        .unwrap()
                ),
            ],
        );
        for field in [
            "owner: payments",
            "policy: internal-mtls",
            "issuer: demo-ca",
            "outcome: applied",
            "old_sha256:",
            "new_sha256:",
        ] {
            assert!(record.contains(field), "{field}:\n{record}");
        }
        assert!(!record.contains("PRIVATE"), "no key material in records");

        // Rediscovery: the new certificates chain to the CA, carry the workload, keys are 0600.
        let pki = dir.join("demo/pki");
        let (ok, text) = run(
            &pki,
            "openssl",
            &[
                "verify",
                "-attime",
                "1777636800",
                "-CAfile",
                "ca/ca.pem",
                "hosts/payments/ledger.pem",
            ],
        );
        assert!(ok, "{text}");
        let (_, sans) = run(
            &pki,
            "openssl",
            &[
                "x509",
                "-in",
                "hosts/payments/ledger.pem",
                "-noout",
                "-ext",
                "subjectAltName",
            ],
        );
        assert!(
            sans.contains("URI:spiffe://demo.trustops.dev/ns/payments/sa/ledger"),
            "{sans}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(pki.join("hosts/payments/ledger.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // A new plan has nothing left to rotate.
        let after = plan_json(&test);
        let rotations: Vec<&Value> = after["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "rotate")
            .collect();
        assert!(rotations.is_empty(), "{rotations:#?}");

        // The same plan never applies twice.
        let again = trustops(
            &test,
            &["apply", &plan_file, "--auto-approve", "--signing-key", &key],
        )
        .status(1);
        assert!(
            again.stderr.contains("was already applied"),
            "{}",
            again.stderr
        );

        // A key nobody allowed does not verify.
        let stranger = dir.join("stranger");
        run(
            dir,
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                &stranger.display().to_string(),
            ],
        );
        let public = std::fs::read_to_string(stranger.with_extension("pub")).unwrap();
        std::fs::write(
            dir.join("other_signers"),
            format!("audit@demo namespaces=\"git\" {public}"),
        )
        .unwrap();
        let other = format!(
            "gpg.ssh.allowedSignersFile={}",
            dir.join("other_signers").display()
        );
        let (ok, _) = run(
            &repo,
            "git",
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                &other,
                "verify-commit",
                "trustops-audit",
            ],
        );
        assert!(!ok);
    }

    #[test]
    fn stale_edited_unsigned_and_unconfirmed_applies_are_refused_and_do_nothing() {
        let test = demo();
        let dir = test.dir.path();
        let repo = dir.join("demo/repo");
        let plan_file = dir.join("plan.json").display().to_string();
        let key = dir.join("audit-key").display().to_string();
        trustops(&test, &["plan", "--out", &plan_file]).status(0);
        let before = std::fs::read(dir.join("demo/pki/hosts/payments/ledger.pem")).unwrap();

        let out = trustops(&test, &["apply", &plan_file, "--signing-key", &key]).status(1);
        assert!(
            out.stderr.contains("no terminal to confirm on"),
            "{}",
            out.stderr
        );
        let out = trustops(&test, &["apply", &plan_file, "--auto-approve"]).status(1);
        assert!(
            out.stderr.contains("audit commits are signed"),
            "{}",
            out.stderr
        );

        let text = std::fs::read_to_string(&plan_file).unwrap();
        let edited = dir.join("edited.json");
        std::fs::write(
            &edited,
            text.replacen("\"approval\": \"auto\"", "\"approval\": \"manual\"", 1),
        )
        .unwrap();
        let out = trustops(
            &test,
            &[
                "apply",
                &edited.display().to_string(),
                "--auto-approve",
                "--signing-key",
                &key,
            ],
        )
        .status(1);
        assert!(
            out.stderr.contains("modified after it was written"),
            "{}",
            out.stderr
        );
        let truncated = dir.join("truncated.json");
        std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
        let out = trustops(
            &test,
            &[
                "apply",
                &truncated.display().to_string(),
                "--auto-approve",
                "--signing-key",
                &key,
            ],
        )
        .status(1);
        assert!(out.stderr.contains("not a plan file"), "{}", out.stderr);
        let future = dir.join("future.json");
        std::fs::write(
            &future,
            text.replacen("\"format_version\": 1", "\"format_version\": 2", 1),
        )
        .unwrap();
        let out = trustops(
            &test,
            &[
                "apply",
                &future.display().to_string(),
                "--auto-approve",
                "--signing-key",
                &key,
            ],
        )
        .status(1);
        assert!(
            out.stderr.contains("format_version 2 is not supported"),
            "{}",
            out.stderr
        );

        // The declarations change after the plan: stale.
        let owners = repo.join("owners.yaml");
        let mut yaml = std::fs::read_to_string(&owners).unwrap();
        yaml.push_str("# reviewed\n");
        std::fs::write(&owners, yaml).unwrap();
        let out = trustops(
            &test,
            &["apply", &plan_file, "--auto-approve", "--signing-key", &key],
        )
        .status(1);
        assert!(
            out.stderr
                .contains("the plan is stale: the declarations changed"),
            "{}",
            out.stderr
        );

        assert_eq!(
            std::fs::read(dir.join("demo/pki/hosts/payments/ledger.pem")).unwrap(),
            before,
            "nothing was deployed"
        );
        let (ok, _) = run(
            &repo,
            "git",
            &["rev-parse", "--verify", "-q", "trustops-audit"],
        );
        assert!(!ok, "nothing was committed");
    }
}

#[cfg(unix)]
mod crash {
    //! An apply killed in the middle of a rotation group resumes: every step runs once, no
    //! record is lost, the journal is empty afterwards; a second apply meanwhile fails clean.

    use crate::support::{Test, root};
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    pub(super) const NOW: &str = "2026-05-01T12:00:00Z";

    pub(super) fn sh(dir: &Path, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{program} {args:?}: {text}");
        text
    }

    /// A repository whose certificate (local CA) rotates with a dotenv secret (exec issuer).
    pub(super) fn estate() -> Test {
        estate_with("[local-ca]", "auto", "")
    }

    /// The same with the certificate policy's issuers and approval, and extra deploy fields.
    pub(super) fn estate_with(issuers: &str, approval: &str, deploy: &str) -> Test {
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
spec: {{localCa: {{certFile: ../pki/ca.pem, keyFile: ../pki/ca.key}}}}
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
        sh(
            &dir.join("pki"),
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3650",
                "-subj",
                "/CN=Crash Test CA",
            ],
        );
        sh(
            dir,
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "audit@test",
                "-f",
                "audit-key",
            ],
        );
        let public = std::fs::read_to_string(dir.join("audit-key.pub")).unwrap();
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

    pub(super) fn apply(dir: &Path, block: Option<&Path>) -> Command {
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
        assert!(!dir.join("repo/.git/trustops/apply.lock").exists());
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
        let record = sh(
            &repo,
            "git",
            &["log", "-1", "--format=%B", "trustops-audit"],
        );
        assert!(record.contains("1 applied, 0 failed"), "{record}");
        let verify = sh(
            &repo,
            "git",
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                "gpg.ssh.allowedSignersFile=allowed_signers",
                "verify-commit",
                "trustops-audit",
            ],
        );
        assert!(verify.contains("Good"), "{verify}");
        let files = sh(
            &repo,
            "git",
            &["ls-tree", "-r", "--name-only", "trustops-audit"],
        );
        let file = files
            .lines()
            .find(|f| f.ends_with("rotate-db-svc-tls.yaml"))
            .unwrap();
        let yaml = sh(&repo, "git", &["show", &format!("trustops-audit:{file}")]);
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

    use super::crash::{NOW, apply, estate_with, sh};
    use std::path::Path;
    use std::process::Command;

    fn plan(dir: &Path) {
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

    fn record(dir: &Path) -> String {
        let repo = dir.join("repo");
        let files = sh(
            &repo,
            "git",
            &["ls-tree", "-r", "--name-only", "trustops-audit"],
        );
        let file = files
            .lines()
            .find(|f| f.ends_with("rotate-db-svc-tls.yaml"))
            .unwrap();
        sh(&repo, "git", &["show", &format!("trustops-audit:{file}")])
    }

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
        let yaml = record(dir);
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
        let yaml = record(dir);
        assert!(yaml.contains("outcome: failed"), "{yaml}");
    }
}
