//! Writes to the target: every create journalled first and committed after, so that a
//! crash between the two is resolved by a lookup and never makes a duplicate. In a dry run
//! nothing is written and the calls a real run would spend are counted instead.

use super::keys::record_key;
use super::{Connectors, EngineError};
use crate::connectors::{Connector, ConnectorError, MatchKey, Record, System};
use crate::state::StateStore;
use serde_json::Value;
use std::collections::HashMap;

/// Journal payload key: the line entity of a document.
pub(super) const JOURNAL_LINE_ENTITY: &str = "__line_entity";
/// Journal payload key: the TransactionKey a document's lines are staged under.
pub(super) const JOURNAL_TRANSACTION_KEY: &str = "__transaction_key";

/// Why a write did not happen.
pub(super) enum WriteError {
    /// The target refused this record: it fails alone, the run goes on.
    Record(String),
    /// Something not of this record's making: the run stops.
    Fatal(EngineError),
}

impl From<ConnectorError> for WriteError {
    fn from(e: ConnectorError) -> Self {
        if e.is_record_error() {
            WriteError::Record(e.to_string())
        } else {
            WriteError::Fatal(EngineError::Connector(e))
        }
    }
}

impl From<crate::state::StateError> for WriteError {
    fn from(e: crate::state::StateError) -> Self {
        WriteError::Fatal(EngineError::State(e))
    }
}

/// The writing side of a run: one target, one journal, one dry-run switch.
pub(super) struct Writer<'a> {
    pub target: &'a dyn Connector,
    pub store: &'a dyn StateStore,
    pub pipeline: &'a str,
    pub dry_run: bool,
    /// Writes a dry run would have made, per system.
    pub planned: HashMap<System, u64>,
}

/// A document's lines: the line entity and the line records.
pub(super) struct DocumentLines<'a> {
    pub entity: &'a str,
    pub records: Vec<Record>,
}

impl<'a> Writer<'a> {
    /// Builds the writer of a run.
    pub fn new(
        connectors: &'a Connectors,
        target: System,
        store: &'a dyn StateStore,
        pipeline: &'a str,
        dry_run: bool,
    ) -> Result<Writer<'a>, EngineError> {
        Ok(Writer {
            target: connectors.get(target)?.as_ref(),
            store,
            pipeline,
            dry_run,
            planned: HashMap::new(),
        })
    }

    fn plan_writes(&mut self, n: u64) {
        *self.planned.entry(self.target.system()).or_default() += n;
    }

    /// A dry run's count of a read the real run makes only when it writes (the re-check
    /// before a page's creates), so a plan's call figure is the run's.
    pub fn plan_read(&mut self) {
        self.plan_writes(1);
    }

    /// Creates `payload` (with `lines` as one document when given). Returns the record as
    /// stored, or in a dry run the payload itself.
    pub async fn create(
        &mut self,
        entity: &str,
        payload: Record,
        lines: Option<DocumentLines<'_>>,
        match_key: &MatchKey,
    ) -> Result<Record, WriteError> {
        let system = self.target.system();
        if self.dry_run {
            // Globe writes a document as one POST per line plus the header; Online deep-inserts.
            let n = match (&lines, system) {
                (Some(l), System::ExactGlobe) => l.records.len() as u64 + 1,
                _ => 1,
            };
            self.plan_writes(n);
            return Ok(payload);
        }
        let mut journalled = Value::Object(payload.clone());
        // Made here and journalled before the first line: lines a crash leaves staged under
        // it are found and deleted by the next run's recovery.
        let transaction_key = lines.as_ref().map(|_| uuid::Uuid::new_v4().to_string());
        if let (Some(l), Some(tk)) = (&lines, &transaction_key) {
            journalled["__lines"] =
                Value::Array(l.records.iter().cloned().map(Value::Object).collect());
            journalled[JOURNAL_LINE_ENTITY] = Value::from(l.entity);
            journalled[JOURNAL_TRANSACTION_KEY] = Value::from(tk.as_str());
        }
        let id = self.store.journal_begin(
            self.pipeline,
            entity,
            &match_key.field,
            &match_key.value,
            &journalled,
        )?;
        let result = match (&lines, &transaction_key) {
            (Some(l), Some(tk)) => {
                self.target
                    .create_document_keyed(
                        entity,
                        &payload,
                        l.entity,
                        &l.records,
                        Some(match_key),
                        tk,
                    )
                    .await
            }
            _ => self.target.create(entity, &payload, Some(match_key)).await,
        };
        match result {
            Ok(stored) => {
                let key = record_key(system, entity, &stored)
                    .or_else(|| super::keys::key_text(&match_key.value))
                    .unwrap_or_default();
                self.store.journal_commit(id, &key)?;
                Ok(stored)
            }
            // Lines may be left staged: the entry stays open for the next run's recovery to
            // delete them; the record itself fails (and is retried) as any refusal.
            Err(e @ ConnectorError::PartialDocument { .. }) if transaction_key.is_some() => {
                Err(WriteError::Record(e.to_string()))
            }
            Err(e) if e.is_record_error() => {
                self.store.journal_abandon(id, &e.to_string())?;
                Err(WriteError::Record(e.to_string()))
            }
            // Unknown outcome: the entry stays open and the next run resolves it.
            Err(e) => Err(WriteError::Fatal(EngineError::Connector(e))),
        }
    }

    /// Writes `changes` to the record with key `key`.
    pub async fn update(
        &mut self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), WriteError> {
        if self.dry_run {
            self.plan_writes(1);
            return Ok(());
        }
        self.target.update(entity, key, changes).await?;
        Ok(())
    }
}
