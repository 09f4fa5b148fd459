//! Every JSON Schema trustops publishes in `schemas/`: the declarations (from [`crate::model`])
//! and the data contracts: the inventory `discover --format json` prints, and the exec
//! inventory plugins print (both from [`crate::discover`]), and the plan `plan --format json`
//! prints and `apply` reads (from [`crate::plan`]).

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

/// The base of schema `$id`s.
const ID_BASE: &str = "https://trustops.dev/schemas/v1alpha1";

/// A draft-07 schema for `T` with its `$id`.
pub(crate) fn schema_for<T: JsonSchema>(file: &str) -> Schema {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("$id".into(), format!("{ID_BASE}/{file}").into());
    schema
}

/// Every published schema as (file name, schema), in a stable order.
pub fn all() -> Vec<(String, Schema)> {
    let mut all = crate::model::schema::all();
    all.push((
        "inventory.schema.json".into(),
        schema_for::<crate::discover::Inventory>("inventory.schema.json"),
    ));
    all.push((
        "exec-inventory.schema.json".into(),
        schema_for::<crate::discover::exec::ExecInventory>("exec-inventory.schema.json"),
    ));
    all.push((
        "exec-issuer-request.schema.json".into(),
        schema_for::<crate::apply::issuers::exec::ExecRequest>("exec-issuer-request.schema.json"),
    ));
    all.push((
        "exec-issuer-response.schema.json".into(),
        schema_for::<crate::apply::issuers::exec::ExecResponse>("exec-issuer-response.schema.json"),
    ));
    all.push((
        "audit-record.schema.json".into(),
        schema_for::<crate::audit::Record>("audit-record.schema.json"),
    ));
    all.push((
        "plan.schema.json".into(),
        schema_for::<crate::plan::Plan>("plan.schema.json"),
    ));
    all
}

/// A schema as the bytes written to `schemas/`: pretty JSON with a final newline.
pub fn to_file_text(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
