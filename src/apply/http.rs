//! A minimal HTTP/1.1 client for JSON POSTs (webhooks, CA APIs): HTTP or HTTPS with the
//! system's root certificates plus any extra roots (a private CA's `caFile`), one request per connection, no redirects.
//! Errors never include the URL (webhook URLs are secrets).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// POSTs `body` as JSON to `url`, trusting the roots in `extra_roots` (PEM) besides the
/// system's; returns the HTTP status and the response body.
pub fn post_json(
    url: &str,
    body: &str,
    extra_roots: Option<&std::path::Path>,
) -> Result<(u16, Vec<u8>), String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("the URL is neither http:// nor https://".into());
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p.parse().unwrap_or(443)),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    let address = (host, port)
        .to_socket_addrs()
        .map_err(|_| "the host does not resolve".to_owned())?
        .next()
        .ok_or("the host does not resolve")?;
    let timeout = Duration::from_secs(10);
    let mut tcp = TcpStream::connect_timeout(&address, timeout)
        .map_err(|e| format!("cannot connect: {}", e.kind()))?;
    let _ = tcp.set_read_timeout(Some(timeout));
    let _ = tcp.set_write_timeout(Some(timeout));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nUser-Agent: trustops/{}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        env!("CARGO_PKG_VERSION")
    );
    let mut response = Vec::new();
    if tls {
        let config = client_config(extra_roots)?;
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| "the host is not a valid TLS name".to_owned())?;
        let connection = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("TLS: {e}"))?;
        let _ = stream.read_to_end(&mut response);
    } else {
        tcp.write_all(request.as_bytes())
            .map_err(|e| format!("cannot send: {}", e.kind()))?;
        let _ = tcp.read_to_end(&mut response);
    }
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "no HTTP answer".to_owned())?;
    let body = memchr::memmem::find(&response, b"\r\n\r\n")
        .map(|i| response[i + 4..].to_vec())
        .unwrap_or_default();
    Ok((status, body))
}

/// A TLS client trusting the system's roots (`SSL_CERT_FILE`, else the Debian bundle, when
/// present) and those in `extra`.
fn client_config(extra: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let bundle = std::env::var("SSL_CERT_FILE")
        .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into());
    let mut roots = rustls::RootCertStore::empty();
    let system = std::fs::read(&bundle);
    if system.is_err() && extra.is_none() {
        return Err(format!("cannot read the system roots in {bundle}"));
    }
    let mut add = |text: &[u8]| {
        for der in crate::discover::pem_certificates(text) {
            let _ = roots.add(rustls::pki_types::CertificateDer::from(der));
        }
    };
    if let Ok(text) = system {
        add(&text);
    }
    if let Some(path) = extra {
        let text = std::fs::read(path)
            .map_err(|e| format!("cannot read the roots in {}: {e}", path.display()))?;
        if crate::discover::pem_certificates(&text).is_empty() {
            return Err(format!("{} holds no PEM certificate", path.display()));
        }
        add(&text);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
