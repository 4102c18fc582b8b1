//! Mapping tables: named key -> value maps (payment conditions, VAT codes, ...), each with
//! an optional default for keys it does not list. Loaded by callers; looked up by `table()`.

use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
struct Table {
    entries: IndexMap<String, Value>,
    default: Option<Value>,
}

/// All mapping tables known to an evaluation, by name.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    tables: HashMap<String, Table>,
}

impl Tables {
    /// No tables.
    pub fn new() -> Self {
        Tables::default()
    }

    /// Adds (or replaces) the table `name`.
    pub fn insert(&mut self, name: &str, entries: IndexMap<String, Value>, default: Option<Value>) {
        self.tables.insert(name.to_string(), Table { entries, default });
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
