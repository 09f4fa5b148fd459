//! Signed commits written in-process, checked by the real `git`: `verify-commit` with an
//! `allowed_signers` file, `fsck --strict`, and compare-and-swap branch updates.

use crate::support::Test;
use std::path::Path;
use std::process::Command;
use trustops::git::{Author, Change, Signer, commit};

fn git(dir: &Path, args: &[&str]) -> (bool, String) {
    crate::support::tool("git", args, dir)
}

/// A new SSH key made by `ssh-keygen` (optionally with a passphrase): (private, public line).
fn keygen(dir: &Path, name: &str, passphrase: &str) -> (String, String) {
    let path = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-C",
            "audit@test",
            "-N",
            passphrase,
            "-f",
        ])
        .arg(&path)
        .output()
        .expect("ssh-keygen is needed: apt-get install openssh-client (ci/check.sh does)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let private = std::fs::read_to_string(&path).unwrap();
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    std::fs::remove_file(&path).unwrap();
    (private, public.trim().to_owned())
}

fn repo() -> Test {
    let test = Test::new().file("README", "governance\n");
    let dir = test.dir.path();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "README"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            "start",
        ],
    ] {
        let (ok, text) = git(dir, args);
        assert!(ok, "{text}");
    }
    test
}

fn author() -> Author {
    Author {
        name: "trustops".into(),
        email: "audit@test".into(),
        time: 1_780_000_000,
    }
}

#[test]
fn signed_commits_verify_with_stock_git() {
    let test = repo();
    let dir = test.dir.path();
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "audit", "");
    let signer = Signer::from_openssh(&private, None).unwrap();
    assert_eq!(
        signer.public_line().split_whitespace().nth(1),
        public.split_whitespace().nth(1)
    );
    assert!(
        !format!("{signer:?}").contains("PRIVATE"),
        "Debug never shows the key"
    );
    let allowed = keys.path().join("allowed_signers");
    std::fs::write(
        &allowed,
        format!("audit@test namespaces=\"git\" {public}\n"),
    )
    .unwrap();

    let first = commit(
        dir,
        &Change {
            branch: "refs/heads/trustops-audit",
            files: vec![("audit/2026/06/plan-1.yaml".into(), b"result: ok\n".to_vec())],
            message: "audit: plan-1\n",
            author: &author(),
            signer: Some(&signer),
            recover_ref_lock: false,
        },
    )
    .unwrap();
    assert_eq!(first.parent, None);
    let second = commit(
        dir,
        &Change {
            branch: "refs/heads/trustops-audit",
            files: vec![("audit/2026/06/plan-2.yaml".into(), b"result: ok\n".to_vec())],
            message: "audit: plan-2\n",
            author: &author(),
            signer: Some(&signer),
            recover_ref_lock: false,
        },
    )
    .unwrap();
    assert_eq!(second.parent.as_deref(), Some(first.commit.as_str()));

    let verify = |rev: &str, signers: &Path| {
        git(
            dir,
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                &format!("gpg.ssh.allowedSignersFile={}", signers.display()),
                "verify-commit",
                rev,
            ],
        )
    };
    for rev in [&first.commit, &second.commit] {
        let (ok, text) = verify(rev, &allowed);
        assert!(ok && text.contains("Good \"git\" signature"), "{text}");
    }
    let (ok, files) = git(dir, &["ls-tree", "-r", "--name-only", "trustops-audit"]);
    assert!(ok);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        ["audit/2026/06/plan-1.yaml", "audit/2026/06/plan-2.yaml"]
    );
    let (ok, fsck) = git(dir, &["fsck", "--strict"]);
    assert!(ok, "{fsck}");
    let (ok, status) = git(dir, &["status", "--porcelain"]);
    assert!(
        ok && status.trim().is_empty(),
        "the work tree and index are untouched: {status}"
    );

    // A key nobody allowed: git refuses the signature.
    let (_, stranger) = keygen(keys.path(), "stranger", "");
    let other = keys.path().join("other_signers");
    std::fs::write(
        &other,
        format!("audit@test namespaces=\"git\" {stranger}\n"),
    )
    .unwrap();
    let (ok, text) = verify(&second.commit, &other);
    assert!(!ok, "{text}");
}

#[test]
fn passphrase_protected_keys_sign_and_wrong_passphrases_are_clear_errors() {
    let keys = tempfile::tempdir().unwrap();
    let (private, _) = keygen(keys.path(), "locked", "correct horse");
    let err = Signer::from_openssh(&private, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("passphrase"), "{err}");
    let err = Signer::from_openssh(&private, Some("wrong"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not decrypt"), "{err}");
    let signer = Signer::from_openssh(&private, Some("correct horse")).unwrap();
    assert!(
        signer
            .sign(b"payload")
            .unwrap()
            .starts_with("-----BEGIN SSH SIGNATURE-----")
    );
    let err = Signer::from_openssh("not a key", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an OpenSSH private key"), "{err}");
}

#[test]
fn a_branch_that_moved_is_built_upon_not_overwritten() {
    let test = repo();
    let dir = test.dir.path();
    let write = |name: &str| {
        commit(
            dir,
            &Change {
                branch: "refs/heads/main",
                files: vec![(format!("audit/{name}.yaml"), b"x: 1\n".to_vec())],
                message: "audit\n",
                author: &author(),
                signer: None,
                recover_ref_lock: false,
            },
        )
        .unwrap()
    };
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let dir = dir.to_owned();
            std::thread::spawn(move || {
                commit(
                    &dir,
                    &Change {
                        branch: "refs/heads/trustops-audit",
                        files: vec![(format!("audit/writer-{n}.yaml"), b"x: 1\n".to_vec())],
                        message: "audit\n",
                        author: &author(),
                        signer: None,
                        recover_ref_lock: false,
                    },
                )
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let (_, files) = git(dir, &["ls-tree", "-r", "--name-only", "trustops-audit"]);
    assert_eq!(
        files.lines().count(),
        4,
        "no writer lost its records: {files}"
    );
    let on_main = write("one");
    assert!(on_main.parent.is_some(), "built on the existing main");
    // main is checked out: the new file is in the work tree and the index too.
    assert!(dir.join("audit/one.yaml").exists());
    let (_, status) = git(dir, &["status", "--porcelain"]);
    assert!(status.trim().is_empty(), "{status}");
    let (ok, fsck) = git(dir, &["fsck", "--strict"]);
    assert!(ok, "{fsck}");
}

/// The keys people hand over by mistake are named for what they are, with what to do: the
/// public half, a PEM private key (from openssl or `ssh-keygen -m PEM`), a protected key with
/// no passphrase (naming the variable that holds it).
#[test]
fn a_wrong_kind_of_signing_key_is_named_with_what_to_do() {
    let keys = tempfile::tempdir().unwrap();
    let (_, public) = keygen(keys.path(), "audit", "");
    let err = Signer::from_openssh(&public, None).unwrap_err().to_string();
    assert!(
        err.contains("this is a public key") && err.contains("not id_ed25519.pub"),
        "{err}"
    );
    let rsa = keys.path().join("rsa");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f"])
        .arg(&rsa)
        .output()
        .unwrap();
    assert!(out.status.success());
    let pem = std::fs::read_to_string(&rsa).unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let err = Signer::from_openssh(&pem, None).unwrap_err().to_string();
    assert!(
        err.contains("a PEM private key (BEGIN RSA PRIVATE KEY)")
            && err.contains("ssh-keygen -p -f COPY"),
        "{err}"
    );
    // The advice works: the rewritten copy signs.
    let out = Command::new("ssh-keygen")
        .args(["-q", "-p", "-N", "", "-P", "", "-f"])
        .arg(&rsa)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(Signer::from_openssh(&std::fs::read_to_string(&rsa).unwrap(), None).is_ok());

    // Through the CLI, a protected key without its passphrase names the variable.
    let (locked, _) = keygen(keys.path(), "locked", "correct horse");
    let key = keys.path().join("locked-key");
    std::fs::write(&key, locked).unwrap();
    let out = crate::support::Test::new()
        .copy_dir(&crate::support::root().join("tests/fixtures/plan"))
        .args(&[
            "--now",
            "2026-06-01",
            "plan",
            "--out",
            "plan.json",
            "--signing-key",
            &key.to_string_lossy(),
        ])
        .in_repo()
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("set it in the environment variable TRUSTOPS_SIGNING_KEY_PASSPHRASE"),
        "{}",
        out.stderr
    );
}
