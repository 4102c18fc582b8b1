//! Which property is an entity's key: needed to update a record and to remember it in the
//! id map. Exact Online keys every entity by the `ID` GUID; Exact Globe varies (from
//! `reference/exact-globe-schema.json`).

use crate::connectors::{Record, System};
use serde_json::Value;

/// The key property of `entity` on `system`.
pub fn key_field(system: System, entity: &str) -> &'static str {
    key_fields(system, entity)[0]
}

/// The key property and the other names it goes by: Exact Online's order and invoice
/// endpoints call it `OrderID` / `InvoiceID`, some feeds `ID`.
fn key_fields(system: System, entity: &str) -> &'static [&'static str] {
    match system {
        System::ExactOnline => match entity {
            "SalesOrders" | "SalesOrderHeaders" => &["OrderID", "ID"],
            "SalesInvoices" => &["InvoiceID", "ID"],
            _ => &["ID"],
        },
        System::ExactGlobe => match entity {
            "Item" | "ItemCatalog" => &["ItemCode"],
            "SalesOrder" | "SalesOrderHeader" => &["SalesOrderNumber"],
            "ContactPerson" => &["ContactID"],
            "ItemAssortment" => &["Assortment"],
            "CostCenter" | "CostUnit" | "Warehouse" => &["Code"],
            _ => &["ID"],
        },
    }
}

/// The key of `record` as text, when it has one.
pub fn record_key(system: System, entity: &str, record: &Record) -> Option<String> {
    key_fields(system, entity)
        .iter()
        .find_map(|f| record.get(*f).and_then(key_text))
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
