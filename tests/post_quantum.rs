//! The post-quantum migration: ML-DSA, ML-KEM, SLH-DSA and composite certificates and keys
//! (the IETF's own examples) inventoried by parameter set and NIST security category, private
//! keys paired with their certificates, every key classed quantum-vulnerable, quantum-safe or
//! hybrid, and a Policy's `postQuantum` deadline turning the
//! classical keys under it into `quantum-vulnerable` findings — and not an ML-DSA one.

use crate::support::{Test, root};
use serde_json::Value;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `discover --path` over `paths`, as JSON.
fn discovered(paths: &[&std::path::Path]) -> (Value, String) {
    let mut args = vec!["discover".to_owned()];
    for path in paths {
        args.extend(["--path".to_owned(), path.to_string_lossy().into_owned()]);
    }
    args.extend(["--format".to_owned(), "json".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = Test::new().args(&args).run().status(0);
    (json(&out.stdout), out.stdout)
}

fn corpus() -> std::path::PathBuf {
    root().join("tests/fixtures/pqc")
}

#[test]
fn the_ietf_examples_are_inventoried_by_parameter_set_category_and_class() {
    let (inventory, stdout) = discovered(&[&corpus()]);
    assert_eq!(
        inventory["diagnostics"],
        serde_json::json!([]),
        "{inventory:#}"
    );
    let credentials = inventory["credentials"].as_array().unwrap();
    let mut certificates: Vec<String> = credentials
        .iter()
        .filter(|c| c["kind"] == "x509-certificate")
        .map(|c| {
            format!(
                "{} {} category {} {} signed {}",
                c["parameter_set"].as_str().unwrap(),
                c["key_type"].as_str().unwrap(),
                c["security_category"],
                c["quantum_safety"].as_str().unwrap(),
                c["signature_algorithm"].as_str().unwrap(),
            )
        })
        .collect();
    certificates.sort();
    assert_eq!(
        certificates,
        [
            "ML-DSA-44 ml-dsa category 2 safe signed ML-DSA-44",
            "ML-DSA-65 ml-dsa category 3 safe signed ML-DSA-65",
            "ML-DSA-87 ml-dsa category 5 safe signed ML-DSA-87",
            // The ML-KEM draft's example is issued by an ML-DSA-65 CA.
            "ML-KEM-768 ml-kem category 3 safe signed ML-DSA-65",
            "MLDSA44-Ed25519-SHA512 composite-ml-dsa category 2 hybrid signed MLDSA44-Ed25519-SHA512",
            "MLDSA44-RSA2048-PSS-SHA256 composite-ml-dsa category 2 hybrid signed MLDSA44-RSA2048-PSS-SHA256",
            "MLDSA65-ECDSA-P256-SHA512 composite-ml-dsa category 3 hybrid signed MLDSA65-ECDSA-P256-SHA512",
            "MLKEM768-X25519-SHA3-256 composite-ml-kem category 3 hybrid signed ML-DSA-65",
            "SLH-DSA-SHA2-128s slh-dsa category 1 safe signed SLH-DSA-SHA2-128s",
        ]
    );
    // The public keys on their own are inventoried too, as the keys the certificates hold.
    let public: Vec<&Value> = credentials
        .iter()
        .filter(|c| c["kind"] == "public-key")
        .collect();
    assert_eq!(public.len(), 3, "{public:#?}");
    for key in public {
        assert!(
            credentials.iter().any(|c| c["kind"] == "x509-certificate"
                && c["public_key_sha256"] == key["sha256"]),
            "{key:#}"
        );
    }
    // The keys themselves are never printed: no line of any key file appears.
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "priv") {
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text
                .lines()
                .filter(|l| !l.starts_with("-----") && l.len() > 16)
            {
                assert!(!stdout.contains(line), "{} printed", path.display());
            }
        }
    }
}

#[test]
fn every_post_quantum_private_key_pairs_with_its_certificate_in_each_encoding() {
    let (whole, _) = discovered(&[&corpus()]);
    let certificate_key = |parameter_set: &str| {
        let credentials = whole["credentials"].as_array().unwrap();
        let certificate = credentials
            .iter()
            .find(|c| c["kind"] == "x509-certificate" && c["parameter_set"] == parameter_set);
        certificate.unwrap()["public_key_sha256"].clone()
    };
    // Each file on its own: the key derived from a seed (FIPS 204 / FIPS 203 key generation),
    // from an expanded key, from both (which must agree), from the end of an SLH-DSA key, and
    // from both halves of a composite.
    for (file, parameter_set, encoding) in [
        ("ML-DSA-44-seed.priv", "ML-DSA-44", Some("seed")),
        ("ML-DSA-44-expanded.priv", "ML-DSA-44", Some("expanded")),
        ("ML-DSA-44-both.priv", "ML-DSA-44", Some("both")),
        ("ML-KEM-768-seed.priv", "ML-KEM-768", Some("seed")),
        ("ML-KEM-768-expanded.priv", "ML-KEM-768", Some("expanded")),
        ("ML-KEM-768-both.priv", "ML-KEM-768", Some("both")),
        ("id-slh-dsa-sha2-128s.priv", "SLH-DSA-SHA2-128s", None),
        (
            "MLDSA44-Ed25519-SHA512.priv",
            "MLDSA44-Ed25519-SHA512",
            None,
        ),
        (
            "MLDSA44-RSA2048-PSS-SHA256.priv",
            "MLDSA44-RSA2048-PSS-SHA256",
            None,
        ),
    ] {
        let (alone, _) = discovered(&[&corpus().join(file)]);
        let key = &alone["credentials"][0];
        assert_eq!(key["kind"], "private-key", "{file}");
        assert_eq!(key["parameter_set"], parameter_set, "{file}");
        assert_eq!(
            key["public_key_sha256"],
            certificate_key(parameter_set),
            "{file} pairs with its certificate"
        );
        assert_eq!(key["sha256"], key["public_key_sha256"], "{file}");
        assert_eq!(
            key["metadata"]["private_key_encoding"].as_str(),
            encoding,
            "{file}"
        );
    }
    // What cannot be derived here is named and classed, identified by a hash of the key file:
    // an EC half without its public point, an X25519 half.
    for (file, parameter_set) in [
        (
            "MLDSA65-ECDSA-P256-SHA512.priv",
            "MLDSA65-ECDSA-P256-SHA512",
        ),
        ("MLKEM768-X25519-SHA3-256.priv", "MLKEM768-X25519-SHA3-256"),
    ] {
        let (alone, _) = discovered(&[&corpus().join(file)]);
        let key = &alone["credentials"][0];
        assert_eq!(key["parameter_set"], parameter_set, "{file}");
        assert_eq!(key["quantum_safety"], "hybrid", "{file}");
        assert_eq!(key["public_key_sha256"], Value::Null, "{file}");
    }
}

#[test]
fn a_key_whose_seed_and_expanded_halves_disagree_is_reported_not_paired() {
    use base64::Engine;
    let text = std::fs::read_to_string(corpus().join("ML-DSA-44-both.priv")).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    // RFC 9881's example seed is 00 01 … 1f; another seed is another key.
    let seed: Vec<u8> = (0..32).collect();
    let at = der.windows(32).position(|w| w == seed).unwrap();
    der[at] ^= 0xff;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    let test = Test::new().file("tampered.key", pem);
    let (inventory, _) = discovered(&[&test.dir.path().join("tampered.key")]);
    let diagnostics = inventory["diagnostics"].to_string();
    assert!(
        diagnostics.contains("tampered.key")
            && diagnostics.contains(
                "ML-DSA-44 private key: its seed and expanded key belong to different keys"
            ),
        "{inventory:#}"
    );
    assert_eq!(inventory["credentials"], serde_json::json!([]));
}

/// The demo with an ML-DSA identity beside its EC and RSA ones, and a post-quantum deadline
/// on both policies, planned at `now`: the demo (kept while it lives), its repository, the plan.
fn planned_with_a_deadline(now: &str) -> (Test, std::path::PathBuf, Value) {
    let test = Test::new().args(&["--now", now, "demo", "demo"]);
    test.run().status(0);
    let demo = test.dir.path().join("demo");
    let repo = demo.join("repo");
    std::fs::create_dir_all(demo.join("pki/hosts/pq")).unwrap();
    for (from, to) in [
        ("ML-DSA-44.crt", "lamps.pem"),
        ("ML-DSA-44.pub", "lamps-public.pem"),
    ] {
        std::fs::copy(
            root().join("tests/fixtures/pqc").join(from),
            demo.join("pki/hosts/pq").join(to),
        )
        .unwrap();
    }
    let policies = std::fs::read_to_string(repo.join("policies.yaml")).unwrap();
    let deadline = "  postQuantum: {requiredBy: 2028-12-31, warnFrom: 2027-01-01}\n  keyAlgorithms:\n    - {type: ml-dsa}\n";
    let policies = policies.replace("  keyAlgorithms:\n", deadline);
    assert_eq!(policies.matches("postQuantum").count(), 2, "{policies}");
    std::fs::write(repo.join("policies.yaml"), policies).unwrap();
    let mut identities = std::fs::read_to_string(repo.join("identities.yaml")).unwrap();
    identities.push_str(
        "---\napiVersion: trustops.dev/v1alpha1\nkind: Identity\nmetadata:\n  name: lamps\nspec:\n  owner: payments\n  workload: spiffe://demo.trustops.dev/ns/payments/sa/lamps\n  policy: internal-mtls\n  credentials:\n    - name: tls\n      type: x509-certificate\n      match: {subject: \"CN=LAMPS WG,O=IETF\", source: hosts}\n",
    );
    std::fs::write(repo.join("identities.yaml"), identities).unwrap();
    let out = Test::new()
        .args(&[
            "--repo",
            &repo.to_string_lossy(),
            "--now",
            now,
            "plan",
            "--format",
            "json",
        ])
        .run();
    assert!(out.code == 0, "{}{}", out.stdout, out.stderr);
    let plan = json(&out.stdout);
    (test, repo, plan)
}

#[test]
fn a_post_quantum_deadline_flags_the_classical_keys_and_not_the_ml_dsa_one() {
    let (_demo, repo, plan) = planned_with_a_deadline("2027-06-01T00:00:00Z");
    let lamps = plan["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identity"] == "lamps")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert!(
        lamps["current"].is_object(),
        "the ML-DSA certificate is found: {lamps:#}"
    );
    let flagged: Vec<&Value> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "quantum-vulnerable")
        .collect();
    let mut identities: Vec<&str> = flagged
        .iter()
        .filter_map(|f| f["identity"].as_str())
        .collect();
    identities.sort_unstable();
    identities.dedup();
    assert!(!identities.contains(&"lamps"), "{identities:?}");
    // A public key on its own is inventory, not a credential someone must own.
    assert!(
        !plan["findings"].as_array().unwrap().iter().any(|f| {
            f["code"] == "unmanaged" && f["message"].as_str().unwrap().contains("public-key")
        }),
        "{plan:#}"
    );
    for expected in ["payments-api", "www"] {
        assert!(
            identities.contains(&expected),
            "{expected} in {identities:?}"
        );
    }
    let key_types: std::collections::BTreeSet<&str> = flagged
        .iter()
        .filter_map(|f| f["evidence"]["key_type"].as_str())
        .collect();
    assert!(key_types.contains("ec"), "{key_types:?}");
    // 19 months before the deadline: medium, rising as it nears.
    assert!(
        flagged.iter().all(|f| f["severity"] == "medium"),
        "{flagged:#?}"
    );
    assert!(
        flagged[0]["message"]
            .as_str()
            .unwrap()
            .contains("required by 2028-12-31")
    );

    // The report's readiness section and the metrics gauge say the same.
    let repo_arg = repo.to_string_lossy().into_owned();
    let at = ["--repo", &repo_arg, "--now", "2027-06-01T00:00:00Z"];
    let report = Test::new()
        .args(&at)
        .args(&["report"])
        .run()
        .status(0)
        .stdout;
    let section = report
        .split("## Post-quantum readiness")
        .nth(1)
        .unwrap_or_else(|| panic!("{report}"));
    let section = section.split("\n## ").next().unwrap();
    assert!(
        section.contains("quantum-safe (ML-DSA, SLH-DSA, ML-KEM)"),
        "{section}"
    );
    assert!(
        section.contains("| payments-api/mtls | payments | ec | 2028-12-31 | medium |"),
        "{section}"
    );
    assert!(!section.contains("lamps/tls |"), "{section}");
    let metrics = Test::new()
        .args(&at)
        .args(&["metrics"])
        .run()
        .status(0)
        .stdout;
    assert!(
        metrics.contains("trustops_quantum_safety_credentials{class=\"safe\",owner=\"payments\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "trustops_quantum_safety_credentials{class=\"vulnerable\",owner=\"payments\"}"
        ),
        "{metrics}"
    );

    // Past the deadline: critical. Before warnFrom: nothing.
    let (_, _, late) = planned_with_a_deadline("2029-02-01T00:00:00Z");
    let severities: std::collections::BTreeSet<&str> = late["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "quantum-vulnerable")
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert_eq!(severities.into_iter().collect::<Vec<_>>(), ["critical"]);
    let (_, _, early) = planned_with_a_deadline("2026-12-01T00:00:00Z");
    assert!(
        !early["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "quantum-vulnerable"),
        "nothing before warnFrom"
    );
}

/// `bom` passes the official CycloneDX 1.6 JSON schema (cyclonedx-python-lib's strict
/// validator), and every dependency names a component of the BOM.
#[track_caller]
fn valid_cbom(bom: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bom.json");
    std::fs::write(&file, bom).unwrap();
    let said = crate::support::python(
        "import sys\ntry:\n    from cyclonedx.validation.json import JsonStrictValidator\n    from cyclonedx.schema import SchemaVersion\nexcept ImportError:\n    sys.exit(\"missing Python module: python3 -m pip install 'cyclonedx-python-lib[json-validation]' (ci/check.sh does)\")\nerror = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nprint(error or 'valid')",
        &[&file.to_string_lossy()],
    );
    assert_eq!(said.trim(), "valid", "{said}");
    let bom = json(bom);
    assert_eq!(bom["specVersion"], "1.6");
    let refs: std::collections::BTreeSet<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    for d in bom["dependencies"].as_array().unwrap() {
        for r in std::iter::once(&d["ref"]).chain(d["dependsOn"].as_array().unwrap()) {
            assert!(refs.contains(r.as_str().unwrap()), "{r} is a component");
        }
    }
    bom
}

fn property<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    component["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

#[test]
fn the_cbom_of_the_demo_and_of_acme_corp_passes_the_cyclonedx_schema() {
    // The demo, discovered: certificates, their keys and algorithms, no key material.
    let test = Test::new().args(&["--now", "2026-05-01T12:00:00Z", "demo", "demo"]);
    test.run().status(0);
    let repo = test.dir.path().join("demo/repo");
    let out = Test::new()
        .args(&[
            "--repo",
            &repo.to_string_lossy(),
            "discover",
            "--format",
            "cyclonedx",
        ])
        .run()
        .status(0);
    let bom = valid_cbom(&out.stdout);
    let components = bom["components"].as_array().unwrap();
    let algorithm = |name: &str| {
        components
            .iter()
            .find(|c| c["bom-ref"] == format!("algorithm:{name}"))
            .unwrap_or_else(|| panic!("algorithm {name}: {bom:#}"))
    };
    assert_eq!(
        algorithm("EC-prime256v1")["cryptoProperties"]["algorithmProperties"]["nistQuantumSecurityLevel"],
        0,
        "quantum-vulnerable"
    );
    assert_eq!(
        algorithm("ecdsa-with-SHA256")["cryptoProperties"]["algorithmProperties"]["primitive"],
        "signature"
    );
    let certificate = components
        .iter()
        .find(|c| c["cryptoProperties"]["assetType"] == "certificate")
        .unwrap();
    let properties = &certificate["cryptoProperties"]["certificateProperties"];
    for field in [
        "subjectName",
        "issuerName",
        "notValidAfter",
        "signatureAlgorithmRef",
        "subjectPublicKeyRef",
    ] {
        assert!(properties[field].is_string(), "{field}: {certificate:#}");
    }
    assert!(
        components
            .iter()
            .any(|c| c["bom-ref"].as_str().unwrap().starts_with("private-key:"))
    );
    for entry in walkdir::WalkDir::new(test.dir.path().join("demo/pki")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "key") {
            let key = std::fs::read_to_string(entry.path()).unwrap();
            for line in key
                .lines()
                .filter(|l| !l.starts_with("-----") && l.len() > 16)
            {
                assert!(
                    !out.stdout.contains(line),
                    "{} printed",
                    entry.path().display()
                );
            }
        }
    }

    // acme-corp, planned from its three zones: each declared credential with its owner.
    let example = root().join("examples/acme-corp");
    let inventories = example.join("inventories");
    let out = Test::new()
        .args(&[
            "--repo",
            &example.to_string_lossy(),
            "--now",
            "2026-06-01",
            "plan",
            "--format",
            "cyclonedx",
        ])
        .args(&[
            "--inventory",
            &inventories.join("web-hosts.json").to_string_lossy(),
        ])
        .args(&[
            "--inventory",
            &inventories.join("prod-cluster.json").to_string_lossy(),
        ])
        .args(&[
            "--inventory",
            &inventories.join("vault.json").to_string_lossy(),
        ])
        .run();
    assert!(out.code == 0 || out.code == 2, "{}", out.stderr);
    let bom = valid_cbom(&out.stdout);
    let declared: Vec<&Value> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| property(c, "trustops:identity").is_some())
        .collect();
    assert!(!declared.is_empty(), "{bom:#}");
    assert!(declared.iter().all(
        |c| property(c, "trustops:owner").is_some() && property(c, "trustops:policy").is_some()
    ));
}

#[test]
fn the_cbom_of_the_post_quantum_corpus_names_each_family_and_its_level() {
    let out = Test::new()
        .args(&[
            "discover",
            "--path",
            &corpus().to_string_lossy(),
            "--format",
            "cyclonedx",
        ])
        .run()
        .status(0);
    let bom = valid_cbom(&out.stdout);
    let mut algorithms: Vec<String> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cryptoProperties"]["assetType"] == "algorithm")
        .map(|c| {
            let properties = &c["cryptoProperties"]["algorithmProperties"];
            format!(
                "{} {} {} level {} {}",
                c["name"].as_str().unwrap(),
                properties["primitive"].as_str().unwrap(),
                properties["parameterSetIdentifier"].as_str().unwrap_or("-"),
                properties["nistQuantumSecurityLevel"],
                c["cryptoProperties"]["oid"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    algorithms.sort();
    assert_eq!(
        algorithms,
        [
            "ML-DSA-44 signature 44 level 2 2.16.840.1.101.3.4.3.17",
            "ML-DSA-65 signature 65 level 3 2.16.840.1.101.3.4.3.18",
            "ML-DSA-87 signature 87 level 5 2.16.840.1.101.3.4.3.19",
            "ML-KEM-768 kem 768 level 3 2.16.840.1.101.3.4.4.2",
            "MLDSA44-Ed25519-SHA512 signature 44 level 2 1.3.6.1.5.5.7.6.39",
            "MLDSA44-RSA2048-PSS-SHA256 signature 44 level 2 1.3.6.1.5.5.7.6.37",
            "MLDSA65-ECDSA-P256-SHA512 signature 65 level 3 1.3.6.1.5.5.7.6.45",
            "MLKEM768-X25519-SHA3-256 kem 768 level 3 1.3.6.1.5.5.7.6.58",
            "SLH-DSA-SHA2-128s signature 128s level 1 2.16.840.1.101.3.4.3.20",
        ]
    );
}
