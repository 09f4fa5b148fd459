//! Every JSON Schema trustops publishes in `schemas/`: the declarations (from [`crate::model`])
//! and the data contracts: the inventory `discover --format json` prints, and the exec
//! inventory plugins print (both from [`crate::discover`]), and the plan `plan --format json`
//! prints and `apply` reads (from [`crate::plan`]).

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

/// The base of schema `$id`s: a name, not a place (nothing is served there; editors find the
/// schemas through relative modelines, `trustops schema --out` writing them beside the
/// declarations).
const ID_BASE: &str = "urn:trustops:schemas:v1alpha1";

/// A draft-07 schema for `T` with its `$id`.
pub(crate) fn schema_for<T: JsonSchema>(file: &str) -> Schema {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("$id".into(), format!("{ID_BASE}:{file}").into());
    let mut value = serde_json::Value::from(schema);
    direct_refs(&mut value);
    Schema::try_from(value).unwrap_or_default()
}

/// Turns `{"description": …, "allOf": [{"$ref": R}]}` (how schemars documents a field whose
/// type is a definition) into `{"description": …, "$ref": R}`: the same for validators, and
/// the YAML language server then puts required fields such as an Exception's `rule` and
/// `expires` into the snippets it completes (it skips `allOf` ones).
fn direct_refs(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let single_ref = map
                .get("allOf")
                .and_then(|a| a.as_array())
                .filter(|a| a.len() == 1)
                .and_then(|a| a[0].as_object())
                .filter(|o| o.len() == 1)
                .and_then(|o| o.get("$ref"))
                .cloned();
            if let Some(reference) = single_ref
                && !map.contains_key("$ref")
            {
                map.remove("allOf");
                map.insert("$ref".into(), reference);
            }
            map.values_mut().for_each(direct_refs);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(direct_refs),
        _ => {}
    }
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
