//! Mapping tables: named key -> value maps (payment conditions, VAT codes, ...), each with
//! an optional default for keys it does not list. Loaded by callers; looked up by `table()`.

use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast multiply-rotate hash (as rustc's FxHash): lookups run for every record, and the
/// tables come from the project's own files, so flooding them is not a concern.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<V> = HashMap<String, V, BuildHasherDefault<Fx>>;

#[derive(Debug, Clone, Default)]
struct Table {
    entries: FastMap<Value>,
    default: Option<Value>,
}

/// All mapping tables known to an evaluation, by name.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    tables: FastMap<Table>,
}

impl Tables {
    /// No tables.
    pub fn new() -> Self {
        Tables::default()
    }

    /// Adds (or replaces) the table `name`.
    pub fn insert(&mut self, name: &str, entries: IndexMap<String, Value>, default: Option<Value>) {
        let entries = entries.into_iter().collect();
        self.tables
            .insert(name.to_string(), Table { entries, default });
    }

    /// The table names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tables.keys().cloned().collect();
        names.sort();
        names
    }

    /// Whether a table of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.tables.contains_key(name)
    }

    /// The value for `key` in table `name`: the entry, else the table's default.
    /// `None` when the table does not exist or neither is there.
    pub fn lookup(&self, name: &str, key: &str) -> Option<&Value> {
        let t = self.tables.get(name)?;
        t.entries.get(key).or(t.default.as_ref())
    }
}
