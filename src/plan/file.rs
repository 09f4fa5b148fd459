//! The plan file: digests of the inputs, the plan's own digest, and reading a plan back.
//!
//! The digest is SHA-256 over the plan's canonical JSON (object keys sorted, no whitespace)
//! without the `digest` field, so re-indenting a plan keeps it valid while editing any value
//! — or truncating the file — does not.

use super::{FORMAT_VERSION, Plan};
use crate::diag::Files;
use crate::discover::{Inventory, sha256_hex};
use serde_json::Value;

/// Why a plan file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON (or truncated).
    #[error("not a plan file: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// JSON, but not the plan contract.
    #[error("not a plan file: {0}")]
    Contract(String),
    /// A `format_version` this release does not read.
    #[error(
        "plan format_version {0} is not supported (this trustops reads {FORMAT_VERSION}); re-plan with this version"
    )]
    Version(u64),
    /// The content does not match its digest.
    #[error(
        "the plan was modified after it was written (digest mismatch); re-plan instead of editing it"
    )]
    Digest,
}

/// SHA-256 of the inventory's JSON (its order is stable, so equal inventories hash equal).
pub fn inventory_sha256(inventory: &Inventory) -> String {
    sha256_hex(&serde_json::to_vec(inventory).unwrap_or_default())
}

/// SHA-256 over every declaration file read: path, NUL, text, NUL, in path order.
pub fn declarations_sha256(files: &Files) -> String {
    let mut all: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.text.as_str()))
        .collect();
    all.sort_unstable();
    let mut bytes = Vec::new();
    for (path, text) in all {
        bytes.extend_from_slice(path.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
    }
    sha256_hex(&bytes)
}

/// Sources that could not be read at all, from the inventory's diagnostics.
pub fn failed_sources(inventory: &Inventory) -> Vec<String> {
    inventory
        .diagnostics
        .iter()
        .filter_map(|p| p.location.strip_prefix("source "))
        .map(str::to_owned)
        .collect()
}

/// `plan-` and 16 hex digits over the time and the input digests.
pub(super) fn plan_id(plan: &Plan) -> String {
    let basis = format!(
        "{}\0{}\0{}\0{}",
        plan.generated_at.0,
        plan.inputs.declarations_commit.as_deref().unwrap_or(""),
        plan.inputs.declarations_sha256,
        plan.inputs.inventory_sha256
    );
    format!("plan-{}", &sha256_hex(basis.as_bytes())[..16])
}

/// The digest of `plan` (its `digest` field is ignored).
pub fn digest(plan: &Plan) -> String {
    match serde_json::to_value(plan) {
        Ok(value) => digest_of(value),
        Err(_) => String::new(),
    }
}

fn digest_of(mut value: Value) -> String {
    if let Value::Object(map) = &mut value {
        map.remove("digest");
    }
    let mut bytes = Vec::new();
    canonical(&value, &mut bytes);
    sha256_hex(&bytes)
}

/// Compact JSON with object keys sorted, whatever map type serde_json was built with.
fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push(b'{');
            for (n, key) in keys.into_iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
                out.push(b':');
                canonical(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// The plan as pretty JSON with a final newline, as `--out` writes it.
pub fn to_json(plan: &Plan) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(plan).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Reads a plan file: JSON, the contract, a known `format_version`, a matching digest.
pub fn read(bytes: &[u8]) -> Result<Plan, Error> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let version = value
        .get("format_version")
        .ok_or_else(|| Error::Contract("no format_version field".into()))?;
    match version.as_u64() {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => return Err(Error::Version(v)),
        None => return Err(Error::Contract("format_version is not a number".into())),
    }
    let recorded = value
        .get("digest")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Contract("no digest field".into()))?;
    if digest_of(value.clone()) != recorded {
        return Err(Error::Digest);
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| Error::Contract(format!("{}: {}", e.path(), e.inner())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_survives_reformatting_but_not_edits() {
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            id: "plan-0".into(),
            ..Plan::default()
        };
        plan.digest = digest(&plan);
        let bytes = to_json(&plan);
        assert_eq!(read(&bytes).unwrap(), plan);
        let compact = serde_json::to_vec(&plan).unwrap();
        assert!(read(&compact).is_ok());
        let edited = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("plan-0", "plan-1");
        assert!(matches!(read(edited.as_bytes()), Err(Error::Digest)));
        assert!(matches!(
            read(&bytes[..bytes.len() / 2]),
            Err(Error::Json { .. })
        ));
        let future = String::from_utf8(bytes)
            .unwrap()
            .replace("\"format_version\": 1", "\"format_version\": 9");
        assert!(matches!(read(future.as_bytes()), Err(Error::Version(9))));
        assert!(matches!(read(b"{\"a\": 1}"), Err(Error::Contract(_))));
    }
}
