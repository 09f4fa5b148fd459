//! The `tls` source: connect to `host:port` endpoints and record the chain each one serves,
//! even when it is self-signed, expired or for another name: discovery looks, it does not
//! verify. Blocking rustls with a timeout per endpoint; endpoints run in parallel.

use super::inventory::{Collector, Location};
use super::{Context, Error, Source, x509};
use crate::model::TlsSource;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Connections at once. A silent endpoint costs a thread waiting, not CPU: enough at once that
/// a source of many silent endpoints costs about one timeout, not one per batch.
const PARALLEL: usize = 64;

/// TLS endpoints.
pub(super) struct Tls {
    pub name: String,
    pub endpoints: Vec<(String, Option<String>)>,
    pub timeout: Duration,
}

impl Tls {
    pub(super) fn declared(name: &str, spec: &TlsSource) -> Self {
        Self {
            name: name.to_owned(),
            endpoints: spec
                .endpoints
                .iter()
                .map(|e| (e.address.value.clone(), e.sni.clone()))
                .collect(),
            timeout: Duration::from_secs(spec.timeout.map_or(5, |t| t.seconds().max(1))),
        }
    }
}

impl Source for Tls {
    fn discover(&self, context: &Context) -> Result<Collector, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::permanent(format!("TLS setup failed: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth();
        let config = Arc::new(config);
        let mut all = Collector::default();
        let mut reached = 0;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = self.endpoints.len().min(PARALLEL);
        let mut results: Vec<(usize, Fetched)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let (config, next) = (config.clone(), &next);
                    scope.spawn(move || {
                        let mut done = Vec::new();
                        loop {
                            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((address, sni)) = self.endpoints.get(n) else {
                                break done;
                            };
                            let chain =
                                fetch_chain(address, sni.as_deref(), self.timeout, config.clone());
                            done.push((n, chain));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        results.sort_by_key(|(n, _)| *n);
        let results = results.into_iter().map(|(_, r)| r);
        {
            for ((address, sni), result) in self.endpoints.iter().zip(results) {
                context
                    .progress
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                match result {
                    Ok(chain) => {
                        reached += 1;
                        for (index, der) in chain.iter().enumerate() {
                            match x509::certificate(der) {
                                Ok(mut credential) => {
                                    credential.locations.push(Location {
                                        source: self.name.as_str().into(),
                                        endpoint: Some(address.as_str().into()),
                                        server_name: sni.as_deref().map(Into::into),
                                        index: Some(super::inventory::position(index)),
                                        ..Location::default()
                                    });
                                    all.add(credential);
                                }
                                Err(e) => all.problem(address, format!("certificate {index}: {e}")),
                            }
                        }
                    }
                    Err(message) => all.problem(address, message),
                }
            }
        }
        if reached == 0 && !self.endpoints.is_empty() {
            // The source failed as a whole: say why for each endpoint in its one message.
            let reasons: Vec<String> = all
                .finish()
                .diagnostics
                .into_iter()
                .map(|p| format!("{}: {}", p.location, p.message))
                .collect();
            return Err(Error::retryable(format!(
                "no endpoint could be reached ({})",
                reasons.join("; ")
            )));
        }
        Ok(all)
    }
}

/// What one endpoint served (its chain, leaf first), or why not.
type Fetched = Result<Vec<Vec<u8>>, String>;

/// Connects and completes a handshake; returns the served chain, leaf first.
fn fetch_chain(
    address: &str,
    sni: Option<&str>,
    timeout: Duration,
    config: Arc<ClientConfig>,
) -> Result<Vec<Vec<u8>>, String> {
    let deadline = Instant::now() + timeout;
    let (host, _) = address.rsplit_once(':').ok_or("expected host:port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = sni.unwrap_or(host).to_owned();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|e| format!("invalid server name {name}: {e}"))?;
    let addresses: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve: {e}"))?
        .collect();
    let mut last = "no address".to_owned();
    let mut tcp = None;
    for addr in addresses {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    let tcp = tcp.ok_or(last)?;
    let mut tcp = Bounded { tcp, deadline };
    let mut conn =
        ClientConnection::new(config, server_name).map_err(|e| format!("TLS setup failed: {e}"))?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut tcp) {
            Ok((0, 0)) if conn.is_handshaking() => {
                return Err("the server closed the connection during the handshake".into());
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!(
                    "TLS handshake timed out after {}s",
                    timeout.as_secs()
                ));
            }
            Err(e) => return Err(format!("TLS handshake failed: {e}")),
        }
    }
    let chain = conn
        .peer_certificates()
        .ok_or("the server sent no certificate")?;
    Ok(chain.iter().map(|c| c.as_ref().to_vec()).collect())
}

/// A connection that ends at its deadline however the peer behaves: every read and write waits
/// at most for what is left, so a server trickling a byte at a time is cut off on time too.
struct Bounded {
    tcp: TcpStream,
    deadline: Instant,
}

impl Bounded {
    fn left(&self) -> std::io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        Ok(left)
    }
}

impl std::io::Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf)
    }
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}

/// Accepts every certificate and signature: discovery records what is served, whatever it is.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
