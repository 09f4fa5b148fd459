//! `trustops schema`: the checked-in schemas are exactly what the model generates.

use crate::support::{Test, root};

#[test]
fn checked_in_schemas_match_the_model() {
    let out = Test::new()
        .args(&[
            "schema",
            "--check",
            "--out",
            &root().join("schemas").to_string_lossy(),
        ])
        .run();
    assert_eq!(
        out.code, 0,
        "schemas/ is out of date; run `cargo run -- schema`\n{}",
        out.stdout
    );
    for (name, schema) in trustops::schemas::all() {
        let on_disk = std::fs::read_to_string(root().join("schemas").join(&name)).unwrap();
        assert_eq!(on_disk, trustops::schemas::to_file_text(&schema), "{name}");
    }
}

#[test]
fn writes_every_schema_and_check_catches_drift() {
    let test = Test::new().args(&["schema", "--out", "out"]);
    let out = test.run().status(0);
    let published = std::fs::read_dir(crate::support::root().join("schemas"))
        .unwrap()
        .count();
    assert_eq!(out.stdout.lines().count(), published, "{}", out.stdout);
    let policy = test.dir.path().join("out/policy.schema.json");
    let text = std::fs::read_to_string(&policy).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["properties"]["kind"]["const"], "Policy");
    std::fs::write(&policy, text.replace("trustDomain", "trustdomain")).unwrap();
    let check = Test::new()
        .args(&[
            "schema",
            "--check",
            "--out",
            &test.dir.path().join("out").to_string_lossy(),
        ])
        .run()
        .status(1);
    assert!(
        check.stdout.contains("policy.schema.json"),
        "{}",
        check.stdout
    );
}

#[test]
fn document_schema_rejects_unknown_fields_and_kinds() {
    let schema = root().join("schemas/document.schema.json");
    let out = crate::support::python(
        "import json, sys, jsonschema\ns = json.load(open(sys.argv[1]))\nok = {'apiVersion': 'trustops.dev/v1alpha1', 'kind': 'Owner', 'metadata': {'name': 'a'}, 'spec': {}}\nbad_field = dict(ok, spec={'bogus': 1})\nbad_kind = dict(ok, kind='Owners')\nv = jsonschema.Draft7Validator(s)\nprint(v.is_valid(ok), v.is_valid(bad_field), v.is_valid(bad_kind))",
        &[&schema.to_string_lossy()],
    );
    assert_eq!(out.trim(), "True False False");
}
