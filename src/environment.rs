//! The environment variables a run may read, taken once at the edge (the CLI, a test) and
//! passed down: declarations name variables (`keyEnv`, `pkcs12PasswordEnv`, `webhookEnv`, the
//! SMTP login) and the library looks them up here, never in the process environment, so one
//! process can hold several configurations and a test can vary them without `set_var`.
//!
//! Values are secrets: `Debug` shows the names only.

use std::collections::BTreeMap;

/// Variable names and their values.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// Every variable of this process whose name and value are UTF-8.
    pub fn from_process() -> Self {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// This environment with `name` set to `value`.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The value of `name`; an empty value counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value of `name`, or an error naming it (never its value) and what it is `for`.
    pub fn require(&self, name: &str, what: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("environment variable {name} is not set ({what})"))
    }
}

/// This machine's name, as the kernel has it (for lock holders and inventories: who saw what).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this host".into())
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Environment;

    #[test]
    fn values_are_looked_up_but_never_shown() {
        let env = Environment::default().with("HOOK", "https://secret.example/x");
        assert_eq!(env.get("HOOK"), Some("https://secret.example/x"));
        assert_eq!(env.get("OTHER"), None);
        assert_eq!(
            env.require("OTHER", "SMTP login").unwrap_err(),
            "environment variable OTHER is not set (SMTP login)"
        );
        let shown = format!("{env:?}");
        assert!(
            shown.contains("HOOK") && !shown.contains("secret"),
            "{shown}"
        );
    }

    #[test]
    fn an_empty_value_is_unset() {
        assert_eq!(Environment::default().with("X", "").get("X"), None);
    }
}
