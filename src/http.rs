//! A minimal HTTP/1.1 client for the few requests trustops makes itself — JSON POSTs to
//! webhooks and CA APIs, CRL downloads, OCSP queries: HTTP or HTTPS with the system's root
//! certificates plus any extra roots (a private CA's `caFile`), one request per connection, no
//! redirects, a deadline for connecting and for each read, and a cap on the answer's size.
//! Errors never include the URL (webhook URLs are secrets).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// One request.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// `http://` or `https://`.
    pub url: &'a str,
    /// The body's media type, for a POST.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// PEM roots trusted besides the system's.
    pub extra_roots: Option<&'a std::path::Path>,
    /// How long connecting, and each read or write, may take.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes.
    pub limit: usize,
    /// Extra header fields (an API token: never shown in errors).
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// A GET of `url` with a 10-second deadline and a 16 MiB cap.
    pub fn get(url: &'a str) -> Self {
        Request {
            method: "GET",
            url,
            content_type: None,
            body: &[],
            extra_roots: None,
            timeout: Duration::from_secs(10),
            limit: 16 << 20,
            headers: &[],
        }
    }

    /// A POST of `body` as `content_type` to `url`, with the same bounds.
    pub fn post(url: &'a str, content_type: &'a str, body: &'a [u8]) -> Self {
        Request {
            method: "POST",
            content_type: Some(content_type),
            body,
            ..Request::get(url)
        }
    }
}

/// POSTs `body` as JSON to `url`, trusting the roots in `extra_roots` (PEM) besides the
/// system's; returns the HTTP status and the response body.
pub fn post_json(
    url: &str,
    body: &str,
    extra_roots: Option<&std::path::Path>,
) -> Result<(u16, Vec<u8>), String> {
    send(&Request {
        extra_roots,
        ..Request::post(url, "application/json", body.as_bytes())
    })
}

/// An answer.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The header fields, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request`; the HTTP status and the (de-chunked) body.
pub fn send(request: &Request<'_>) -> Result<(u16, Vec<u8>), String> {
    exchange(request).map(|r| (r.status, r.body))
}

/// Sends `request`; the whole answer.
pub fn exchange(request: &Request<'_>) -> Result<Response, String> {
    let url = request.url;
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
    let mut tcp = TcpStream::connect_timeout(&address, request.timeout)
        .map_err(|e| format!("cannot connect: {}", e.kind()))?;
    let _ = tcp.set_read_timeout(Some(request.timeout));
    let _ = tcp.set_write_timeout(Some(request.timeout));
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: trustops/{}\r\nConnection: close\r\n",
        request.method,
        env!("CARGO_PKG_VERSION")
    );
    for (name, value) in request.headers {
        if [name, value].iter().any(|t| t.contains(['\r', '\n'])) {
            return Err(format!("header {name} holds a line break"));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(kind) = request.content_type {
        head.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Length: {}\r\n",
            request.body.len()
        ));
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(request.body);
    // One byte over the limit tells a full answer from a cut one.
    let cap = u64::try_from(request.limit)
        .unwrap_or(u64::MAX)
        .saturating_add(64 << 10);
    let mut response = Vec::new();
    if tls {
        let config = client_config(request.extra_roots)?;
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| "the host is not a valid TLS name".to_owned())?;
        let connection = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        stream
            .write_all(&message)
            .map_err(|e| format!("TLS: {e}"))?;
        let _ = stream.take(cap).read_to_end(&mut response);
    } else {
        tcp.write_all(&message)
            .map_err(|e| format!("cannot send: {}", e.kind()))?;
        let _ = (&tcp).take(cap).read_to_end(&mut response);
    }
    let split = memchr::memmem::find(&response, b"\r\n\r\n").ok_or("no HTTP answer")?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "no HTTP answer".to_owned())?;
    let raw = &response[split + 4..];
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(raw).ok_or("a malformed chunked answer")?
    } else {
        raw.to_vec()
    };
    if body.len() > request.limit {
        return Err(format!("the answer is larger than {} bytes", request.limit));
    }
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = memchr::memmem::find(raw, b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_and_refuses_malformed_chunks() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n").as_deref(),
            Some(&b"Wikipedia"[..])
        );
        assert_eq!(dechunk(b"ff\r\nshort"), None);
        assert_eq!(dechunk(b"zz\r\n"), None);
    }
}
