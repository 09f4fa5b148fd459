//! Plans that travel between CI jobs are authenticated: a signed plan is applied only when its
//! signature verifies against the committed `allowed_signers`; a repository can require
//! signatures; and whatever the signature, apply refuses a rotation or revocation its own
//! rediscovery cannot justify (a revoke serial swapped for a live certificate's, with the
//! digest recomputed).

use crate::apply::crash::{sh, ssh_key};
use crate::faults::{T1, apply, estate, text, trustops};
use std::path::Path;

/// Rewrites the plan file at `path` with `edit` applied and its digest recomputed, keeping its
/// signature, as someone who knows the format (it is documented) would. (trustops itself drops
/// a signature whose digest changed.)
fn forge(path: &Path, edit: impl FnOnce(&mut trustops::plan::Plan)) {
    let bytes = std::fs::read(path).unwrap();
    let mut plan = trustops::plan::file::read(&bytes).unwrap();
    let signature = plan.signature.clone();
    edit(&mut plan);
    let written = trustops::plan::file::to_json(&mut plan);
    let mut forged: serde_json::Value = serde_json::from_slice(&written).unwrap();
    if let Some(signature) = signature {
        forged["signature"] = signature.into();
    }
    std::fs::write(path, serde_json::to_vec(&forged).unwrap()).unwrap();
}

#[track_caller]
fn refused(dir: &Path, plan: &str, why: &str) {
    let db = std::fs::read(dir.join("deployed/db.pem")).unwrap();
    let out = apply(dir, T1, plan, &[]).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(why), "{why:?} in:\n{said}");
    assert_eq!(
        std::fs::read(dir.join("deployed/db.pem")).unwrap(),
        db,
        "nothing deployed"
    );
}

#[test]
fn a_revocation_aimed_at_a_live_certificate_is_refused_even_with_a_recomputed_digest() {
    let estate = estate();
    let dir = estate.dir.path();
    let live = sh(
        &dir.join("deployed"),
        "openssl",
        &["x509", "-in", "db.pem", "-noout", "-serial"],
    );
    let live = live
        .trim()
        .trim_start_matches("serial=")
        .to_ascii_lowercase();
    forge(&dir.join("plan.json"), |plan| {
        let step = plan
            .actions
            .iter_mut()
            .flat_map(|a| a.steps.iter_mut())
            .find(|s| s.serial.is_some())
            .expect("the web rotation revokes the certificate it replaces");
        step.serial = Some(live.clone());
    });
    refused(
        dir,
        "plan.json",
        "the plan's action rotate:web/tls is not what its inputs give",
    );
}

#[test]
fn signed_plans_apply_and_forged_or_foreign_signatures_are_refused() {
    let estate = estate();
    let dir = estate.dir.path();
    let sign = |out: &str, key: &str| {
        let made = trustops(
            dir,
            &["--now", T1, "plan", "--out", out, "--signing-key", key],
        );
        assert!(made.status.success(), "{}", text(&made));
    };
    sign("signed.json", "audit-key");
    let plan = std::fs::read_to_string(dir.join("signed.json")).unwrap();
    assert!(plan.contains("-----BEGIN SSH SIGNATURE-----"), "{plan}");

    // Edited after signing (digest recomputed): the signature no longer covers it.
    std::fs::copy(dir.join("signed.json"), dir.join("edited.json")).unwrap();
    forge(&dir.join("edited.json"), |plan| {
        plan.actions.retain(|a| a.id != "rotate:web/tls")
    });
    refused(dir, "edited.json", "the plan's signature is not trusted");

    // Signed by a key allowed_signers does not name.
    ssh_key(dir, "mallory-key", "mallory");
    sign("foreign.json", "mallory-key");
    refused(dir, "foreign.json", "a key not in allowed_signers");

    // The genuine one applies.
    let out = apply(dir, T1, "signed.json", &[]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn the_plan_printed_and_the_compressed_plan_file_are_the_same_signed_bytes() {
    let estate = estate();
    let dir = estate.dir.path();
    let made = trustops(
        dir,
        &[
            "--now",
            T1,
            "plan",
            "--format",
            "json",
            "--out",
            "signed.json.gz",
            "--signing-key",
            "audit-key",
        ],
    );
    assert!(made.status.success(), "{}", text(&made));
    let inflated = std::process::Command::new("gzip")
        .args(["-dc", "signed.json.gz"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(inflated.status.success());
    assert!(
        made.stdout == inflated.stdout,
        "standard output and the file differ"
    );
    let plan = trustops::plan::file::read(&made.stdout).unwrap();
    assert_eq!(plan.digest.len(), 64);
    assert!(plan.signature.is_some(), "signed over the digest written");
    let out = apply(dir, T1, "signed.json.gz", &[]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_repository_can_require_signed_plans() {
    let estate = estate();
    let dir = estate.dir.path();
    let repo = dir.join("repo");
    std::fs::write(repo.join("trustops.yaml"), "requireSignedPlans: true\n").unwrap();
    crate::apply::crash::commit_all(&repo, "require signed plans");
    let made = trustops(dir, &["--now", T1, "plan", "--out", "unsigned.json"]);
    assert!(made.status.success(), "{}", text(&made));
    refused(dir, "unsigned.json", "requires signed plans");
    let made = trustops(
        dir,
        &[
            "--now",
            T1,
            "plan",
            "--out",
            "signed.json",
            "--signing-key",
            "audit-key",
        ],
    );
    assert!(made.status.success(), "{}", text(&made));
    let out = apply(dir, T1, "signed.json", &[]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn an_interrupted_apply_resumes_only_with_the_plan_file_it_started_with() {
    let estate = estate();
    let dir = estate.dir.path();
    let first = apply(
        dir,
        T1,
        "plan.json",
        &[("TRUSTOPS_TEST_FAULT", "kill@deploy.renamed#1")],
    )
    .output()
    .unwrap();
    assert!(!first.status.success(), "{}", text(&first));
    std::fs::copy(dir.join("plan.json"), dir.join("other.json")).unwrap();
    forge(&dir.join("other.json"), |plan| {
        plan.actions.retain(|a| a.id != "rotate:web/tls")
    });
    let out = apply(dir, T1, "other.json", &[]).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("resume it with the file it started with"),
        "{said}"
    );
    let out = apply(dir, T1, "plan.json", &[]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}
