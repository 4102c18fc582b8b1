//! The in-memory administrations: one table per entity (key -> record in its stored form),
//! staged document lines, and the clock that stamps `CreatedDate`/`ModifiedDate`.

use super::catalog::{Catalog, Entity, PropType};
use super::value::{normalize_guid, pad};
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

/// A record as stored: property name -> value (dates as `/Date(ms)/`, GUIDs lower case).
pub type Record = Map<String, Value>;

/// An error the service answers with: HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The message (`error.message.value`).
    pub message: String,
}

impl ApiError {
    /// 400 Bad Request.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            message: message.into(),
        }
    }
    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: 404,
            message: message.into(),
        }
    }
    /// 500, the status the Entity Services use for functional exceptions.
    pub fn server(message: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            message: message.into(),
        }
    }
}

/// One administration (one company database).
#[derive(Debug, Default)]
pub struct Admin {
    /// `ServerName` header value.
    pub server: String,
    /// `DatabaseName` header value.
    pub database: String,
    /// Three-character company code (`CompanyCode`).
    pub company: String,
    /// Entity name -> key -> record.
    pub tables: HashMap<String, IndexMap<String, Record>>,
    /// Line entity -> keys of lines staged under a TransactionKey and not yet committed.
    pub staged: HashMap<String, HashSet<String>>,
    /// TransactionKeys a header has committed (reusing one is an error).
    pub committed_keys: HashSet<String>,
    /// Seed of the GUIDs this administration hands out (same seed, same GUIDs).
    pub guid_seed: u64,
    /// GUIDs handed out so far.
    pub guid_seq: AtomicU64,
}

impl Admin {
    /// A new GUID, reproducible from `guid_seed` and the number of GUIDs handed out so far.
    pub fn new_guid(&self) -> String {
        let n = self.guid_seq.fetch_add(1, AtomicOrdering::Relaxed);
        let mut bytes = [0u8; 16];
        let (a, b) = (
            splitmix(self.guid_seed ^ n.wrapping_mul(2)),
            splitmix(self.guid_seed ^ n.wrapping_mul(2).wrapping_add(1)),
        );
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// The table of an entity.
    pub fn table(&self, entity: &str) -> Option<&IndexMap<String, Record>> {
        self.tables.get(entity)
    }

    /// The table of an entity, created on first use.
    pub fn table_mut(&mut self, entity: &str) -> &mut IndexMap<String, Record> {
        self.tables.entry(entity.to_string()).or_default()
    }

    /// True when the line is staged (not yet committed by a header).
    pub fn is_staged(&self, entity: &str, key: &str) -> bool {
        self.staged.get(entity).is_some_and(|s| s.contains(key))
    }

    /// The first record of `entity` whose `prop` equals `value` (SQL semantics: case and
    /// trailing spaces ignored).
    pub fn find_by(&self, entity: &str, prop: &str, value: &str) -> Option<&Record> {
        let want = value.trim_end().to_lowercase();
        self.table(entity)?.values().find(|r| {
            r.get(prop)
                .and_then(text)
                .is_some_and(|v| v.trim_end().to_lowercase() == want)
        })
    }

    /// The next number after the highest numeric value of `prop` in `entity` (at least `floor`).
    pub fn next_number(&self, entity: &str, prop: &str, floor: i64) -> i64 {
        let max = self
            .table(entity)
            .into_iter()
            .flat_map(|t| t.values())
            .filter_map(|r| match r.get(prop) {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        max.saturating_add(1).max(floor)
    }
}

/// SplitMix64: a well-mixed 64-bit value from a counter.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value as text (numbers rendered), for lookups.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The store key of a record: its key property rendered as text.
pub fn record_key(entity: &Entity, rec: &Record) -> Option<String> {
    rec.get(&entity.key).and_then(text)
}

/// Parses the key inside `Entity(...)`: `guid'…'` (braces optional), `'text'` or a number,
/// into the store key. `pad_codes` pads right-aligned string keys (used by the Rust API,
/// where a caller writes `update("SalesOrderHeader", "12", …)`; URLs must be exact).
pub fn parse_key(entity: &Entity, raw: &str, pad_codes: bool) -> Result<String, ApiError> {
    let prop = entity.key_property();
    let raw = raw.trim();
    let bad = || {
        ApiError::bad(format!(
            "Bad Request - Error in query syntax: invalid key '{raw}' for entity '{}'.",
            entity.name
        ))
    };
    match prop.ty {
        PropType::Guid => {
            let inner = raw
                .strip_prefix("guid'")
                .and_then(|r| r.strip_suffix('\''))
                .unwrap_or(if pad_codes { raw } else { "" });
            normalize_guid(inner).ok_or_else(bad)
        }
        PropType::String => {
            let inner = match raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
                Some(s) => s.replace("''", "'"),
                None if pad_codes => raw.to_string(),
                None => return Err(bad()),
            };
            Ok(if pad_codes && prop.right_aligned {
                pad(&inner, prop.length)
            } else {
                inner
            })
        }
        _ => raw.parse::<i64>().map(|n| n.to_string()).map_err(|_| bad()),
    }
}

/// The key as it appears in a URL: `guid'…'`, `'…'` or a number.
pub fn key_literal(entity: &Entity, key: &str) -> String {
    match entity.key_property().ty {
        PropType::Guid => format!("guid'{key}'"),
        PropType::String => format!("'{}'", key.replace('\'', "''")),
        _ => key.to_string(),
    }
}

/// All entities known to the catalogue, with an empty table each.
pub fn empty_tables() -> HashMap<String, IndexMap<String, Record>> {
    Catalog::get()
        .entities()
        .map(|e| (e.name.clone(), IndexMap::new()))
        .collect()
}
