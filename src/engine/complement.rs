//! Fields the read endpoint does not deliver, fetched for a whole page at once: Exact
//! Online's sync feed of items has no `StandardSalesPrice`, so without this every price would
//! arrive as null and a `?? 0` would write 0.

use super::keys::key_field;
use super::run::Item;
use super::EngineError;
use crate::connectors::Connector;
use crate::pipeline::model::Complement;
use crate::schema::System;
use serde_json::Value;
use std::collections::HashMap;

/// Reads `complement.fields` of every record of the page in batched calls and sets them on
/// each record. A record the endpoint does not return keeps the fields absent, so `plan`
/// can still tell (it was deleted between the two reads, or the feed is behind).
pub(super) async fn complete_page(
    source: &dyn Connector,
    system: System,
    entity: &str,
    complement: &Complement,
    items: &mut [Item],
) -> Result<u64, EngineError> {
    let key = key_field(system, entity);
    let keys: Vec<Value> = items
        .iter()
        .filter_map(|i| i.source.get(key).cloned())
        .filter(|k| !k.is_null())
        .collect();
    if keys.is_empty() {
        return Ok(0);
    }
    let before = source.calls().reads;
    let rows = source
        .complement(entity, &complement.endpoint, &keys, &complement.fields)
        .await?;
    let mut by_key: HashMap<String, serde_json::Map<String, Value>> = HashMap::new();
    for row in rows {
        if let Some(k) = row.get(key).and_then(super::batch::key_string) {
            by_key.insert(k, row);
        }
    }
    for item in items.iter_mut() {
        let Some(k) = item.source.get(key).and_then(super::batch::key_string) else {
            continue;
        };
        let (Some(row), Some(record)) = (by_key.get(&k), item.source.as_object_mut()) else {
            continue;
        };
        for field in &complement.fields {
            if let Some(v) = row.get(field) {
                record.insert(field.clone(), v.clone());
            }
        }
    }
    Ok(source.calls().reads.saturating_sub(before))
}
