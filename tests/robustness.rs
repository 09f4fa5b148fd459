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
