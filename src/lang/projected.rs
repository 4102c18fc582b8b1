//! Records parsed for reading only: the parts expressions navigate (objects and lists on the
//! way to a field) are kept as plain vectors, and only the values expressions use are
//! `serde_json::Value`s. Building an ordered `serde_json::Map` per object (a key `String`,
//! a hash and an index entry per field) was most of the cost of `exflow map`; a
//! [`ProjectedValue`] object is one vector whose keys borrow from the projection that parsed
//! it.
//!
//! Turned into a `Value` ([`ProjectedValue::to_value`]) it is exactly the record the
//! projection keeps, so evaluating over either gives the same results and errors.

use serde_json::{Map, Value};

/// A record, or part of one, as a projection parsed it.
#[derive(Debug, Clone, PartialEq)]
pub enum ProjectedValue<'k> {
    /// Kept exactly as it is in the input (scalars, and values used whole).
    Whole(Value),
    /// A list whose items are navigated.
    List(Vec<ProjectedValue<'k>>),
    /// An object with only the keys read, in input order; a key given twice keeps its first
    /// place and its last value, as `serde_json::Map` does.
    Object(Vec<(&'k str, ProjectedValue<'k>)>),
}

/// A value an expression can navigate: part of a `serde_json::Value` or of a projected
/// record. A view never points at [`ProjectedValue::Whole`]: that is `Json`.
#[derive(Debug, Clone, Copy)]
pub enum View<'v> {
    /// Part of a JSON value.
    Json(&'v Value),
    /// A list or object of a projected record.
    Projected(&'v ProjectedValue<'v>),
}

static NULL: Value = Value::Null;

impl<'k> ProjectedValue<'k> {
    /// The value this stands for, with only the parts kept.
    pub fn to_value(&self) -> Value {
        match self {
            ProjectedValue::Whole(v) => v.clone(),
            ProjectedValue::List(items) => Value::Array(items.iter().map(Self::to_value).collect()),
            ProjectedValue::Object(entries) => {
                let mut m = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    m.insert((*k).to_owned(), v.to_value());
                }
                Value::Object(m)
            }
        }
    }

    /// `v` with every object and list navigable (nothing dropped): for comparing evaluation
    /// over views with evaluation over `Value`s.
    pub fn from_value(v: &'k Value) -> ProjectedValue<'k> {
        match v {
            Value::Array(a) => ProjectedValue::List(a.iter().map(Self::from_value).collect()),
            Value::Object(m) => ProjectedValue::Object(
                m.iter()
                    .map(|(k, v)| (k.as_str(), Self::from_value(v)))
                    .collect(),
            ),
            other => ProjectedValue::Whole(other.clone()),
        }
    }

    /// Sets `key` in an object being built: a repeated key replaces the value in place.
    /// Keys come from one projection, so the same key is the same string.
    pub fn push_entry(entries: &mut Vec<(&'k str, ProjectedValue<'k>)>, key: &'k str, v: Self) {
        match entries.iter_mut().find(|(k, _)| std::ptr::eq(*k, key)) {
            Some(slot) => slot.1 = v,
            None => entries.push((key, v)),
        }
    }

    /// Writes the JSON text of [`Self::to_value`] without building it.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        match self {
            ProjectedValue::Whole(v) => serde_json::to_writer(&mut *out, v),
            ProjectedValue::List(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_json(out)?;
                }
                out.push(b']');
                Ok(())
            }
            ProjectedValue::Object(entries) => {
                out.push(b'{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_key(out, k)?;
                    v.write_json(out)?;
                }
                out.push(b'}');
                Ok(())
            }
        }
    }
}

/// Writes `"key":`.
pub fn write_key(out: &mut Vec<u8>, key: &str) -> Result<(), serde_json::Error> {
    if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, key)?;
    }
    out.push(b':');
    Ok(())
}

impl<'v> View<'v> {
    /// A view of a projected value.
    pub fn of(p: &'v ProjectedValue<'v>) -> View<'v> {
        match p {
            ProjectedValue::Whole(v) => View::Json(v),
            other => View::Projected(other),
        }
    }

    /// Whether this is JSON null.
    pub fn is_null(&self) -> bool {
        matches!(self, View::Json(Value::Null))
    }

    /// The field `key` of an object (null when missing or not an object).
    pub fn field(self, key: &str) -> View<'v> {
        match self {
            View::Json(Value::Object(m)) => View::Json(super::eval::field(m, key).unwrap_or(&NULL)),
            View::Projected(ProjectedValue::Object(entries)) => entries
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(View::Json(&NULL), |(_, v)| View::of(v)),
            _ => View::Json(&NULL),
        }
    }

    /// Item `i` of a list, negative from the end (null when out of range or not a list).
    pub fn index(self, i: i64) -> View<'v> {
        fn at<T>(a: &[T], i: i64) -> Option<&T> {
            let i = if i < 0 { a.len() as i64 + i } else { i };
            usize::try_from(i).ok().and_then(|i| a.get(i))
        }
        match self {
            View::Json(Value::Array(a)) => View::Json(at(a, i).unwrap_or(&NULL)),
            View::Projected(ProjectedValue::List(items)) => {
                at(items, i).map_or(View::Json(&NULL), View::of)
            }
            _ => View::Json(&NULL),
        }
    }

    /// The items, when this is a list.
    pub fn items(self) -> Option<Items<'v>> {
        match self {
            View::Json(Value::Array(a)) => Some(Items::Json(a)),
            View::Projected(ProjectedValue::List(items)) => Some(Items::Projected(items)),
            _ => None,
        }
    }
}

/// The items of a list, JSON or projected.
#[derive(Debug, Clone, Copy)]
pub enum Items<'v> {
    /// Items of a JSON array.
    Json(&'v [Value]),
    /// Items of a projected list.
    Projected(&'v [ProjectedValue<'v>]),
}

impl<'v> Items<'v> {
    /// How many.
    pub fn len(self) -> usize {
        match self {
            Items::Json(a) => a.len(),
            Items::Projected(a) => a.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Item `i` (in range).
    pub fn get(self, i: usize) -> Option<View<'v>> {
        match self {
            Items::Json(a) => a.get(i).map(View::Json),
            Items::Projected(a) => a.get(i).map(View::of),
        }
    }

    /// Every item, in order.
    pub fn iter(self) -> impl Iterator<Item = View<'v>> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn to_value_and_write_json_agree() {
        let p = ProjectedValue::Object(vec![
            ("a", ProjectedValue::Whole(json!(1.5))),
            (
                "b\"q",
                ProjectedValue::List(vec![
                    ProjectedValue::Whole(json!("x\n")),
                    ProjectedValue::Object(vec![]),
                ]),
            ),
        ]);
        let mut out = Vec::new();
        p.write_json(&mut out).expect("writes");
        assert_eq!(out, serde_json::to_vec(&p.to_value()).expect("serialises"));
        assert_eq!(p.to_value(), json!({"a": 1.5, "b\"q": ["x\n", {}]}));
    }

    #[test]
    fn repeated_keys_keep_first_place_and_last_value() {
        let keys = ["a".to_string(), "b".to_string()];
        let mut e = Vec::new();
        ProjectedValue::push_entry(&mut e, &keys[0], ProjectedValue::Whole(json!(1)));
        ProjectedValue::push_entry(&mut e, &keys[1], ProjectedValue::Whole(json!(2)));
        ProjectedValue::push_entry(&mut e, &keys[0], ProjectedValue::Whole(json!(3)));
        let p = ProjectedValue::Object(e);
        assert_eq!(
            serde_json::to_string(&p.to_value()).expect("serialises"),
            r#"{"a":3,"b":2}"#
        );
    }

    #[test]
    fn views_navigate_both_kinds() {
        let p = ProjectedValue::Object(vec![(
            "L",
            ProjectedValue::List(vec![ProjectedValue::Whole(json!({"k": 1}))]),
        )]);
        let v = View::of(&p);
        let item = v.field("L").index(-1);
        assert!(matches!(item.field("k"), View::Json(x) if *x == json!(1)));
        assert!(v.field("zz").is_null());
        assert!(v.field("L").index(5).is_null());
        assert_eq!(v.field("L").items().map(Items::len), Some(1));
    }
}
