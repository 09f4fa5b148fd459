//! No panic on any input: truncated, binary, deeply nested and hostile YAML all become
//! diagnostics, quickly.

use crate::support::{Test, root};
use std::time::Instant;
use trustops::diag::Code;
use trustops::load::{Input, from_inputs};

fn load(text: impl Into<Vec<u8>>) -> trustops::load::Outcome {
    from_inputs(vec![Input {
        path: "x.yaml".into(),
        bytes: text.into(),
    }])
}

fn codes(outcome: &trustops::load::Outcome) -> Vec<Code> {
    outcome.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn every_truncation_of_a_real_file_loads_without_panic() {
    let text = std::fs::read(root().join("examples/acme-corp/identities/payments.yaml")).unwrap();
    for end in (0..text.len()).step_by(3) {
        // Cut anywhere, even inside a UTF-8 sequence: the loader reports, never panics.
        let outcome = load(text[..end].to_vec());
        for d in &outcome.diagnostics {
            assert!(!d.message.is_empty());
        }
    }
}

#[test]
fn binary_and_non_utf8_input_are_unreadable() {
    let outcome = load(vec![0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3]);
    assert_eq!(codes(&outcome), [Code::Unreadable]);
    let outcome = load(vec![b'a', b':', b' ', 0xff, 0xfe]);
    assert_eq!(codes(&outcome), [Code::Unreadable]);
    let mut noise = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        noise.push((x >> 16) as u8);
    }
    let _ = load(noise);
}

#[test]
fn deep_nesting_is_refused_quickly() {
    for text in [
        format!(
            "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {{name: a, labels: {}}}\n",
            "[".repeat(20_000)
        ),
        format!(
            "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nspec:\n  contacts: {}x\n",
            "- ".repeat(20_000)
        ),
        format!("{}{}", "{a: ".repeat(20_000), "}".repeat(20_000)),
    ] {
        let start = Instant::now();
        let outcome = load(text);
        assert!(!outcome.diagnostics.is_empty());
        assert!(
            start.elapsed().as_secs_f64() < 1.0,
            "took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn alias_bombs_are_refused_quickly() {
    let start = Instant::now();
    let text = std::fs::read(root().join("examples/invalid/yaml-limit.yaml")).unwrap();
    let outcome = load(text);
    assert_eq!(codes(&outcome), [Code::YamlLimit]);
    assert!(
        start.elapsed().as_secs_f64() < 1.0,
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn huge_scalars_and_files_are_refused() {
    let big = format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata:\n  name: a\n  annotations: {{x: \"{}\"}}\nspec: {{}}\n",
        "y".repeat(8 << 20)
    );
    let outcome = load(big.clone());
    assert_eq!(
        codes(&outcome),
        [Code::YamlLimit],
        "{:?}",
        outcome.diagnostics
    );
    let out = Test::new()
        .file("huge.yaml", "a".repeat(17 << 20))
        .args(&["validate", "--format", "short"])
        .in_repo()
        .run()
        .status(1);
    assert!(
        out.stdout.contains("error[unreadable]") && out.stdout.contains("16 MiB"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_broken_document_does_not_hide_the_next_one() {
    let text = "apiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: a}\nspec: {bogus: 1}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: b}\nspec: {}\n---\napiVersion: trustops.dev/v1alpha1\nkind: Owner\nmetadata: {name: b}\nspec: {}\n";
    let outcome = load(text);
    assert_eq!(codes(&outcome), [Code::UnknownField, Code::DuplicateName]);
    assert_eq!(outcome.model.owners.len(), 1);
}

/// Every way an inventory file from elsewhere can be odd: reconcile, plan and every renderer
/// take it without panicking.
#[test]
fn plan_survives_hostile_inventories() {
    use serde_json::{Value, json};
    let repo = root().join("tests/fixtures/plan");
    let loaded = trustops::load::load(&trustops::load::Options { repo: repo.clone() }).unwrap();
    let text = std::fs::read_to_string(repo.join("inventory.json")).unwrap();
    let base: Value = serde_json::from_str(&text).unwrap();
    let strings = [
        json!(""),
        json!("é".repeat(40)),
        json!("/"),
        json!("x".repeat(10_000)),
    ];
    let times = [
        json!("9999-12-30T00:00:00Z"),
        json!("-009999-01-03T00:00:00Z"),
    ];
    let mut variants: Vec<Value> = Vec::new();
    let count = base["credentials"].as_array().unwrap().len();
    for field in [
        "sha256",
        "subject",
        "issuer",
        "serial",
        "public_key_sha256",
        "id",
        "signature_algorithm",
    ] {
        for value in &strings {
            let mut v = base.clone();
            for c in v["credentials"].as_array_mut().unwrap() {
                c[field] = value.clone();
            }
            variants.push(v);
        }
    }
    for field in [
        "not_before",
        "not_after",
        "last_rotated",
        "created",
        "expires",
    ] {
        for value in &times {
            let mut v = base.clone();
            for c in v["credentials"].as_array_mut().unwrap() {
                c[field] = value.clone();
            }
            variants.push(v);
        }
    }
    let mut v = base.clone();
    for c in v["credentials"].as_array_mut().unwrap() {
        c["locations"] = json!([]);
        c["dns_names"] = json!(["", "UPPER.TEST", "é.test"]);
        c["key_bits"] = json!(u32::MAX);
    }
    variants.push(v);
    let mut v = base.clone();
    for c in v["credentials"].as_array_mut().unwrap() {
        c["kind"] = json!("private-key");
    }
    variants.push(v);
    let subjects = std::collections::BTreeMap::new();
    for (n, variant) in variants.iter().enumerate() {
        let inventory: trustops::discover::Inventory =
            serde_json::from_value(variant.clone()).unwrap();
        assert_eq!(inventory.credentials.len(), count);
        let inventory = trustops::discover::merge(vec![inventory]);
        let input = trustops::reconcile::Input {
            model: &loaded.model,
            inventory: &inventory,
            now: "2026-06-01T00:00:00Z".parse().unwrap(),
            base: &repo,
            issuer_subjects: &subjects,
            issued_by: &Default::default(),
            revoked: &Default::default(),
            renewal_info: &Default::default(),
        };
        let reconciled = trustops::reconcile::reconcile(&input);
        let mut plan = trustops::plan::plan(&input, reconciled, &Default::default());
        use trustops::render::plan::{Format, Options, write};
        for format in [Format::Text, Format::Markdown, Format::Sarif] {
            let mut out = Vec::new();
            write(&mut out, format, &plan, &Options::default())
                .unwrap_or_else(|e| panic!("variant {n}, {format:?}: {e}"));
        }
        let written = trustops::plan::file::to_json(&mut plan);
        assert!(trustops::plan::file::read(&written).is_ok(), "variant {n}");
    }
}
