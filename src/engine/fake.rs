//! An in-memory [`Connector`] for the engine's unit tests: tables of records, paging by
//! position, call counting, and two faults (a refused record, a lost create response).

use super::batch::key_string;
use super::keys::key_field;
use crate::connectors::{
    CallCount, Connector, ConnectorError, Cursor, FetchQuery, MatchKey, Page, Record, System,
};
use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Default)]
struct Inner {
    tables: HashMap<String, Vec<Record>>,
    calls: CallCount,
    next_id: u64,
    creates: usize,
    lookups: HashMap<String, usize>,
}

/// The fake system.
pub struct FakeConnector {
    system: System,
    page_size: usize,
    inner: Mutex<Inner>,
    /// Creates whose match value is this are refused (a record error).
    pub refuse: Mutex<Option<Value>>,
    /// The create with this number (1-based, counting every create) is made but its answer
    /// is lost: the call fails as unavailable.
    pub lose_create: Mutex<Option<usize>>,
    /// After this many lookups of the entity have been answered, the record appears in it:
    /// another process created it between a check and a write.
    pub appears: Mutex<Option<(String, usize, Record)>>,
}

impl FakeConnector {
    pub fn new(system: System, page_size: usize) -> FakeConnector {
        FakeConnector {
            system,
            page_size,
            inner: Mutex::new(Inner::default()),
            refuse: Mutex::new(None),
            lose_create: Mutex::new(None),
            appears: Mutex::new(None),
        }
    }

    pub fn insert(&self, entity: &str, record: Value) {
        if let Value::Object(r) = record {
            self.inner
                .lock()
                .tables
                .entry(entity.to_string())
                .or_default()
                .push(r);
        }
    }

    pub fn records(&self, entity: &str) -> Vec<Record> {
        self.inner
            .lock()
            .tables
            .get(entity)
            .cloned()
            .unwrap_or_default()
    }

    fn store(&self, entity: &str, record: &Record) -> Result<Record, ConnectorError> {
        let mut inner = self.inner.lock();
        inner.calls.writes += 1;
        inner.creates += 1;
        if let Some(refused) = &*self.refuse.lock() {
            if record.values().any(|v| v == refused) {
                return Err(ConnectorError::Refused {
                    system: self.system,
                    status: 400,
                    message: "refused by the fake".into(),
                });
            }
        }
        inner.next_id += 1;
        let mut stored = record.clone();
        let key = key_field(self.system, entity);
        if !stored.contains_key(key) {
            stored.insert(
                key.to_string(),
                Value::String(format!("K{}", inner.next_id)),
            );
        }
        inner
            .tables
            .entry(entity.to_string())
            .or_default()
            .push(stored.clone());
        if *self.lose_create.lock() == Some(inner.creates) {
            return Err(ConnectorError::Unavailable {
                system: self.system,
                message: "connection reset".into(),
            });
        }
        Ok(stored)
    }
}

#[async_trait]
impl Connector for FakeConnector {
    fn system(&self) -> System {
        self.system
    }

    async fn fetch_page(&self, query: &FetchQuery) -> Result<Page, ConnectorError> {
        let mut inner = self.inner.lock();
        inner.calls.reads += 1;
        let start: usize = query
            .cursor
            .as_ref()
            .and_then(|c| c.0.parse().ok())
            .unwrap_or(0);
        let all = inner.tables.get(&query.entity).cloned().unwrap_or_default();
        let end = (start + self.page_size).min(all.len());
        Ok(Page {
            records: all
                .get(start..end)
                .map(<[Record]>::to_vec)
                .unwrap_or_default(),
            cursor: Some(Cursor(end.to_string())),
            more: end < all.len(),
        })
    }

    async fn lookup(
        &self,
        entity: &str,
        field: &str,
        values: &[Value],
        _select: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let mut inner = self.inner.lock();
        inner.calls.reads += 1;
        let wanted: Vec<String> = values.iter().filter_map(key_string).collect();
        let found = inner
            .tables
            .get(entity)
            .map(|t| {
                t.iter()
                    .filter(|r| {
                        r.get(field)
                            .and_then(key_string)
                            .is_some_and(|k| wanted.contains(&k))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let n = inner.lookups.entry(entity.to_string()).or_default();
        *n += 1;
        let n = *n;
        let mut appears = self.appears.lock();
        if appears
            .as_ref()
            .is_some_and(|(e, after, _)| e == entity && *after == n)
        {
            if let Some((_, _, record)) = appears.take() {
                inner
                    .tables
                    .entry(entity.to_string())
                    .or_default()
                    .push(record);
            }
        }
        Ok(found)
    }

    async fn create(
        &self,
        entity: &str,
        record: &Record,
        _match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        self.store(entity, record)
    }

    async fn update(
        &self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), ConnectorError> {
        let mut inner = self.inner.lock();
        inner.calls.writes += 1;
        let kf = key_field(self.system, entity);
        let rec = inner
            .tables
            .get_mut(entity)
            .and_then(|t| {
                t.iter_mut()
                    .find(|r| r.get(kf).and_then(key_string) == key_string(key))
            })
            .ok_or_else(|| ConnectorError::Refused {
                system: self.system,
                status: 404,
                message: "no such record".into(),
            })?;
        rec.extend(changes.clone());
        Ok(())
    }

    async fn create_document(
        &self,
        header_entity: &str,
        header: &Record,
        line_entity: &str,
        lines: &[Record],
        _match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        let mut doc = header.clone();
        doc.insert("__line_count".into(), Value::from(lines.len() as u64));
        let stored = self.store(header_entity, &doc)?;
        let mut inner = self.inner.lock();
        // Globe spends one POST per line besides the header.
        inner.calls.writes += lines.len() as u64;
        inner
            .tables
            .entry(line_entity.to_string())
            .or_default()
            .extend(lines.iter().cloned());
        Ok(stored)
    }

    fn calls(&self) -> CallCount {
        self.inner.lock().calls
    }
}
