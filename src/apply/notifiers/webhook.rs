//! Webhook notifier: POSTs `{"text": "…", "target": "…"}` (Slack- and Teams-compatible) to a URL
//! held in an environment variable, over HTTP or HTTPS ([`crate::apply::http`]). The URL is a
//! secret: it appears in no message.

use super::{Message, Notifier};

/// A webhook, configured.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// The environment variable holding the URL (named in messages instead of the URL).
    pub env: String,
}

impl Webhook {
    /// A webhook whose URL is in `env`.
    pub fn from_env(env: &str) -> Self {
        Webhook {
            env: env.to_owned(),
        }
    }
}

impl Notifier for Webhook {
    fn send(&self, message: &Message) -> Result<String, String> {
        let url = std::env::var(&self.env)
            .map_err(|_| format!("${} is not set, so the webhook has no URL", self.env))?;
        let body = serde_json::json!({"text": message.text, "target": message.target}).to_string();
        super::retrying(
            &format!("webhook ${}", self.env),
            || match crate::apply::http::post_json(&url, &body, None) {
                Ok((status, _)) if (200..300).contains(&status) => {
                    Ok(format!("webhook ${} answered {status}", self.env))
                }
                Ok((status, _)) => Err(format!("answered {status}")),
                Err(e) => Err(e),
            },
        )
    }
}
