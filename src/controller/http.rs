//! The controller's endpoints on loopback or a pod's address: `/metrics` (Prometheus text: the
//! last plan's credentials and findings, and the loop's own counters), `/healthz` (the loop is
//! alive) and `/readyz` (the last cycle succeeded within three intervals). Nothing secret is in
//! any answer: the plan holds fingerprints and metadata only.

use super::Status;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Serves the endpoints on a thread of their own until `stop` is raised.
pub(super) fn serve(
    address: SocketAddr,
    status: Arc<Mutex<Status>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = answer(stream, &status);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    Ok(())
}

fn answer(mut stream: TcpStream, status: &Mutex<Status>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&request);
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let (code, content_type, body) = {
        let Ok(status) = status.lock() else {
            return respond(&mut stream, 500, "text/plain", b"status unavailable\n");
        };
        match path {
            "/healthz" if status.healthy() => (200, "text/plain", b"ok\n".to_vec()),
            "/healthz" => (503, "text/plain", b"the loop is stuck\n".to_vec()),
            "/readyz" if status.ready() => (200, "text/plain", b"ready\n".to_vec()),
            "/readyz" => {
                let why = status
                    .last
                    .as_ref()
                    .and_then(|c| c.error.clone())
                    .unwrap_or_else(|| "no cycle has succeeded recently".into());
                (
                    503,
                    "text/plain",
                    format!("not ready: {why}\n").into_bytes(),
                )
            }
            "/metrics" => (200, "text/plain; version=0.0.4", metrics(&status)),
            _ => (
                404,
                "text/plain",
                b"not found: /metrics, /healthz, /readyz\n".to_vec(),
            ),
        }
    };
    respond(&mut stream, code, content_type, &body)
}

fn respond(
    stream: &mut TcpStream,
    code: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    write!(
        stream,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// The last plan's metrics (as `trustops metrics` writes them), then the loop's own.
fn metrics(status: &Status) -> Vec<u8> {
    static NONE: crate::render::metrics::Observed = crate::render::metrics::Observed {
        certificates: Vec::new(),
        sources: Vec::new(),
        quantum: std::collections::BTreeMap::new(),
    };
    let mut out = Vec::new();
    if let Some(plan) = status.last.as_ref().and_then(|c| c.plan.as_ref()) {
        let _ = crate::render::metrics::write(
            &mut out,
            &crate::render::metrics::Inputs {
                plan,
                observed: status.last.as_ref().map_or(&NONE, |c| &c.observed),
                last_apply: None,
                x509_exporter: status.x509_exporter,
            },
        );
    }
    let family = |out: &mut Vec<u8>, name: &str, kind: &str, help: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    let ok = status.cycles - status.failures;
    let _ = writeln!(
        out,
        "# HELP trustops_controller_cycles_total Controller cycles run, by result.\n# TYPE trustops_controller_cycles_total counter\ntrustops_controller_cycles_total{{result=\"ok\"}} {ok}\ntrustops_controller_cycles_total{{result=\"error\"}} {}",
        status.failures
    );
    let last = status.last.as_ref();
    family(
        &mut out,
        "trustops_controller_cycle_duration_seconds",
        "gauge",
        "How long the last cycle took.",
        format!("{:.3}", last.map_or(0.0, |c| c.duration.as_secs_f64())),
    );
    family(
        &mut out,
        "trustops_controller_last_success_timestamp_seconds",
        "gauge",
        "When the last successful cycle ended (Unix time; 0 before the first).",
        status
            .last_success_at
            .map_or(0, |t| t.as_second())
            .to_string(),
    );
    family(
        &mut out,
        "trustops_controller_applies_total",
        "counter",
        "Audit commits the controller made.",
        status.applies.to_string(),
    );
    family(
        &mut out,
        "trustops_controller_rotations_total",
        "counter",
        "Rotations the controller applied.",
        status.rotations.to_string(),
    );
    family(
        &mut out,
        "trustops_controller_declarations_refused",
        "gauge",
        "Whether the remote's newest declarations are invalid (1: the last good ones keep running).",
        u8::from(last.is_some_and(|c| c.invalid_head.is_some())).to_string(),
    );
    let _ = writeln!(
        out,
        "# HELP trustops_controller_issuer_errors_total Issues an issuer failed (the next issuer may have issued).\n# TYPE trustops_controller_issuer_errors_total counter"
    );
    for (issuer, count) in &status.issuer_errors {
        let _ = writeln!(
            out,
            "trustops_controller_issuer_errors_total{{issuer=\"{}\"}} {count}",
            crate::render::metrics::escape(issuer)
        );
    }
    family(
        &mut out,
        "trustops_controller_ready",
        "gauge",
        "1 when the last cycle succeeded within three intervals.",
        u8::from(status.ready()).to_string(),
    );
    out
}
