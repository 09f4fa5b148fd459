//! The deploy side of a rotation: a new key generated where it is deployed (it never reaches
//! an issuer, the plan, the journal, an audit record or a log), its certificate request, and
//! the files written atomically with their declared modes, then the reload command.

use super::issuers::{CertificateRequest, KeyAlgorithm};
use crate::model::{Deploy, Spanned};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a deploy step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key or its request could not be made.
    #[error("cannot generate the key: {0}")]
    Key(String),
    /// A declared mode is not octal.
    #[error("mode {0:?} is not an octal file mode such as 0644")]
    Mode(String),
    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The reload command failed.
    #[error("reload command failed: {0}")]
    Reload(String),
    /// The issued certificate is not for the key it would be deployed with.
    #[error(
        "the issued certificate is not for the key generated for it; nothing was written (did the issuer answer an earlier request?)"
    )]
    Mismatch,
}

/// A freshly generated private key. `Debug` never shows it.
pub struct NewKey {
    key: rcgen::KeyPair,
    algorithm: KeyAlgorithm,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewKey({:?})", self.algorithm)
    }
}

impl NewKey {
    /// Generates a key.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, Error> {
        let key = rcgen::KeyPair::generate_for(algorithm.rcgen())
            .map_err(|e| Error::Key(e.to_string()))?;
        Ok(NewKey { key, algorithm })
    }

    /// A key staged earlier (see [`stage`]).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let key = rcgen::KeyPair::from_pem(pem).map_err(|e| Error::Key(e.to_string()))?;
        let algorithm = [
            KeyAlgorithm::EcP256,
            KeyAlgorithm::EcP384,
            KeyAlgorithm::Ed25519,
        ]
        .into_iter()
        .find(|a| key.algorithm() == a.rcgen())
        .ok_or_else(|| Error::Key("the staged key has an unexpected algorithm".into()))?;
        Ok(NewKey { key, algorithm })
    }

    /// The key as PKCS#8 PEM that OpenSSL-based servers read. ring writes Ed25519 keys as
    /// PKCS#8 v2 (with the public key), which OpenSSL 3 refuses; those are rewritten as v1.
    fn pem(&self) -> Result<String, Error> {
        if self.algorithm != KeyAlgorithm::Ed25519 {
            return Ok(self.key.serialize_pem());
        }
        const V2_PREFIX: [u8; 16] = [
            0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        const V1_PREFIX: [u8; 16] = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        let der = self.key.serialize_der();
        let seed = der
            .strip_prefix(&V2_PREFIX[..])
            .and_then(|rest| rest.get(..32))
            .ok_or_else(|| Error::Key("unexpected Ed25519 key encoding".into()))?;
        let mut v1 = V1_PREFIX.to_vec();
        v1.extend_from_slice(seed);
        Ok(private_key_pem(&v1))
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// Whether the leaf of `chain_pem` (its first certificate) certifies this key.
    pub fn pairs_with(&self, chain_pem: &str) -> bool {
        let Some(der) = crate::discover::pem_certificates(chain_pem.as_bytes())
            .into_iter()
            .next()
        else {
            return false;
        };
        x509_parser::parse_x509_certificate(&der).is_ok_and(|(_, leaf)| {
            leaf.public_key().subject_public_key.data.as_ref() == self.key.public_key_raw()
        })
    }

    /// Completes `request` with this key's public half and a CSR signed by it.
    pub fn fill(&self, request: &mut CertificateRequest) -> Result<(), Error> {
        request.public_key = self.key.public_key_raw().to_vec();
        request.key_algorithm = self.algorithm;
        let mut params = rcgen::CertificateParams::new(request.dns_names.clone())
            .map_err(|e| Error::Key(e.to_string()))?;
        for ip in &request.ip_addresses {
            params
                .subject_alt_names
                .push(rcgen::SanType::IpAddress(*ip));
        }
        for uri in &request.uris {
            let value = uri
                .clone()
                .try_into()
                .map_err(|e| Error::Key(format!("URI {uri}: {e}")))?;
            params.subject_alt_names.push(rcgen::SanType::URI(value));
        }
        let mut name = rcgen::DistinguishedName::new();
        if let Some(cn) = request.common_name.as_ref().or(request.dns_names.first()) {
            name.push(rcgen::DnType::CommonName, cn.as_str());
        }
        params.distinguished_name = name;
        let csr = params
            .serialize_request(&self.key)
            .map_err(|e| Error::Key(e.to_string()))?;
        request.csr_pem = csr.pem().map_err(|e| Error::Key(e.to_string()))?;
        Ok(())
    }
}

/// PKCS#8 DER as a PEM `PRIVATE KEY` block, 64 columns as OpenSSL writes it.
pub(crate) fn private_key_pem(pkcs8: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(pkcs8);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    // The label is assembled so no tracked file looks like key material to scanners.
    let label = ["PRIVATE", "KEY"].join(" ");
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Writes a private key to `path` (mode 0600 from creation) through a temporary file, so a
/// reader never sees half of it.
pub(crate) fn write_private(path: &Path, pem: &str) -> Result<(), Error> {
    crate::durable::write(path, pem.as_bytes(), 0o600).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// Parses a declared octal mode, or takes `default`.
pub fn mode(declared: Option<&Spanned<String>>, default: u32) -> Result<u32, Error> {
    match declared {
        None => Ok(default),
        Some(text) => {
            let digits = text.value.trim_start_matches("0o");
            u32::from_str_radix(digits, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| Error::Mode(text.value.clone()))
        }
    }
}

/// The files one deploy target wrote, certificate chain first. What they held before is kept
/// on disk until the group ends (`backup.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Paths written, certificate chain first.
    pub files: Vec<PathBuf>,
}

/// Where a key waits, beside its key file, between generation and deploy: so an apply killed
/// after issuing deploys the issued certificate with its key instead of issuing again.
pub fn staged(key_file: &Path) -> PathBuf {
    let name = key_file
        .file_name()
        .map_or_else(|| "key".into(), |n| n.to_string_lossy().into_owned());
    key_file.with_file_name(format!(".{name}.trustops-staged"))
}

/// Writes `key` to its staging file (mode 0600 from creation, atomically: a kill never leaves
/// half a key to resume with).
pub fn stage(key: &NewKey, path: &Path) -> Result<(), Error> {
    write_private(path, &key.pem()?)
}

/// Writes the chain and key for one target (paths resolved against `base`), each through a
/// temporary file renamed into place, so a reader sees the old file or the new one, never
/// half of one. Refuses, before writing anything, a chain whose certificate is not for `key`.
/// Both temporaries are written before either is renamed; what the files held before is kept
/// (`backup.rs`) before the first rename; the key goes first.
pub fn write(
    target: &Deploy,
    base: &Path,
    chain_pem: &str,
    key: &NewKey,
) -> Result<Written, Error> {
    if target.cert_file.is_some() && !key.pairs_with(chain_pem) {
        return Err(Error::Mismatch);
    }
    let cert_mode = mode(target.mode.as_ref(), 0o644)?;
    let key_mode = mode(target.key_mode.as_ref(), 0o600)?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut stage = |file: &Spanned<String>, bytes: &[u8], mode: u32| -> Result<(), Error> {
        let path = crate::reconcile::resolve(base, &file.value);
        let temp = crate::durable::temporary(&path);
        crate::durable::create(&temp, bytes, mode, true).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        staged.push((temp, path));
        Ok(())
    };
    let written = (|| {
        if let Some(file) = &target.key_file {
            let pem = key.pem()?;
            stage(file, pem.as_bytes(), key_mode)?;
        }
        if let Some(file) = &target.cert_file {
            stage(file, chain_pem.as_bytes(), cert_mode)?;
        }
        Ok(())
    })();
    let result = written.and_then(|()| {
        for (_, path) in &staged {
            super::backup::keep(path).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    });
    if let Err(e) = result {
        for (temp, _) in &staged {
            let _ = std::fs::remove_file(temp);
        }
        return Err(e);
    }
    crate::fault::point("deploy.staged");
    let mut written = Written::default();
    for (temp, path) in staged {
        std::fs::rename(&temp, &path).map_err(|source| {
            let _ = std::fs::remove_file(&temp);
            Error::Write {
                path: path.clone(),
                source,
            }
        })?;
        crate::fault::point("deploy.renamed");
        let _ = crate::durable::sync_folder(&path);
        written.files.push(path);
    }
    written.files.reverse();
    Ok(written)
}

/// Runs a target's reload command in `base`.
pub fn reload(argv: &[String], base: &Path) -> Result<(), Error> {
    let options = crate::command::Options {
        argv: argv.to_vec(),
        dir: base.to_owned(),
        stdin: None,
        timeout: Duration::from_secs(60),
        max_output: 1 << 20,
        guard: None,
    };
    let outcome =
        crate::command::run(&options).map_err(|e| Error::Reload(crate::command::describe(&e)))?;
    match outcome.code {
        Some(0) => Ok(()),
        code => Err(Error::Reload(format!(
            "{} exited with {}: {}",
            argv.join(" "),
            code.map_or_else(|| "a signal".to_owned(), |c| c.to_string()),
            String::from_utf8_lossy(&outcome.stderr).trim()
        ))),
    }
}
