//! Fields the real service always fills from other records or from dates (reporting period,
//! due date, status texts, names and codes of referenced records), and the receivables list,
//! which is a view of the open sales entries.

use super::super::filter::{val_of, Val};
use super::super::wire::{date, ApiError};
use super::{bad, num, s, Store};
use chrono::Datelike;
use serde_json::{json, Map, Value};

const DAY_MS: i64 = 86_400_000;

fn ms_of(v: Option<&Value>) -> Option<i64> {
    match v.map(val_of) {
        Some(Val::Date(ms)) => Some(ms),
        _ => None,
    }
}

impl Store {
    /// Payment days of a payment condition code; the customer's sales condition when none is
    /// given; 30 days when neither is known (the usual default of a new administration).
    fn payment_days(&self, condition: &str, account: &str) -> (String, i64) {
        let code = if condition.is_empty() {
            self.get("Accounts", account)
                .map(|a| s(a.data.get("PaymentConditionSales")))
                .unwrap_or_default()
        } else {
            condition.to_string()
        };
        let days = self
            .find("PaymentConditions", "Code", &code)
            .and_then(|r| r.data.get("PaymentDays").and_then(Value::as_i64))
            .unwrap_or(30);
        (code, days)
    }

    /// Reporting year and period (from the entry date), due date, status and type texts.
    pub(super) fn fill_dates(&self, table: &str, b: &mut Map<String, Value>) {
        let (date_field, account_field) = if table == "SalesEntries" {
            ("EntryDate", "Customer")
        } else {
            ("InvoiceDate", "OrderedBy")
        };
        let Some(at) = ms_of(b.get(date_field)) else {
            return;
        };
        if table == "SalesEntries" {
            // Financial periods are calendar months in the simulated administration.
            if let Some(d) = chrono::DateTime::from_timestamp_millis(at) {
                for (f, v) in [
                    ("ReportingYear", json!(d.year())),
                    ("ReportingPeriod", json!(d.month())),
                ] {
                    if b.get(f).is_none_or(Value::is_null) {
                        b.insert(f.into(), v);
                    }
                }
            }
            let status = match b.get("Status").and_then(Value::as_i64) {
                Some(50) => "Processed",
                _ => "Open",
            };
            b.insert("StatusDescription".into(), json!(status));
            let ty = match b.get("Type").and_then(Value::as_i64) {
                Some(21) => "Credit note",
                _ => "Sales entry",
            };
            b.insert("TypeDescription".into(), json!(ty));
        } else {
            let status = match b.get("Status").and_then(Value::as_i64) {
                Some(10) => "Draft",
                Some(50) => "Processed",
                _ => "Open",
            };
            b.insert("StatusDescription".into(), json!(status));
            let ty = match b.get("Type").and_then(Value::as_i64) {
                Some(8021) => "Sales credit note",
                Some(8023) => "Direct sales invoice",
                Some(8024) => "Direct credit note",
                _ => "Sales invoice",
            };
            b.insert("TypeDescription".into(), json!(ty));
        }
        b.entry("JournalDescription")
            .or_insert(json!("Verkoopboek"));
        let (code, days) =
            self.payment_days(&s(b.get("PaymentCondition")), &s(b.get(account_field)));
        if !code.is_empty() {
            b.entry("PaymentCondition").or_insert(json!(code));
            let desc = self
                .find("PaymentConditions", "Code", &code)
                .and_then(|r| r.data.get("Description").cloned());
            b.insert(
                "PaymentConditionDescription".into(),
                desc.unwrap_or(Value::Null),
            );
        }
        if b.get("DueDate").is_none_or(Value::is_null) {
            b.insert("DueDate".into(), json!(date(at + days * DAY_MS)));
        }
    }

    /// Names and codes copied from the records a new quotation, bank account or item
    /// warehouse points at.
    pub(super) fn fill_references(
        &mut self,
        table: &str,
        b: &mut Map<String, Value>,
    ) -> Result<(), ApiError> {
        let account = |st: &Store, id: &str| {
            st.get("Accounts", id)
                .map(|a| (a.data.get("Code").cloned(), a.data.get("Name").cloned()))
                .ok_or_else(|| bad(format!("Account not found: {id}")))
        };
        match table {
            "Quotations" => {
                let by = s(b.get("OrderAccount"));
                for (f, code, name) in [
                    ("OrderAccount", "OrderAccountCode", "OrderAccountName"),
                    (
                        "DeliveryAccount",
                        "DeliveryAccountCode",
                        "DeliveryAccountName",
                    ),
                    ("InvoiceAccount", "InvoiceAccountCode", "InvoiceAccountName"),
                ] {
                    if b.get(f).is_none_or(Value::is_null) {
                        b.insert(f.into(), json!(by));
                    }
                    let (c, n) = account(self, &s(b.get(f)))?;
                    b.insert(code.into(), c.unwrap_or(Value::Null));
                    b.insert(name.into(), n.unwrap_or(Value::Null));
                }
                let n = match b.get("QuotationNumber").and_then(Value::as_i64) {
                    Some(n) => n,
                    None => self.next_seq("QuotationNumber"),
                };
                b.insert("QuotationNumber".into(), json!(n));
                b.insert("VersionNumber".into(), json!(1));
                b.entry("Status").or_insert(json!(20));
                b.insert("StatusDescription".into(), json!("Draft"));
                b.entry("Currency").or_insert(json!("EUR"));
                let created = b.get("Created").cloned().unwrap_or(Value::Null);
                b.entry("QuotationDate").or_insert(created);
            }
            "BankAccounts" => {
                let (_, n) = account(self, &s(b.get("Account")))?;
                b.insert("AccountName".into(), n.unwrap_or(Value::Null));
                let number = s(b.get("BankAccount")).replace(' ', "").to_uppercase();
                b.insert("BankAccount".into(), json!(number));
                b.insert("IBAN".into(), json!(number));
                b.insert("Format".into(), json!("IBAN"));
                b.insert("Type".into(), json!("A"));
                b.insert("TypeDescription".into(), json!("Account"));
                b.entry("Main").or_insert(json!(false));
            }
            "ItemWarehouses" => {
                let item_id = s(b.get("Item"));
                let item = self
                    .get("Items", &item_id)
                    .map(|r| r.data.clone())
                    .ok_or_else(|| bad(format!("Item not found: {item_id}")))?;
                for (to, from) in [
                    ("ItemCode", "Code"),
                    ("ItemDescription", "Description"),
                    ("ItemBarcode", "Barcode"),
                    ("ItemUnit", "Unit"),
                    ("ItemUnitDescription", "UnitDescription"),
                    ("ItemIsFractionAllowedItem", "IsFractionAllowedItem"),
                ] {
                    b.insert(to.into(), item.get(from).cloned().unwrap_or(Value::Null));
                }
                if s(b.get("Warehouse")) != self.warehouse_id() {
                    return Err(bad("Warehouse not found"));
                }
                b.insert("WarehouseCode".into(), json!("1"));
                b.insert("WarehouseDescription".into(), json!("Hoofdmagazijn"));
                let stock = self.get("StockPositions", &item_id).map(|r| r.data.clone());
                let get = |f: &str| {
                    stock
                        .as_ref()
                        .map(|st| json!(num(st.get(f))))
                        .unwrap_or(json!(0.0))
                };
                b.insert("CurrentStock".into(), get("CurrentStock"));
                b.insert("PlannedStockIn".into(), get("PlanningIn"));
                b.insert("PlannedStockOut".into(), get("PlanningOut"));
                b.insert("ProjectedStock".into(), get("ProjectedStock"));
                b.insert("ReservedStock".into(), get("ReservedStock"));
                b.entry("ReorderPoint").or_insert(get("ReorderPoint"));
            }
            _ => {}
        }
        Ok(())
    }

    /// Keeps the receivables-list row of a sales entry in step with its amounts: one
    /// outstanding item per entry (the simulator books no payments).
    pub(super) fn receivable(&mut self, entry: &str) {
        let Some(e) = self.get("SalesEntries", entry).map(|r| r.data.clone()) else {
            return;
        };
        let Some(hid) = e.get("EntryNumber").and_then(Value::as_i64) else {
            return;
        };
        let customer = s(e.get("Customer"));
        let (code, name) = self
            .get("Accounts", &customer)
            .map(|a| (a.data.get("Code").cloned(), a.data.get("Name").cloned()))
            .unwrap_or_default();
        let row = json!({
            "HID": hid, "AccountCode": code, "AccountId": customer, "AccountName": name,
            "Amount": num(e.get("AmountDC")), "AmountInTransit": 0.0,
            "CurrencyCode": e.get("Currency"), "Description": e.get("Description"),
            "DueDate": e.get("DueDate"), "EntryNumber": hid, "Id": entry,
            "InvoiceDate": e.get("EntryDate"),
            "InvoiceNumber": e.get("InvoiceNumber").and_then(Value::as_i64).unwrap_or(0),
            "JournalCode": e.get("Journal"), "JournalDescription": e.get("JournalDescription"),
            "YourRef": e.get("YourRef"),
        });
        if let Value::Object(m) = row {
            self.put_row("ReceivablesList", m);
        }
    }
}

/// Descriptions of codes the simulator's seed uses (the service fills them from its tables).
fn country_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "NL" => "Nederland",
        "BE" => "België",
        "DE" => "Duitsland",
        "FR" => "Frankrijk",
        _ => return None,
    })
}

impl Store {
    /// A field of the record of `table` whose `by` is `value` (a code or a key), or null.
    fn lookup(&self, table: &str, by: &str, value: &Value, want: &str) -> Value {
        let Some(v) = value.as_str().filter(|v| !v.is_empty()) else {
            return Value::Null;
        };
        let row = if by == "ID" {
            self.get(table, v)
        } else {
            self.find(table, by, v)
        };
        row.and_then(|r| r.data.get(want).cloned())
            .unwrap_or(Value::Null)
    }

    /// The `...Description`, `...Name` and `...Code` companions of references, which the real
    /// service always returns filled.
    pub(super) fn companions(&self, table: &str, b: &mut Map<String, Value>) {
        let get = |b: &Map<String, Value>, f: &str| b.get(f).cloned().unwrap_or(Value::Null);
        let mut set = Vec::new();
        match table {
            "Accounts" => {
                let country = s(b.get("Country"));
                set.push(("CountryName", json!(country_name(&country))));
                set.push(("Currency", json!("EUR")));
                let lang = match s(b.get("Language")).as_str() {
                    "NL" => json!("Nederlands"),
                    "FR" => json!("Frans"),
                    "EN" => json!("Engels"),
                    _ => Value::Null,
                };
                set.push(("LanguageDescription", lang));
                let pc = get(b, "PaymentConditionSales");
                set.push((
                    "PaymentConditionSalesDescription",
                    self.lookup("PaymentConditions", "Code", &pc, "Description"),
                ));
                let vat = get(b, "SalesVATCode");
                set.push((
                    "SalesVATCodeDescription",
                    self.lookup("VATCodes", "Code", &vat, "Description"),
                ));
            }
            "Items" => {
                let gl = get(b, "GLRevenue");
                set.push((
                    "GLRevenueCode",
                    self.lookup("GLAccounts", "ID", &gl, "Code"),
                ));
                set.push((
                    "GLRevenueDescription",
                    self.lookup("GLAccounts", "ID", &gl, "Description"),
                ));
                let vat = get(b, "SalesVatCode");
                set.push((
                    "SalesVatCodeDescription",
                    self.lookup("VATCodes", "Code", &vat, "Description"),
                ));
                set.push(("UnitDescription", json!("Stuk")));
            }
            "SalesOrders" => {
                let pc = get(b, "PaymentCondition");
                set.push((
                    "PaymentConditionDescription",
                    self.lookup("PaymentConditions", "Code", &pc, "Description"),
                ));
                let sm = get(b, "ShippingMethod");
                set.push((
                    "ShippingMethodDescription",
                    self.lookup("ShippingMethods", "ID", &sm, "Description"),
                ));
                set.push(("WarehouseID", json!(self.warehouse_id())));
                set.push(("WarehouseCode", json!("1")));
                set.push(("WarehouseDescription", json!("Hoofdmagazijn")));
                let approval = match b.get("ApprovalStatus").and_then(Value::as_i64) {
                    Some(0) => json!("Awaiting approval"),
                    Some(2) => json!("Approved"),
                    _ => json!("Automatically"),
                };
                set.push(("ApprovalStatusDescription", approval));
            }
            "SalesInvoices" => {
                for (id, name) in [
                    ("InvoiceTo", "InvoiceToName"),
                    ("DeliverTo", "DeliverToName"),
                ] {
                    let v = get(b, id);
                    set.push((name, self.lookup("Accounts", "ID", &v, "Name")));
                }
            }
            _ => {}
        }
        for (k, v) in set {
            if b.get(k).is_none_or(Value::is_null) {
                b.insert(k.into(), v);
            }
        }
    }

    /// The companions of a priced line: VAT code text and rate, unit text, cost price.
    pub(super) fn line_companions(&self, l: &mut Map<String, Value>, item: &Map<String, Value>) {
        let vat = l.get("VATCode").cloned().unwrap_or(Value::Null);
        let fill = [
            (
                "VATCodeDescription",
                self.lookup("VATCodes", "Code", &vat, "Description"),
            ),
            (
                "VATPercentage",
                self.lookup("VATCodes", "Code", &vat, "Percentage"),
            ),
            ("UnitDescription", json!("Stuk")),
            (
                "CostPriceFC",
                item.get("CostPriceStandard")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
        ];
        for (k, v) in fill {
            if l.get(k).is_none_or(Value::is_null) {
                l.insert(k.into(), v);
            }
        }
        if let Some(gl) = l.get("GLAccount").cloned() {
            let desc = self.lookup("GLAccounts", "ID", &gl, "Description");
            l.entry("GLAccountDescription").or_insert(desc);
        }
    }
}
