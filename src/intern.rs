//! Shared text for the values a million credentials repeat: an issuer's name, a key type, a
//! curve, a signature algorithm, the Source that found them, the host that took an inventory.
//! Read from an inventory, each distinct value is allocated once per thread and every
//! credential holding it points at that copy, instead of a heap block of its own: at 1,000,000
//! credentials about 150 MB and five million allocations less. The reference is one pointer
//! (to a count beside the text's own pointer and length), so an absent value costs 8 bytes,
//! not the 16 of an `Arc<str>`: a credential has twelve such fields and a location five.
//!
//! A [`Shared`] reads as a `str` and is written as a JSON string. Interning happens only while
//! deserializing inside `pooled`, on the thread that calls it, and the pool is dropped when it
//! returns; elsewhere (discovery, tests) each value is its own allocation. The pool stops growing at 65,536 values, so a field that turns out
//! to be unique per credential costs a lookup, not an unbounded table.

use crate::fast_map::Set;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::sync::Arc;

/// Text shared between the credentials that repeat it: a `str` behind a reference count.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared(Arc<Box<str>>);

impl std::ops::Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self.0, f)
    }
}

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Shared {
    fn from(text: &str) -> Self {
        Shared(Arc::new(Box::from(text)))
    }
}

impl From<String> for Shared {
    fn from(text: String) -> Self {
        Shared(Arc::new(text.into_boxed_str()))
    }
}

impl Serialize for Shared {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Through the pool, when one is open on this thread.
impl<'de> Deserialize<'de> for Shared {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Visitor)
    }
}

impl schemars::JsonSchema for Shared {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        String::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

/// Distinct values one pool keeps; beyond that, values are allocated each time.
const MAX_DISTINCT: usize = 65_536;

thread_local! {
    static POOL: RefCell<Option<Set<Shared>>> = const { RefCell::new(None) };
}

/// Runs `work` with a pool on this thread: the [`Shared`] values it deserializes share one
/// copy of each value. Nested calls use the outer pool; the pool is gone when `work` returns
/// or unwinds.
pub(crate) fn pooled<R>(work: impl FnOnce() -> R) -> R {
    struct Close;
    impl Drop for Close {
        fn drop(&mut self) {
            POOL.with(|p| p.borrow_mut().take());
        }
    }
    let opened = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let opened = p.is_none();
        if opened {
            *p = Some(Set::default());
        }
        opened
    });
    let _close = opened.then_some(Close);
    work()
}

/// `text` as [`Shared`]: the pool's copy when a pool is open and has it (or room for it).
fn shared(text: &str) -> Shared {
    POOL.with(|p| match p.borrow_mut().as_mut() {
        None => Shared::from(text),
        Some(pool) => {
            if let Some(seen) = pool.get(text) {
                return seen.clone();
            }
            let value = Shared::from(text);
            if pool.len() < MAX_DISTINCT {
                pool.insert(value.clone());
            }
            value
        }
    })
}

struct Visitor;

impl serde::de::Visitor<'_> for Visitor {
    type Value = Shared;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Shared, E> {
        Ok(shared(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Row {
        a: Shared,
        #[serde(default)]
        b: Option<Shared>,
        #[serde(default)]
        c: Option<Vec<Shared>>,
    }

    fn rows(json: &str) -> Vec<Row> {
        serde_json::from_str(json).unwrap()
    }

    fn same(a: &Shared, b: &Shared) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    const JSON: &str =
        r#"[{"a":"CN=CA","b":"ec","c":["x"]},{"a":"CN=CA","b":"e\u0063","c":["x"]},{"a":"CN=CA"}]"#;

    #[test]
    fn an_absent_value_takes_one_pointer() {
        assert_eq!(std::mem::size_of::<Option<Shared>>(), 8);
    }

    #[test]
    fn in_a_pool_equal_values_share_one_copy_escaped_or_not() {
        let rows = pooled(|| rows(JSON));
        assert!(same(&rows[0].a, &rows[1].a));
        assert!(same(&rows[0].a, &rows[2].a));
        let (b0, b1) = (rows[0].b.as_ref().unwrap(), rows[1].b.as_ref().unwrap());
        assert_eq!(&**b1, "ec");
        assert!(same(b0, b1));
        assert!(same(
            &rows[0].c.as_ref().unwrap()[0],
            &rows[1].c.as_ref().unwrap()[0]
        ));
        assert_eq!(rows[2].b, None);
        assert_eq!(rows[2].c, None);
    }

    #[test]
    fn outside_a_pool_each_value_is_its_own_and_the_pool_is_gone_after() {
        let kept = pooled(|| rows(JSON));
        let rows = rows(JSON);
        assert_eq!(rows[0].a, rows[1].a);
        assert!(!same(&rows[0].a, &rows[1].a));
        // Only the rows hold the pool's copies now.
        assert_eq!(Arc::strong_count(&kept[0].a.0), 3);
    }

    #[test]
    fn a_pool_is_gone_after_its_work_panics() {
        let caught = std::panic::catch_unwind(|| pooled(|| panic!("in the pool")));
        assert!(caught.is_err());
        let rows = rows(JSON);
        assert!(!same(&rows[0].a, &rows[1].a));
    }

    #[test]
    fn reads_and_writes_as_a_string() {
        let value: Shared = serde_json::from_str(r#""CN=CA""#).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), r#""CN=CA""#);
        assert_eq!(format!("{value:?} {value}"), r#""CN=CA" CN=CA"#);
    }

    #[test]
    fn a_full_pool_still_gives_every_value() {
        pooled(|| {
            for n in 0..MAX_DISTINCT + 10 {
                assert_eq!(&*shared(&n.to_string()), n.to_string());
            }
            let past = (MAX_DISTINCT + 5).to_string();
            assert!(!same(&shared(&past), &shared(&past)));
            assert!(same(&shared("0"), &shared("0")));
        });
    }
}
