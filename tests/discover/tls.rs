//! The tls source against a real nginx.

use super::*;

#[test]
fn tls_endpoints_record_the_served_chain_without_verifying_it() {
    // The demo's chains (billing, www), signed by its CA, minted and renewed at --now.
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
    // The demo (at --now 2026-05-01) renewed billing for 90 days: expired by any real clock
    // after July 2026, and recorded as served all the same.
    let not_after: jiff::Timestamp = expired["not_after"].as_str().unwrap().parse().unwrap();
    assert!(
        not_after < jiff::Timestamp::now(),
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
