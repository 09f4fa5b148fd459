//! One YAML document → one declaration, in a single streaming pass.
//!
//! serde buffers internally tagged enums and loses positions (see `CRATES.md`), so the envelope
//! is read by hand: `apiVersion` and `kind` come first (Kubernetes order), and when `spec`
//! arrives its concrete type is already known and deserialized directly, keeping
//! `deny_unknown_fields` errors and `Spanned` positions exact. Documents of other API groups
//! (Kubernetes manifests, CI files) are skipped.

use crate::model::{
    ExceptionSpec, IdentitySpec, IssuerSpec, Kind, Metadata, OwnerSpec, PolicySpec, SourceSpec,
    Spanned,
};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

thread_local! {
    /// The field path of the last error raised inside a `spec`. serde errors carry a
    /// position but no path, and rebuilding the error to add one would lose the position, so
    /// the path travels beside it. Set by [`Tracked`], taken by the loader right after each
    /// document ([`take_error_field`]); nothing outlives one document.
    static ERROR_FIELD: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

thread_local! {
    /// Whether [`Tracked`] records field paths. Tracking costs about a fifth of the parse, and
    /// only a document that fails needs it: a file is parsed whole without it, and only a file
    /// that fails is read again, document by document, with it ([`tracking_paths`]).
    static TRACKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `parse` with the field path of each error recorded (see [`take_error_field`]).
pub(super) fn tracking_paths<T>(parse: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            TRACKING.with(|t| t.set(false));
        }
    }
    TRACKING.with(|t| t.set(true));
    let _reset = Reset;
    parse()
}

/// The field path (`spec.credentials[1].name`) of the error the last document raised, if it
/// was raised inside its `spec`.
pub(super) fn take_error_field() -> Option<String> {
    ERROR_FIELD.with(|f| f.borrow_mut().take())
}

/// The parsed spec of a known kind. The kinds an estate has few of are boxed, so that a
/// document (of which a file holds thousands, collected before they are admitted) is the size
/// of an identity's rather than of the largest spec's.
#[derive(Debug)]
pub(super) enum AnySpec {
    Owner(OwnerSpec),
    Policy(Box<PolicySpec>),
    Issuer(Box<IssuerSpec>),
    Source(Box<SourceSpec>),
    Identity(IdentitySpec),
    Exception(Box<ExceptionSpec>),
}

/// What one document held.
#[derive(Debug, Default)]
pub(super) struct RawDocument {
    /// Not a trustops document (another API group, or not a mapping).
    pub foreign: bool,
    pub api_version: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub metadata: Option<Metadata>,
    pub spec: Option<AnySpec>,
    /// `spec` was present but its kind was unknown or missing, so it was skipped.
    pub spec_skipped: bool,
}

const FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];

impl<'de> Deserialize<'de> for RawDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = RawDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a trustops declaration (a mapping with apiVersion, kind, metadata, spec)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDocument, A::Error> {
        let mut doc = RawDocument::default();
        while let Some(key) = map.next_key::<String>()? {
            if doc.foreign {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            match key.as_str() {
                "apiVersion" => {
                    let v: Spanned<String> = map.next_value()?;
                    doc.foreign = !is_trustops_group(&v.value);
                    doc.api_version = Some(v);
                }
                "kind" => doc.kind = Some(map.next_value()?),
                "metadata" => doc.metadata = Some(map.next_value()?),
                "spec" => {
                    // An unsupported version is reported by the loader; its spec may differ.
                    let supported = doc
                        .api_version
                        .as_ref()
                        .is_none_or(|v| v.value == crate::model::API_VERSION);
                    let kind = doc
                        .kind
                        .as_ref()
                        .and_then(|k| Kind::parse(&k.value))
                        .filter(|_| supported);
                    doc.spec = match kind {
                        Some(Kind::Owner) => Some(AnySpec::Owner(spec(&mut map)?)),
                        Some(Kind::Policy) => Some(AnySpec::Policy(spec(&mut map)?)),
                        Some(Kind::Issuer) => Some(AnySpec::Issuer(spec(&mut map)?)),
                        Some(Kind::Source) => Some(AnySpec::Source(spec(&mut map)?)),
                        Some(Kind::Identity) => Some(AnySpec::Identity(spec(&mut map)?)),
                        Some(Kind::Exception) => Some(AnySpec::Exception(spec(&mut map)?)),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                            doc.spec_skipped = true;
                            None
                        }
                    };
                }
                other => return Err(serde::de::Error::unknown_field(other, FIELDS)),
            }
        }
        Ok(doc)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawDocument, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(foreign())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<RawDocument, E> {
        Ok(foreign())
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<RawDocument, E> {
        Ok(foreign())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<RawDocument, E> {
        Ok(foreign())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<RawDocument, E> {
        Ok(foreign())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<RawDocument, E> {
        Ok(foreign())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<RawDocument, E> {
        Ok(foreign())
    }
}

fn foreign() -> RawDocument {
    RawDocument {
        foreign: true,
        ..RawDocument::default()
    }
}

/// True for `trustops.dev/...` and near-misses (`trustop.dev/v1`), which are then reported as
/// an unsupported version rather than silently skipped.
fn is_trustops_group(api_version: &str) -> bool {
    let group = api_version.split('/').next().unwrap_or_default();
    group == "trustops.dev" || strsim::levenshtein(group, "trustops.dev") < 3
}

/// Reads the `spec` value as `S`, recording the field path of any error.
fn spec<'de, S: Deserialize<'de>, A: MapAccess<'de>>(map: &mut A) -> Result<S, A::Error> {
    map.next_value_seed(Tracked(PhantomData))
}

struct Tracked<S>(PhantomData<S>);

impl<'de, S: Deserialize<'de>> DeserializeSeed<'de> for Tracked<S> {
    type Value = S;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S, D::Error> {
        if !TRACKING.with(std::cell::Cell::get) {
            return S::deserialize(d);
        }
        serde_path_to_error::deserialize(d).map_err(|e| {
            // `Spanned` fields are structs with a `value` inside; users never write that level.
            let path = e.path().to_string().replace(".value", "");
            let field = if path == "." {
                "spec".to_owned()
            } else {
                format!("spec.{path}")
            };
            ERROR_FIELD.with(|f| *f.borrow_mut() = Some(field));
            e.into_inner()
        })
    }
}
