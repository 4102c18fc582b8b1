//! Which property is an entity's key: needed to update a record and to remember it in the
//! id map. Exact Online keys every entity by the `ID` GUID; Exact Globe varies (from
//! `reference/exact-globe-schema.json`).

use crate::connectors::{Record, System};
use serde_json::Value;

/// The key property of `entity` on `system`.
pub fn key_field(system: System, entity: &str) -> &'static str {
    match system {
        System::ExactOnline => "ID",
        System::ExactGlobe => match entity {
            "Item" | "ItemCatalog" => "ItemCode",
            "SalesOrder" | "SalesOrderHeader" => "SalesOrderNumber",
            "ContactPerson" => "ContactID",
            "ItemAssortment" => "Assortment",
            "CostCenter" | "CostUnit" | "Warehouse" => "Code",
            _ => "ID",
        },
    }
}

/// The key of `record` as text, when it has one.
pub fn record_key(system: System, entity: &str, record: &Record) -> Option<String> {
    record.get(key_field(system, entity)).and_then(key_text)
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
    }
}
