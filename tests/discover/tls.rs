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

/// A TLS source none of whose endpoints answers failed as a whole, in a way that may pass: the
/// inventory says so (and `discover` exits 1, its only source having failed).
#[test]
fn a_source_with_no_endpoint_reachable_failed_in_a_way_that_may_pass() {
    let closed = crate::support::free_port();
    let out = Test::new()
        .file("sources.yaml", format!("apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: edge}}\nspec:\n  tls:\n    timeout: 1s\n    endpoints:\n      - address: 127.0.0.1:{closed}\n"))
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run()
        .status(1);
    let found: Value = serde_json::from_str(&out.stdout).unwrap();
    let failed = &found["diagnostics"][0];
    assert_eq!(failed["location"], "source edge");
    assert_eq!(
        failed["source_failed"],
        serde_json::json!({"source": "edge", "retry": "retryable"})
    );
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .starts_with("no endpoint could be reached"),
        "{failed}"
    );
}

/// A source of endpoints that never finish a handshake: some accept and stay silent, one
/// trickles a TLS record one byte every 250 ms (a deadline checked only between reads never
/// fires on it). Each is cut off at the timeout, all at once: the whole source costs about one
/// timeout, not one per endpoint or per batch.
#[test]
fn endpoints_that_stall_or_trickle_cost_no_more_than_the_timeout_in_total() {
    use std::io::Write;
    // Twenty listeners nobody answers on (the kernel completes the TCP handshake).
    let silent: Vec<std::net::TcpListener> = (0..20)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let trickle = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let trickle_port = trickle.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in trickle.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                // A handshake record announcing 16 KiB, then one byte at a time.
                if stream.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]).is_err() {
                    return;
                }
                for _ in 0..400 {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    if stream.write_all(&[0]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut endpoints = format!("      - address: 127.0.0.1:{trickle_port}\n");
    for listener in &silent {
        let port = listener.local_addr().unwrap().port();
        endpoints.push_str(&format!("      - address: 127.0.0.1:{port}\n"));
    }
    let source = format!(
        "apiVersion: trustops.dev/v1alpha1\nkind: Source\nmetadata: {{name: stalled}}\nspec:\n  tls:\n    timeout: 2s\n    endpoints:\n{endpoints}"
    );
    let start = std::time::Instant::now();
    let out = Test::new()
        .file("sources.yaml", source)
        .args(&["discover", "--format", "json"])
        .in_repo()
        .run();
    let took = start.elapsed();
    assert!(
        took < std::time::Duration::from_millis(3_500),
        "21 stalled endpoints with a 2 s timeout took {took:?}\n{}{}",
        out.stdout,
        out.stderr
    );
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("timed out"), "{said}");
    assert!(
        said.contains(&format!("127.0.0.1:{trickle_port}")),
        "{said}"
    );
}
