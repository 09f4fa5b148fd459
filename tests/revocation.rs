//! Revocation status: certificates checked against the CRLs of their CAs — OpenBao's PKI
//! engine on loopback (the CRL distribution point its certificates name), a declared CRL file —
//! verified by the CA's key, cached until nextUpdate, and every CRL that cannot be used
//! reported by the plan instead of read as "not revoked". (The local CA's CRL after `trustops
//! revoke` is in `issuers::local_ca`.)

use crate::plan::{NOW, fixture, run_plan};
use crate::support::{OpenBao, Test};
use serde_json::Value;

/// A governance repository for certificates under `hosts/` of the test folder: two
/// identities, `api` and `web`, with no issuer (the CRL alone is under test).
fn estate() -> Test {
    let identity = |name: &str| {
        format!(
            "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: {name}}}\nspec:\n  owner: team\n  policy: internal\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [{name}.test.example], source: hosts}}\n      dnsNames: [{name}.test.example]\n"
        )
    };
    let test = Test::new();
    let hosts = test.dir.path().join("hosts");
    let declarations = format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {{name: team}}\nspec:\n  contacts: [{{webhookEnv: TEAM_WEBHOOK}}]\n---\napiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {{name: internal}}\nspec:\n  trustDomain: internal-mtls\n  maxValidity: 90d\n---\napiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: hosts}}\nspec:\n  files: {{paths: [\"{}/**\"]}}\n{}{}",
        hosts.display(),
        identity("api"),
        identity("web")
    );
    test.file("repo/declarations.yaml", declarations)
}

/// `plan --format json` of the estate at the real time, with its CRL cache in `cache` (under
/// the test folder); the plan and what it warned.
fn plan(test: &Test, cache: &str) -> (Value, String) {
    let repo = test.dir.path().join("repo");
    let cache = test.dir.path().join(cache);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trustops"))
        .arg("--repo")
        .arg(&repo)
        .args(["plan", "--format", "json"])
        .env("TRUSTOPS_CACHE_DIR", &cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

fn codes_about<'a>(plan: &'a Value, identity: &str) -> Vec<&'a str> {
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["identity"] == identity)
        .filter_map(|f| f["code"].as_str())
        .collect()
}

#[test]
fn a_certificate_openbao_revoked_is_found_through_its_crl_distribution_point() {
    let test = estate();
    let dir = test.dir.path();
    let bao = OpenBao::start(&dir.join("bao"));
    let api = bao.issue("api.test.example", "720h", &dir.join("hosts/api.pem"));
    bao.issue("web.test.example", "720h", &dir.join("hosts/web.pem"));
    bao.revoke(&api.bao_serial);

    let (found, warned) = plan(&test, "cache");
    assert!(!warned.contains("revocation unknown"), "{warned}");
    assert!(codes_about(&found, "api").contains(&"revoked"), "{found:#}");
    assert!(
        !codes_about(&found, "web").contains(&"revoked"),
        "{found:#}"
    );
    let revoked = found["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "revoked")
        .unwrap();
    assert_eq!(
        revoked["evidence"]["crl"],
        format!("{}/v1/pki/crl", bao.url()),
        "{revoked:#}"
    );
    assert_eq!(revoked["severity"], "critical");
    assert!(std::fs::read_dir(dir.join("cache/crl")).unwrap().count() >= 1);

    // OpenBao goes away. The cached CRL is current until its nextUpdate: still revoked.
    drop(bao);
    let (cached, warned) = plan(&test, "cache");
    assert!(codes_about(&cached, "api").contains(&"revoked"), "{warned}");
    // Without a cache the CRL cannot be fetched: both certificates' status is unknown, and the
    // plan says so instead of calling them valid.
    let (unknown, warned) = plan(&test, "empty-cache");
    assert!(!codes_about(&unknown, "api").contains(&"revoked"));
    assert!(
        warned.contains("revocation unknown for 2 certificate(s)")
            && warned.contains("/v1/pki/crl cannot be fetched: cannot connect"),
        "{warned}"
    );
}

/// The fixture's `revoked-svc` is on CA One's CRL (`ca-one.crl`, declared by issuer ca-one).
fn fixture_with_crl(crl: impl AsRef<[u8]>) -> Test {
    fixture().file("ca-one.crl", crl)
}

fn fixture_crl_der() -> Vec<u8> {
    use base64::Engine;
    let pem =
        std::fs::read_to_string(crate::support::root().join("tests/fixtures/plan/ca-one.crl"))
            .unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn a_crl_whose_signature_does_not_verify_is_not_believed() {
    let mut der = fixture_crl_der();
    // The last byte is inside the signature.
    *der.last_mut().unwrap() ^= 0x01;
    let (_, out) = run_plan(fixture_with_crl(&der), NOW, &["--format", "json"]);
    let out = out.status(0);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(!codes_about(&plan, "revoked-svc").contains(&"revoked"));
    assert!(
        out.stderr
            .contains("ca-one.crl does not verify with the key of its CA (CN=CA One,O=Test)"),
        "{}",
        out.stderr
    );
    // DER works as well as PEM, and garbage is named as such.
    let (_, out) = run_plan(
        fixture_with_crl(fixture_crl_der()),
        NOW,
        &["--format", "json"],
    );
    let plan: Value = serde_json::from_str(&out.status(0).stdout).unwrap();
    assert!(codes_about(&plan, "revoked-svc").contains(&"revoked"));
    let (_, out) = run_plan(fixture_with_crl("not a CRL"), NOW, &[]);
    assert!(
        out.status(0)
            .stderr
            .contains("ca-one.crl is not a valid CRL")
    );
}

#[test]
fn a_stale_crl_still_proves_what_it_revokes_and_is_reported() {
    // CA One's CRL is due again on 2036-01-01.
    let (_, out) = run_plan(fixture(), "2036-02-01T00:00:00Z", &["--format", "json"]);
    let out = out.status(0);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(codes_about(&plan, "revoked-svc").contains(&"revoked"));
    assert!(
        out.stderr
            .contains("ca-one.crl is stale, its next update was due 2036-01-01T00:00:00Z"),
        "{}",
        out.stderr
    );
}
