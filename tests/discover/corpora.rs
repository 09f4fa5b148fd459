//! Facts agree with `openssl x509` on certificates nobody here wrote.

use super::*;

#[test]
fn facts_agree_with_openssl_on_the_system_ca_bundle() {
    let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
    assert!(
        bundle.exists(),
        "the Debian CA bundle is needed: apt-get install ca-certificates"
    );
    let test = Test::new();
    let text = std::fs::read_to_string(bundle).unwrap();
    let mut written = 0;
    for (i, block) in text
        .split_inclusive("-----END CERTIFICATE-----")
        .enumerate()
    {
        if let Some(start) = block.find("-----BEGIN CERTIFICATE-----") {
            std::fs::write(test.dir.path().join(format!("c{i}.pem")), &block[start..]).unwrap();
            written += 1;
        }
    }
    assert_eq!(agrees_with_openssl(test.dir.path()), written);
}

/// The x509 folder of PyPI's `cryptography-vectors`: odd encodings, string types, extensions
/// and broken certificates collected by the pyca project.
#[test]
fn facts_agree_with_openssl_on_cryptography_vectors() {
    let out = Command::new("python3")
        .args(["-c", "import cryptography_vectors, os; print(os.path.dirname(cryptography_vectors.__file__))"])
        .output()
        .expect("python3 is needed");
    assert!(
        out.status.success(),
        "the corpus is needed: python3 -m pip install cryptography-vectors (ci/check.sh does)"
    );
    let dir = Path::new(String::from_utf8_lossy(&out.stdout).trim()).join("x509");
    let compared = agrees_with_openssl(&dir);
    assert!(compared > 400, "compared only {compared} certificates");
}
