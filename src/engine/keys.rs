//! Which property is an entity's key: needed to update a record and to remember it in the
//! id map. The catalogue knows it (`key`, and `key_aliases` for the other names it goes by:
//! Exact Online's sync rows of orders carry `ID` beside `OrderID`).

use crate::connectors::{Record, System};
use crate::schema::catalogue;
use serde_json::Value;

/// The key property of `entity` on `system` (`ID` for an entity the catalogue lacks).
pub fn key_field(system: System, entity: &str) -> &'static str {
    catalogue()
        .entity(system, entity)
        .and_then(|e| e.key.as_deref())
        .unwrap_or("ID")
}

/// The key of `record` as text, when it has one.
pub fn record_key(system: System, entity: &str, record: &Record) -> Option<String> {
    match catalogue().entity(system, entity) {
        Some(e) => e.key_names().find_map(|f| record.get(f).and_then(key_text)),
        None => record.get("ID").and_then(key_text),
    }
}

/// A key value as text, as the system spells it (trimmed of Globe's padding).
pub fn key_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_per_system() {
        assert_eq!(key_field(System::ExactOnline, "Items"), "ID");
        assert_eq!(key_field(System::ExactGlobe, "Item"), "ItemCode");
        assert_eq!(key_field(System::ExactGlobe, "Account"), "ID");
        assert_eq!(
            key_field(System::ExactGlobe, "SalesOrderHeader"),
            "SalesOrderNumber"
        );
        let order = serde_json::json!({"OrderID": "g-1", "OrderNumber": 7});
        let order = order.as_object().unwrap();
        assert_eq!(
            record_key(System::ExactOnline, "SalesOrders", order).as_deref(),
            Some("g-1")
        );
    }
}
