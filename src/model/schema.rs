//! JSON Schemas (draft-07, for the YAML language server) of every kind and of a whole document.

use super::{
    Declaration, ExceptionSpec, IdentitySpec, IssuerSpec, Kind, OwnerSpec, PolicySpec, RepoConfig,
    SourceSpec,
};
use schemars::{JsonSchema, Schema};

use crate::schemas::schema_for;

/// Any one trustops document; used for the whole-document schema.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(
    dead_code,
    reason = "only described, never built: the loader parses each kind directly"
)]
#[allow(clippy::large_enum_variant, reason = "never built")]
enum Document {
    Owner(Declaration<OwnerSpec>),
    Policy(Declaration<PolicySpec>),
    Issuer(Declaration<IssuerSpec>),
    Source(Declaration<SourceSpec>),
    Identity(Declaration<IdentitySpec>),
    Exception(Declaration<ExceptionSpec>),
}

/// Every schema trustops publishes, as (file name, schema), in a stable order.
pub fn all() -> Vec<(String, Schema)> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let file = format!("{}.schema.json", kind.lower());
        let schema = match kind {
            Kind::Owner => schema_for::<Declaration<OwnerSpec>>(&file),
            Kind::Policy => schema_for::<Declaration<PolicySpec>>(&file),
            Kind::Issuer => schema_for::<Declaration<IssuerSpec>>(&file),
            Kind::Source => schema_for::<Declaration<SourceSpec>>(&file),
            Kind::Identity => schema_for::<Declaration<IdentitySpec>>(&file),
            Kind::Exception => schema_for::<Declaration<ExceptionSpec>>(&file),
        };
        out.push((file, schema));
    }
    let mut document = schema_for::<Document>("document.schema.json");
    document.insert(
        "description".into(),
        "Any trustops declaration: Owner, Policy, Issuer, Source, Identity or Exception.".into(),
    );
    out.push(("document.schema.json".into(), document));
    out.push((
        "trustops-config.schema.json".into(),
        schema_for::<RepoConfig>("trustops-config.schema.json"),
    ));
    out
}
