//! The plan file: digests of the inputs, the plan's own digest, and reading a plan back.
//!
//! A plan may carry an SSH signature over its digest (`signature`, namespace
//! [`SIGNATURE_NAMESPACE`]), so a plan written by one CI job and applied by another is known to
//! come from a holder of an allowed key; checking it needs the repository, so `apply` does.
//!
//! The digest is SHA-256 over the plan's compact JSON without the `digest` field, written the
//! way trustops writes it (fields in contract order, maps sorted): reading a re-indented plan
//! back gives the same digest, while editing any value — or truncating the file — does not.
//! [`write()`] hashes it from the bytes it writes, so a plan is serialized once however many
//! places it goes to (the file, compressed, and standard output).

use super::{FORMAT_VERSION, Plan};
use crate::diag::Files;
use crate::discover::{Inventory, sha256_hex};
use serde_json::Value;
use std::io::Write as _;

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
    /// A `.gz` plan file that does not inflate.
    #[error("not a plan file: {0}")]
    Gzip(#[from] crate::gzip::Error),
    /// The content does not match its digest.
    #[error(
        "the plan was modified after it was written (digest mismatch); re-plan instead of editing it"
    )]
    Digest,
}

/// SHA-256 of the inventory's JSON (its order is stable, so equal inventories hash equal),
/// hashed as it is written: a million credentials are never one buffer. An inventory read
/// from saved files is identified by their bytes instead ([`Inventory::files_sha256`]): the
/// same files give the same digest, and no second serialization of the inventory is needed
/// (2.5 s of a core at a million credentials).
pub fn inventory_sha256(inventory: &Inventory) -> String {
    match &inventory.files_sha256 {
        Some(files) => files.clone(),
        None => json_sha256(inventory),
    }
}

/// SHA-256 of `value`'s compact JSON, streamed into the hash.
fn json_sha256(value: &impl serde::Serialize) -> String {
    use sha2::Digest;
    let mut hashing = std::io::BufWriter::with_capacity(64 << 10, Hashing(sha2::Sha256::new()));
    if serde_json::to_writer(&mut hashing, value).is_err() {
        return String::new();
    }
    match hashing.into_inner() {
        Ok(hashing) => crate::discover::inventory::hex(&hashing.0.finalize()),
        Err(_) => String::new(),
    }
}

/// SHA-256 over every declaration file read: path, NUL, text, NUL, in path order.
pub fn declarations_sha256(files: &Files) -> String {
    let mut all: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.path.as_str(), f.text.as_str()))
        .collect();
    all.sort_unstable();
    // Each path and text followed by a NUL, hashed as they are (not copied together first).
    use sha2::Digest;
    let mut hashing = sha2::Sha256::new();
    for (path, text) in all {
        hashing.update(path.as_bytes());
        hashing.update([0]);
        hashing.update(text.as_bytes());
        hashing.update([0]);
    }
    crate::discover::inventory::hex(&hashing.finalize())
}

/// Sources that could not be read at all, from the inventory's diagnostics.
pub fn failed_sources(inventory: &Inventory) -> Vec<String> {
    inventory
        .diagnostics
        .iter()
        .filter_map(|p| p.source_failed.as_ref())
        .map(|f| f.source.clone())
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

/// The digest of `plan` (its `digest` field is ignored): SHA-256 of its compact JSON, the
/// fields in contract order and every map sorted, so any reformatting of the file reads back
/// to the same digest.
pub fn digest(plan: &Plan) -> String {
    hashed(plan, &mut []).unwrap_or_default()
}

/// The digest of `plan`: its JSON up to the closing fields, closed with `}`, hashed as it is
/// passed on to `sinks`.
fn hashed(plan: &Plan, sinks: &mut [Sink<'_, '_>]) -> std::io::Result<String> {
    use sha2::Digest;
    let tee = Tee {
        hashing: sha2::Sha256::new(),
        sinks,
    };
    let mut buffered = std::io::BufWriter::with_capacity(64 << 10, tee);
    write_unsigned(plan, &mut buffered)?;
    let mut tee = buffered.into_inner().map_err(|e| e.into_error())?;
    tee.hashing.update(b"}");
    Ok(crate::discover::inventory::hex(&tee.hashing.finalize()))
}

/// Where [`write()`] puts a plan file.
pub enum Output<'a> {
    /// Compact JSON and a final newline (`jq .` indents it for a person).
    Json(&'a mut dyn std::io::Write),
    /// The same, gzip-compressed on every core: what `plan --out FILE.gz` writes (at 100,000
    /// identities a fifth of the JSON's size); `gzip -dc` gives back the JSON.
    Gzip(&'a mut dyn std::io::Write),
}

/// Writes `plan` as its file to every one of `outs`, serializing it once: the digest is hashed
/// from the bytes as they are written, then set on `plan`, with a signature by `signer` when
/// one is given, before the closing fields (`digest`, `signature`). A signature the plan had
/// is kept only when the digest is unchanged (it signs that digest). A plan is written as its
/// compact JSON (a quarter smaller than indented at 100,000 identities).
pub fn write(
    plan: &mut Plan,
    outs: &mut [Output<'_>],
    signer: Option<&crate::git::Signer>,
) -> std::io::Result<()> {
    use std::io::BufWriter;
    let mut sinks: Vec<Sink<'_, '_>> = outs
        .iter_mut()
        .map(|out| match out {
            Output::Json(out) => Sink::Json(BufWriter::with_capacity(64 << 10, &mut **out)),
            Output::Gzip(out) => Sink::Gzip(crate::gzip::Writer::new(&mut **out)),
        })
        .collect();
    let digest = hashed(plan, &mut sinks)?;
    if digest != plan.digest {
        plan.signature = None;
    }
    plan.digest = digest;
    if let Some(signer) = signer {
        let signature = signer
            .sign_as(&signed_payload(plan), SIGNATURE_NAMESPACE)
            .map_err(std::io::Error::other)?;
        plan.signature = Some(signature);
    }
    let mut tail = b",\"digest\":".to_vec();
    serde_json::to_writer(&mut tail, &plan.digest)?;
    if let Some(signature) = &plan.signature {
        tail.extend_from_slice(b",\"signature\":");
        serde_json::to_writer(&mut tail, signature)?;
    }
    tail.extend_from_slice(b"}\n");
    for sink in sinks {
        match sink {
            Sink::Json(mut out) => {
                out.write_all(&tail)?;
                out.flush()?;
            }
            Sink::Gzip(mut out) => {
                out.write_all(&tail)?;
                out.finish()?;
            }
        }
    }
    Ok(())
}

/// An [`Output`] being written.
enum Sink<'a, 'b> {
    Json(std::io::BufWriter<&'a mut (dyn std::io::Write + 'b)>),
    Gzip(crate::gzip::Writer<&'a mut (dyn std::io::Write + 'b)>),
}

/// A writer into the digest and every sink.
struct Tee<'s, 'a, 'b> {
    hashing: sha2::Sha256,
    sinks: &'s mut [Sink<'a, 'b>],
}

impl Tee<'_, '_, '_> {
    /// Hashes and writes `json`, with `member` (the same bytes as a gzip member) to a gzip sink.
    fn pass(&mut self, json: &[u8], member: Option<&[u8]>) -> std::io::Result<()> {
        use sha2::Digest;
        self.hashing.update(json);
        for sink in self.sinks.iter_mut() {
            match (sink, member) {
                (Sink::Json(out), _) => out.write_all(json)?,
                (Sink::Gzip(out), Some(member)) => out.write_member(member)?,
                (Sink::Gzip(out), None) => out.write_all(json)?,
            }
        }
        Ok(())
    }
}

impl std::io::Write for Tee<'_, '_, '_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        self.hashing.update(bytes);
        for sink in self.sinks.iter_mut() {
            match sink {
                Sink::Json(out) => out.write_all(bytes)?,
                Sink::Gzip(out) => out.write_all(bytes)?,
            }
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The plan as compact JSON up to its closing fields (`digest`, `signature` and the final
/// brace): the bytes serde_json writes for it, with the three long lists (credentials,
/// findings, actions) serialized on every core a part at a time, a few parts in memory
/// ([`list`]).
fn write_unsigned(
    plan: &Plan,
    out: &mut std::io::BufWriter<Tee<'_, '_, '_>>,
) -> std::io::Result<()> {
    use serde_json::to_writer;
    let p = plan;
    out.write_all(b"{\"format_version\":")?;
    to_writer(&mut *out, &p.format_version)?;
    out.write_all(b",\"id\":")?;
    to_writer(&mut *out, &p.id)?;
    out.write_all(b",\"generated_at\":")?;
    to_writer(&mut *out, &p.generated_at)?;
    out.write_all(b",\"trustops_version\":")?;
    to_writer(&mut *out, &p.trustops_version)?;
    out.write_all(b",\"inputs\":")?;
    to_writer(&mut *out, &p.inputs)?;
    out.write_all(b",\"applyable\":")?;
    to_writer(&mut *out, &p.applyable)?;
    out.write_all(b",\"complete\":")?;
    to_writer(&mut *out, &p.complete)?;
    out.write_all(b",\"errored\":")?;
    to_writer(&mut *out, &p.errored)?;
    out.write_all(b",\"summary\":")?;
    to_writer(&mut *out, &p.summary)?;
    out.write_all(b",\"credentials\":")?;
    list(out, &p.credentials)?;
    out.write_all(b",\"findings\":")?;
    list(out, &p.findings)?;
    out.write_all(b",\"references\":")?;
    to_writer(&mut *out, &p.references)?;
    out.write_all(b",\"actions\":")?;
    list(out, &p.actions)?;
    out.write_all(b",\"problems\":")?;
    Ok(to_writer(&mut *out, &p.problems)?)
}

/// `items` as a compact JSON array: parts of it serialized (and, for a gzip sink, compressed
/// into a member of their own) on every core, hashed and written in order as they are done,
/// a few parts held at a time.
fn list<T: serde::Serialize + Sync>(
    out: &mut std::io::BufWriter<Tee<'_, '_, '_>>,
    items: &[T],
) -> std::io::Result<()> {
    // About 2.5 MB of JSON for adoptions, the largest items: a member's worth for gzip.
    const PART: usize = 2_048;
    out.write_all(b"[")?;
    out.flush()?;
    let tee = out.get_mut();
    let gzip = tee.sinks.iter().any(|s| matches!(s, Sink::Gzip(_)));
    let parts: Vec<&[T]> = items.chunks(PART).collect();
    crate::parallel::streamed(
        parts.len(),
        4,
        |p| {
            let mut json = Vec::new();
            for (i, item) in parts[p].iter().enumerate() {
                if p > 0 || i > 0 {
                    json.push(b',');
                }
                serde_json::to_writer(&mut json, item)?;
            }
            let member = if gzip {
                Some(crate::gzip::member(&json)?)
            } else {
                None
            };
            Ok::<_, std::io::Error>((json, member))
        },
        |part| {
            let (json, member) = part?;
            tee.pass(&json, member.as_deref())
        },
    )?;
    out.write_all(b"]")
}

/// A writer into a SHA-256.
struct Hashing(sha2::Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The SSHSIG namespace of plan signatures.
pub const SIGNATURE_NAMESPACE: &str = "trustops-plan";

/// What a plan's signature covers: its digest, which covers every other field.
pub fn signed_payload(plan: &Plan) -> Vec<u8> {
    format!("trustops plan {} digest {}\n", plan.id, plan.digest).into_bytes()
}

/// [`write()`] into memory, unsigned: the plan's file as JSON, its digest set.
pub fn to_json(plan: &mut Plan) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into memory fails only for a serializer error, which a Plan cannot raise.
    let _ = write(plan, &mut [Output::Json(&mut bytes)], None);
    bytes
}

/// The most a gzip-compressed plan file may inflate to: twenty times the JSON of 100,000
/// identities.
const MAX_INFLATED: usize = 8 << 30;

/// Reads a plan file, as JSON or gzip-compressed JSON (told apart by the gzip magic number,
/// not the file name): the contract, a known `format_version`, a matching digest.
pub fn read(bytes: &[u8]) -> Result<Plan, Error> {
    if bytes.starts_with(&crate::gzip::MAGIC) {
        return read_json(&crate::gzip::inflate(bytes, MAX_INFLATED)?);
    }
    read_json(bytes)
}

/// [`read`] for the JSON.
fn read_json(bytes: &[u8]) -> Result<Plan, Error> {
    #[derive(serde::Deserialize)]
    struct Version {
        format_version: Option<Value>,
    }
    let json_error = |e: serde_json::Error| Error::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    let version: Version = serde_json::from_slice(bytes).map_err(json_error)?;
    match version.format_version.as_ref().map(Value::as_u64) {
        None => return Err(Error::Contract("no format_version field".into())),
        Some(Some(v)) if v == u64::from(FORMAT_VERSION) => {}
        Some(Some(v)) => return Err(Error::Version(v)),
        Some(None) => return Err(Error::Contract("format_version is not a number".into())),
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let plan: Plan = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| Error::Contract(format!("{}: {}", e.path(), e.inner())))?;
    if plan.digest.is_empty() {
        return Err(Error::Contract("no digest".into()));
    }
    if digest(&plan) != plan.digest {
        return Err(Error::Digest);
    }
    Ok(plan)
}
#[cfg(test)]
mod tests {
    use super::*;

    /// A plan with every field set and lists long enough to be written on several threads.
    fn full_plan() -> Plan {
        use crate::reconcile::{Finding, References};
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            id: "plan-0".into(),
            trustops_version: "0.1.0".into(),
            digest: "x".into(),
            signature: Some("-----BEGIN SSH SIGNATURE-----\n…".into()),
            ..Plan::default()
        };
        for i in 0..40_000 {
            let mut finding = Finding::new(
                crate::model::FindingCode::Expired,
                format!("certificate \"{i}\" expired\n"),
            )
            .with("not_after", "2026-05-20T00:00:00Z");
            finding.id = format!("expired:svc-{i}/tls");
            plan.findings.push(finding);
            plan.actions.push(super::super::Action {
                id: format!("rotate:svc-{i}/tls"),
                summary: "rotate ü".into(),
                ..Default::default()
            });
        }
        plan.references = References::of_all(&plan.findings);
        plan
    }

    #[test]
    fn the_plan_is_written_as_serde_json_writes_it_and_the_digest_covers_all_but_itself() {
        let mut plan = full_plan();
        let written = to_json(&mut plan);
        assert_ne!(plan.digest, "x", "the digest is set from what was written");
        assert_eq!(
            plan.signature, None,
            "a signature of another digest is dropped"
        );
        let mut expected = serde_json::to_vec(&plan).unwrap();
        expected.push(b'\n');
        assert!(written == expected, "the file differs from serde_json's");
        // The digest: SHA-256 of those bytes up to `digest`, closed.
        let text = String::from_utf8(expected).unwrap();
        let (before, _) = text.rsplit_once(",\"digest\":").unwrap();
        assert_eq!(plan.digest, sha256_hex(format!("{before}}}").as_bytes()));
        assert_eq!(digest(&plan), plan.digest);
        // Written again with its digest unchanged, a signature is kept and written last.
        plan.signature = Some("-----BEGIN SSH SIGNATURE-----\n…".into());
        let (mut json, mut gzip) = (Vec::new(), Vec::new());
        write(
            &mut plan,
            &mut [Output::Json(&mut json), Output::Gzip(&mut gzip)],
            None,
        )
        .unwrap();
        let mut expected = serde_json::to_vec(&plan).unwrap();
        expected.push(b'\n');
        assert!(
            json == expected,
            "the signed file differs from serde_json's"
        );
        assert!(crate::gzip::inflate(&gzip, usize::MAX).unwrap() == json);
        assert!(plan.signature.is_some());
    }

    #[test]
    fn digest_survives_reformatting_but_not_edits() {
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            id: "plan-0".into(),
            ..Plan::default()
        };
        let bytes = to_json(&mut plan);
        assert_eq!(read(&bytes).unwrap(), plan);
        let mut gzip = Vec::new();
        write(&mut plan, &mut [Output::Gzip(&mut gzip)], None).unwrap();
        assert_eq!(read(&gzip).unwrap(), plan);
        assert!(matches!(
            read(&gzip[..gzip.len() - 1]),
            Err(Error::Gzip(crate::gzip::Error::Truncated))
        ));
        let pretty = serde_json::to_vec_pretty(&plan).unwrap();
        assert!(read(&pretty).is_ok());
        let edited = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("plan-0", "plan-1");
        assert!(matches!(read(edited.as_bytes()), Err(Error::Digest)));
        assert!(matches!(
            read(&bytes[..bytes.len() / 2]),
            Err(Error::Json { .. })
        ));
        let future = String::from_utf8(bytes).unwrap().replace(
            &format!("\"format_version\":{FORMAT_VERSION}"),
            "\"format_version\":9",
        );
        assert!(matches!(read(future.as_bytes()), Err(Error::Version(9))));
        assert!(matches!(read(b"{\"a\": 1}"), Err(Error::Contract(_))));
        let unsigned = String::from_utf8(to_json(&mut plan))
            .unwrap()
            .replace(&plan.digest, "");
        assert!(matches!(read(unsigned.as_bytes()), Err(Error::Contract(_))));
    }
}
