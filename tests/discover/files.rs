//! The files source: key encodings, bundles, DER, SSH keys, PKCS#12, junk and mutations.

use super::*;

#[test]
fn every_key_encoding_pairs_with_its_certificate() {
    let test = Test::new();
    let dir = test.dir.path();
    let keys = [
        (
            "rsa-pkcs1.key",
            vec!["genrsa", "-traditional", "-out", "rsa-pkcs1.key", "2048"],
            "rsa",
            2048,
            "pkcs1",
        ),
        (
            "rsa-pkcs8.key",
            vec![
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:3072",
                "-out",
                "rsa-pkcs8.key",
            ],
            "rsa",
            3072,
            "pkcs8",
        ),
        (
            "ec-sec1.key",
            vec![
                "ecparam",
                "-genkey",
                "-name",
                "secp384r1",
                "-noout",
                "-out",
                "ec-sec1.key",
            ],
            "ec",
            384,
            "sec1",
        ),
        (
            "ec-pkcs8.key",
            vec![
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "ec-pkcs8.key",
            ],
            "ec",
            256,
            "pkcs8",
        ),
        (
            "ed25519.key",
            vec!["genpkey", "-algorithm", "ed25519", "-out", "ed25519.key"],
            "ed25519",
            256,
            "pkcs8",
        ),
    ];
    for (file, args, ..) in &keys {
        openssl(&args.iter().map(|s| &**s).collect::<Vec<_>>(), dir);
        let cert = file.replace(".key", ".pem");
        openssl(
            &[
                "req",
                "-x509",
                "-key",
                file,
                "-out",
                &cert,
                "-subj",
                &format!("/CN={file}"),
                "-days",
                "30",
            ],
            dir,
        );
    }
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes256",
            "-pass",
            "pass:secret",
            "-out",
            "encrypted.key",
        ],
        dir,
    );
    let found = inventory(&test, dir);
    let credentials = found["credentials"].as_array().unwrap();
    for (file, _, key_type, bits, format) in &keys {
        let key = credentials
            .iter()
            .find(|c| {
                c["kind"] == "private-key"
                    && c["locations"][0]["path"].as_str().unwrap().ends_with(file)
            })
            .unwrap_or_else(|| panic!("{file} not inventoried: {found:#}"));
        assert_eq!(
            (
                key["key_type"].as_str(),
                key["key_bits"].as_u64(),
                key["format"].as_str()
            ),
            (Some(*key_type), Some(*bits), Some(*format)),
            "{file}"
        );
        // The key's public half is the certificate's: same SubjectPublicKeyInfo hash as openssl's.
        let spki = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "openssl pkey -in {file} -pubout -outform DER | openssl dgst -sha256 -r"
            ))
            .current_dir(dir)
            .output()
            .unwrap();
        let expected = String::from_utf8_lossy(&spki.stdout)
            .split(' ')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(key["public_key_sha256"], expected.as_str(), "{file}");
        let cert = credentials
            .iter()
            .find(|c| c["subject"] == format!("CN={file}").as_str())
            .unwrap();
        assert_eq!(
            cert["public_key_sha256"], key["public_key_sha256"],
            "{file} pairs with its certificate"
        );
    }
    let encrypted = credentials
        .iter()
        .find(|c| {
            c["locations"][0]["path"]
                .as_str()
                .unwrap()
                .ends_with("encrypted.key")
        })
        .unwrap();
    assert_eq!(
        (encrypted["kind"].as_str(), encrypted["encrypted"].as_bool()),
        (Some("private-key"), Some(true))
    );
    // No private key material in the output, in any form.
    let text = found.to_string();
    for file in ["rsa-pkcs1.key", "ec-sec1.key", "ed25519.key"] {
        let pem = std::fs::read_to_string(dir.join(file)).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!text.contains(&body[..32]), "{file} leaked");
    }
}

#[test]
fn bundles_der_ssh_keys_and_junk() {
    let test = Test::new();
    let dir = test.dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "a.key",
            "-out",
            "a.pem",
            "-subj",
            "/CN=a",
            "-addext",
            "subjectAltName=DNS:b.example,DNS:a.example,IP:10.0.0.1,URI:spiffe://x/y",
        ],
        dir,
    );
    openssl(
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "b.key", "-out", "b.pem",
            "-subj", "/CN=b",
        ],
        dir,
    );
    std::fs::write(
        dir.join("bundle.pem"),
        std::fs::read_to_string(dir.join("a.pem")).unwrap()
            + "# a comment between\n"
            + &std::fs::read_to_string(dir.join("b.pem")).unwrap(),
    )
    .unwrap();
    openssl(
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "bundle.pem",
            "-out",
            "bundle.p7b",
        ],
        dir,
    );
    openssl(
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "bundle.pem",
            "-outform",
            "DER",
            "-out",
            "bundle.p7c",
        ],
        dir,
    );
    openssl(
        &["x509", "-in", "a.pem", "-outform", "DER", "-out", "a.der"],
        dir,
    );
    let keygen = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "deploy",
            "-f",
            "id_ed25519",
        ])
        .current_dir(dir)
        .status();
    assert!(
        keygen.is_ok_and(|s| s.success()),
        "ssh-keygen is needed: apt-get install openssh-client"
    );
    std::fs::write(
        dir.join("truncated.pem"),
        &std::fs::read_to_string(dir.join("a.pem")).unwrap()[..200],
    )
    .unwrap();
    // A certificate whose notBefore is not a date: shaped like one, so reported, not skipped.
    let mut broken = std::fs::read(dir.join("a.der")).unwrap();
    let at = broken.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
    broken[at + 2] = b'X';
    std::fs::write(dir.join("garbage.der"), broken).unwrap();
    std::fs::write(dir.join("crl-like.der"), [0x30, 0x03, 0x02, 0x01, 0x05]).unwrap();
    std::fs::write(dir.join("README.txt"), "not a certificate").unwrap();
    let found = inventory(&test, dir);
    let credentials = found["credentials"].as_array().unwrap();
    let a = credentials.iter().find(|c| c["subject"] == "CN=a").unwrap();
    assert_eq!(
        a["dns_names"],
        serde_json::json!(["a.example", "b.example"])
    );
    assert_eq!(a["ip_addresses"], serde_json::json!(["10.0.0.1"]));
    assert_eq!(a["uris"], serde_json::json!(["spiffe://x/y"]));
    let places: Vec<String> = a["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}#{}",
                Path::new(l["path"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy(),
                l["index"]
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            "a.der#0",
            "a.pem#0",
            "bundle.p7b#0",
            "bundle.p7c#0",
            "bundle.pem#0"
        ]
    );
    let ssh: Vec<&Value> = credentials
        .iter()
        .filter(|c| c["ssh_fingerprint"].is_string())
        .collect();
    assert_eq!(ssh.len(), 2, "private and public halves");
    assert_eq!(ssh[0]["sha256"], ssh[1]["sha256"]);
    let fingerprint = Command::new("ssh-keygen")
        .args(["-lf", "id_ed25519.pub"])
        .current_dir(dir)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout)
        .split(' ')
        .nth(1)
        .unwrap()
        .to_owned();
    assert_eq!(ssh[0]["ssh_fingerprint"], fingerprint.as_str());
    let problems = problems(&found);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("garbage.der") && problems[1].starts_with("truncated.pem"),
        "{problems:?}"
    );
}

#[test]
fn declared_sources_report_unreadable_files_and_missing_paths() {
    let test = Test::new()
        .file("sources.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: certs}\nspec:\n  files:\n    paths: [\"certs/*.pem\"]\n---\napiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: gone}\nspec:\n  files:\n    paths: [/nonexistent/**/*.pem]\n")
        .file("certs/empty.pem", "nothing here")
        .args(&["discover", "--format", "json"])
        .in_repo();
    let out = test.run().status(0);
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let problems = problems(&found);
    assert_eq!(
        problems,
        [
            "empty.pem: no certificate or key found",
            "source gone: none of its paths exist: /nonexistent"
        ]
    );
    // The failed source is typed: a path that is not there will not appear by retrying.
    assert_eq!(
        found["diagnostics"][1]["source_failed"],
        serde_json::json!({"source": "gone", "retry": "permanent"})
    );
    assert!(found["diagnostics"][0].get("source_failed").is_none());
    // Only failing sources: exit 1.
    Test::new()
        .file("s.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: gone}\nspec:\n  files:\n    paths: [/nonexistent/*.pem]\n")
        .args(&["discover"])
        .in_repo()
        .run()
        .status(1);
}

#[test]
fn pkcs12_archives_open_with_the_password_the_source_names() {
    let test = Test::new();
    let dir = test.dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=p12.example",
        ],
        dir,
    );
    std::fs::create_dir(dir.join("store")).unwrap();
    // OpenSSL 3's default (PBES2, PBKDF2-SHA256, AES-256-CBC) and the legacy one (RC2-40, 3DES).
    openssl(
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:s3cret",
            "-out",
            "store/modern.p12",
        ],
        dir,
    );
    openssl(
        &[
            "pkcs12",
            "-export",
            "-legacy",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:s3cret",
            "-out",
            "store/legacy.pfx",
        ],
        dir,
    );
    let source = "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: keystores}\nspec:\n  files:\n    paths: [\"store/*\"]\n    pkcs12PasswordEnv: KEYSTORE_PASSWORD\n";
    std::fs::write(dir.join("sources.yaml"), source).unwrap();
    let repo = dir.to_string_lossy().into_owned();
    let out = Test::new()
        .env("KEYSTORE_PASSWORD", "s3cret")
        .args(&["discover", "--format", "json", "--repo", &repo])
        .run()
        .status(0);
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(found["diagnostics"], serde_json::json!([]));
    let credentials = found["credentials"].as_array().unwrap();
    let cert = credentials
        .iter()
        .find(|c| c["kind"] == "x509-certificate")
        .unwrap();
    let key = credentials
        .iter()
        .find(|c| c["kind"] == "private-key")
        .unwrap();
    assert_eq!(cert["subject"], "CN=p12.example");
    assert_eq!(
        cert["locations"].as_array().unwrap().len(),
        2,
        "the same certificate in both archives"
    );
    assert_eq!(
        (
            key["key_type"].as_str(),
            key["key_bits"].as_u64(),
            key["format"].as_str()
        ),
        (Some("ec"), Some(384), Some("pkcs12"))
    );
    assert_eq!(
        key["public_key_sha256"], cert["public_key_sha256"],
        "the key pairs with its certificate"
    );
    // A wrong password: each archive is reported, nothing is guessed, nothing crashes.
    let out = Test::new()
        .env("KEYSTORE_PASSWORD", "nope")
        .args(&["discover", "--format", "json", "--repo", &repo])
        .run()
        .status(0);
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let problems = found["diagnostics"].as_array().unwrap();
    assert!(
        !problems.is_empty()
            && problems.iter().all(|p| p["message"]
                .as_str()
                .unwrap()
                .contains("wrong or missing password")),
        "{problems:?}"
    );
    // The library reads no process environment: one process plans with two configurations.
    let inventory = |password: &str| {
        let mut options = trustops::pipeline::Options::new(dir.to_owned(), jiff::Timestamp::now());
        options.env =
            trustops::environment::Environment::default().with("KEYSTORE_PASSWORD", password);
        let loaded = trustops::pipeline::load(&options).unwrap();
        trustops::pipeline::inventory(&options, &loaded.model).unwrap()
    };
    let (right, wrong) = (inventory("s3cret"), inventory("nope"));
    assert!(right.diagnostics.is_empty(), "{:?}", right.diagnostics);
    assert_eq!(right.credentials.len(), 2, "the certificate and its key");
    assert_eq!(wrong.diagnostics.len(), 2, "{:?}", wrong.diagnostics);
}

/// No panic on any input: every truncation and many bit flips of a certificate, a key, a
/// PKCS#7 bundle and a PKCS#12 archive, in PEM and DER, discovered in one run.
#[test]
fn mutated_certificates_keys_and_archives_never_crash_discovery() {
    let test = Test::new();
    let dir = test.dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=m",
            "-addext",
            "subjectAltName=DNS:m.example,IP:10.1.2.3",
        ],
        dir,
    );
    openssl(
        &["x509", "-in", "c.pem", "-outform", "DER", "-out", "c.der"],
        dir,
    );
    openssl(
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "c.pem",
            "-outform",
            "DER",
            "-out",
            "c.p7b",
        ],
        dir,
    );
    openssl(
        &[
            "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", "pass:pw", "-out",
            "c.p12",
        ],
        dir,
    );
    openssl(
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "k.pem", "-outform", "DER", "-out", "k.der",
        ],
        dir,
    );
    let mutants = dir.join("mutants");
    std::fs::create_dir(&mutants).unwrap();
    let mut count = 0;
    for original in ["c.pem", "c.der", "c.p7b", "c.p12", "k.pem", "k.der"] {
        let bytes = std::fs::read(dir.join(original)).unwrap();
        let step = (bytes.len() / 60).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            std::fs::write(mutants.join(format!("{original}.cut{cut}")), &bytes[..cut]).unwrap();
            let mut flipped = bytes.clone();
            flipped[cut] ^= 0x5a;
            std::fs::write(mutants.join(format!("{original}.flip{cut}")), flipped).unwrap();
            count += 2;
        }
    }
    let out = Test::new()
        .env("P12", "pw")
        .args(&[
            "discover",
            "--format",
            "json",
            "--pkcs12-password-env",
            "P12",
            "--path",
            &mutants.to_string_lossy(),
        ])
        .run()
        .status(0);
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let seen = found["credentials"].as_array().unwrap().len()
        + found["diagnostics"].as_array().unwrap().len();
    assert!(count > 600 && seen > 100, "{count} mutants, {seen} results");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn discover_json_follows_the_published_inventory_schema() {
    let test = Test::new().args(&["--now", "2026-05-01T00:00:00Z", "demo", "demo"]);
    test.run().status(0);
    let out = Test::new()
        .args(&[
            "discover",
            "--format",
            "json",
            "--repo",
            &test.dir.path().join("demo/repo").to_string_lossy(),
        ])
        .run()
        .status(0);
    let file = test.dir.path().join("inventory.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let schema = crate::support::root().join("schemas/inventory.schema.json");
    crate::support::python(
        "import json, sys, jsonschema\njsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
        &[&file.to_string_lossy(), &schema.to_string_lossy()],
    );
}

/// certbot keeps `live/NAME/*.pem` as links into `archive/`: links are followed, a link loop
/// and a dangling link are reported, and a file over the size limit is reported in every mode
/// (`--path` too), never silently absent.
#[cfg(unix)]
#[test]
fn links_are_followed_loops_and_oversized_files_are_reported() {
    let test = Test::new();
    let dir = test.dir.path();
    let archive = dir.join("etc/letsencrypt/archive/shop");
    let live = dir.join("etc/letsencrypt/live/shop");
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::create_dir_all(&live).unwrap();
    crate::support::openssl_ca(&archive, "/CN=shop.test", 30);
    std::fs::rename(archive.join("ca.pem"), archive.join("cert1.pem")).unwrap();
    std::fs::rename(archive.join("ca.key"), archive.join("privkey1.pem")).unwrap();
    std::os::unix::fs::symlink("../../archive/shop/cert1.pem", live.join("cert.pem")).unwrap();
    std::os::unix::fs::symlink("../../archive/shop/privkey1.pem", live.join("privkey.pem"))
        .unwrap();
    std::os::unix::fs::symlink("../../archive/shop/gone.pem", live.join("chain.pem")).unwrap();
    std::os::unix::fs::symlink("..", live.join("loop")).unwrap();
    // 2 GiB, sparse: costs nothing on disk.
    let huge = std::fs::File::create(dir.join("etc/huge.pem")).unwrap();
    huge.set_len(2 << 30).unwrap();
    drop(huge);

    let found = inventory(&test, &dir.join("etc/letsencrypt/live"));
    let credentials = found["credentials"].as_array().unwrap();
    assert_eq!(
        credentials.len(),
        2,
        "the certificate and key behind the links: {found:#}"
    );
    let said = problems(&found).join("\n");
    assert!(said.contains("loop"), "{said}");
    assert!(said.contains("chain.pem"), "the dangling link: {said}");

    let found = inventory(&test, &dir.join("etc/huge.pem"));
    let said = problems(&found).join("\n");
    assert!(
        said.contains("huge.pem: larger than the 64 MiB limit"),
        "{said}"
    );
}
