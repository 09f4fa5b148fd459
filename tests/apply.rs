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
        let Issued::Certificate { chain_pem } = ca.issue(&Request::Certificate(wanted)).unwrap()
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
    let Issued::Certificate { chain_pem } = ca.issue(&Request::Certificate(wanted)).unwrap() else {
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
