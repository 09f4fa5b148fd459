//! OpenBao's PKI engine as an issuer: trustops' CSR signed through a role (logged in with
//! AppRole from files), the chain verified up to OpenBao's root, and `trustops revoke` going
//! through the engine, whose CRL the next plan reads.

use super::{T0, deployed, plan_and_apply, revoke};
use crate::apply::crash::{amend, estate_with, sh, trustops};
use crate::support::OpenBao;

#[test]
fn openbao_signs_the_csr_and_revokes_through_its_engine() {
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
    let (role_id, secret_id) = bao.approle(
        "signer",
        "path \"pki/sign/trustops\" { capabilities = [\"update\"] }\npath \"pki/revoke\" { capabilities = [\"update\"] }\n",
    );
    std::fs::write(dir.join("bao/role-id"), role_id).unwrap();
    std::fs::write(dir.join("bao/secret-id"), secret_id).unwrap();
    let hosts = "kind: Source\nmetadata: {name: hosts}";
    let issuer = format!(
        "kind: Issuer\nmetadata: {{name: bao}}\nspec:\n  vault:\n    address: {}\n    role: trustops\n    auth: {{appRole: {{roleIdFile: ../bao/role-id, secretIdFile: ../bao/secret-id}}}}\n---\napiVersion: trustops.dev/v1alpha1\n{hosts}",
        bao.url()
    );
    amend(dir, hosts, &issuer, "OpenBao's PKI engine");

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
