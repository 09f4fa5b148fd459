//! The envelope every document shares, and the list of kinds.

use super::Spanned;
use crate::diag::Span;
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The only `apiVersion` this release reads.
pub const API_VERSION: &str = "trustops.dev/v1alpha1";

/// The kinds of declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A team or person responsible for identities.
    Owner,
    /// Rules for a class of credentials.
    Policy,
    /// A certificate authority or other credential issuer.
    Issuer,
    /// A place where credentials are discovered.
    Source,
    /// A workload or service account and its credentials.
    Identity,
    /// An approved, expiring waiver of one rule.
    Exception,
}

impl Kind {
    /// All kinds, in the order the loader resolves them.
    pub const ALL: [Kind; 6] = [
        Kind::Owner,
        Kind::Policy,
        Kind::Issuer,
        Kind::Source,
        Kind::Identity,
        Kind::Exception,
    ];

    /// The name as written in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Owner => "Owner",
            Kind::Policy => "Policy",
            Kind::Issuer => "Issuer",
            Kind::Source => "Source",
            Kind::Identity => "Identity",
            Kind::Exception => "Exception",
        }
    }

    /// The kind named `name`, exactly as written.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Lowercase name, used for schema file names (`identity.schema.json`).
    pub fn lower(self) -> String {
        self.as_str().to_ascii_lowercase()
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Implemented by each kind's `spec` type.
pub trait KindSpec: JsonSchema {
    /// The kind this spec belongs to.
    const KIND: Kind;
    /// One sentence for the schema description.
    const DESCRIPTION: &'static str;
}

/// Names and labels of a declaration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// Unique name among declarations of this kind: lowercase letters, digits, `-` and `.`.
    pub name: Spanned<String>,
    /// Free-form key/value labels, e.g. `env: prod`, `team: payments`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Free-form notes for tools and people; not interpreted by trustops.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Where a declaration was read from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// File path relative to the repository root.
    pub path: String,
    /// Position of `metadata.name` (or the document start).
    pub span: Span,
    /// Index of the document in its file, from 0.
    pub document: usize,
}

/// A whole document of one kind: the envelope around a `spec`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Declaration<S> {
    /// Always `trustops.dev/v1alpha1`.
    pub api_version: Spanned<String>,
    /// The kind of document.
    pub kind: Spanned<String>,
    /// Name and labels.
    pub metadata: Metadata,
    /// The kind-specific content.
    pub spec: S,
    /// Where this was declared (not part of the YAML).
    #[serde(skip)]
    pub origin: Origin,
}

impl<S> Declaration<S> {
    /// The declared name.
    pub fn name(&self) -> &str {
        &self.metadata.name.value
    }
}

impl<S: KindSpec> JsonSchema for Declaration<S> {
    fn schema_name() -> Cow<'static, str> {
        S::KIND.as_str().into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> schemars::Schema {
        let metadata = generator.subschema_for::<Metadata>();
        let spec = generator.subschema_for::<S>();
        schemars::json_schema!({
            "type": "object",
            "description": S::DESCRIPTION,
            "properties": {
                "apiVersion": {"const": API_VERSION, "description": "The trustops API version."},
                "kind": {"const": S::KIND.as_str()},
                "metadata": metadata,
                "spec": spec,
            },
            "required": ["apiVersion", "kind", "metadata", "spec"],
            "additionalProperties": false,
        })
    }
}
