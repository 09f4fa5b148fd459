//! OpenBao as an issuer: trustops' CSR signed through a PKI role (logged in with AppRole from
//! files), the chain verified up to OpenBao's root, `trustops revoke` going through the engine
//! whose CRL the next plan reads; a KV v2 password rotating with its certificate, written once
//! even across a kill, refused by check-and-set when someone else wrote first.

use super::{T0, deployed, plan_and_apply, revoke};
use crate::apply::crash::{amend, estate_with, sh, trustops};
use crate::support::OpenBao;

/// The estate with OpenBao started beside it, its PKI role `trustops` allowing any name.
fn bao_estate() -> (crate::support::Test, OpenBao) {
    let test = estate_with("[bao]", "auto", "");
    let dir = test.dir.path();
    let bao = OpenBao::start(&dir.join("bao"), true);
    bao.cli(&[
        "write",
        "pki/roles/trustops",
        "allow_any_name=true",
        "enforce_hostnames=false",
        "key_type=any",
        "max_ttl=2160h",
    ]);
    (test, bao)
}

/// The estate with its certificate from OpenBao's PKI role, through an AppRole that may sign,
/// revoke, and list and read what the mount issued.
fn pki_estate() -> (crate::support::Test, OpenBao) {
    let (test, bao) = bao_estate();
    let dir = test.dir.path();
    let (role_id, secret_id) = bao.approle(
        "signer",
        "path \"pki/sign/trustops\" { capabilities = [\"update\"] }\npath \"pki/revoke\" { capabilities = [\"update\"] }\npath \"pki/certs*\" { capabilities = [\"list\"] }\npath \"pki/cert/*\" { capabilities = [\"read\"] }\n",
    );
    std::fs::write(dir.join("bao/role-id"), role_id).unwrap();
    std::fs::write(dir.join("bao/secret-id"), secret_id).unwrap();
    let hosts = "kind: Source\nmetadata: {name: hosts}";
    let issuer = format!(
        "kind: Issuer\nmetadata: {{name: bao}}\nspec:\n  vault:\n    address: {}\n    role: trustops\n    auth: {{appRole: {{roleIdFile: ../bao/role-id, secretIdFile: ../bao/secret-id}}}}\n---\napiVersion: trustops.dev/v1alpha1\n{hosts}",
        bao.url()
    );
    amend(dir, hosts, &issuer, "OpenBao's PKI engine");
    (test, bao)
}

/// `trustops apply plan.json` in `dir` at `now`, with a fault point armed when asked.
fn apply_at(dir: &std::path::Path, now: &str, fault: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_trustops"));
    command
        .args(["--repo", "repo", "--now", now, "apply", "plan.json"])
        .args(super::APPLY)
        .current_dir(dir);
    if let Some(fault) = fault {
        command.env("TRUSTOPS_TEST_FAULT", fault);
    }
    command.output().unwrap()
}

/// How many certificates OpenBao's PKI mount holds (its CA among them).
fn issued(bao: &OpenBao) -> usize {
    let listed: Vec<String> =
        serde_json::from_str(&bao.cli(&["list", "-format=json", "pki/certs"])).unwrap();
    listed.len()
}

#[test]
fn openbao_signs_the_csr_and_revokes_through_its_engine() {
    let (test, _bao) = pki_estate();
    let dir = test.dir.path();
    let stdout = plan_and_apply(dir, T0);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let chain = std::fs::read_to_string(dir.join("deployed/db.pem")).unwrap();
    let root_at = chain.rfind("-----BEGIN CERTIFICATE-----").unwrap();
    std::fs::write(dir.join("bao-root.pem"), &chain[root_at..]).unwrap();
    sh(
        dir,
        "openssl",
        &["verify", "-CAfile", "bao-root.pem", "deployed/db.pem"],
    );
    let (serial, _) = deployed(dir);

    let stdout = revoke(dir, "db-svc/tls", "keyCompromise");
    assert!(stdout.contains("through bao"), "{stdout}");
    // OpenBao's CRL now lists it, so the next plan finds the certificate revoked.
    let now = jiff::Timestamp::now().to_string();
    let out = trustops(dir, &now, &["plan", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let revoked = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "revoked" && f["identity"] == "db-svc")
        .unwrap_or_else(|| panic!("{serial} not revoked: {plan:#}"));
    assert!(
        revoked["evidence"]["source"]
            .as_str()
            .unwrap()
            .ends_with("/v1/pki/crl"),
        "{revoked:#}"
    );
}

/// Killed right after OpenBao signed, before the answer reached the journal: the resumed
/// apply finds the certificate OpenBao signed for its staged key and deploys that one — the
/// mount holds one new certificate, not two.
#[test]
fn a_resumed_apply_deploys_what_openbao_signed_before_the_kill() {
    let (test, bao) = pki_estate();
    let dir = test.dir.path();
    crate::apply::crash::ok(&trustops(dir, T0, &["plan", "--out", "plan.json"]));
    let before = issued(&bao);
    let apply = |fault| apply_at(dir, T0, fault);
    let killed = apply(Some("kill@vault.signed"));
    assert!(!killed.status.success(), "the apply was killed");
    assert_eq!(issued(&bao), before + 1, "signed once before the kill");
    assert!(
        !dir.join("deployed/db.pem").exists(),
        "nothing deployed yet"
    );
    let resumed = apply(None);
    let said = String::from_utf8_lossy(&resumed.stdout);
    assert!(resumed.status.success(), "{said}");
    assert!(said.contains("applied rotate:db-svc/tls"), "{said}");
    assert_eq!(issued(&bao), before + 1, "no second signing: {said}");
    let (serial, _) = deployed(dir);
    let listed = bao.cli(&["list", "-format=json", "pki/certs"]);
    assert!(
        listed.replace(':', "").contains(&serial),
        "the deployed certificate ({serial}) is the one OpenBao signed: {listed}"
    );
    let root = bao.cli(&["read", "-field=certificate", "pki/cert/ca"]);
    std::fs::write(dir.join("bao-root.pem"), root).unwrap();
    sh(
        dir,
        "openssl",
        &["verify", "-CAfile", "bao-root.pem", "deployed/db.pem"],
    );
}

/// The estate with its certificate from OpenBao's PKI role `trustops` and its password in
/// OpenBao's KV store (`secret/db/password`: `password` and `other`), both through an AppRole.
fn kv_estate() -> (crate::support::Test, OpenBao) {
    let (test, bao) = bao_estate();
    let dir = test.dir.path();
    bao.cli(&[
        "kv",
        "put",
        "-mount=secret",
        "db/password",
        "password=initial-value",
        "other=keep-me",
    ]);
    let (role_id, secret_id) = bao.approle(
        "rotator",
        "path \"pki/sign/trustops\" { capabilities = [\"update\"] }\npath \"pki/revoke\" { capabilities = [\"update\"] }\npath \"secret/data/db/*\" { capabilities = [\"create\", \"update\", \"patch\", \"read\"] }\npath \"secret/metadata/*\" { capabilities = [\"read\", \"update\", \"list\"] }\n",
    );
    std::fs::write(dir.join("bao/role-id"), role_id).unwrap();
    std::fs::write(dir.join("bao/secret-id"), secret_id).unwrap();
    let auth = "{appRole: {roleIdFile: ../bao/role-id, secretIdFile: ../bao/secret-id}}";
    amend(
        dir,
        "issuers: [dotenv]}",
        "issuers: [bao], secretValue: {length: 24, alphabet: hex}}",
        "the password comes from OpenBao",
    );
    amend(
        dir,
        "match: {secretId: \"../services/app.env:DB_SVC_PASSWORD\", source: env}",
        "match: {secretId: \"vault:secret/db/password\", source: bao-kv}",
        "matched in OpenBao's KV",
    );
    let hosts = "kind: Source\nmetadata: {name: hosts}";
    let declared = format!(
        "kind: Issuer\nmetadata: {{name: bao}}\nspec:\n  vault:\n    address: {url}\n    role: trustops\n    kvField: password\n    auth: {auth}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: bao-kv}}\nspec:\n  vault:\n    address: {url}\n    auth: {auth}\n    kv: [{{mount: secret, prefix: db/}}]\n---\napiVersion: trustops.dev/v1alpha1\n{hosts}",
        url = bao.url()
    );
    amend(dir, hosts, &declared, "OpenBao issues and stores");

    (test, bao)
}

/// A certificate from OpenBao's PKI engine that rotates with a password in its KV store: one
/// apply, one signed audit commit, a new KV version of one field (the others kept) generated as
/// the policy says, and the value nowhere in what trustops prints or records. Killed after
/// writing, the resumed apply writes no second version.
#[test]
fn a_certificate_and_its_kv_password_rotate_together_and_a_resume_writes_once() {
    use crate::apply::crash::ok;
    let (test, bao) = kv_estate();
    let dir = test.dir.path();
    let stdout = plan_and_apply(dir, T0);
    assert!(stdout.contains("applied rotate:db-svc/tls"), "{stdout}");
    let version = |bao: &OpenBao| {
        bao.cli(&[
            "kv",
            "metadata",
            "get",
            "-mount=secret",
            "-format=json",
            "db/password",
        ])
    };
    let field = |name: &str| {
        bao.cli(&[
            "kv",
            "get",
            "-mount=secret",
            &format!("-field={name}"),
            "db/password",
        ])
    };
    let meta: serde_json::Value = serde_json::from_str(&version(&bao)).unwrap();
    assert_eq!(meta["data"]["current_version"], 2, "{meta:#}");
    let password = field("password");
    assert!(
        password.len() == 24 && password.chars().all(|c| c.is_ascii_hexdigit()),
        "24 hex characters, as the policy says"
    );
    assert_eq!(field("other"), "keep-me", "the other fields are kept");
    let record = crate::apply::crash::record(dir, "rotate-db-svc-tls.yaml");
    assert!(!record.contains(&password) && !stdout.contains(&password));
    assert!(record.contains("vault:secret/db/password#v2"), "{record}");

    // Renewed later, killed right after OpenBao took the new value: the resumed apply finds
    // its own write and writes no second one.
    let (_, not_after) = deployed(dir);
    let later = (not_after - jiff::SignedDuration::from_hours(5 * 24)).to_string();
    ok(&trustops(dir, &later, &["plan", "--out", "plan.json"]));
    let apply = |fault| apply_at(dir, &later, fault);
    let killed = apply(Some("kill@vault.written"));
    assert!(!killed.status.success(), "the apply was killed");
    let meta: serde_json::Value = serde_json::from_str(&version(&bao)).unwrap();
    assert_eq!(
        meta["data"]["current_version"], 3,
        "written once before the kill"
    );
    let resumed = apply(None);
    let said = String::from_utf8_lossy(&resumed.stdout);
    assert!(resumed.status.success(), "{said}");
    let meta: serde_json::Value = serde_json::from_str(&version(&bao)).unwrap();
    assert_eq!(
        meta["data"]["current_version"], 3,
        "no second write: {said}"
    );
}

/// Someone else writes the password between trustops' read and its write: check-and-set
/// refuses trustops' write, nothing of trustops lands in the store, and the apply says so.
/// A role that refuses the certificate's names is a refusal that names the server and path.
#[test]
fn a_concurrent_writer_wins_and_a_refusing_role_is_named() {
    let (test, bao) = kv_estate();
    let dir = test.dir.path();
    crate::apply::crash::ok(&trustops(dir, T0, &["plan", "--out", "plan.json"]));
    let apply = std::process::Command::new(env!("CARGO_BIN_EXE_trustops"))
        .args(["--repo", "repo", "--now", T0, "apply", "plan.json"])
        .args(super::APPLY)
        .current_dir(dir)
        .env("TRUSTOPS_TEST_FAULT", "delay@vault.marked=3000")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let apply = crate::support::Running::new(apply);
    // While trustops waits between its read (and mark) and its write, a person writes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let meta = bao.cli(&[
            "kv",
            "metadata",
            "get",
            "-mount=secret",
            "-format=json",
            "db/password",
        ]);
        if meta.contains("trustops-rotation") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "trustops never marked the secret"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bao.cli(&[
        "kv",
        "patch",
        "-mount=secret",
        "db/password",
        "password=set-by-a-person",
    ]);
    let out = apply.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("changed since it was read (check-and-set); nothing written"),
        "{said}"
    );
    // The certificate was issued, deployed and verified before the password step: it stays,
    // and the group is told as needing attention, in the output and the signed record.
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("✗ partly  rotate:db-svc/tls"), "{said}");
    assert!(
        said.contains("db-svc/tls stays rotated, verified and deployed; needs attention: db-svc/password did not rotate with it"),
        "{said}"
    );
    let (serial, _) = deployed(dir);
    let record = crate::apply::crash::record(dir, "rotate-db-svc-tls.yaml");
    assert!(record.contains("outcome: partial"), "{record}");
    assert!(
        record.contains(&serial.to_lowercase()) || record.contains(&serial),
        "the record names the deployed certificate {serial}: {record}"
    );
    let password = bao.cli(&[
        "kv",
        "get",
        "-mount=secret",
        "-field=password",
        "db/password",
    ]);
    assert_eq!(password, "set-by-a-person", "the person's value stands");

    bao.cli(&[
        "write",
        "pki/roles/trustops",
        "allowed_domains=elsewhere.test",
        "key_type=any",
    ]);
    let out = trustops(dir, T0, &["plan", "--out", "plan.json"]);
    assert!(out.status.success());
    let out = trustops(
        dir,
        T0,
        &[&["apply", "plan.json"][..], &super::APPLY].concat(),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("{} /v1/pki/sign/trustops: HTTP 400", bao.url())),
        "{said}"
    );
}
