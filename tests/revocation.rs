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
    estate_with_policy("")
}

/// The estate, with `extra` added to the policy's spec (e.g. `  ocsp: true\n`).
fn estate_with_policy(extra: &str) -> Test {
    let identity = |name: &str| {
        format!(
            "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata: {{name: {name}}}\nspec:\n  owner: team\n  policy: internal\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {{dnsNames: [{name}.test.example], source: hosts}}\n      dnsNames: [{name}.test.example]\n"
        )
    };
    let test = Test::new();
    let hosts = test.dir.path().join("hosts");
    let declarations = format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {{name: team}}\nspec:\n  contacts: [{{webhookEnv: TEAM_WEBHOOK}}]\n---\napiVersion: trustops.dev/v1alpha1\nkind: Policy\nmetadata: {{name: internal}}\nspec:\n  trustDomain: internal-mtls\n  maxValidity: 90d\n{extra}---\napiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: hosts}}\nspec:\n  files: {{paths: [\"{}/**\"]}}\n{}{}",
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

/// `api`'s revoked finding, checking that `web` has none.
#[track_caller]
fn only_api_revoked<'a>(found: &'a Value, warned: &str) -> &'a Value {
    assert!(!codes_about(found, "web").contains(&"revoked"), "{found:#}");
    found["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "revoked" && f["identity"] == "api")
        .unwrap_or_else(|| panic!("{found:#}\n{warned}"))
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
    let bao = OpenBao::start(&dir.join("bao"), true);
    let api = bao.issue("api.test.example", "720h", &dir.join("hosts/api.pem"));
    bao.issue("web.test.example", "720h", &dir.join("hosts/web.pem"));
    // A certificate nobody declares, revoked too: still an alarm of its own.
    let legacy = bao.issue("legacy.test.example", "720h", &dir.join("hosts/legacy.pem"));
    bao.revoke(&api.bao_serial);
    bao.revoke(&legacy.bao_serial);

    let (found, warned) = plan(&test, "cache");
    assert!(!warned.contains("revocation unknown"), "{warned}");
    let unowned = found["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "revoked" && f["identity"].is_null())
        .unwrap_or_else(|| panic!("{found:#}"));
    assert!(
        unowned["location"]
            .as_str()
            .unwrap()
            .ends_with("hosts/legacy.pem"),
        "{unowned:#}"
    );
    let revoked = only_api_revoked(&found, &warned);
    assert_eq!(
        revoked["evidence"]["source"],
        format!("{}/v1/pki/crl", bao.url()),
        "{revoked:#}"
    );
    assert_eq!(revoked["severity"], "critical");
    assert!(std::fs::read_dir(dir.join("cache/crl")).unwrap().count() >= 1);

    // OpenBao goes away. The cached CRL is current until its nextUpdate: still revoked.
    drop(bao);
    let (cached, warned) = plan(&test, "cache");
    assert!(codes_about(&cached, "api").contains(&"revoked"), "{warned}");
    // Without a cache the CRL cannot be fetched: every certificate's status is unknown, and
    // the plan says so instead of calling them valid.
    let (unknown, warned) = plan(&test, "empty-cache");
    assert!(!codes_about(&unknown, "api").contains(&"revoked"));
    assert!(
        warned.contains("revocation unknown for 3 certificate(s)")
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

/// With `ocsp: true`, the responder a certificate names is asked; its answer, signed by the
/// CA, counts. (OpenBao's certificates here name no CRL: OCSP alone decides.)
#[test]
fn a_policy_that_asks_for_ocsp_learns_a_revocation_from_openbaos_responder() {
    let test = estate_with_policy("  ocsp: true\n");
    let dir = test.dir.path();
    let bao = OpenBao::start(&dir.join("bao"), false);
    let api = bao.issue("api.test.example", "720h", &dir.join("hosts/api.pem"));
    bao.issue("web.test.example", "720h", &dir.join("hosts/web.pem"));
    bao.revoke(&api.bao_serial);
    let (found, warned) = plan(&test, "cache");
    assert!(!warned.contains("revocation unknown"), "{warned}");
    let revoked = only_api_revoked(&found, &warned);
    assert_eq!(
        revoked["evidence"]["source"],
        format!("{}/v1/pki/ocsp", bao.url())
    );

    // The responder is gone: both statuses are unknown, and the plan says so.
    drop(bao);
    let (unknown, warned) = plan(&test, "cache");
    assert!(!codes_about(&unknown, "api").contains(&"revoked"));
    assert!(
        warned.contains("revocation unknown for CN=api.test.example: the OCSP responder")
            && warned.contains("cannot be asked: cannot connect"),
        "{warned}"
    );
    // Without `ocsp: true` nobody asks.
    let (_, warned) = plan(estate_moved(&test), "cache");
    assert!(!warned.contains("OCSP"), "{warned}");
}

/// The estate of `test` with its policy's `ocsp: true` removed (same folder).
fn estate_moved(test: &Test) -> &Test {
    let file = test.dir.path().join("repo/declarations.yaml");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("  ocsp: true\n", "");
    std::fs::write(file, text).unwrap();
    test
}

/// `openssl ocsp` answering for a CA made here, from an index that revokes one serial: what
/// the responder says about each certificate is what the plan reports.
#[test]
fn an_openssl_ocsp_responder_is_believed_when_its_ca_signed_the_answer() {
    use crate::support::{Running, free_port, openssl_ca, tool};
    let test = estate_with_policy("  ocsp: true\n");
    let dir = test.dir.path();
    let ca = dir.join("ca");
    openssl_ca(&ca, "/CN=OCSP Test CA", 30);
    let port = free_port();
    for (name, serial) in [("api", "1001"), ("web", "1002")] {
        std::fs::write(
            ca.join(format!("{name}.ext")),
            format!(
                "subjectAltName=DNS:{name}.test.example\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:{port}\n"
            ),
        )
        .unwrap();
        let subject = format!("/CN={name}.test.example");
        let csr = format!("{name}.csr");
        let key = format!("{name}.key");
        let (ok, said) = tool(
            "openssl",
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &subject,
            ],
            &ca,
        );
        assert!(ok, "{said}");
        let pem = format!("{name}.pem");
        let ext = format!("{name}.ext");
        let serial = format!("0x{serial}");
        let (ok, said) = tool(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &serial,
                "-days",
                "20",
                "-extfile",
                &ext,
                "-out",
                &pem,
            ],
            &ca,
        );
        assert!(ok, "{said}");
        let chain = [
            std::fs::read_to_string(ca.join(&pem)).unwrap(),
            std::fs::read_to_string(ca.join("ca.pem")).unwrap(),
        ]
        .concat();
        std::fs::create_dir_all(dir.join("hosts")).unwrap();
        std::fs::write(dir.join(format!("hosts/{name}.pem")), chain).unwrap();
    }
    std::fs::write(
        ca.join("index.txt"),
        "R\t351231235959Z\t260501000000Z,keyCompromise\t1001\tunknown\t/CN=api.test.example\nV\t351231235959Z\t\t1002\tunknown\t/CN=web.test.example\n",
    )
    .unwrap();
    std::fs::write(ca.join("index.txt.attr"), "unique_subject = no\n").unwrap();
    // OpenSSL 3.0's `ocsp -port` binds every interface; this serves on loopback only and
    // lets `openssl ocsp` answer each request from the index.
    let responder = |signer: &str, key: &str| {
        let running = Running::new(
            std::process::Command::new("python3")
                .args(["-c", OCSP_ON_LOOPBACK, &port.to_string(), signer, key])
                .current_dir(&ca)
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(ca.join("ocsp.log")).unwrap())
                .spawn()
                .expect("python3 is needed (ci/check.sh installs it)"),
        );
        crate::support::wait_for_port(port, 20, || {
            format!(
                "the OCSP responder did not start; see {}",
                ca.join("ocsp.log").display()
            )
        });
        running
    };
    let honest = responder("ca.pem", "ca.key");
    let (found, warned) = plan(&test, "cache");
    assert!(!warned.contains("revocation unknown"), "{warned}");
    let revoked = found["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "revoked" && f["identity"] == "api")
        .unwrap_or_else(|| panic!("{found:#}"));
    assert_eq!(revoked["evidence"]["reason"], "keyCompromise");
    assert_eq!(revoked["evidence"]["revoked_at"], "2026-05-01T00:00:00Z");
    assert!(!codes_about(&found, "web").contains(&"revoked"));

    // An impostor answering for the CA (its own key, not delegated by the CA) is not believed.
    drop(honest);
    openssl_ca(&dir.join("impostor"), "/CN=OCSP Test CA", 30);
    let impostor = dir.join("impostor");
    let _impostor = responder(
        &impostor.join("ca.pem").to_string_lossy(),
        &impostor.join("ca.key").to_string_lossy(),
    );
    let (found, warned) = plan(&test, "cache");
    assert!(!codes_about(&found, "api").contains(&"revoked"));
    assert!(
        warned.contains(
            "signed its answer with a key neither the CA nor a responder it delegated to holds"
        ),
        "{warned}"
    );
}

/// An HTTP server on 127.0.0.1:PORT (argv[1]) whose every POST is answered by
/// `openssl ocsp` from `index.txt` of the CA in the current folder, signed with the
/// certificate and key in argv[2] and argv[3].
const OCSP_ON_LOOPBACK: &str = r#"
import http.server, subprocess, sys
class Ocsp(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        request = self.rfile.read(int(self.headers["Content-Length"]))
        open("req.der", "wb").write(request)
        subprocess.run(["openssl", "ocsp", "-index", "index.txt", "-rsigner", sys.argv[2], "-rkey", sys.argv[3],
                        "-CA", "ca.pem", "-ndays", "1", "-reqin", "req.der", "-respout", "resp.der"], check=True)
        answer = open("resp.der", "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ocsp).serve_forever()
"#;
