//! E-mail notifier: one plain-text message per notice through the SMTP relay declared in
//! `trustops.yaml` (lettre), STARTTLS required by default, the login from environment
//! variables. Messages name the relay and the recipient, never the credentials.

use super::{Error, Message, Notifier};
use crate::environment::Environment;
use crate::model::{Smtp, SmtpTls};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use std::path::Path;
use std::time::Duration;

/// A recipient, through a relay.
#[derive(Clone, Debug)]
pub struct Email<'a> {
    /// The relay.
    pub smtp: &'a Smtp,
    /// Folder `caFile` is relative to (the repository).
    pub base: &'a Path,
    /// The recipient's address.
    pub to: String,
    /// Where the SMTP login's variables are looked up.
    pub env: &'a Environment,
}

impl Email<'_> {
    /// The relay's port: declared, else the usual one for its TLS mode.
    fn port(&self) -> u16 {
        self.smtp.port.unwrap_or(match self.smtp.tls {
            SmtpTls::Implicit => 465,
            _ => 587,
        })
    }

    /// The transport to the relay, as declared.
    fn transport(&self) -> Result<SmtpTransport, String> {
        let smtp = self.smtp;
        let loopback = smtp.host == "localhost"
            || smtp
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let tls = match smtp.tls {
            SmtpTls::None if !loopback => {
                return Err(format!(
                    "smtp tls: none is allowed only for a relay on loopback, not {}",
                    smtp.host
                ));
            }
            SmtpTls::None => Tls::None,
            mode => {
                let mut parameters = TlsParameters::builder(smtp.host.clone());
                if let Some(file) = &smtp.ca_file {
                    let path = crate::reconcile::resolve(self.base, file);
                    let pem = std::fs::read(&path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    for der in crate::discover::pem_certificates(&pem) {
                        let root = Certificate::from_der(der)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        parameters = parameters.add_root_certificate(root);
                    }
                }
                let parameters = parameters
                    .build_rustls()
                    .map_err(|e| format!("TLS settings: {e}"))?;
                if mode == SmtpTls::Implicit {
                    Tls::Wrapper(parameters)
                } else {
                    Tls::Required(parameters)
                }
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(smtp.host.clone())
            .port(self.port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(15)));
        if let Some(user_env) = &smtp.username_env {
            let variable = |name: &str| self.env.require(name, "SMTP login").map(str::to_owned);
            let password = match &smtp.password_env {
                Some(name) => variable(name)?,
                None => String::new(),
            };
            // PLAIN only (the connection is TLS by then): one refused login is one clear error.
            builder = builder
                .credentials(Credentials::new(variable(user_env)?, password))
                .authentication(vec![Mechanism::Plain]);
        }
        Ok(builder.build())
    }
}

impl Notifier for Email<'_> {
    fn send(&self, message: &Message) -> Result<String, Error> {
        let from = self
            .smtp
            .from
            .parse()
            .map_err(|e| Error::permanent(format!("smtp from {:?}: {e}", self.smtp.from)))?;
        let to = self
            .to
            .parse()
            .map_err(|e| Error::permanent(format!("e-mail address {:?}: {e}", self.to)))?;
        let mail = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(format!("trustops: {} needs attention", message.target))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(format!("{}\n", message.text))
            .map_err(|e| Error::permanent(format!("cannot compose the e-mail: {e}")))?;
        let transport = self.transport().map_err(Error::permanent)?;
        let relay = format!("{}:{}", self.smtp.host, self.port());
        super::retrying(&format!("e-mail to {} via {relay}", self.to), || {
            transport
                .send(&mail)
                .map(|response| {
                    format!(
                        "e-mail to {} accepted by {relay} ({})",
                        self.to,
                        response.code()
                    )
                })
                .map_err(|e| {
                    // A 5xx answer (a refused address or login) will not pass by itself.
                    if e.is_permanent() {
                        Error::permanent(crate::apply::causes(&e))
                    } else {
                        Error::retryable(crate::apply::causes(&e))
                    }
                })
        })
    }
}
