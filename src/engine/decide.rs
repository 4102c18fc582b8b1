//! Decisions: what to do with one record, and the field diff behind an update.

use super::batch::key_string;
use crate::connectors::Record;
use crate::pipeline::OnMatch;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::Value;

/// One changed field: what the target holds and what the source says it should hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The target property.
    pub field: String,
    /// Its value on the target now.
    pub old: Value,
    /// The value the update writes.
    pub new: Value,
}

/// What the engine does with one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// It does not exist on the target: create it with this payload.
    Create {
        /// What is sent (header fields; lines under the lines field).
        payload: Record,
    },
    /// It exists and these fields differ.
    Update {
        /// The target key.
        key: Value,
        /// The changed fields, old -> new.
        diff: Vec<FieldChange>,
    },
    /// Nothing to do.
    Skip {
        /// Why (exists, unchanged, filtered out, a require said so).
        reason: String,
    },
    /// It cannot be handled.
    Fail {
        /// Why, naming the missing key or the failing expression.
        reason: String,
    },
}

impl Decision {
    /// A skip with this reason.
    pub fn skip(reason: impl Into<String>) -> Decision {
        Decision::Skip {
            reason: reason.into(),
        }
    }

    /// A failure with this reason.
    pub fn fail(reason: impl Into<String>) -> Decision {
        Decision::Fail {
            reason: reason.into(),
        }
    }
}

/// A date or moment in any spelling the systems use: OData `/Date(ms)/` (with an optional
/// offset, which Exact leaves at local time), RFC 3339, `YYYY-MM-DDTHH:MM:SS`, `YYYY-MM-DD`.
fn moment(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map_or(inner, |(i, _)| &inner[..i]);
        let ms: i64 = digits.parse().ok()?;
        return DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Whether two values are the same for the target: strings compare trimmed (Globe pads
/// codes), numbers by value even when one side is a numeric string, null equals "".
fn same(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.trim().is_empty(),
        (Value::String(a), Value::String(b)) => {
            a.trim() == b.trim() || matches!((moment(a), moment(b)), (Some(x), Some(y)) if x == y)
        }
        (Value::Number(_), Value::String(_)) | (Value::String(_), Value::Number(_)) => {
            let num = |v: &Value| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match (num(old), num(new)) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                _ => false,
            }
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            _ => a == b,
        },
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same(v, w))
        }
        _ => old == new || key_string(old).is_some() && key_string(old) == key_string(new),
    }
}

/// The fields of `desired` that differ from `existing`, leaving out `create_only` fields and
/// `excluded` ones (the key, the lines of a document) and fields `existing` does not hold.
/// With `only_if_changed` false every mapped field is written, changed or not.
pub fn diff(
    existing: &Record,
    desired: &Record,
    create_only: &[String],
    excluded: &[&str],
    only_if_changed: bool,
) -> Vec<FieldChange> {
    desired
        .iter()
        .filter(|(field, _)| {
            !create_only.iter().any(|c| c == *field) && !excluded.contains(&field.as_str())
        })
        .filter_map(|(field, new)| {
            // A field the target did not return cannot be compared: writing it on every
            // run would make every record look changed.
            let old = match existing.get(field) {
                Some(old) => old.clone(),
                None if only_if_changed => return None,
                None => Value::Null,
            };
            (!only_if_changed || !same(&old, new)).then(|| FieldChange {
                field: field.clone(),
                old,
                new: new.clone(),
            })
        })
        .collect()
}

/// The decision for a record whose target match is `existing` (or none).
pub fn decide(
    existing: Option<(&Record, Value)>,
    desired: Record,
    on_match: OnMatch,
    create_only: &[String],
    excluded: &[&str],
    only_if_changed: bool,
) -> Decision {
    match existing {
        None => Decision::Create { payload: desired },
        Some((_, _)) if on_match == OnMatch::Skip => Decision::skip("exists on the target"),
        Some((_, _)) if on_match == OnMatch::Fail => {
            Decision::fail("exists on the target and on_match is fail")
        }
        Some((record, key)) => {
            let diff = diff(record, &desired, create_only, excluded, only_if_changed);
            if diff.is_empty() {
                Decision::skip("unchanged")
            } else {
                Decision::Update { key, diff }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> Record {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn diff_keeps_changed_writable_fields_only() {
        let old = rec(json!({"Code": "   A1", "Name": "Old", "Price": "10.5", "Note": "kept"}));
        let new =
            rec(json!({"Code": "A1", "Name": "New", "Price": 10.5, "Note": "mine", "Lines": []}));
        let d = diff(&old, &new, &["Note".to_string()], &["Lines"], true);
        assert_eq!(
            d,
            vec![FieldChange {
                field: "Name".into(),
                old: json!("Old"),
                new: json!("New")
            }]
        );
    }

    #[test]
    fn missing_means_create_and_matches_follow_on_match() {
        let desired = rec(json!({"Name": "N"}));
        let existing = rec(json!({"ID": 7, "Name": "N"}));
        assert!(matches!(
            decide(None, desired.clone(), OnMatch::Skip, &[], &[], true),
            Decision::Create { .. }
        ));
        assert_eq!(
            decide(
                Some((&existing, json!(7))),
                desired.clone(),
                OnMatch::Skip,
                &[],
                &[],
                true
            ),
            Decision::skip("exists on the target")
        );
        assert!(matches!(
            decide(
                Some((&existing, json!(7))),
                desired.clone(),
                OnMatch::Fail,
                &[],
                &[],
                true
            ),
            Decision::Fail { .. }
        ));
        assert_eq!(
            decide(
                Some((&existing, json!(7))),
                desired.clone(),
                OnMatch::Update,
                &[],
                &[],
                true
            ),
            Decision::skip("unchanged")
        );
        let changed = rec(json!({"Name": "M"}));
        match decide(
            Some((&existing, json!(7))),
            changed,
            OnMatch::Update,
            &[],
            &[],
            true,
        ) {
            Decision::Update { key, diff } => {
                assert_eq!(key, json!(7));
                assert_eq!(diff.len(), 1);
                assert_eq!(diff[0].old, json!("N"));
            }
            other => panic!("expected update, got {other:?}"),
        }
    }

    #[test]
    fn create_only_fields_are_never_updated() {
        let existing = rec(json!({"Desc": "enriched in Globe"}));
        let desired = rec(json!({"Desc": "from Online"}));
        assert_eq!(
            decide(
                Some((&existing, json!("A"))),
                desired,
                OnMatch::Update,
                &["Desc".to_string()],
                &[],
                true
            ),
            Decision::skip("unchanged")
        );
    }

    #[test]
    fn dates_compare_by_moment_whatever_the_spelling() {
        let old = rec(json!({"From": "/Date(946684800000)/", "To": "/Date(946684800000+0100)/"}));
        let new = rec(json!({"From": "2000-01-01", "To": "2000-01-01T00:00:00Z"}));
        assert!(diff(&old, &new, &[], &[], true).is_empty());
        let later = rec(json!({"From": "2000-01-02"}));
        assert_eq!(diff(&old, &later, &[], &[], true).len(), 1);
    }

    #[test]
    fn fields_the_target_did_not_return_are_not_compared() {
        let existing = rec(json!({"Name": "N"}));
        let desired = rec(json!({"Name": "N", "Phone": "06"}));
        assert!(diff(&existing, &desired, &[], &[], true).is_empty());
    }

    #[test]
    fn without_only_if_changed_every_field_is_written() {
        let existing = rec(json!({"Name": "N"}));
        let desired = rec(json!({"Name": "N"}));
        assert_eq!(diff(&existing, &desired, &[], &[], false).len(), 1);
    }
}
