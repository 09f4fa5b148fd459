//! Webhook notifier: POSTs `{"text": "…", "target": "…"}` (Slack- and Teams-compatible) to a URL
//! held in an environment variable, over HTTP or HTTPS ([`crate::apply::http`]). The URL is a
//! secret: it appears in no message, only the variable's name does.

use super::{Error, Message, Notifier};
use crate::environment::Environment;

/// A webhook, configured.
#[derive(Clone)]
pub struct Webhook {
    /// The environment variable holding the URL (named in messages instead of the URL).
    variable: String,
    /// The URL, when the variable is set.
    url: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("variable", &self.variable)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// The webhook whose URL is in the variable `variable` of `env`.
    pub fn new(variable: &str, env: &Environment) -> Self {
        Webhook {
            variable: variable.to_owned(),
            url: env.get(variable).map(str::to_owned),
        }
    }
}

impl Notifier for Webhook {
    fn send(&self, message: &Message) -> Result<String, Error> {
        let variable = &self.variable;
        let url = self.url.as_deref().ok_or_else(|| {
            Error::permanent(format!("${variable} is not set, so the webhook has no URL"))
        })?;
        let body = serde_json::json!({"text": message.text, "target": message.target}).to_string();
        super::retrying(&format!("webhook ${variable}"), || {
            match crate::http::post_json(url, &body, None) {
                Ok((status, _)) if (200..300).contains(&status) => {
                    Ok(format!("webhook ${variable} answered {status}"))
                }
                // Timeouts, rate limits and server errors may pass; other refusals will not.
                Ok((status @ (408 | 429 | 500..), _)) => {
                    Err(Error::retryable(format!("answered {status}")))
                }
                Ok((status, _)) => Err(Error::permanent(format!("answered {status}"))),
                Err(e) => Err(Error::retryable(e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A loopback receiver that answers every request with `status`; counts the requests.
    fn answering(status: u16) -> (String, Arc<AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&hits);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        (url, hits)
    }

    fn send(url: Option<&str>) -> Result<String, Error> {
        let env = url.map_or_else(Environment::default, |u| {
            Environment::default().with("HOOK", u)
        });
        Webhook::new("HOOK", &env).send(&Message::default())
    }

    #[test]
    fn a_refusal_is_permanent_and_sent_once() {
        let (url, hits) = answering(404);
        let error = send(Some(&url)).unwrap_err();
        assert_eq!(error.retry, super::super::Retry::Permanent);
        assert!(
            error.message.contains("after 1 attempt: answered 404"),
            "{error}"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert!(
            !error.message.contains(&url),
            "the URL is a secret: {error}"
        );
    }

    #[test]
    fn a_server_error_may_pass_and_is_tried_three_times() {
        let (url, hits) = answering(503);
        let error = send(Some(&url)).unwrap_err();
        assert_eq!(error.retry, super::super::Retry::Retryable);
        assert!(
            error.message.contains("after 3 attempts: answered 503"),
            "{error}"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn an_unset_variable_is_permanent_and_named() {
        let error = send(None).unwrap_err();
        assert_eq!(error.retry, super::super::Retry::Permanent);
        assert_eq!(error.message, "$HOOK is not set, so the webhook has no URL");
    }
}
