//! Webhook notifier: POSTs `{"text": "…", "target": "…"}` (Slack- and Teams-compatible) to a URL
//! held in an environment variable, over HTTP or HTTPS ([`crate::apply::http`]), with three
//! attempts and growing pauses. The URL is a secret: it appears in no message.

use super::{Message, Notifier};
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
            match crate::apply::http::post_json(&url, &body) {
                Ok((status, _)) if (200..300).contains(&status) => {
                    return Ok(format!("webhook ${} answered {status}", self.env));
                }
                Ok((status, _)) => last = format!("answered {status}"),
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
