//! The exec source and its example plugin.

use super::*;

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
