//! `trustops discover`: facts agree with openssl on certificates nobody here wrote, every key
//! encoding pairs with its certificate, bundles and junk are handled, secrets never leak.

use crate::support::Test;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[track_caller]
fn openssl(args: &[&str], dir: &Path) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed: apt-get install openssl (ci/check.sh does)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The diagnostics of an inventory as `file-name: message` lines.
fn problems(found: &Value) -> Vec<String> {
    found["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d["location"].as_str().unwrap().rsplit('/').next().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect()
}

fn inventory(test: &Test, path: &Path) -> Value {
    let out = Test::new()
        .args(&[
            "discover",
            "--format",
            "json",
            "--path",
            &path.to_string_lossy(),
        ])
        .run()
        .status(0);
    let _ = test;
    serde_json::from_str(&out.stdout).unwrap()
}

/// What openssl says about the (first) certificate in `file`, in the inventory's vocabulary;
/// `None` when `openssl x509` cannot read it.
fn openssl_facts(file: &str, dir: &Path) -> Option<serde_json::Map<String, Value>> {
    let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
    let form = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        "PEM"
    } else {
        "DER"
    };
    let out = Command::new("openssl")
        .args([
            "x509",
            "-in",
            file,
            "-inform",
            form,
            "-noout",
            "-nameopt",
            "RFC2253,-esc_msb",
            "-fingerprint",
            "-sha256",
            "-serial",
            "-subject",
            "-issuer",
            "-startdate",
            "-enddate",
            "-text",
        ])
        .current_dir(dir)
        .output()
        .expect("openssl is needed: apt-get install openssl (ci/check.sh does)");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut facts = serde_json::Map::new();
    // openssl prints "Bad time value" for dates it cannot read; those are not compared.
    let date = |v: &str| {
        let t = jiff::fmt::strtime::parse(
            "%b %e %H:%M:%S %Y GMT",
            v.split_whitespace().collect::<Vec<_>>().join(" "),
        )
        .ok()?;
        let zoned = t
            .to_datetime()
            .ok()?
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()?;
        Some(Value::from(
            zoned.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ))
    };
    let mut lines = text.lines().peekable();
    let mut sig_seen = false;
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("sha256 Fingerprint=") {
            facts.insert("sha256".into(), v.replace(':', "").to_lowercase().into());
        } else if let Some(v) = t.strip_prefix("serial=") {
            let v = v.to_lowercase();
            let (sign, digits) = v.strip_prefix('-').map_or(("", v.as_str()), |d| ("-", d));
            let digits = digits.trim_start_matches('0');
            facts.insert(
                "serial".into(),
                format!("{sign}{}", if digits.is_empty() { "0" } else { digits }).into(),
            );
        } else if let Some(v) = t.strip_prefix("subject=") {
            facts.insert("subject".into(), v.into());
        } else if let Some(v) = t.strip_prefix("issuer=") {
            facts.insert("issuer".into(), v.into());
        } else if let Some(v) = t.strip_prefix("notBefore=") {
            if let Some(d) = date(v) {
                facts.insert("not_before".into(), d);
            }
        } else if let Some(v) = t.strip_prefix("notAfter=") {
            if let Some(d) = date(v) {
                facts.insert("not_after".into(), d);
            }
        } else if let Some(v) = t
            .strip_prefix("Signature Algorithm: ")
            .filter(|_| !sig_seen)
        {
            sig_seen = true;
            facts.insert("signature_algorithm".into(), v.into());
        } else if t.contains("Public-Key: (") {
            let bits: u64 = t
                .split('(')
                .nth(1)
                .and_then(|b| b.split(' ').next())
                .and_then(|b| b.parse().ok())
                .unwrap();
            facts.insert("key_bits".into(), bits.into());
        } else if t == "CA:TRUE" || t.starts_with("CA:TRUE,") {
            facts.insert("is_ca".into(), true.into());
        } else if t.starts_with("X509v3 Subject Alternative Name") {
            let sans = lines.next().unwrap_or_default().trim().to_owned();
            let (mut dns, mut ips) = (Vec::new(), Vec::new());
            for san in sans.split(", ") {
                if let Some(d) = san.strip_prefix("DNS:") {
                    dns.push(d.to_owned());
                } else if let Some(ip) = san.strip_prefix("IP Address:") {
                    ips.push(
                        ip.parse::<std::net::IpAddr>()
                            .map(|i| i.to_string())
                            .unwrap_or(ip.to_owned()),
                    );
                }
            }
            dns.sort();
            ips.sort();
            facts.insert("dns_names".into(), dns.into());
            facts.insert("ip_addresses".into(), ips.into());
        }
    }
    facts.entry("is_ca").or_insert(false.into());
    Some(facts)
}

/// Discovers `dir` and checks, for every file `openssl x509` can read (PEM or DER), that our
/// entry for its certificate has openssl's facts, or that we reported the file as malformed.
/// Returns how many certificates were compared.
fn agrees_with_openssl(dir: &Path) -> usize {
    let found = inventory(&Test::new(), dir);
    let credentials = found["credentials"].as_array().unwrap();
    let by_sha: std::collections::BTreeMap<&str, &Value> = credentials
        .iter()
        .map(|c| (c["sha256"].as_str().unwrap(), c))
        .collect();
    let reported: Vec<&str> = found["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["location"].as_str().unwrap())
        .collect();
    // One openssl run per file (PEM when it has PEM markers, else DER), on every core.
    let files: Vec<String> = walk(dir)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = files.len().div_ceil(threads).max(1);
    let results: Vec<(String, Option<serde_json::Map<String, Value>>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|f| (f.clone(), openssl_facts(f, dir)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
    let mut compared = 0;
    for (file, expected) in results {
        let Some(expected) = expected else { continue };
        let Some(ours) = by_sha.get(expected["sha256"].as_str().unwrap()) else {
            assert!(
                reported.contains(&file.as_str()),
                "{file}: openssl reads it, trustops neither inventoried nor reported it"
            );
            continue;
        };
        for (key, value) in &expected {
            assert_eq!(&ours[key.as_str()], value, "{file}: {key}");
        }
        compared += 1;
    }
    compared
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

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
    // Only failing sources: exit 1.
    Test::new()
        .file("s.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: gone}\nspec:\n  files:\n    paths: [/nonexistent/*.pem]\n")
        .args(&["discover"])
        .in_repo()
        .run()
        .status(1);
}

#[test]
fn tls_endpoints_record_the_served_chain_without_verifying_it() {
    // The demo mints an expired chain (billing) and a healthy one (www), signed by its CA.
    let test = Test::new().args(&["--now", "2026-05-01T00:00:00Z", "demo", "demo"]);
    test.run().status(0);
    let pki = test.dir.path().join("demo/pki/hosts/web");
    let nginx = crate::support::Nginx::start(
        test.dir.path(),
        &[
            (
                "billing.demo.example",
                &pki.join("billing.pem"),
                &pki.join("billing.key"),
            ),
            (
                "www.demo.example",
                &pki.join("www.pem"),
                &pki.join("www.key"),
            ),
        ],
    );
    let closed = crate::support::free_port();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let port = nginx.port;
    let source = format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: edge}}\nspec:\n  tls:\n    timeout: 1s\n    endpoints:\n      - address: 127.0.0.1:{port}\n      - address: 127.0.0.1:{port}\n        sni: www.demo.example\n      - address: 127.0.0.1:{closed}\n      - address: 127.0.0.1:{silent_port}\n"
    );
    let out = Test::new()
        .file("sources.yaml", source)
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run()
        .status(0);
    drop(silent);
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let credentials = found["credentials"].as_array().unwrap();
    let places = |cn: &str| -> Vec<String> {
        let c = credentials
            .iter()
            .find(|c| {
                c["subject"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("CN={cn}"))
            })
            .unwrap_or_else(|| panic!("{cn} missing: {found:#}"));
        c["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                format!(
                    "{} {} #{}",
                    l["endpoint"]
                        .as_str()
                        .unwrap()
                        .replace(&port.to_string(), "PORT"),
                    l["server_name"].as_str().unwrap_or("-"),
                    l["index"]
                )
            })
            .collect()
    };
    assert_eq!(
        places("billing.demo.example"),
        ["127.0.0.1:PORT - #0"],
        "default server, no SNI for an IP"
    );
    assert_eq!(
        places("www.demo.example"),
        ["127.0.0.1:PORT www.demo.example #0"]
    );
    assert_eq!(
        places("trustops demo CA"),
        ["127.0.0.1:PORT - #1", "127.0.0.1:PORT www.demo.example #1"]
    );
    let expired = credentials
        .iter()
        .find(|c| c["subject"].as_str().unwrap().starts_with("CN=billing"))
        .unwrap();
    assert_eq!(
        expired["not_after"], "2026-04-29T00:00:00Z",
        "expired chains are recorded as served"
    );
    let problems = problems(&found);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&closed.to_string()) && p.contains("cannot connect")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&silent_port.to_string()) && p.contains("timed out")),
        "{problems:?}"
    );
}

#[test]
fn kubernetes_tls_secrets_and_cert_manager_certificates() {
    let test = Test::new().args(&["--now", "2026-05-01T00:00:00Z", "demo", "demo"]);
    test.run().status(0);
    let web = test.dir.path().join("demo/pki/hosts/web");
    let b64 = |file: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(web.join(file)).unwrap())
    };
    // What `kubectl get secrets,certificates -A -o yaml` prints: one List.
    let export = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  type: kubernetes.io/tls\n  metadata: {{name: www-tls, namespace: web}}\n  data:\n    tls.crt: {}\n    tls.key: {}\n- apiVersion: v1\n  kind: Secret\n  type: Opaque\n  metadata: {{name: db, namespace: web}}\n  data: {{password: aHVudGVyMg==}}\n- apiVersion: cert-manager.io/v1\n  kind: Certificate\n  metadata: {{name: www, namespace: web}}\n  spec: {{secretName: www-tls, issuerRef: {{name: letsencrypt, kind: ClusterIssuer}}, dnsNames: [www.demo.example]}}\n- apiVersion: cert-manager.io/v1\n  kind: Certificate\n  metadata: {{name: api, namespace: web}}\n  spec: {{secretName: api-tls, issuerRef: {{name: letsencrypt}}}}\n",
        b64("www.pem"),
        b64("www.key")
    );
    let second = format!(
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {{name: checkout-tls}}\nstringData:\n  tls.crt: |\n{}\n  tls.key: \"not base64 and not PEM\"\n",
        std::fs::read_to_string(web.join("checkout.pem"))
            .unwrap()
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let out = Test::new()
        .file("sources.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: prod-cluster}\nspec:\n  kubernetes:\n    manifests: [\"cluster/*.yaml\"]\n")
        .file("cluster/export.yaml", export)
        .file("cluster/checkout.yaml", second)
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run()
        .status(0);
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let mut located: Vec<String> = found["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            let what = c["subject"].as_str().map_or_else(
                || format!("{} key", c["key_type"].as_str().unwrap()),
                |s| s.split(',').next().unwrap().to_owned(),
            );
            c["locations"].as_array().unwrap().iter().map(move |l| {
                format!(
                    "{what} @ {} #{} {}",
                    l["object"].as_str().unwrap(),
                    l["index"],
                    l["managed_by"].as_str().unwrap_or("-")
                )
            })
        })
        .collect();
    located.sort();
    assert_eq!(
        located,
        [
            "CN=checkout.demo.example @ default/checkout-tls:tls.crt #0 -",
            "CN=trustops demo CA @ default/checkout-tls:tls.crt #1 -",
            "CN=trustops demo CA @ web/www-tls:tls.crt #1 cert-manager Certificate web/www (issuer letsencrypt)",
            "CN=www.demo.example @ web/www-tls:tls.crt #0 cert-manager Certificate web/www (issuer letsencrypt)",
            "ec key @ web/www-tls:tls.key #0 cert-manager Certificate web/www (issuer letsencrypt)",
        ]
    );
    let problems = problems(&found);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("checkout-tls:tls.key") && p.contains("no certificate or key")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("its secret web/api-tls is not in the manifests")),
        "{problems:?}"
    );
    assert!(
        !out.stdout.contains("aHVudGVyMg"),
        "an Opaque secret's value must not appear"
    );
}

#[test]
fn exec_plugins_report_secrets_by_fingerprint_only() {
    let plugin = crate::support::root().join("examples/exec-plugins/dotenv-inventory.py");
    let source = format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: dotenv}}\nspec:\n  exec:\n    command: [python3, \"{}\", services]\n",
        plugin.display()
    );
    let test = Test::new()
        .file("sources.yaml", &source)
        .file("services/payments/.env", "# payments\nexport DB_PASSWORD=\"hunter2-very-secret\"\nSTRIPE_API_KEY=sk_live_abcdef\n")
        .file("services/ci/deploy.env", "REGISTRY_TOKEN=ghp_0123456789\n")
        .args(&["discover", "--format", "json"])
        .in_repo();
    let out = test.run().status(0);
    for value in ["hunter2-very-secret", "sk_live_abcdef", "ghp_0123456789"] {
        assert!(
            !out.stdout.contains(value),
            "a secret value leaked: {value}"
        );
    }
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let got: Vec<String> = found["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["kind"].as_str().unwrap(),
                c["id"].as_str().unwrap(),
                &c["sha256"].as_str().unwrap()[..12]
            )
        })
        .collect();
    use sha2::Digest;
    let fp = |v: &str| crate::hex12(&sha2::Sha256::digest(v.as_bytes()));
    let mut expected = vec![
        format!(
            "api-key services/payments/.env:STRIPE_API_KEY {}",
            fp("sk_live_abcdef")
        ),
        format!(
            "secret services/payments/.env:DB_PASSWORD {}",
            fp("hunter2-very-secret")
        ),
        format!(
            "token services/ci/deploy.env:REGISTRY_TOKEN {}",
            fp("ghp_0123456789")
        ),
    ];
    expected.sort();
    let mut got = got;
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn broken_exec_plugins_fail_their_source_clearly() {
    let cases = [
        ("exit 3", "exited with Some(3)"),
        (
            "echo 'not json'",
            "output is not the exec inventory contract (line 1",
        ),
        (
            "echo '{\"format_version\": 2, \"credentials\": []}'",
            "unsupported format_version 2",
        ),
        ("sleep 30", "did not finish within 1s"),
    ];
    for (script, expected) in cases {
        let quoted = script.replace('\'', "''");
        let source = format!(
            "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: p}}\nspec:\n  exec:\n    command: [sh, -c, '{quoted}']\n    timeout: 1s\n"
        );
        let out = Test::new()
            .file("s.yaml", source)
            .args(&["discover", "--format", "json"])
            .in_repo()
            .run()
            .status(1);
        assert!(out.stdout.contains(expected), "{script}: {}", out.stdout);
    }
}

#[test]
fn secret_scanner_reports_become_fingerprints_never_values() {
    let gitleaks = r#"[
 {"Description": "AWS Access Key", "StartLine": 12, "EndLine": 12, "StartColumn": 5, "EndColumn": 25,
  "Match": "aws_key = AKIAIOSFODNN7EXAMPLE", "Secret": "AKIAIOSFODNN7EXAMPLE", "File": "deploy/config.py",
  "SymlinkFile": "", "Commit": "3f2a9c1", "Entropy": 3.6, "Author": "dev", "Email": "dev@acme.example",
  "Date": "2026-02-03T10:00:00Z", "Message": "add config", "Tags": [], "RuleID": "aws-access-token",
  "Fingerprint": "3f2a9c1:deploy/config.py:aws-access-token:12"},
 {"Description": "AWS Access Key", "StartLine": 3, "Match": "AKIAIOSFODNN7EXAMPLE", "Secret": "AKIAIOSFODNN7EXAMPLE",
  "File": "old/creds.txt", "Commit": "9d8e7f6", "Date": "2026-01-01T00:00:00Z", "RuleID": "aws-access-token"}
]"#;
    let trufflehog = concat!(
        r#"{"SourceMetadata":{"Data":{"Git":{"commit":"abc123","file":"app/settings.py","email":"dev@acme.example","repository":"https://git.acme.example/app.git","timestamp":"2026-03-04 05:06:07 +0000","line":7}}},"SourceID":1,"SourceType":16,"SourceName":"trufflehog - git","DetectorType":8,"DetectorName":"Github","DecoderName":"PLAIN","Verified":true,"Raw":"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","RawV2":"","Redacted":"","ExtraData":null,"StructuredData":null}"#,
        "\n\n"
    );
    let out = Test::new()
        .file("sources.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: gitleaks}\nspec:\n  scanner: {format: gitleaks, report: reports/gitleaks.json}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: trufflehog}\nspec:\n  scanner: {format: trufflehog, report: reports/trufflehog.jsonl}\n")
        .file("reports/gitleaks.json", gitleaks)
        .file("reports/trufflehog.jsonl", trufflehog)
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run()
        .status(0);
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "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",
    ] {
        assert!(!out.stdout.contains(secret), "a leaked secret was printed");
    }
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let credentials = found["credentials"].as_array().unwrap();
    assert_eq!(
        credentials.len(),
        2,
        "the same AWS key in two places is one entry: {found:#}"
    );
    let aws = credentials
        .iter()
        .find(|c| c["detector"] == "aws-access-token")
        .unwrap();
    use sha2::Digest;
    assert_eq!(
        aws["sha256"].as_str().unwrap()[..12],
        crate::hex12(&sha2::Sha256::digest(b"AKIAIOSFODNN7EXAMPLE"))
    );
    let places: Vec<String> = aws["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}:{}@{}",
                l["path"].as_str().unwrap(),
                l["line"],
                l["commit"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        places,
        ["deploy/config.py:12@3f2a9c1", "old/creds.txt:3@9d8e7f6"]
    );
    let github = credentials
        .iter()
        .find(|c| c["detector"] == "Github")
        .unwrap();
    assert_eq!(github["metadata"]["verified"], "true");
    assert_eq!(github["created"], "2026-03-04T05:06:07Z");
    assert_eq!(
        github["locations"][0]["repository"],
        "https://git.acme.example/app.git"
    );

    // A malformed report fails its source, and the message names a position, never a value.
    let broken = r#"[{"RuleID": "x", "File": "a", "StartLine": "AKIAIOSFODNN7EXAMPLE", "Secret": "AKIAIOSFODNN7EXAMPLE"}]"#;
    let out = Test::new()
        .file("s.yaml", "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {name: g}\nspec:\n  scanner: {format: gitleaks, report: r.json}\n")
        .file("r.json", broken)
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run()
        .status(1);
    assert!(
        out.stdout.contains("is not a gitleaks JSON report (line 1"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("AKIA") && !out.stderr.contains("AKIA"),
        "a secret leaked into an error"
    );
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
