//! Batching: collect the keys of a whole page, resolve them with one `lookup` per entity and
//! field, and index the answers so each record finds its match without another call.

use crate::connectors::{Connector, ConnectorError, Record};
use serde_json::Value;
use std::collections::HashMap;

/// The text form of a key, normalised the way the systems compare: trimmed (Exact Globe pads
/// codes), case-insensitive (SQL Server collation), numbers without a trailing `.0`.
/// `None` for null, empty, objects and arrays: they never match anything.
pub fn key_string(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_lowercase(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// Records of one entity indexed by one field.
#[derive(Debug, Clone, Default)]
pub struct KeyIndex {
    by_key: HashMap<String, Record>,
}

impl KeyIndex {
    /// Indexes `records` by `field` (the first record wins when two share a value).
    pub fn new(field: &str, records: Vec<Record>) -> KeyIndex {
        let mut by_key = HashMap::new();
        for r in records {
            if let Some(k) = r.get(field).and_then(key_string) {
                by_key.entry(k).or_insert(r);
            }
        }
        KeyIndex { by_key }
    }

    /// The record whose field equals `value`.
    pub fn get(&self, value: &Value) -> Option<&Record> {
        key_string(value).and_then(|k| self.by_key.get(&k))
    }

    /// Adds (or replaces) the record for `value`: what this run created, so a later record of
    /// the same page or run finds it without asking the target again.
    pub fn insert(&mut self, value: &Value, record: Record) {
        if let Some(k) = key_string(value) {
            self.by_key.insert(k, record);
        }
    }

    /// Whether `value` was already resolved (found or known missing is not tracked here).
    pub fn contains(&self, value: &Value) -> bool {
        self.get(value).is_some()
    }
}

/// The distinct, non-null values of `values` (by their key form), in first-seen order.
pub fn distinct(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    values
        .into_iter()
        .filter(|v| key_string(v).is_some_and(|k| seen.insert(k)))
        .collect()
}

/// One batched lookup of `values` (deduplicated) on `entity.field`, indexed; no call at all
/// when there is nothing to look up.
pub async fn resolve(
    connector: &dyn Connector,
    entity: &str,
    field: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<KeyIndex, ConnectorError> {
    let values = distinct(values);
    if values.is_empty() {
        return Ok(KeyIndex::default());
    }
    let found = connector.lookup(entity, field, &values, &[]).await?;
    Ok(KeyIndex::new(field, found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_normalise_like_the_systems_compare() {
        assert_eq!(key_string(&json!("  A1 ")), Some("a1".into()));
        assert_eq!(key_string(&json!(12)), Some("12".into()));
        assert_eq!(key_string(&json!(12.0)), Some("12".into()));
        assert_eq!(key_string(&json!("12")), Some("12".into()));
        assert_eq!(key_string(&json!(null)), None);
        assert_eq!(key_string(&json!("  ")), None);
        assert_eq!(key_string(&json!({"a": 1})), None);
    }

    #[test]
    fn index_finds_by_normalised_value_and_takes_inserts() {
        let recs = vec![
            json!({"Email": "Jan@X.nl", "ID": 1}),
            json!({"Email": null, "ID": 2}),
        ]
        .into_iter()
        .map(|v| v.as_object().cloned().unwrap())
        .collect();
        let mut idx = KeyIndex::new("Email", recs);
        assert_eq!(idx.get(&json!("jan@x.nl")).unwrap()["ID"], 1);
        assert!(!idx.contains(&json!("piet@x.nl")));
        idx.insert(&json!("piet@x.nl"), Record::new());
        assert!(idx.contains(&json!("PIET@x.nl")));
    }

    #[test]
    fn distinct_drops_nulls_and_duplicates() {
        let d = distinct(vec![json!("a"), json!("A"), json!(null), json!("b")]);
        assert_eq!(d, vec![json!("a"), json!("b")]);
    }
}
