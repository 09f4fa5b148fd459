//! The inventory: what discovery found, deduplicated by fingerprint, with every location. This
//! is the JSON contract of `trustops discover --format json` and of `plan --inventory`:
//!
//! ```json
//! {"format_version": 1,
//!  "credentials": [{"kind": "x509-certificate", "sha256": "…", "serial": "1a2b", "subject": "CN=a",
//!                   "issuer": "CN=ca", "not_before": "2026-01-01T00:00:00Z", "not_after": "…",
//!                   "dns_names": ["a.example"], "ip_addresses": [], "uris": [],
//!                   "key_type": "ec", "key_bits": 256, "signature_algorithm": "ecdsa-with-SHA256",
//!                   "is_ca": false, "public_key_sha256": "…",
//!                   "locations": [{"source": "hosts", "path": "/etc/ssl/a.pem", "index": 0}]}],
//!  "diagnostics": [{"location": "/etc/ssl/junk.pem", "message": "…"}]}
//! ```
//!
//! Certificates are keyed by the SHA-256 of their DER; keys by the SHA-256 of their public key
//! (SubjectPublicKeyInfo DER, or the SSH key blob), so a key pairs with its certificate through
//! `public_key_sha256`; secrets by the SHA-256 their source reports. No secret value is kept.

use crate::intern::Shared;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::collections::hash_map::{Entry, HashMap};

/// Version of the inventory JSON contract.
pub const FORMAT_VERSION: u32 = 1;

/// Kinds of discovered credential.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// An X.509 certificate.
    #[default]
    X509Certificate,
    /// A private key (PKCS#1, PKCS#8, SEC1, PKCS#12 or OpenSSH).
    PrivateKey,
    /// An SSH public key.
    SshPublicKey,
    /// A public key on its own (PEM `PUBLIC KEY`, `RSA PUBLIC KEY`): inventoried for the
    /// crypto inventory, never an owned credential.
    PublicKey,
    /// A secret such as a password.
    Secret,
    /// An API key.
    ApiKey,
    /// A token.
    Token,
}

impl CredentialKind {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::X509Certificate => "x509-certificate",
            CredentialKind::PrivateKey => "private-key",
            CredentialKind::SshPublicKey => "ssh-public-key",
            CredentialKind::PublicKey => "public-key",
            CredentialKind::Secret => "secret",
            CredentialKind::ApiKey => "api-key",
            CredentialKind::Token => "token",
        }
    }
}

/// An instant, written as RFC 3339 UTC with second precision (`2026-05-01T12:00:00Z`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub Timestamp);

impl Time {
    /// From seconds since the Unix epoch (clamped to jiff's range).
    pub fn from_unix(seconds: i64) -> Self {
        let clamped = seconds.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        Time(Timestamp::from_second(clamped).unwrap_or(Timestamp::UNIX_EPOCH))
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Before year 0 strftime's `%Y` is not RFC 3339; jiff's own form (`-000001-…`) is,
        // and it reads back.
        const YEAR_ZERO: i64 = -62_167_219_200;
        if self.0.as_second() < YEAR_ZERO {
            return s.collect_str(&self.0);
        }
        s.collect_str(&self.0.strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<Timestamp>()
            .map(Time)
            .map_err(|e| serde::de::Error::custom(format!("invalid time `{text}`: {e}")))
    }
}

// Optional text is a boxed `str`, as in `Credential`.
/// Where a credential was found.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Location {
    /// The Source that found it (its name, or `path` for `discover --path`).
    pub source: Shared,
    /// A file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Box<str>>,
    /// A TLS endpoint, `host:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Box<str>>,
    /// The server name (SNI) sent to the endpoint, when not its host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<Box<str>>,
    /// An object in a store: `namespace/name` for Kubernetes, the store's id for exec plugins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Box<str>>,
    /// Position inside the file, chain or object (0-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Line in the file (secret scanners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Commit the file was seen in (secret scanners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Box<str>>,
    /// Repository the file belongs to (secret scanners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<Shared>,
    /// The host whose inventory found it (set when planning from saved inventories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Shared>,
    /// The zone of that inventory (`discover --zone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<Shared>,
    /// What manages this copy, e.g. `cert-manager Certificate prod/web (issuer letsencrypt)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<Shared>,
}

/// A position in a file, chain or object as a location's `index` (4 bytes, not 8: a million
/// locations are read at a time), saturating where no real file reaches.
pub(crate) fn position(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl Location {
    /// A location in a file.
    pub fn file(source: &str, path: &str, index: usize) -> Self {
        Self {
            source: source.into(),
            path: Some(path.into()),
            index: Some(position(index)),
            ..Self::default()
        }
    }

    /// A short human form: path, endpoint or object, with `#index` when not the first.
    pub fn display(&self) -> String {
        let place = match (&self.path, &self.object) {
            (Some(path), Some(object)) => format!("{path} {object}"),
            _ => self
                .path
                .as_deref()
                .or(self.endpoint.as_deref())
                .or(self.object.as_deref())
                .unwrap_or(&self.source)
                .to_owned(),
        };
        let line = self.line.map(|l| format!(":{l}")).unwrap_or_default();
        match self.index {
            Some(i) if i > 0 => format!("{place}{line}#{i}"),
            _ => format!("{place}{line}"),
        }
    }
}

// Optional text is a boxed `str` (16 bytes where a `String` takes 24, and no spare capacity):
// `plan` keeps a million of these at once.
/// One discovered credential: facts and metadata, never secret material. Fields that do not
/// apply to a kind are absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Credential {
    /// What it is.
    pub kind: CredentialKind,
    /// Lowercase hex SHA-256 identifying it (see the module docs).
    pub sha256: String,
    /// Certificate serial number, lowercase hex without leading zeros.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<Box<str>>,
    /// Subject DN, RFC 4514.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<str>>,
    /// Issuer DN, RFC 4514.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<Shared>,
    /// Start of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Time>,
    /// End of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<Time>,
    /// DNS SANs, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Box<[String]>>,
    /// IP SANs, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Box<[String]>>,
    /// URI SANs (SPIFFE IDs among them), sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uris: Option<Box<[String]>>,
    /// `rsa`, `ec`, `ed25519`, `ed448` or `dsa`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<Shared>,
    /// RSA/DSA modulus bits, or the EC curve size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<u32>,
    /// EC curve name (`prime256v1`, `secp384r1`, `secp521r1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<Shared>,
    /// A post-quantum key's parameter set (`ML-DSA-65`, `SLH-DSA-SHA2-128s`, `ML-KEM-768`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_set: Option<Shared>,
    /// Its NIST security category, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_category: Option<u8>,
    /// Whether the key would survive a cryptographically relevant quantum computer
    /// (`vulnerable`: RSA, elliptic curves, DSA; `safe`: ML-DSA, SLH-DSA, ML-KEM; `hybrid`);
    /// absent for secrets without a public key and for key types trustops does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantum_safety: Option<super::algorithms::QuantumSafety>,
    /// Signature algorithm, OpenSSL name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<Shared>,
    /// Whether the certificate is a CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_ca: Option<bool>,
    /// SHA-256 of the public key (SubjectPublicKeyInfo DER; the key blob for SSH keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_sha256: Option<Box<str>>,
    /// OpenSSH-style fingerprint (`SHA256:…`) of SSH keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_fingerprint: Option<Box<str>>,
    /// Extended key usages of a certificate (`serverAuth`, `clientAuth`, `codeSigning`, ...,
    /// or the dotted OID), when it has the extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_key_usage: Option<Box<[Shared]>>,
    /// HTTP(S) URLs of the certificate's CRL distribution points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_urls: Option<Box<[Shared]>>,
    /// OCSP responder URLs from the certificate's Authority Information Access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_urls: Option<Box<[Shared]>>,
    /// SHA-1 of the certificate's issuer name (DER), lowercase hex, when it names an OCSP
    /// responder: half of the id an OCSP request asks about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_name_sha1: Option<Shared>,
    /// The certificate's authority key identifier, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_key_id: Option<Shared>,
    /// A CA certificate's SubjectPublicKeyInfo, base64 DER: what verifies the CRLs and OCSP
    /// answers it signs, even from a saved inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<Box<str>>,
    /// Encoding of a key: `pkcs1`, `pkcs8`, `sec1`, `openssh`, `pkcs12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Shared>,
    /// Whether a private key is protected by a passphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// A secret's id in its store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Box<str>>,
    /// When a secret was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Time>,
    /// When a secret was last rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotated: Option<Time>,
    /// When a secret expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Time>,
    /// The rule or detector that found a leaked secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<Shared>,
    /// Free-form metadata a plugin reported (never values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Everywhere it was found.
    pub locations: Vec<Location>,
}

impl Credential {
    /// Gives back the room deserializing left in its locations: serde_json starts a list with
    /// room for four, so a credential found in one place kept three empty locations, and a
    /// million read from an inventory took 0.8 GB more than they hold. (Its other lists are
    /// boxed slices, exactly as long as they are, and 8 bytes less each when absent.)
    pub(crate) fn shrink_to_fit(&mut self) {
        self.locations.shrink_to_fit();
    }
}

/// A file, endpoint or object that could not be read or parsed. Discovery goes on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// Where: a path, `host:port`, an object, or `source NAME`.
    pub location: String,
    /// What went wrong.
    pub message: String,
    /// Set when a whole source could not be read: nothing it would have found counts as
    /// gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_failed: Option<SourceFailed>,
}

/// A source that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct SourceFailed {
    /// The source's name.
    pub source: String,
    /// Whether the failure may pass by itself (the network, a timeout, a server error) or
    /// needs the declarations or the source fixed.
    pub retry: crate::remote::Retry,
}

impl Problem {
    /// The problem of a source that could not be read at all.
    pub fn source(name: &str, error: crate::remote::Error) -> Problem {
        Problem {
            location: format!("source {name}"),
            message: error.message,
            source_failed: Some(SourceFailed {
                source: name.to_owned(),
                retry: error.retry,
            }),
        }
    }

    /// Inventories written before `source_failed` existed said so only by a location of
    /// `source NAME`; read as failed sources whose failure may pass.
    fn upgraded(mut self) -> Problem {
        if self.source_failed.is_none()
            && let Some(name) = self.location.strip_prefix("source ")
        {
            self.source_failed = Some(SourceFailed {
                source: name.to_owned(),
                retry: crate::remote::Retry::Retryable,
            });
        }
        self
    }
}

/// The whole discovered state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Inventory {
    /// Always [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Credentials, sorted by kind then fingerprint.
    pub credentials: Vec<Credential>,
    /// What could not be read.
    pub diagnostics: Vec<Problem>,
    /// Where it was taken (`discover` records it; a plan from saved inventories stamps it on
    /// each location, so the same path on two hosts stays two places).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_by: Option<SeenBy>,
    /// Read from saved files (`plan --inventory`): SHA-256 over each file's SHA-256 (hex, a
    /// newline after each), which identifies what a plan was made from without serializing a
    /// million credentials again. Not part of the JSON.
    #[serde(skip)]
    pub files_sha256: Option<String>,
}

/// The machine, and the zone it stands for, that took an inventory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SeenBy {
    /// The host name.
    pub host: String,
    /// The zone (`discover --zone`): a cluster, a data centre, a network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// Collects credentials, merging duplicates by fingerprint. Each worker thread fills its own;
/// [`Collector::merge`] joins them. Credentials stay where they were first put (a `Vec`,
/// indexed by fingerprint), so growing and sorting move indexes, not whole credentials.
#[derive(Debug, Default)]
pub struct Collector {
    index: HashMap<(CredentialKind, String), usize>,
    credentials: Vec<Credential>,
    problems: Vec<Problem>,
    spill: Option<std::sync::Arc<super::spill::Spill>>,
}

impl Collector {
    /// A collector that writes what it holds to a run of `spill` whenever it holds as many
    /// credentials as the spill keeps (none with `None`).
    pub fn spilling(spill: Option<std::sync::Arc<super::spill::Spill>>) -> Collector {
        Collector {
            spill,
            ..Collector::default()
        }
    }

    /// Adds a credential, or its locations to the one already seen with the same fingerprint.
    pub fn add(&mut self, credential: Credential) {
        self.insert(credential);
        if self
            .spill
            .as_ref()
            .is_some_and(|spill| self.credentials.len() >= spill.keep())
        {
            self.write_run();
        }
    }

    /// Writes every credential held to a run; where that fails, keeps them (and every later
    /// one) in memory instead and says so.
    fn write_run(&mut self) {
        let Some(spill) = self.spill.clone() else {
            return;
        };
        let credentials = in_order(std::mem::take(&mut self.credentials));
        self.index.clear();
        if let Err(e) = spill.write(&credentials) {
            self.spill = None;
            for credential in credentials {
                self.insert(credential);
            }
            self.problem(
                "discovery",
                format!("cannot write a temporary file ({e}); every credential is kept in memory"),
            );
        }
    }

    fn insert(&mut self, credential: Credential) {
        match self
            .index
            .entry((credential.kind, credential.sha256.clone()))
        {
            Entry::Occupied(seen) => merge_into(&mut self.credentials[*seen.get()], credential),
            Entry::Vacant(slot) => {
                slot.insert(self.credentials.len());
                self.credentials.push(credential);
            }
        }
    }

    /// Records something that could not be read.
    pub fn problem(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            location: location.into(),
            message: message.into(),
            source_failed: None,
        });
    }

    /// Records a source that could not be read at all.
    pub fn source_failed(&mut self, name: &str, error: crate::remote::Error) {
        self.problems.push(Problem::source(name, error));
    }

    /// Joins another collector into this one.
    pub fn merge(&mut self, mut other: Collector) {
        if self.credentials.len() < other.credentials.len() {
            // Move the smaller into the larger.
            std::mem::swap(self, &mut other);
        }
        // Joined in memory, without writing runs: what is left of each worker's.
        for credential in other.credentials {
            self.insert(credential);
        }
        self.problems.extend(other.problems);
        self.spill = self.spill.take().or(other.spill);
    }

    /// Number of distinct credentials so far.
    pub fn len(&self) -> usize {
        self.credentials.len()
    }

    /// True when nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    /// The finished inventory, in a stable order (kind, then fingerprint).
    pub fn finish(self) -> Inventory {
        let credentials = in_order(self.credentials);
        let mut diagnostics = self.problems;
        diagnostics.sort();
        diagnostics.dedup();
        Inventory {
            format_version: FORMAT_VERSION,
            credentials,
            diagnostics,
            seen_by: None,
            files_sha256: None,
        }
    }
}

/// Adds `other`'s locations to `seen`, and fills facts `seen` lacks (a key seen first in a
/// certificate's company, then on its own, keeps both sides' facts).
pub(super) fn merge_into(seen: &mut Credential, other: Credential) {
    seen.locations.extend(other.locations);
    seen.encrypted = seen.encrypted.or(other.encrypted);
    seen.format = seen.format.take().or(other.format);
    seen.created = seen.created.or(other.created);
    seen.last_rotated = seen.last_rotated.or(other.last_rotated);
    seen.expires = seen.expires.or(other.expires);
    for (k, v) in other.metadata {
        seen.metadata.entry(k).or_insert(v);
    }
}

/// Why a saved inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not JSON, or not an inventory's shape: where (1-based line and column, the field's
    /// path) and what.
    #[error("{line}:{column}: {path}: {message}")]
    Shape {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The field, e.g. `credentials[3].not_after`.
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// Written by a trustops whose inventory format this one does not read.
    #[error("inventory format_version {0} is not supported (this trustops reads {FORMAT_VERSION})")]
    Version(u32),
}

/// Reads an inventory as `discover --format json` writes it: [`scan`], then [`Scanned::parse`].
pub fn from_json(bytes: &[u8]) -> Result<Inventory, ReadError> {
    scan(bytes)?.parse(bytes)
}

/// An inventory file's envelope, read: its `format_version` checked, its credentials still
/// raw JSON (where each is in the file's bytes), and a place for each made ready.
#[derive(Debug)]
pub struct Scanned {
    credentials: Vec<std::ops::Range<usize>>,
    // Written by the scan's thread: at a million credentials, half a gigabyte of pages
    // touched for the first time, which `plan` does beside the declarations' parse rather
    // than before the credentials' parse on every core.
    places: Vec<Credential>,
    diagnostics: Vec<Problem>,
    seen_by: Option<SeenBy>,
}

/// Reads the envelope of an inventory (one core's pass over the file, which `plan` makes
/// while the declarations are parsed on every core); [`Scanned::parse`] reads the credentials.
pub fn scan(bytes: &[u8]) -> Result<Scanned, ReadError> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        format_version: u32,
        #[serde(borrow)]
        credentials: Vec<&'a serde_json::value::RawValue>,
        diagnostics: Vec<Problem>,
        #[serde(default)]
        seen_by: Option<SeenBy>,
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let envelope: Envelope<'_> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        ReadError::Shape {
            line: inner.line(),
            column: inner.column(),
            path: e.path().to_string(),
            message: inner.to_string(),
        }
    })?;
    if envelope.format_version != FORMAT_VERSION {
        return Err(ReadError::Version(envelope.format_version));
    }
    let start = bytes.as_ptr() as usize;
    let credentials: Vec<std::ops::Range<usize>> = envelope
        .credentials
        .iter()
        .map(|raw| {
            // Borrowed from `bytes`; were it not, the range reads as no credential, never panics.
            let at = (raw.get().as_ptr() as usize).saturating_sub(start);
            at..at + raw.get().len()
        })
        .collect();
    Ok(Scanned {
        places: vec![Credential::default(); credentials.len()],
        credentials,
        diagnostics: envelope
            .diagnostics
            .into_iter()
            .map(Problem::upgraded)
            .collect(),
        seen_by: envelope.seen_by,
    })
}

impl Scanned {
    /// The inventory: the credentials of `bytes` (the file [`scan`] read) parsed on every
    /// core straight into their places.
    pub fn parse(self, bytes: &[u8]) -> Result<Inventory, ReadError> {
        let mut credentials = self.places;
        let slots: Vec<_> = credentials
            .iter_mut()
            .zip(self.credentials.iter().enumerate())
            .collect();
        // In parts taken by whichever core is free: the declarations are parsed beside this,
        // and equal halves per core ended far apart.
        let parts = crate::parallel::guided(slots, 4_096);
        let parsed = crate::parallel::each_taken(parts, |part| {
            crate::intern::pooled(|| {
                for (slot, (i, range)) in part {
                    // The envelope's parse checked these bytes: JSON, so UTF-8.
                    let raw = bytes
                        .get(range.clone())
                        .and_then(|raw| std::str::from_utf8(raw).ok())
                        .unwrap_or_default();
                    *slot = serde_json::from_str(raw)
                        .map_err(|e| credential_error(bytes, i, raw, &e))?;
                    slot.shrink_to_fit();
                }
                Ok(())
            })
        });
        parsed.into_iter().collect::<Result<(), ReadError>>()?;
        Ok(Inventory {
            format_version: FORMAT_VERSION,
            credentials,
            diagnostics: self.diagnostics,
            seen_by: self.seen_by,
            files_sha256: None,
        })
    }
}

/// Where the `index`th credential, `raw` (a slice of `bytes`), is not one: `error`, with the
/// field's path found by parsing it again, and the position counted from the file's start.
fn credential_error(bytes: &[u8], index: usize, raw: &str, error: &serde_json::Error) -> ReadError {
    let mut de = serde_json::Deserializer::from_str(raw);
    let (within, line, column, message) =
        match serde_path_to_error::deserialize::<_, Credential>(&mut de) {
            Err(e) => {
                let inner = e.inner();
                (
                    e.path().to_string(),
                    inner.line(),
                    inner.column(),
                    inner.to_string(),
                )
            }
            Ok(_) => (
                String::new(),
                error.line(),
                error.column(),
                error.to_string(),
            ),
        };
    let offset = (raw.as_ptr() as usize)
        .saturating_sub(bytes.as_ptr() as usize)
        .min(bytes.len());
    let before = &bytes[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |n| n + 1);
    ReadError::Shape {
        line: before.iter().filter(|&&b| b == b'\n').count() + line,
        column: if line == 1 {
            offset - line_start + column
        } else {
            column
        },
        path: match within.as_str() {
            "" | "." => format!("credentials[{index}]"),
            _ => format!("credentials[{index}].{within}"),
        },
        message,
    }
}

/// Merges inventories saved elsewhere (one per zone or cluster) into one.
pub fn merge(inventories: Vec<Inventory>) -> Inventory {
    let mut credentials: Vec<Credential> = Vec::new();
    let mut diagnostics = Vec::new();
    for inventory in inventories {
        let mut more = inventory.credentials;
        if let Some(seen_by) = &inventory.seen_by {
            // One copy of the host and zone, shared by every location stamped with them.
            let host = Shared::from(seen_by.host.as_str());
            let zone = seen_by.zone.as_deref().map(Shared::from);
            for credential in &mut more {
                stamp(credential, &host, zone.as_ref());
            }
        }
        // The first inventory's credentials stay where they are: a million of them are
        // most of the memory, and copying them would hold two at once.
        if credentials.is_empty() {
            credentials = more;
        } else {
            credentials.append(&mut more);
        }
        diagnostics.extend(inventory.diagnostics);
    }
    diagnostics.sort();
    diagnostics.dedup();
    Inventory {
        format_version: FORMAT_VERSION,
        credentials: in_order(credentials),
        diagnostics,
        seen_by: None,
        files_sha256: None,
    }
}

/// `credentials` ordered by kind and fingerprint, each fingerprint once (later copies merged
/// into the first), locations sorted. An inventory already in order, as `discover` writes
/// it, is only checked.
fn in_order(mut credentials: Vec<Credential>) -> Vec<Credential> {
    // An inventory as `discover` writes it is in order already, each fingerprint once: checked
    // on every core, each part up to the first of the next.
    let pairs = credentials.len().saturating_sub(1);
    let ordered = crate::parallel::ranges(pairs, |range| {
        credentials
            .get(range.start..=range.end)
            .unwrap_or_default()
            .windows(2)
            .all(|w| (w[0].kind, &w[0].sha256) < (w[1].kind, &w[1].sha256))
    })
    .into_iter()
    .all(|in_order| in_order);
    if !ordered {
        credentials = sorted(credentials);
    }
    let each: Vec<&mut Credential> = credentials.iter_mut().collect();
    crate::parallel::parts(each, 4_096, |part| {
        for c in part {
            c.locations.sort();
            c.locations.dedup();
            // From the key type, so inventories saved before the class existed get it too.
            c.quantum_safety = c
                .key_type
                .as_deref()
                .and_then(super::algorithms::QuantumSafety::of_key_type);
        }
    });
    credentials
}

/// `credentials` sorted by kind and fingerprint, each fingerprint once (see [`in_order`]): a
/// sort of indexes, then the credentials moved into place, so a million entries need no hash
/// table and no second copy.
fn sorted(mut credentials: Vec<Credential>) -> Vec<Credential> {
    // Sorted on a key that sits in the cache (kind, the fingerprint's first 16 bytes, index);
    // the full fingerprint settles ties. The index last keeps the first seen first.
    let mut keys: Vec<(CredentialKind, [u8; 16], usize)> = credentials
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut prefix = [0; 16];
            let n = c.sha256.len().min(16);
            prefix[..n].copy_from_slice(&c.sha256.as_bytes()[..n]);
            (c.kind, prefix, i)
        })
        .collect();
    keys.sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| credentials[a.2].sha256.cmp(&credentials[b.2].sha256))
            .then(a.2.cmp(&b.2))
    });
    let mut order: Vec<usize> = keys.into_iter().map(|(_, _, i)| i).collect();
    // Position j takes the credential at order[j]: follow each cycle of the permutation.
    for start in 0..order.len() {
        let mut j = start;
        while order[j] != usize::MAX {
            let k = std::mem::replace(&mut order[j], usize::MAX);
            if k == start {
                break;
            }
            credentials.swap(j, k);
            j = k;
        }
    }
    credentials.dedup_by(|later, first| {
        let same = (later.kind, &later.sha256) == (first.kind, &first.sha256);
        if same {
            merge_into(first, std::mem::take(later));
        }
        same
    });
    credentials
}

/// The host and zone that took an inventory, on each location of `credential` that lacks them.
fn stamp(credential: &mut Credential, host: &Shared, zone: Option<&Shared>) {
    for location in &mut credential.locations {
        location.host.get_or_insert_with(|| host.clone());
        if location.zone.is_none() {
            location.zone = zone.cloned();
        }
    }
}

/// The first `n` characters of a fingerprint, for ids and display (safe on any text an
/// inventory file may hold).
pub fn short(fingerprint: &str, n: usize) -> &str {
    let end = fingerprint
        .char_indices()
        .nth(n)
        .map_or(fingerprint.len(), |(i, _)| i);
    &fingerprint[..end]
}

/// Lowercase hex of SHA-256 over `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(sha: &str, paths: &[&str]) -> Credential {
        Credential {
            kind: CredentialKind::X509Certificate,
            sha256: sha.into(),
            locations: paths
                .iter()
                .map(|p| Location::file("hosts", p, 0))
                .collect(),
            ..Credential::default()
        }
    }

    /// A large inventory's order is checked in parts, one per core: a pair out of order
    /// where two parts meet is still found, and sorted.
    #[test]
    fn a_pair_out_of_order_at_a_part_boundary_is_sorted() {
        let n = 10_000;
        let ordered: Vec<Credential> = (0..n)
            .map(|i| certificate(&format!("{i:064x}"), &["/a.pem"]))
            .collect();
        let parts = crate::parallel::ranges(n - 1, |range| range);
        assert!(
            parts.len() > 1 || std::thread::available_parallelism().map_or(1, |c| c.get()) == 1
        );
        for part in &parts[1..] {
            let mut shuffled = ordered.clone();
            shuffled.swap(part.start - 1, part.start);
            assert_eq!(in_order(shuffled), ordered, "swapped at {}", part.start);
        }
    }

    /// Inventories merge into one, ordered by kind and fingerprint, each fingerprint once
    /// with the locations of every copy (first copy's facts first), each stamped with the
    /// host that saw it.
    #[test]
    fn merging_orders_joins_and_stamps() {
        let mut first = certificate("bb", &["/b.pem", "/a.pem", "/a.pem"]);
        first.format = Some("pem".into());
        let mut again = certificate("bb", &["/c.pem"]);
        again.format = Some("der".into());
        again.encrypted = Some(false);
        let one = Inventory {
            format_version: FORMAT_VERSION,
            credentials: vec![
                certificate("cc", &["/z.pem"]),
                first,
                certificate("aa", &[]),
            ],
            diagnostics: vec![
                Problem {
                    location: "z".into(),
                    message: "m".into(),
                    source_failed: None,
                },
                Problem {
                    location: "a".into(),
                    message: "m".into(),
                    source_failed: None,
                },
            ],
            seen_by: Some(SeenBy {
                host: "web-1".into(),
                zone: Some("eu".into()),
            }),
            files_sha256: None,
        };
        let two = Inventory {
            credentials: vec![again],
            ..Inventory::default()
        };
        let merged = merge(vec![one, two]);
        let order: Vec<&str> = merged
            .credentials
            .iter()
            .map(|c| c.sha256.as_str())
            .collect();
        assert_eq!(order, ["aa", "bb", "cc"]);
        let bb = &merged.credentials[1];
        let paths: Vec<_> = bb.locations.iter().map(|l| l.path.as_deref()).collect();
        assert_eq!(paths, [Some("/a.pem"), Some("/b.pem"), Some("/c.pem")]);
        assert_eq!(bb.locations[0].host.as_deref(), Some("web-1"));
        assert_eq!(
            bb.locations[2].host, None,
            "the second inventory has no seen_by"
        );
        assert_eq!(bb.format.as_deref(), Some("pem"));
        assert_eq!(bb.encrypted, Some(false));
        assert_eq!(merged.diagnostics[0].location, "a");
        // Merging what is already merged changes nothing.
        assert_eq!(merge(vec![merged.clone()]), merged);
    }

    /// A credential read back holds no more room than it uses: at a million credentials the
    /// room serde_json leaves in lists was 0.8 GB.
    #[test]
    fn credentials_read_back_keep_no_spare_room() {
        let mut one = certificate(&format!("{:064x}", 1), &["/a.pem"]);
        one.dns_names = Some(["a.example".into()].into());
        let bytes = serde_json::to_vec(&Inventory {
            format_version: FORMAT_VERSION,
            credentials: vec![one],
            ..Inventory::default()
        })
        .unwrap();
        let read = from_json(&bytes).unwrap();
        let c = &read.credentials[0];
        assert_eq!(c.locations.capacity(), 1);
        assert_eq!(c.dns_names.as_deref(), Some(&["a.example".to_owned()][..]));
    }

    /// What `discover --format json` writes reads back the same; a bad credential deep in
    /// the file is named by its line, column and field, and a newer format is refused
    /// before any credential is read.
    #[test]
    fn reading_round_trips_and_places_errors() {
        let inventory = merge(vec![Inventory {
            credentials: (0..10_000)
                .map(|i| certificate(&format!("{i:064x}"), &["/a.pem"]))
                .collect(),
            ..Inventory::default()
        }]);
        let text = serde_json::to_string_pretty(&inventory).unwrap_or_default();
        assert_eq!(from_json(text.as_bytes()).ok(), Some(inventory));
        let (at, _) = text
            .match_indices("\"index\": 0")
            .nth(8_999)
            .unwrap_or_default();
        let bad = format!("{}\"index\": \"first\"{}", &text[..at], &text[at + 10..]);
        let Err(ReadError::Shape {
            line, column, path, ..
        }) = from_json(bad.as_bytes())
        else {
            panic!("an index that is not a number is an error")
        };
        assert_eq!(path, "credentials[8999].locations[0].index");
        let expected = bad[..at].lines().count(); // the last one is this line's indentation
        assert_eq!(line, expected);
        let text_line = bad.lines().nth(line - 1).unwrap_or_default();
        let starts = text_line.find('"').unwrap_or_default();
        assert!(
            column > starts && column <= text_line.len(),
            "{column} in {text_line:?}"
        );
        let newer = r#"{"format_version": 2, "credentials": [1], "diagnostics": []}"#;
        assert!(matches!(
            from_json(newer.as_bytes()),
            Err(ReadError::Version(2))
        ));
    }
}
