//! Which endpoints serve an entity: the CRUD path, the sync and bulk paths, the key, whether
//! `$select` is mandatory, and the literal kind of each field (from the schema catalogue,
//! which also knows which fields each endpoint delivers).

use super::odata::LiteralKind;
use crate::connectors::System;
use crate::schema::{catalogue, FieldType};

/// The endpoints of one entity (paths below `/api/v1/{division}/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityEndpoints {
    /// Entity name: the last segment of the CRUD path (`SalesOrders`).
    pub name: &'static str,
    /// CRUD path, e.g. `salesorder/SalesOrders`.
    pub service_path: &'static str,
    /// Sync path (`Timestamp` cursor, 1000 rows a page), if one exists.
    pub sync_path: Option<&'static str>,
    /// Bulk path (1000 rows a page, `$select` mandatory), if one exists.
    pub bulk_path: Option<&'static str>,
    /// Key property on the CRUD endpoint.
    pub key: &'static str,
    /// Whether a GET on the CRUD endpoint needs a `$select` (or `$top=1`).
    pub select_mandatory: bool,
    /// Whether the CRUD endpoint refuses GETs without a `$filter`.
    pub filter_mandatory: bool,
    /// Line collection deep-inserted with the header, and the line entity.
    pub lines: Option<(&'static str, &'static str)>,
}

const fn ep(name: &'static str, service_path: &'static str, key: &'static str) -> EntityEndpoints {
    EntityEndpoints {
        name,
        service_path,
        sync_path: None,
        bulk_path: None,
        key,
        select_mandatory: false,
        filter_mandatory: false,
        lines: None,
    }
}

/// Every entity the client knows by name.
pub static ENTITIES: &[EntityEndpoints] = &[
    EntityEndpoints {
        sync_path: Some("sync/SalesOrder/SalesOrderHeaders"),
        bulk_path: Some("bulk/SalesOrder/SalesOrders"),
        lines: Some(("SalesOrderLines", "SalesOrderLines")),
        ..ep("SalesOrders", "salesorder/SalesOrders", "OrderID")
    },
    EntityEndpoints {
        sync_path: Some("sync/SalesOrder/SalesOrderLines"),
        ..ep("SalesOrderLines", "salesorder/SalesOrderLines", "ID")
    },
    EntityEndpoints {
        sync_path: Some("sync/CRM/Accounts"),
        bulk_path: Some("bulk/CRM/Accounts"),
        filter_mandatory: true,
        ..ep("Accounts", "crm/Accounts", "ID")
    },
    ep("Contacts", "crm/Contacts", "ID"),
    ep("Addresses", "crm/Addresses", "ID"),
    EntityEndpoints {
        sync_path: Some("sync/Logistics/Items"),
        bulk_path: Some("bulk/Logistics/Items"),
        filter_mandatory: true,
        ..ep("Items", "logistics/Items", "ID")
    },
    ep("ItemGroups", "logistics/ItemGroups", "ID"),
    ep("SalesItemPrices", "logistics/SalesItemPrices", "ID"),
    EntityEndpoints {
        lines: Some(("SalesInvoiceLines", "SalesInvoiceLines")),
        ..ep("SalesInvoices", "salesinvoice/SalesInvoices", "InvoiceID")
    },
    ep("SalesInvoiceLines", "salesinvoice/SalesInvoiceLines", "ID"),
    EntityEndpoints {
        lines: Some(("SalesEntryLines", "SalesEntryLines")),
        ..ep("SalesEntries", "salesentry/SalesEntries", "EntryID")
    },
    ep("SalesEntryLines", "salesentry/SalesEntryLines", "ID"),
    ep("VATCodes", "vat/VATCodes", "ID"),
    ep("PaymentConditions", "cashflow/PaymentConditions", "ID"),
    ep("ShippingMethods", "sales/ShippingMethods", "ID"),
    ep("GLAccounts", "financial/GLAccounts", "ID"),
    ep("Costcenters", "hrm/Costcenters", "ID"),
    ep("Costunits", "hrm/Costunits", "ID"),
    ep(
        "WebhookSubscriptions",
        "webhooks/WebhookSubscriptions",
        "ID",
    ),
    ep("AccountClassifications", "crm/AccountClassifications", "ID"),
    ep(
        "AccountClassificationNames",
        "crm/AccountClassificationNames",
        "ID",
    ),
    ep("AccountClasses", "crm/AccountClasses", "ID"),
    EntityEndpoints {
        sync_path: Some("sync/Inventory/StockPositions"),
        ..ep("StockPosition", "read/logistics/StockPosition", "ItemId")
    },
];

/// The endpoints of `name` (the last path segment, e.g. `SalesOrders`; also accepts the
/// singular `SalesOrder`/`Account` and the full CRUD path).
pub fn endpoints(name: &str) -> Option<&'static EntityEndpoints> {
    let last = name.rsplit('/').next().unwrap_or(name);
    ENTITIES
        .iter()
        .find(|e| e.name == last || e.service_path == name)
        .or_else(|| {
            ENTITIES
                .iter()
                .find(|e| e.name.strip_suffix('s') == Some(last))
        })
}

/// How `field` of `entity` is written as a filter literal. Unknown fields are guessed from
/// the value: a GUID in a field named `…ID`/`ID` is a GUID, numbers are numbers.
pub fn literal_kind(entity: &str, field: &str, sample: Option<&serde_json::Value>) -> LiteralKind {
    if field == "Timestamp" {
        return LiteralKind::Int64;
    }
    let known = catalogue()
        .entity(System::ExactOnline, entity)
        .and_then(|e| e.field(field))
        .map(|f| f.ty);
    match known {
        Some(FieldType::Guid) => LiteralKind::Guid,
        Some(FieldType::Date) => LiteralKind::DateTime,
        Some(FieldType::Number | FieldType::Int) => LiteralKind::Number,
        Some(FieldType::Bool) => LiteralKind::Bool,
        Some(FieldType::Text | FieldType::Binary | FieldType::List) => LiteralKind::Text,
        None => match sample {
            Some(serde_json::Value::String(s))
                if field.ends_with("ID") && uuid::Uuid::parse_str(s).is_ok() =>
            {
                LiteralKind::Guid
            }
            Some(serde_json::Value::Number(_)) => LiteralKind::Number,
            Some(serde_json::Value::Bool(_)) => LiteralKind::Bool,
            _ => LiteralKind::Text,
        },
    }
}

/// Whether `field` of `entity` is a padded code (Account `Code`: 18 wide, leading spaces).
pub fn is_padded_code(entity: &str, field: &str) -> bool {
    (entity == "Accounts" && field == "Code")
        || catalogue()
            .entity(System::ExactOnline, entity)
            .and_then(|e| e.field(field))
            .is_some_and(|f| f.padded)
}

/// The properties read when a query names none: every non-list property of the entity
/// (minus what the sync endpoint lacks), plus `Timestamp` and `ID` for sync reads.
pub fn default_select(e: &EntityEndpoints, for_sync: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if for_sync {
        out.push("Timestamp".into());
        out.push("ID".into());
    }
    if let Some(entity) = catalogue().entity(System::ExactOnline, e.name) {
        for f in &entity.fields {
            // The catalogue knows what the sync endpoint leaves out; asking for it is a 400.
            let skip = f.ty == FieldType::List || (for_sync && entity.sync_lacks.contains(&f.name));
            if !skip && !out.contains(&f.name) {
                out.push(f.name.clone());
            }
        }
    } else {
        out.push(e.key.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        assert_eq!(endpoints("SalesOrders").map(|e| e.key), Some("OrderID"));
        assert_eq!(endpoints("Account").map(|e| e.name), Some("Accounts"));
        assert_eq!(endpoints("crm/Accounts").map(|e| e.name), Some("Accounts"));
        assert!(endpoints("Nope").is_none());
    }

    #[test]
    fn kinds_and_padding() {
        assert_eq!(literal_kind("Accounts", "ID", None), LiteralKind::Guid);
        assert_eq!(
            literal_kind("SalesOrders", "Timestamp", None),
            LiteralKind::Int64
        );
        assert_eq!(literal_kind("Accounts", "Code", None), LiteralKind::Text);
        assert!(is_padded_code("Accounts", "Code"));
        assert!(!is_padded_code("Items", "Code"));
    }

    #[test]
    fn sync_select_has_cursor_and_no_lists() {
        let so = endpoints("SalesOrders").unwrap();
        let sel = default_select(so, true);
        assert_eq!(sel[0], "Timestamp");
        assert!(sel.contains(&"OrderID".to_string()));
        assert!(!sel.contains(&"SalesOrderLines".to_string()));
        assert!(!sel.contains(&"TaxSchedule".to_string()));
    }
}
