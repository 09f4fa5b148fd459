//! How a remote service — a source, an issuer, a notifier — failed: one typed error that says
//! whether trying again may help, so callers back off on what may pass and stop on what will
//! not.

/// Whether a failure may pass by itself.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Retry {
    /// The network, a timeout, a 5xx or a rate limit: try again later, with backoff.
    Retryable,
    /// The request or the configuration is refused (a CSR or a name the CA will not sign, a
    /// missing key, variable or path, an answer outside the contract): trying again changes
    /// nothing until the declarations or the service change.
    Permanent,
}

/// Why an issuer did not issue or revoke, or a notifier did not deliver: one line without
/// secrets, and whether retrying may help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What went wrong.
    pub message: String,
    /// Whether it may pass.
    pub retry: Retry,
}

impl Error {
    /// A failure that may pass (network, timeout, 5xx, rate limit).
    pub fn retryable(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            retry: Retry::Retryable,
        }
    }

    /// A refusal that will not pass by itself.
    pub fn permanent(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            retry: Retry::Permanent,
        }
    }

    /// This error, its message after `what` (the service's name, a request) and a colon.
    pub fn within(self, what: impl std::fmt::Display) -> Error {
        Error {
            message: format!("{what}: {}", self.message),
            ..self
        }
    }
}
