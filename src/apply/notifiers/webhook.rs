//! Webhook notifier: POSTs `{"text": "…", "target": "…"}` (Slack- and Teams-compatible) to a URL
//! held in an environment variable, over HTTP or HTTPS (the system's root certificates), with
//! three attempts and growing pauses. The URL is a secret: it appears in no message.

use super::{Message, Notifier};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// A webhook, configured.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// The environment variable holding the URL (named in messages instead of the URL).
    pub env: String,
    /// Delivery attempts.
    pub attempts: u32,
    /// Pause before the second attempt; doubled after each.
    pub backoff: Duration,
}

impl Webhook {
    /// A webhook whose URL is in `env`.
    pub fn from_env(env: &str) -> Self {
        Webhook {
            env: env.to_owned(),
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

impl Notifier for Webhook {
    fn send(&self, message: &Message) -> Result<String, String> {
        let url = std::env::var(&self.env)
            .map_err(|_| format!("${} is not set, so the webhook has no URL", self.env))?;
        let body = serde_json::json!({"text": message.text, "target": message.target}).to_string();
        let mut pause = self.backoff;
        let mut last = String::new();
        for attempt in 1..=self.attempts.max(1) {
            match post(&url, &body) {
                Ok(status) if (200..300).contains(&status) => {
                    return Ok(format!("webhook ${} answered {status}", self.env));
                }
                Ok(status) => last = format!("answered {status}"),
                Err(e) => last = e,
            }
            if attempt < self.attempts {
                std::thread::sleep(pause);
                pause *= 2;
            }
        }
        Err(format!(
            "webhook ${} failed after {} attempts: {last}",
            self.env, self.attempts
        ))
    }
}

/// POSTs `body` as JSON to `url`; returns the HTTP status. Errors never include the URL.
fn post(url: &str, body: &str) -> Result<u16, String> {
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
        let config = client_config()?;
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
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "no HTTP answer".to_owned())
}

/// A TLS client trusting the system's roots (`SSL_CERT_FILE`, else the Debian bundle).
fn client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let bundle = std::env::var("SSL_CERT_FILE")
        .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into());
    let text =
        std::fs::read(&bundle).map_err(|e| format!("cannot read the roots in {bundle}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for der in crate::discover::pem_certificates(&text) {
        let _ = roots.add(rustls::pki_types::CertificateDer::from(der));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
