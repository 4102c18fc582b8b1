//! Journal recovery at the start of a run: every create a crashed run began but never
//! confirmed is looked up on the target by its match key (batched per entity and field).
//! Found: the entry is committed. Not found: the create never happened; the entry is closed
//! and the record, whose page cursor was never stored, is read and created again. Lines still
//! staged under a document's journalled TransactionKey are deleted first, so that no create
//! ever stands beside orphaned lines.

use super::batch::resolve;
use super::keys::record_key;
use super::write::{JOURNAL_LINE_ENTITY, JOURNAL_TRANSACTION_KEY};
use super::EngineError;
use crate::connectors::Connector;
use crate::state::{JournalEntry, StateStore};
use std::collections::BTreeMap;

/// Resolves the open journal entries of `pipeline`; returns how many there were.
pub(super) async fn recover(
    target: &dyn Connector,
    store: &dyn StateStore,
    pipeline: &str,
) -> Result<u64, EngineError> {
    let open = store.journal_open(pipeline)?;
    let count = open.len() as u64;
    let mut groups: BTreeMap<(String, String), Vec<JournalEntry>> = BTreeMap::new();
    for e in open {
        groups
            .entry((e.entity.clone(), e.match_field.clone()))
            .or_default()
            .push(e);
    }
    for ((entity, field), entries) in groups {
        let index = resolve(
            target,
            &entity,
            &field,
            entries.iter().map(|e| e.match_value.clone()),
        )
        .await?;
        for e in entries {
            // Lines staged under the entry's key go in either case: found, the document was
            // committed under this key (nothing staged is left; the connector checks) or by a
            // later create under another key, which these lines would only stand beside.
            let staged = (
                e.payload.get(JOURNAL_LINE_ENTITY).and_then(|v| v.as_str()),
                e.payload
                    .get(JOURNAL_TRANSACTION_KEY)
                    .and_then(|v| v.as_str()),
            );
            if let (Some(line_entity), Some(tk)) = staged {
                target.discard_staged(&entity, line_entity, tk).await?;
            }
            match index.get(&e.match_value) {
                Some(found) => {
                    let key = record_key(target.system(), &entity, found)
                        .or_else(|| super::keys::key_text(&e.match_value))
                        .unwrap_or_default();
                    store.journal_commit(e.id, &key)?;
                }
                None => store.journal_abandon(
                    e.id,
                    "not on the target after an interrupted run; created again from the source",
                )?,
            }
        }
    }
    Ok(count)
}
