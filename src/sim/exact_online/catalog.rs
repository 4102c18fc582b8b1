//! The endpoint catalogue: every simulated URL, its fields (from `entities.json`, generated
//! from the shared reference by `gen_entities.py`) and the table it reads and writes.

use std::collections::HashMap;
use std::sync::OnceLock;

/// How an endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ordinary CRUD endpoint: 60 rows a page, `$skiptoken=guid'..'`.
    Crud,
    /// `bulk/...`: GET only, 1000 rows a page, `$select` mandatory.
    Bulk,
    /// `sync/...`: GET only, 1000 rows a page, only `Timestamp` filterable, keyed by `Timestamp`.
    Sync,
    /// `read/...` functions: unpaged, parameters in the query string.
    Read,
}

/// One property of an endpoint.
#[derive(Debug, Clone)]
pub struct Prop {
    /// Name as the API spells it.
    pub name: String,
    /// `Edm.*` type, or the name of a line collection (e.g. `SalesOrderLines`).
    pub ty: String,
    /// Returned on GET.
    pub get: bool,
    /// Accepted on POST.
    pub post: bool,
    /// Accepted on PUT.
    pub put: bool,
    /// Required on POST.
    pub mandatory: bool,
}

impl Prop {
    /// Whether this property is a navigation collection rather than a value.
    pub fn is_collection(&self) -> bool {
        !self.ty.starts_with("Edm.")
    }
}

/// One endpoint (`service/Entity` path below `/api/v1/{division}/`).
#[derive(Debug)]
pub struct Endpoint {
    /// Path below the division, case-sensitive, e.g. `salesorder/SalesOrders`.
    pub path: String,
    /// Key property (`OrderID`, `ID`, `Timestamp` on sync endpoints).
    pub key: String,
    /// Supported HTTP methods.
    pub methods: Vec<String>,
    /// `__metadata.type`.
    pub type_name: String,
    /// Properties in reference order.
    pub props: Vec<Prop>,
    /// Behaviour class.
    pub kind: Kind,
    /// The table that holds the rows (e.g. `SalesOrders` for the sync headers).
    pub table: &'static str,
}

impl Endpoint {
    /// Looks a property up by exact name.
    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// Whether the endpoint accepts this HTTP method.
    pub fn allows(&self, method: &str) -> bool {
        self.methods.iter().any(|m| m == method)
    }

    /// Rows per page.
    pub fn page_size(&self) -> usize {
        match self.kind {
            Kind::Bulk | Kind::Sync => 1000,
            Kind::Crud => 60,
            Kind::Read => usize::MAX,
        }
    }

    /// Fields one of which a `$filter` must mention (mandatory filtering), if any.
    pub fn mandatory_filter(&self) -> Option<&'static [&'static str]> {
        match self.path.as_str() {
            // Single and bulk endpoints that have a sync counterpart (reference §5.10).
            "crm/Accounts" | "bulk/CRM/Accounts" => Some(&[
                "Accountant",
                "AccountManager",
                "Blocked",
                "ChamberOfCommerce",
                "Code",
                "Created",
                "Email",
                "ID",
                "IsSales",
                "IsSupplier",
                "Modified",
                "Name",
                "Status",
                "VATNumber",
            ]),
            "logistics/Items" | "bulk/Logistics/Items" => Some(&[
                "Barcode",
                "Code",
                "Created",
                "Description",
                "ID",
                "IsSalesItem",
                "IsStockItem",
                "ItemGroup",
                "Modified",
            ]),
            _ => None,
        }
    }
}

/// Which table an endpoint path reads, and the line collections of each header table.
fn table_of(path: &str) -> &'static str {
    match path {
        "sync/SalesOrder/SalesOrderHeaders" | "bulk/SalesOrder/SalesOrders" => "SalesOrders",
        "sync/SalesOrder/SalesOrderLines" => "SalesOrderLines",
        "sync/CRM/Accounts" | "bulk/CRM/Accounts" => "Accounts",
        "sync/Logistics/Items" | "bulk/Logistics/Items" => "Items",
        "sync/Inventory/StockPositions" | "read/logistics/StockPosition" => "StockPositions",
        "sync/Deleted" => "Deleted",
        "current/Me" => "Me",
        "sync/SalesOrder/GoodsDeliveries" | "bulk/SalesOrder/GoodsDeliveries" => "GoodsDeliveries",
        "sync/SalesOrder/GoodsDeliveryLines" | "bulk/SalesOrder/GoodsDeliveryLines" => {
            "GoodsDeliveryLines"
        }
        // One feed of header and line rows (see `query::rows_of`).
        "sync/SalesInvoice/SalesInvoices" => "SalesInvoices",
        "system/Divisions" | "system/AllDivisions" => "SystemDivisions",
        other => {
            let last = other.rsplit('/').next().unwrap_or(other);
            TABLES
                .iter()
                .copied()
                .find(|t| *t == last)
                .unwrap_or("Unknown")
        }
    }
}

/// Every table the simulator keeps.
pub const TABLES: &[&str] = &[
    "SalesOrders",
    "SalesOrderLines",
    "Accounts",
    "Contacts",
    "Addresses",
    "Items",
    "ItemGroups",
    "SalesItemPrices",
    "SalesInvoices",
    "SalesInvoiceLines",
    "SalesEntries",
    "SalesEntryLines",
    "VATCodes",
    "PaymentConditions",
    "ShippingMethods",
    "GLAccounts",
    "Costcenters",
    "Costunits",
    "StockPositions",
    "Deleted",
    "WebhookSubscriptions",
    "AccountClassifications",
    "AccountClassificationNames",
    "AccountClasses",
    "ItemAssortment",
    "ItemAssortmentProperty",
    "ItemExtraField",
    "Me",
    "GoodsDeliveries",
    "GoodsDeliveryLines",
    "ItemWarehouses",
    "Divisions",
    "SystemDivisions",
    "ReceivablesList",
    "BankAccounts",
    "Quotations",
    "QuotationLines",
    "Currencies",
];

/// A line collection of a header table, written with the header in one POST.
#[derive(Debug, Clone, Copy)]
pub struct Lines {
    /// The collection property on the header (e.g. `SalesOrderLines`).
    pub collection: &'static str,
    /// The table of the lines.
    pub table: &'static str,
    /// The foreign key on a line that names its header (e.g. `OrderID`).
    pub fk: &'static str,
    /// The table of the headers.
    pub header: &'static str,
}

/// Every line collection.
pub const LINES: &[Lines] = &[
    Lines {
        collection: "SalesOrderLines",
        table: "SalesOrderLines",
        fk: "OrderID",
        header: "SalesOrders",
    },
    Lines {
        collection: "SalesInvoiceLines",
        table: "SalesInvoiceLines",
        fk: "InvoiceID",
        header: "SalesInvoices",
    },
    Lines {
        collection: "SalesEntryLines",
        table: "SalesEntryLines",
        fk: "EntryID",
        header: "SalesEntries",
    },
    Lines {
        collection: "GoodsDeliveryLines",
        table: "GoodsDeliveryLines",
        fk: "EntryID",
        header: "GoodsDeliveries",
    },
    Lines {
        collection: "QuotationLines",
        table: "QuotationLines",
        fk: "QuotationID",
        header: "Quotations",
    },
];

/// The line collection written through this collection property, if any.
pub fn lines_by_collection(collection: &str) -> Option<&'static Lines> {
    LINES.iter().find(|l| l.collection == collection)
}

/// The line collection whose lines live in `table`, if it is a line table.
pub fn lines_by_table(table: &str) -> Option<&'static Lines> {
    LINES.iter().find(|l| l.table == table)
}

/// The `sync/Deleted` entity type code of a table.
pub fn deleted_entity_type(table: &str) -> Option<i64> {
    Some(match table {
        "Accounts" => 2,
        "Addresses" => 3,
        "Contacts" => 5,
        "GLAccounts" => 7,
        "SalesItemPrices" => 8,
        "Items" => 9,
        "SalesInvoices" => 13,
        "StockPositions" => 15,
        "GoodsDeliveries" => 16,
        "GoodsDeliveryLines" => 17,
        "ItemWarehouses" => 19,
        "SalesOrders" => 32,
        "SalesOrderLines" => 33,
        "Quotations" => 34,
        "QuotationLines" => 35,
        _ => return None,
    })
}

/// The CRUD endpoint that owns a table (for writes through `OnlineSim::insert`).
pub fn crud_endpoint_of(table: &str) -> Option<&'static Endpoint> {
    catalog()
        .values()
        .find(|e| e.kind == Kind::Crud && e.table == table && e.allows("POST"))
        .or_else(|| {
            catalog()
                .values()
                .find(|e| e.kind == Kind::Crud && e.table == table)
        })
}

/// The catalogue, parsed once.
pub fn catalog() -> &'static HashMap<String, Endpoint> {
    static CATALOG: OnceLock<HashMap<String, Endpoint>> = OnceLock::new();
    CATALOG.get_or_init(|| parse(include_str!("entities.json")))
}

/// Finds the endpoint for a path below the division (case-sensitive, as the real API).
pub fn endpoint(path: &str) -> Option<&'static Endpoint> {
    catalog().get(path)
}

#[derive(serde::Deserialize)]
struct RawEndpoint {
    key: Option<String>,
    methods: Vec<String>,
    #[serde(rename = "type")]
    type_name: String,
    props: Vec<String>,
}

fn parse(text: &str) -> HashMap<String, Endpoint> {
    // The file is generated and embedded at build time; a broken file is caught by the tests.
    let raw: HashMap<String, RawEndpoint> = serde_json::from_str(text).unwrap_or_default();
    raw.into_iter()
        .map(|(path, r)| {
            let props = r
                .props
                .iter()
                .map(|p| {
                    let mut parts = p.splitn(3, '|');
                    let name = parts.next().unwrap_or_default().to_string();
                    let ty = parts.next().unwrap_or("Edm.String").to_string();
                    let flags = parts.next().unwrap_or_default();
                    Prop {
                        name,
                        ty,
                        get: flags.contains('g'),
                        post: flags.contains('p'),
                        put: flags.contains('u'),
                        mandatory: flags.contains('m'),
                    }
                })
                .collect();
            let kind = if path.starts_with("sync/") {
                Kind::Sync
            } else if path.starts_with("bulk/") {
                Kind::Bulk
            } else if path.starts_with("read/") {
                Kind::Read
            } else {
                Kind::Crud
            };
            let ep = Endpoint {
                table: table_of(&path),
                key: r.key.unwrap_or_else(|| "ID".to_string()),
                methods: r.methods,
                type_name: r.type_name,
                props,
                kind,
                path: path.clone(),
            };
            (path, ep)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_loads_with_tables() {
        let c = catalog();
        assert!(c.len() > 30);
        for e in c.values() {
            assert_ne!(e.table, "Unknown", "{}", e.path);
        }
        let so = endpoint("salesorder/SalesOrders").expect("orders");
        assert_eq!(so.key, "OrderID");
        assert!(so
            .prop("OrderedBy")
            .is_some_and(|p| p.mandatory && p.post && !p.put));
        assert!(endpoint("hrm/CostCenters").is_none());
    }

    #[test]
    fn every_line_collection_has_its_tables_and_endpoints() {
        for l in LINES {
            assert!(
                TABLES.contains(&l.table) && TABLES.contains(&l.header),
                "{l:?}"
            );
            let header = crud_endpoint_of(l.header).expect("header endpoint");
            assert!(
                header.prop(l.collection).is_some_and(Prop::is_collection),
                "{l:?}"
            );
            let line = crud_endpoint_of(l.table).expect("line endpoint");
            assert!(line.prop(l.fk).is_some_and(|p| p.mandatory), "{l:?}");
        }
        for e in catalog().values().filter(|e| e.kind == Kind::Sync) {
            assert_eq!(e.key, "Timestamp", "{}", e.path);
            assert_eq!(e.props[0].name, "Timestamp", "{}", e.path);
        }
    }
}
