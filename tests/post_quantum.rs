//! The post-quantum migration: ML-DSA certificates and keys (RFC 9881's own examples)
//! inventoried by parameter set and NIST security category, every key classed
//! quantum-vulnerable or quantum-safe, and a Policy's `postQuantum` deadline turning the
//! classical keys under it into `quantum-vulnerable` findings — and not an ML-DSA one.

use crate::support::{Test, root};
use serde_json::Value;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn the_rfc_9881_examples_are_inventoried_by_parameter_set_and_category() {
    let corpus = root().join("tests/fixtures/pqc");
    let out = Test::new()
        .args(&[
            "discover",
            "--path",
            &corpus.to_string_lossy(),
            "--format",
            "json",
        ])
        .run()
        .status(0);
    let inventory = json(&out.stdout);
    assert_eq!(
        inventory["diagnostics"],
        serde_json::json!([]),
        "{inventory:#}"
    );
    let credentials = inventory["credentials"].as_array().unwrap();
    let mut certificates: Vec<(String, u64, String)> = credentials
        .iter()
        .filter(|c| c["kind"] == "x509-certificate")
        .map(|c| {
            assert_eq!(c["key_type"], "ml-dsa");
            assert_eq!(c["quantum_safety"], "safe");
            assert_eq!(c["signature_algorithm"], c["parameter_set"], "self-signed");
            (
                c["parameter_set"].as_str().unwrap().to_owned(),
                c["security_category"].as_u64().unwrap(),
                c["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    certificates.sort();
    assert_eq!(
        certificates,
        [("ML-DSA-44", 2), ("ML-DSA-65", 3), ("ML-DSA-87", 5)].map(|(p, c)| (
            p.to_owned(),
            c,
            "CN=LAMPS WG,O=IETF".to_owned()
        ))
    );
    let mut encodings: Vec<&str> = credentials
        .iter()
        .filter(|c| c["kind"] == "private-key")
        .map(|c| {
            assert_eq!(c["parameter_set"], "ML-DSA-44");
            assert_eq!(c["quantum_safety"], "safe");
            c["metadata"]["private_key_encoding"].as_str().unwrap()
        })
        .collect();
    encodings.sort_unstable();
    assert_eq!(encodings, ["both", "expanded", "seed"]);
    // The public key on its own is inventoried too, as the same key the certificate holds.
    let public: Vec<&Value> = credentials
        .iter()
        .filter(|c| c["kind"] == "public-key")
        .collect();
    assert_eq!(public.len(), 1, "{public:#?}");
    assert_eq!(public[0]["parameter_set"], "ML-DSA-44");
    let certificate = credentials
        .iter()
        .find(|c| c["kind"] == "x509-certificate" && c["parameter_set"] == "ML-DSA-44")
        .unwrap();
    assert_eq!(public[0]["sha256"], certificate["public_key_sha256"]);
    // The keys themselves are never printed: no line of any key file appears.
    for file in [
        "ML-DSA-44-seed.priv",
        "ML-DSA-44-expanded.priv",
        "ML-DSA-44-both.priv",
    ] {
        let text = std::fs::read_to_string(corpus.join(file)).unwrap();
        for line in text
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 16)
        {
            assert!(!out.stdout.contains(line), "{file} printed");
        }
    }
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
