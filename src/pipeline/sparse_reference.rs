//! Projection through serde_json: other object keys are skipped with `IgnoredAny`, kept parts
//! built exactly as `serde_json::Value` builds them. The reference `scan/` is held to.

use super::{Node, Projection, NOTHING};
use crate::pipeline::reads::ReadSet;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use std::fmt;

impl Projection {
    /// Parses one JSON document keeping the parts read.
    pub fn from_slice(&self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let v = Sparse(&self.0).deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    }

    /// Parses a JSON array, each element keeping the parts read.
    pub fn array_from_slice(&self, bytes: &[u8]) -> Result<Vec<Value>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let v = (&mut de).deserialize_seq(Items(&self.0))?;
        de.end()?;
        Ok(v)
    }
}

/// Parses one JSON document keeping the parts `reads` names.
pub fn from_slice(bytes: &[u8], reads: &ReadSet) -> Result<Value, serde_json::Error> {
    Projection::new(reads).from_slice(bytes)
}

/// Parses a JSON array, each element keeping the parts `reads` names.
pub fn array_from_slice(bytes: &[u8], reads: &ReadSet) -> Result<Vec<Value>, serde_json::Error> {
    Projection::new(reads).array_from_slice(bytes)
}

/// A seed (and visitor) building a value projected by a read set.
#[derive(Clone, Copy)]
struct Sparse<'r>(&'r Node);

impl<'de> DeserializeSeed<'de> for Sparse<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.whole {
            Value::deserialize(d)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Sparse<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        Items(self.0.items.as_deref().unwrap_or(&NOTHING))
            .visit_seq(seq)
            .map(Value::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.0.whole_if_object {
            let mut out = Map::new();
            while let Some(k) = map.next_key::<String>()? {
                let v: Value = map.next_value()?;
                out.insert(k, v);
            }
            return Ok(Value::Object(out));
        }
        // Sized for the keys read, so the index never grows while filling.
        let mut out = Map::with_capacity(self.0.keys.len());
        while let Some(hit) = map.next_key_seed(Key(self.0))? {
            match hit {
                Some((k, sub)) => {
                    let v = map.next_value_seed(Sparse(sub))?;
                    out.insert(k, v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// The items of a list, each projected by the set given.
struct Items<'r>(&'r Node);

impl<'de> Visitor<'de> for Items<'_> {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let item = Sparse(self.0);
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(item)? {
            out.push(v);
        }
        Ok(out)
    }
}

/// An object key: `Some` (the key and what of its value to keep) when the set reads it.
struct Key<'r>(&'r Node);

impl<'de, 'r> DeserializeSeed<'de> for Key<'r> {
    type Value = Option<(String, &'r Node)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'r> Visitor<'de> for Key<'r> {
    type Value = Option<(String, &'r Node)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.position(v).map(|i| {
            let (k, sub) = &self.0.keys[i];
            (k.clone(), sub)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse;
    use crate::pipeline::reads::reads_of;
    use serde_json::json;

    fn set(srcs: &[&str]) -> ReadSet {
        let exprs: Vec<_> = srcs.iter().map(|s| parse(s).expect("parses")).collect();
        reads_of(exprs.iter())
    }

    #[test]
    fn keeps_only_read_keys_at_every_depth() {
        let r = set(&["a.b", "L | map(x => x.k)", "count(M)"]);
        let input = br#"{"a":{"b":[1,{"z":2}],"c":3},"z":{"q":1},"L":[{"k":1,"j":2},3,[{"k":4}]],"M":{"p":1},"N":[1]}"#;
        let got = from_slice(input, &r).expect("parses");
        assert_eq!(
            got,
            json!({"a":{"b":[1,{"z":2}]},"L":[{"k":1},3,[{}]],"M":{"p":1}})
        );
    }

    #[test]
    fn numbers_strings_and_errors_match_full_parsing() {
        let r = set(&["a", "b", "c", "d"]);
        let input =
            br#"{"a":1.5e3,"b":-7,"c":"x\u00e9\n","d":18446744073709551615,"e":[1,2,{"f":"g"}]}"#;
        let full: Value = serde_json::from_slice(input).expect("parses");
        let got = from_slice(input, &r).expect("parses");
        assert_eq!(got["a"], full["a"]);
        assert_eq!(got["b"], full["b"]);
        assert_eq!(got["c"], full["c"]);
        assert_eq!(got["d"], full["d"]);
        assert!(from_slice(br#"{"a":1,"e":[1,}"#, &r).is_err());
        assert!(from_slice(br#"{"a":1} x"#, &r).is_err());
        assert_eq!(from_slice(b"[1,2]", &r).expect("parses"), json!([1, 2]));
        assert_eq!(
            array_from_slice(br#"[{"a":1,"q":2},{"b":2}]"#, &r).expect("parses"),
            vec![json!({"a":1}), json!({"b":2})]
        );
    }
}
