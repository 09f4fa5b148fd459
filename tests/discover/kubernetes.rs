//! The kubernetes source.

use super::*;

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
