//! Business rules of Exact Online applied on create and update: defaults, sequences, names
//! copied from referenced records, line prices and VAT, header totals.

use super::super::catalog::{self, LINES};
use super::super::wire::{date, ApiError};
use super::{bad, num, pad_code, round2, s, Store};
use serde_json::{json, Map, Value};

impl Store {
    fn account_name(&self, id: &str) -> Result<String, ApiError> {
        self.get("Accounts", id)
            .map(|r| s(r.data.get("Name")))
            .ok_or_else(|| bad(format!("Account not found: {id}")))
    }

    pub(super) fn rules(
        &mut self,
        table: &str,
        b: &mut Map<String, Value>,
        now: i64,
    ) -> Result<(), ApiError> {
        match table {
            "Accounts" => {
                let code = match b.get("Code").and_then(Value::as_str).map(str::trim) {
                    Some(c) if !c.is_empty() => {
                        if let Ok(n) = c.parse::<i64>() {
                            let cur = self.seq.entry("AccountCode").or_insert(0);
                            *cur = (*cur).max(n);
                        }
                        c.to_string()
                    }
                    _ => self.next_seq("AccountCode").to_string(),
                };
                let code = pad_code(&code);
                if self.find("Accounts", "Code", &code).is_some() {
                    return Err(bad(format!("Code {} already exists", code.trim())));
                }
                b.insert("Code".into(), json!(code));
                b.entry("Type").or_insert(json!("A"));
                b.entry("Status").or_insert(json!("C"));
                b.entry("Blocked").or_insert(json!(false));
                b.entry("IsSales").or_insert(json!(true));
                b.entry("Language").or_insert(json!("NL"));
            }
            "SalesItemPrices" => {
                let item = s(b.get("Item"));
                let code = self
                    .get("Items", &item)
                    .map(|r| r.data.get("Code").cloned().unwrap_or(Value::Null))
                    .ok_or_else(|| bad(format!("Item not found: {item}")))?;
                b.insert("ItemCode".into(), code);
                b.entry("Currency").or_insert(json!("EUR"));
                b.entry("Quantity").or_insert(json!(1.0));
                b.entry("NumberOfItemsPerUnit").or_insert(json!(1.0));
                // The general (not customer-specific) price is the item's sales price.
                if b.get("Account").is_none_or(Value::is_null) {
                    if let Some(price) = b.get("Price").cloned() {
                        self.set_field("Items", &item, "StandardSalesPrice", price, now);
                    }
                }
            }
            "WebhookSubscriptions" => {
                let topic = s(b.get("Topic"));
                if !super::super::webhooks::TOPICS.contains(&topic.as_str()) {
                    return Err(bad(format!("Invalid topic: {topic}")));
                }
                if b.get("IsInstant") == Some(&json!(true)) && topic != "GoodsDeliveries" {
                    return Err(bad("IsInstant is only allowed for topic GoodsDeliveries"));
                }
                b.insert("ClientID".into(), json!(self.client_guid));
                b.entry("UserID").or_insert(json!(self.user_id));
            }
            "Contacts" => {
                let acc = s(b.get("Account"));
                let name = self.account_name(&acc)?;
                b.insert("AccountName".into(), json!(name));
                let full = [
                    s(b.get("FirstName")),
                    s(b.get("MiddleName")),
                    s(b.get("LastName")),
                ]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
                b.insert("FullName".into(), json!(full));
            }
            "Addresses" => {
                if let Some(acc) = b.get("Account").and_then(Value::as_str).map(str::to_string) {
                    let name = self.account_name(&acc)?;
                    b.insert("AccountName".into(), json!(name));
                }
            }
            "Items" => {
                let code = s(b.get("Code"));
                if self.find("Items", "Code", &code).is_some() {
                    return Err(bad(format!("Code {code} already exists")));
                }
                if s(b.get("Description")).chars().count() > 60 {
                    return Err(bad("Description: maximum length is 60"));
                }
                let group = match b.get("ItemGroup").and_then(Value::as_str) {
                    Some(g) => self.get("ItemGroups", g).cloned(),
                    None => self
                        .rows("ItemGroups")
                        .into_iter()
                        .find(|r| {
                            r.data.get("IsDefault") == Some(&json!(1))
                                || r.data.get("IsDefault") == Some(&json!(true))
                        })
                        .cloned(),
                };
                if let Some(g) = group {
                    b.insert(
                        "ItemGroup".into(),
                        g.data.get("ID").cloned().unwrap_or(Value::Null),
                    );
                    b.insert(
                        "ItemGroupCode".into(),
                        g.data.get("Code").cloned().unwrap_or(Value::Null),
                    );
                    b.insert(
                        "ItemGroupDescription".into(),
                        g.data.get("Description").cloned().unwrap_or(Value::Null),
                    );
                    // A new item takes its group's revenue account unless it names its own.
                    if b.get("GLRevenue").is_none_or(Value::is_null) {
                        let gl = g.data.get("GLRevenue").cloned().unwrap_or(Value::Null);
                        b.insert("GLRevenue".into(), gl);
                    }
                } else if b.contains_key("ItemGroup") {
                    return Err(bad("ItemGroup not found"));
                }
                b.entry("Unit").or_insert(json!("stuk"));
                b.entry("IsSalesItem").or_insert(json!(true));
                b.entry("IsStockItem").or_insert(json!(false));
                b.entry("Stock").or_insert(json!(0.0));
            }
            "SalesOrders" => {
                let by = s(b.get("OrderedBy"));
                let name = self.account_name(&by)?;
                b.insert("OrderedByName".into(), json!(name));
                for f in ["DeliverTo", "InvoiceTo"] {
                    if b.get(f).is_none_or(Value::is_null) {
                        b.insert(f.into(), json!(by));
                    }
                }
                for (f, nf) in [
                    ("DeliverTo", "DeliverToName"),
                    ("InvoiceTo", "InvoiceToName"),
                ] {
                    let id = s(b.get(f));
                    let n = self.account_name(&id)?;
                    b.insert(nf.into(), json!(n));
                }
                let number = match b.get("OrderNumber").and_then(Value::as_i64) {
                    Some(n) => {
                        let cur = self.seq.entry("OrderNumber").or_insert(0);
                        *cur = (*cur).max(n);
                        n
                    }
                    None => self.next_seq("OrderNumber"),
                };
                b.insert("OrderNumber".into(), json!(number));
                for f in ["Status", "DeliveryStatus", "InvoiceStatus"] {
                    b.entry(f).or_insert(json!(12));
                }
                b.entry("ApprovalStatus").or_insert(json!(1));
                b.entry("OrderDate").or_insert(json!(date(now)));
                b.entry("Currency").or_insert(json!("EUR"));
                describe_status(b);
            }
            "SalesInvoices" => {
                let by = s(b.get("OrderedBy"));
                let name = self.account_name(&by)?;
                b.insert("OrderedByName".into(), json!(name));
                b.entry("InvoiceTo").or_insert(json!(by));
                b.entry("DeliverTo").or_insert(json!(by));
                let n = self.next_seq("InvoiceNumber");
                b.entry("InvoiceNumber").or_insert(json!(n));
                b.entry("Type").or_insert(json!(8020));
                b.entry("Status").or_insert(json!(20));
                b.entry("InvoiceDate").or_insert(json!(date(now)));
                b.entry("Currency").or_insert(json!("EUR"));
                self.fill_dates(table, b);
            }
            "SalesEntries" => {
                let c = s(b.get("Customer"));
                let name = self.account_name(&c)?;
                b.insert("CustomerName".into(), json!(name));
                let n = self.next_seq("EntryNumber");
                b.entry("EntryNumber").or_insert(json!(n));
                b.entry("Type").or_insert(json!(20));
                b.entry("Status").or_insert(json!(20));
                b.entry("EntryDate").or_insert(json!(date(now)));
                b.entry("Currency").or_insert(json!("EUR"));
                self.fill_dates(table, b);
            }
            "GoodsDeliveries" => self.delivery_rules(b, now),
            "Quotations" | "BankAccounts" | "ItemWarehouses" => self.fill_references(table, b)?,
            t if catalog::lines_by_table(t).is_some() => {
                let Some(l) = catalog::lines_by_table(t) else {
                    return Ok(());
                };
                let (header_table, fk) = (l.header, l.fk);
                let header = self
                    .get(header_table, &s(b.get(fk)))
                    .map(|r| r.data.clone())
                    .ok_or_else(|| bad(format!("{fk} not found")))?;
                let n = self.children(table, &s(b.get(fk))).len() + 1;
                b.entry("LineNumber").or_insert(json!(n));
                self.line_rules(table, b, &header)?;
            }
            _ => {}
        }
        self.companions(table, b);
        Ok(())
    }

    fn vat_rate(&self, code: &str) -> f64 {
        self.find("VATCodes", "Code", code)
            .map(|r| num(r.data.get("Percentage")))
            .unwrap_or(0.21)
    }

    pub(super) fn line_rules(
        &self,
        table: &str,
        l: &mut Map<String, Value>,
        header: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        if table == "GoodsDeliveryLines" {
            return self.delivery_line_rules(l, header);
        }
        if table == "SalesEntryLines" {
            let amount = num(l.get("AmountFC"));
            let code = s(l.get("VATCode"));
            if !code.is_empty() && !l.contains_key("VATAmountFC") {
                l.insert(
                    "VATAmountFC".into(),
                    json!(round2(amount * self.vat_rate(&code))),
                );
            }
            return Ok(());
        }
        let item_id = s(l.get("Item"));
        let item = self
            .get("Items", &item_id)
            .ok_or_else(|| bad(format!("Item not found: {item_id}")))?;
        let qty = l.get("Quantity").map(|v| num(Some(v))).unwrap_or(1.0);
        let price = match l.get("UnitPrice") {
            Some(v) if !v.is_null() => num(Some(v)),
            _ => num(item.data.get("StandardSalesPrice")),
        };
        let discount = num(l.get("Discount"));
        let net = round2(price * (1.0 - discount));
        let vat_code = match l.get("VATCode").and_then(Value::as_str) {
            Some(c) => c.to_string(),
            None => s(item.data.get("SalesVatCode")),
        };
        let amount = round2(net * qty);
        let vat = round2(amount * self.vat_rate(&vat_code));
        l.insert("Quantity".into(), json!(qty));
        l.insert("UnitPrice".into(), json!(price));
        l.insert("NetPrice".into(), json!(net));
        l.insert("AmountFC".into(), json!(amount));
        l.insert("AmountDC".into(), json!(amount));
        l.insert("VATCode".into(), json!(vat_code));
        l.insert(
            "ItemCode".into(),
            item.data.get("Code").cloned().unwrap_or(Value::Null),
        );
        l.insert(
            "ItemDescription".into(),
            item.data.get("Description").cloned().unwrap_or(Value::Null),
        );
        l.entry("Description")
            .or_insert(item.data.get("Description").cloned().unwrap_or(Value::Null));
        l.entry("UnitCode")
            .or_insert(item.data.get("Unit").cloned().unwrap_or(Value::Null));
        match table {
            "SalesOrderLines" => {
                l.insert("VATAmount".into(), json!(vat));
                l.insert(
                    "OrderNumber".into(),
                    header.get("OrderNumber").cloned().unwrap_or(Value::Null),
                );
                // A line is open until a goods delivery books it (`deliveries.rs`); a partly
                // delivered order does not make each of its lines partly delivered.
                let code = |f: &str| header.get(f).and_then(Value::as_i64).unwrap_or(12);
                let line_code = |c: i64| if c == 20 { 12 } else { c };
                l.entry("OrderStatus")
                    .or_insert(json!(line_code(code("Status"))));
                l.entry("DeliveryStatus")
                    .or_insert(json!(line_code(code("DeliveryStatus"))));
                l.entry("InvoiceStatus")
                    .or_insert(json!(line_code(code("InvoiceStatus"))));
                l.entry("DeliveryDate")
                    .or_insert(header.get("DeliveryDate").cloned().unwrap_or(Value::Null));
            }
            _ => {
                l.insert("VATAmountFC".into(), json!(vat));
                l.insert("VATAmountDC".into(), json!(vat));
                l.insert("AmountFCExclVat".into(), json!(amount));
                if l.get("GLAccount").is_none_or(Value::is_null) {
                    let group = self.get("ItemGroups", &s(item.data.get("ItemGroup")));
                    let gl = item
                        .data
                        .get("GLRevenue")
                        .filter(|v| !v.is_null())
                        .or_else(|| group.and_then(|g| g.data.get("GLRevenue")))
                        .filter(|v| !v.is_null())
                        .cloned()
                        .or_else(|| {
                            self.find("GLAccounts", "Code", "8000")
                                .and_then(|r| r.data.get("ID").cloned())
                        });
                    l.insert("GLAccount".into(), gl.unwrap_or(Value::Null));
                }
            }
        }
        self.line_companions(l, &item.data);
        Ok(())
    }

    /// Recomputes header totals after a change to its lines (or the header of a line).
    pub(super) fn recompute(&mut self, table: &str, key: &str, now: i64) {
        let (lines, key) = match catalog::lines_by_table(table) {
            Some(l) => {
                let Some(h) = self
                    .get(table, key)
                    .and_then(|r| r.data.get(l.fk))
                    .and_then(Value::as_str)
                else {
                    return;
                };
                (l, h.to_string())
            }
            None => match LINES.iter().find(|l| l.header == table) {
                Some(l) => (l, key.to_string()),
                None => return,
            },
        };
        // Deliveries carry quantities, not amounts.
        if lines.header == "GoodsDeliveries" {
            return;
        }
        let header_table = lines.header;
        let mut excl = 0.0;
        let mut vat = 0.0;
        for r in self.children(lines.table, &key) {
            excl += num(r.data.get("AmountFC"));
            vat += num(r.data.get("VATAmount")) + num(r.data.get("VATAmountFC"));
        }
        let ts = self.bump();
        let user = self.user_id.clone();
        if let Some(row) = self
            .tables
            .get_mut(header_table)
            .and_then(|t| t.get_mut(&key))
        {
            let d = &mut row.data;
            match header_table {
                "SalesOrders" => {
                    d.insert("AmountFCExclVat".into(), json!(round2(excl)));
                    d.insert("AmountFC".into(), json!(round2(excl + vat)));
                    d.insert("AmountDC".into(), json!(round2(excl + vat)));
                }
                "SalesInvoices" => {
                    d.insert("AmountFCExclVat".into(), json!(round2(excl)));
                    d.insert("VATAmountFC".into(), json!(round2(vat)));
                    d.insert("VATAmountDC".into(), json!(round2(vat)));
                    d.insert("AmountFC".into(), json!(round2(excl + vat)));
                    d.insert("AmountDC".into(), json!(round2(excl + vat)));
                }
                "SalesEntries" => {
                    d.insert("VATAmountFC".into(), json!(round2(vat)));
                    d.insert("VATAmountDC".into(), json!(round2(vat)));
                    d.insert("AmountFC".into(), json!(round2(excl + vat)));
                    d.insert("AmountDC".into(), json!(round2(excl + vat)));
                }
                _ => {
                    d.insert("VATAmountFC".into(), json!(round2(vat)));
                    d.insert("AmountFC".into(), json!(round2(excl + vat)));
                    d.insert("AmountDC".into(), json!(round2(excl + vat)));
                }
            }
            d.insert("Modified".into(), json!(date(now)));
            d.insert("Modifier".into(), json!(user));
            row.ts = ts;
        }
        if header_table == "SalesEntries" {
            self.receivable(&key);
        }
    }
}

/// Fills the `...Description` companions of the order status codes.
pub(super) fn describe_status(b: &mut Map<String, Value>) {
    let text = |v: Option<&Value>| match v.and_then(Value::as_i64) {
        Some(12) => "Open",
        Some(20) => "Partial",
        Some(21) => "Complete",
        Some(45) => "Cancelled",
        _ => "",
    };
    let st = text(b.get("Status"));
    let ds = text(b.get("DeliveryStatus"));
    let is = text(b.get("InvoiceStatus"));
    b.insert("StatusDescription".into(), json!(st));
    b.insert("DeliveryStatusDescription".into(), json!(ds));
    b.insert("InvoiceStatusDescription".into(), json!(is));
}
