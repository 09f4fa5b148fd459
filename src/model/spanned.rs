//! `Spanned<T>`: a declared value and where it was written.

use crate::diag::Span;
use schemars::JsonSchema;
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// A value with the position it was read from. Comparison and hashing see only the value, so
/// two declarations that mean the same compare equal wherever they were written.
#[derive(Clone, Debug, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written (line 0 when it did not come from YAML).
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value with no position.
    pub fn new(value: T) -> Self {
        Self {
            value,
            span: Span::default(),
        }
    }
}

impl<T: std::fmt::Display> Spanned<T> {
    /// The value as text, at the same position (for messages about it).
    pub fn text(&self) -> Spanned<String> {
        Spanned {
            value: self.value.to_string(),
            span: self.span,
        }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

/// The newtype name `Spanned` asks a deserializer for. One that knows where its next value is
/// (the loader's direct reader) says so with [`next_at`] and then visits the newtype; any
/// other is read through serde-saphyr's `Spanned`, which serde-saphyr fills in and every other
/// format leaves at position 0.
pub(crate) const NAME: &str = "trustops::Spanned";

thread_local! {
    /// The position of the value about to be visited, from [`next_at`] to the visitor that
    /// immediately takes it: nothing is deserialized in between.
    static NEXT_AT: std::cell::Cell<Option<Span>> = const { std::cell::Cell::new(None) };
}

/// Says where the value of the `Spanned` being deserialized is (see [`NAME`]).
pub(crate) fn next_at(span: Span) {
    NEXT_AT.with(|at| at.set(Some(span)));
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(NAME, SpannedVisitor(std::marker::PhantomData))
    }
}

struct SpannedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
    type Value = Spanned<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Spanned<T>, D::Error> {
        if let Some(span) = NEXT_AT.with(std::cell::Cell::take) {
            return Ok(Spanned {
                value: T::deserialize(d)?,
                span,
            });
        }
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let at = s.referenced;
        let span = Span {
            line: u32::try_from(at.line()).unwrap_or(u32::MAX),
            column: u32::try_from(at.column()).unwrap_or(u32::MAX),
            offset: at
                .span()
                .byte_offset()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
            len: at
                .span()
                .byte_len()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
        };
        Ok(Spanned {
            value: s.value,
            span,
        })
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<T>()
    }
}
