//! `acme`: an RFC 8555 server (Let's Encrypt, step-ca, pebble, ...) through instant-acme.
//!
//! The account key lives in the declared `accountKeyFile` (PKCS#8 PEM, created with mode 0600
//! on first use); the account is found or created from it on every call, so nothing else needs
//! to be kept. Orders carry the credential's DNS names and IP addresses; challenges are
//! answered as declared (`challenge.rs`), and the order is finalized with the CSR made where
//! the key was generated, so the private key never reaches this module. instant-acme is
//! asynchronous: a single-threaded tokio runtime lives for the length of one call and no
//! longer, so the rest of trustops stays plain blocking code.

mod challenge;

use super::{Issued, Issuer, Request, Revocation};
pub use challenge::Solver;
use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, Key, NewOrder, OrderStatus,
    RetryPolicy, RevocationReason, RevocationRequest,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::PathBuf;
use std::time::Duration;

/// How long one issue or revoke may take, challenges included.
const DEADLINE: Duration = Duration::from_secs(180);

/// An ACME account on a directory, configured.
#[derive(Clone, Debug)]
pub struct Acme {
    /// The issuer's name, for messages.
    pub name: String,
    /// The directory URL.
    pub directory_url: String,
    /// Contact e-mail for the account.
    pub email: Option<String>,
    /// The account key file, resolved.
    pub account_key_file: PathBuf,
    /// PEM roots to trust for the directory's HTTPS instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// How challenges are answered.
    pub solver: Solver,
}

impl Acme {
    /// Runs `work` on a runtime made for this call, within [`DEADLINE`].
    fn block_on<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the ACME client: {}", crate::apply::causes(&e)))?;
        runtime.block_on(async {
            tokio::time::timeout(DEADLINE, work)
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {}s", DEADLINE.as_secs())))
        })
    }

    /// The account for the declared key. With no key file yet, a new account is created with
    /// its contact (some CAs refuse an account without one) and its key written (mode 0600);
    /// with one, the account is found or created from it and its contact kept current.
    async fn account(&self) -> Result<Account, String> {
        let builder = self.builder()?;
        let contact = self.email.as_ref().map(|e| format!("mailto:{e}"));
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let path = &self.account_key_file;
        if !path.exists() {
            let (account, credentials) = builder
                .create(
                    &instant_acme::NewAccount {
                        contact: &contacts,
                        terms_of_service_agreed: true,
                        only_return_existing: false,
                    },
                    self.directory_url.clone(),
                    None,
                )
                .await
                .map_err(|e| format!("account: {}", crate::apply::causes(&e)))?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            let der = credentials.private_key().secret_pkcs8_der();
            crate::apply::deploy::write_private(path, &crate::apply::deploy::private_key_pem(der))
                .map_err(|e| {
                    format!("cannot write the account key: {}", crate::apply::causes(&e))
                })?;
            return Ok(account);
        }
        // The account the key already has; else (a new server) a new one for the key.
        let account = match builder
            .from_key(self.account_key()?, self.directory_url.clone())
            .await
        {
            Ok((account, _)) => account,
            Err(_) => {
                self.builder()?
                    .create_from_key(self.account_key()?, self.directory_url.clone())
                    .await
                    .map_err(|e| format!("account: {}", crate::apply::causes(&e)))?
                    .0
            }
        };
        if !contacts.is_empty() {
            account
                .update_contacts(&contacts)
                .await
                .map_err(|e| format!("account contact: {}", crate::apply::causes(&e)))?;
        }
        Ok(account)
    }

    /// An account builder trusting `caFile` (a private ACME server) or the system's roots.
    fn builder(&self) -> Result<instant_acme::AccountBuilder, String> {
        match &self.ca_file {
            Some(roots) => Account::builder_with_root(roots)
                .map_err(|e| format!("cannot trust {}: {e}", roots.display())),
            None => Account::builder()
                .map_err(|e| format!("cannot start HTTPS: {}", crate::apply::causes(&e))),
        }
    }

    /// The account key from its file.
    fn account_key(&self) -> Result<(Key, PrivateKeyDer<'static>), String> {
        let path = &self.account_key_file;
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let der = crate::discover::pem_blocks(&pem, "PRIVATE KEY")
            .into_iter()
            .next()
            .ok_or_else(|| {
                format!(
                    "{} holds no PKCS#8 private key (PEM \"PRIVATE KEY\")",
                    path.display()
                )
            })?;
        let pkcs8 = PrivatePkcs8KeyDer::from(der);
        let key = Key::from_pkcs8_der(pkcs8.clone_key())
            .map_err(|e| format!("{}: not a usable account key: {e}", path.display()))?;
        Ok((key, PrivateKeyDer::Pkcs8(pkcs8)))
    }

    async fn order(&self, r: &super::CertificateRequest) -> Result<String, String> {
        let account = self.account().await?;
        let mut identifiers: Vec<Identifier> =
            r.dns_names.iter().cloned().map(Identifier::Dns).collect();
        identifiers.extend(r.ip_addresses.iter().copied().map(Identifier::Ip));
        // RFC 9773: name the certificate this one replaces, for a CA that offers renewal
        // information (Let's Encrypt exempts such renewals from rate limits).
        let replaces =
            r.replaces
                .as_deref()
                .and_then(|id| id.split_once('.'))
                .map(|(aki, serial)| instant_acme::CertificateIdentifier {
                    authority_key_identifier: aki.to_owned().into(),
                    serial: serial.to_owned().into(),
                });
        let created = match replaces {
            Some(id) => {
                match account
                    .new_order(&NewOrder::new(&identifiers).replaces(id))
                    .await
                {
                    // A CA without renewal information, or one that accepted the order
                    // without reflecting `replaces` (it ignored it): order without it.
                    Err(e)
                        if matches!(e, instant_acme::Error::Unsupported(_))
                            || e.to_string().contains("replaces field mismatch") =>
                    {
                        account.new_order(&NewOrder::new(&identifiers)).await
                    }
                    other => other,
                }
            }
            None => account.new_order(&NewOrder::new(&identifiers)).await,
        };
        let mut order = created.map_err(|e| format!("new order: {}", crate::apply::causes(&e)))?;
        let mut session = self.solver.session();
        let result = async {
            let mut authorizations = order.authorizations();
            while let Some(authorization) = authorizations.next().await {
                let mut authorization = authorization
                    .map_err(|e| format!("authorization: {}", crate::apply::causes(&e)))?;
                if authorization.status == AuthorizationStatus::Valid {
                    continue;
                }
                let kind = self.solver.kind_for(authorization.wildcard)?;
                let mut challenge = authorization.challenge(kind.clone()).ok_or_else(|| {
                    format!("the server offers no {} challenge", challenge::name(&kind))
                })?;
                let identifier = challenge.identifier().to_string();
                let key_authorization = challenge.key_authorization();
                let value = match kind {
                    ChallengeType::Dns01 => key_authorization.dns_value(),
                    _ => key_authorization.as_str().to_owned(),
                };
                session.present(&kind, &identifier, &challenge.token, &value)?;
                challenge.set_ready().await.map_err(|e| {
                    format!("challenge for {identifier}: {}", crate::apply::causes(&e))
                })?;
            }
            let patient = RetryPolicy::new().timeout(Duration::from_secs(90));
            let status = order
                .poll_ready(&patient)
                .await
                .map_err(|e| format!("order: {}", crate::apply::causes(&e)))?;
            if status != OrderStatus::Ready {
                return Err(format!(
                    "the order is {status:?}, not ready: a challenge failed"
                ));
            }
            let csr = crate::discover::pem_blocks(r.csr_pem.as_bytes(), "CERTIFICATE REQUEST")
                .into_iter()
                .next()
                .ok_or("the certificate request is not PEM")?;
            order
                .finalize_csr(&csr)
                .await
                .map_err(|e| format!("finalize: {}", crate::apply::causes(&e)))?;
            order
                .poll_certificate(&patient)
                .await
                .map_err(|e| format!("certificate: {}", crate::apply::causes(&e)))
        }
        .await;
        drop(session);
        result
    }
}

impl Issuer for Acme {
    fn issue(&self, request: &Request, _idempotency_key: &str) -> Result<Issued, super::Error> {
        let Request::Certificate(r) = request else {
            return Err(super::Error::permanent(format!(
                "{} issues certificates, not secrets",
                self.name
            )));
        };
        if let Some(uri) = r.uris.first() {
            return Err(super::Error::permanent(format!(
                "{}: ACME certificates name DNS names and IP addresses only, and {} declares the workload {uri}",
                self.name, r.target
            )));
        }
        if r.dns_names.is_empty() && r.ip_addresses.is_empty() {
            return Err(super::Error::permanent(format!(
                "{}: {} declares no DNS name or IP address to order",
                self.name, r.target
            )));
        }
        // Past the checks above, what fails is the conversation with the CA (the network, its
        // load, its rate limits, a challenge not yet reachable): worth another try later.
        let chain_pem = self
            .block_on(self.order(r))
            .map_err(|e| super::Error::retryable(format!("{}: {e}", self.name)))?;
        Ok(Issued::Certificate { chain_pem })
    }

    fn revoke(&self, what: &Revocation<'_>, now: jiff::Timestamp) -> Result<String, super::Error> {
        self.revoke_by_contents(what, now)
            .map_err(super::Error::retryable)
    }
}

impl Acme {
    fn revoke_by_contents(
        &self,
        what: &Revocation<'_>,
        _now: jiff::Timestamp,
    ) -> Result<String, String> {
        let der = what.certificate.ok_or_else(|| {
            format!(
                "ACME revokes a certificate by its contents, and those of serial {} are no longer on disk",
                what.serial
            )
        })?;
        let reason = reason(what.reason)?;
        self.block_on(async {
            let account = self.account().await?;
            let certificate = CertificateDer::from(der);
            account
                .revoke(&RevocationRequest {
                    certificate: &certificate,
                    reason: Some(reason),
                })
                .await
                .map_err(|e| format!("revoke: {}", crate::apply::causes(&e)))
        })
        .map_err(|e| format!("{}: {e}", self.name))?;
        Ok(format!(
            "serial {} revoked at {} ({})",
            what.serial,
            self.directory_url,
            super::reason_name(what.reason)
        ))
    }
}

/// instant-acme's name for an RFC 5280 reason code.
fn reason(code: u8) -> Result<RevocationReason, String> {
    Ok(match code {
        0 => RevocationReason::Unspecified,
        1 => RevocationReason::KeyCompromise,
        2 => RevocationReason::CaCompromise,
        3 => RevocationReason::AffiliationChanged,
        4 => RevocationReason::Superseded,
        5 => RevocationReason::CessationOfOperation,
        6 => RevocationReason::CertificateHold,
        8 => RevocationReason::RemoveFromCrl,
        9 => RevocationReason::PrivilegeWithdrawn,
        10 => RevocationReason::AaCompromise,
        other => return Err(format!("{other} is not an RFC 5280 reason code")),
    })
}
