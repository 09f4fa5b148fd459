//! `trustops.yaml`: repository-level settings at the root of a governance repository.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of a governance repository (`trustops.yaml` at its root; optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepoConfig {
    /// Folders or files (relative to the root) holding declarations. Default: the whole
    /// repository except `audit/` and hidden folders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Folders or files under `paths` to skip (e.g. discovery fixtures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// The file name of the repository settings, at the repository root.
pub fn config_file_name() -> &'static str {
    "trustops.yaml"
}
