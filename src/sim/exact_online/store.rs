//! The division's data: one table per entity, a database-wide rowversion, number sequences,
//! tombstones, and the business rules a user in Exact Online would see (defaults, sequences,
//! order and invoice totals, padded account codes, address dedupe).

use super::catalog::{self, LINES};
use super::wire::{date, ApiError};
use indexmap::IndexMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// One stored row: wire-shaped fields plus its rowversion.
#[derive(Debug, Clone)]
pub struct Row {
    /// Field values as the API returns them (dates as `/Date(ms)/`).
    pub data: Map<String, Value>,
    /// Rowversion (`Timestamp` on sync endpoints), bumped on every change.
    pub ts: i64,
}

/// The in-memory database of one division.
pub struct Store {
    tables: HashMap<&'static str, IndexMap<String, Row>>,
    rowversion: i64,
    seq: HashMap<&'static str, i64>,
    /// Seeded generator for keys and tokens, so runs are reproducible.
    pub rng: ChaCha8Rng,
    /// The division number.
    pub division: i32,
    /// The simulated user (creator / modifier of records).
    pub user_id: String,
}

/// The key property of a table.
pub fn key_of(table: &str) -> &'static str {
    match table {
        "SalesOrders" => "OrderID",
        "SalesInvoices" => "InvoiceID",
        "SalesEntries" => "EntryID",
        "StockPositions" => "ItemId",
        "Me" => "UserID",
        _ => "ID",
    }
}

fn s(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

fn num(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(t)) => t.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(400, msg)
}

/// Left-pads an account code to 18 characters, as Exact stores it.
pub fn pad_code(code: &str) -> String {
    format!("{:>18}", code.trim())
}

impl Store {
    /// An empty division.
    pub fn new(seed: u64, division: i32) -> Store {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let user_id = new_guid(&mut rng);
        let mut seq = HashMap::new();
        seq.insert("OrderNumber", 0);
        seq.insert("InvoiceNumber", 26_700_000);
        seq.insert("EntryNumber", 26_800_000);
        seq.insert("AccountCode", 0);
        Store { tables: HashMap::new(), rowversion: 100_000, seq, rng, division, user_id }
    }

    /// A fresh GUID from the seeded generator.
    pub fn guid(&mut self) -> String {
        new_guid(&mut self.rng)
    }

    /// All rows of a table, in insertion order.
    pub fn rows(&self, table: &str) -> Vec<&Row> {
        self.tables.get(table).map(|t| t.values().collect()).unwrap_or_default()
    }

    /// One row by key (GUIDs compared lower-case).
    pub fn get(&self, table: &str, key: &str) -> Option<&Row> {
        self.tables.get(table)?.get(&key.to_lowercase())
    }

    fn next_seq(&mut self, name: &'static str) -> i64 {
        let v = self.seq.entry(name).or_insert(0);
        *v += 1;
        *v
    }

    fn bump(&mut self) -> i64 {
        self.rowversion += 1;
        self.rowversion
    }

    fn find(&self, table: &str, field: &str, value: &str) -> Option<&Row> {
        self.tables.get(table)?.values().find(|r| s(r.data.get(field)).eq_ignore_ascii_case(value))
    }

    fn put_row(&mut self, table: &'static str, data: Map<String, Value>) -> String {
        let key = s(data.get(key_of(table))).to_lowercase();
        let ts = self.bump();
        self.tables.entry(table).or_default().insert(key.clone(), Row { data, ts });
        key
    }

    /// Creates a record with the defaults and rules of Exact Online; returns its key.
    /// `now` is epoch ms. Lines inside a header body (e.g. `SalesOrderLines`) are created too.
    pub fn create(&mut self, table: &'static str, mut body: Map<String, Value>, now: i64) -> Result<String, ApiError> {
        let key_field = key_of(table);
        let key = match body.get(key_field).and_then(Value::as_str) {
            Some(k) if !k.is_empty() => k.to_lowercase(),
            _ => self.guid(),
        };
        if self.get(table, &key).is_some() {
            return Err(bad("Gegeven bestaat reeds"));
        }
        body.insert(key_field.into(), json!(key));
        if table == "Addresses" {
            if let Some(existing) = self.same_address(&body) {
                return Ok(existing);
            }
        }
        let lines: Vec<(&str, &'static str, &str, Vec<Value>)> = LINES
            .iter()
            .filter_map(|(coll, lt, fk)| {
                body.remove(*coll).map(|v| (*coll, *lt, *fk, v.as_array().cloned().unwrap_or_default()))
            })
            .collect();
        self.audit(&mut body, now, true);
        self.rules(table, &mut body, now)?;
        // Line rules need the header; validate all lines before anything is stored.
        let mut prepared = Vec::new();
        for (_, lt, fk, items) in &lines {
            for (i, l) in items.iter().enumerate() {
                let mut l = l.as_object().cloned().unwrap_or_default();
                l.insert((*fk).into(), json!(key));
                l.insert("LineNumber".into(), json!(i + 1));
                self.line_rules(lt, &mut l, &body)?;
                prepared.push((*lt, l));
            }
        }
        let key = self.put_row(table, body);
        for (lt, mut l) in prepared {
            let id = self.guid();
            l.entry("ID").or_insert(json!(id));
            self.audit(&mut l, now, true);
            self.put_row(lt, l);
        }
        if !lines.is_empty() || table.ends_with("Lines") {
            self.recompute(table, &key, now);
        }
        Ok(key)
    }

    fn audit(&self, body: &mut Map<String, Value>, now: i64, create: bool) {
        if create {
            body.entry("Created").or_insert(json!(date(now)));
            body.entry("Creator").or_insert(json!(self.user_id));
            body.entry("CreatorFullName").or_insert(json!("Sim Gebruiker"));
        }
        if !create || !body.contains_key("Modified") {
            body.insert("Modified".into(), json!(date(now)));
        }
        body.insert("Modifier".into(), json!(self.user_id));
        body.insert("ModifierFullName".into(), json!("Sim Gebruiker"));
        body.insert("Division".into(), json!(self.division));
    }

    fn same_address(&self, body: &Map<String, Value>) -> Option<String> {
        let fields = ["Account", "Type", "AddressLine1", "Postcode", "City", "Country"];
        self.rows("Addresses")
            .into_iter()
            .find(|r| fields.iter().all(|f| r.data.get(*f) == body.get(*f)))
            .map(|r| s(r.data.get("ID")))
    }

    fn account_name(&self, id: &str) -> Result<String, ApiError> {
        self.get("Accounts", id)
            .map(|r| s(r.data.get("Name")))
            .ok_or_else(|| bad(format!("Account not found: {id}")))
    }

    fn rules(&mut self, table: &str, b: &mut Map<String, Value>, now: i64) -> Result<(), ApiError> {
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
            "Contacts" => {
                let acc = s(b.get("Account"));
                let name = self.account_name(&acc)?;
                b.insert("AccountName".into(), json!(name));
                let full = [s(b.get("FirstName")), s(b.get("MiddleName")), s(b.get("LastName"))]
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
                    None => self.rows("ItemGroups").into_iter().find(|r| r.data.get("IsDefault") == Some(&json!(1)) || r.data.get("IsDefault") == Some(&json!(true))).cloned(),
                };
                if let Some(g) = group {
                    b.insert("ItemGroup".into(), g.data.get("ID").cloned().unwrap_or(Value::Null));
                    b.insert("ItemGroupCode".into(), g.data.get("Code").cloned().unwrap_or(Value::Null));
                    b.insert("ItemGroupDescription".into(), g.data.get("Description").cloned().unwrap_or(Value::Null));
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
                for (f, nf) in [("DeliverTo", "DeliverToName"), ("InvoiceTo", "InvoiceToName")] {
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
            }
            "SalesOrderLines" | "SalesInvoiceLines" | "SalesEntryLines" => {
                let (header_table, fk) = match table {
                    "SalesOrderLines" => ("SalesOrders", "OrderID"),
                    "SalesInvoiceLines" => ("SalesInvoices", "InvoiceID"),
                    _ => ("SalesEntries", "EntryID"),
                };
                let header = self
                    .get(header_table, &s(b.get(fk)))
                    .map(|r| r.data.clone())
                    .ok_or_else(|| bad(format!("{fk} not found")))?;
                let n = self.rows(table).iter().filter(|r| r.data.get(fk) == b.get(fk)).count() + 1;
                b.entry("LineNumber").or_insert(json!(n));
                self.line_rules(table, b, &header)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn vat_rate(&self, code: &str) -> f64 {
        self.find("VATCodes", "Code", code).map(|r| num(r.data.get("Percentage"))).unwrap_or(0.21)
    }

    fn line_rules(&self, table: &str, l: &mut Map<String, Value>, header: &Map<String, Value>) -> Result<(), ApiError> {
        if table == "SalesEntryLines" {
            let amount = num(l.get("AmountFC"));
            let code = s(l.get("VATCode"));
            if !code.is_empty() && !l.contains_key("VATAmountFC") {
                l.insert("VATAmountFC".into(), json!(round2(amount * self.vat_rate(&code))));
            }
            return Ok(());
        }
        let item_id = s(l.get("Item"));
        let item = self.get("Items", &item_id).ok_or_else(|| bad(format!("Item not found: {item_id}")))?;
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
        l.insert("ItemCode".into(), item.data.get("Code").cloned().unwrap_or(Value::Null));
        l.insert("ItemDescription".into(), item.data.get("Description").cloned().unwrap_or(Value::Null));
        l.entry("Description").or_insert(item.data.get("Description").cloned().unwrap_or(Value::Null));
        l.entry("UnitCode").or_insert(item.data.get("Unit").cloned().unwrap_or(Value::Null));
        match table {
            "SalesOrderLines" => {
                l.insert("VATAmount".into(), json!(vat));
                l.insert("OrderNumber".into(), header.get("OrderNumber").cloned().unwrap_or(Value::Null));
                for f in ["OrderStatus", "DeliveryStatus", "InvoiceStatus"] {
                    l.entry(f).or_insert(header.get("Status").cloned().unwrap_or(json!(12)));
                }
                l.entry("DeliveryDate").or_insert(header.get("DeliveryDate").cloned().unwrap_or(Value::Null));
            }
            _ => {
                l.insert("VATAmountFC".into(), json!(vat));
                l.insert("VATAmountDC".into(), json!(vat));
                l.insert("AmountFCExclVat".into(), json!(amount));
                if l.get("GLAccount").is_none_or(Value::is_null) {
                    let gl = item
                        .data
                        .get("GLRevenue")
                        .filter(|v| !v.is_null())
                        .cloned()
                        .or_else(|| self.find("GLAccounts", "Code", "8000").and_then(|r| r.data.get("ID").cloned()));
                    l.insert("GLAccount".into(), gl.unwrap_or(Value::Null));
                }
            }
        }
        Ok(())
    }

    /// Recomputes header totals after a change to its lines (or the header of a line).
    fn recompute(&mut self, table: &str, key: &str, now: i64) {
        let (header_table, key) = match table {
            "SalesOrderLines" | "SalesInvoiceLines" | "SalesEntryLines" => {
                let fk = LINES.iter().find(|(_, lt, _)| *lt == table).map(|(_, _, fk)| *fk).unwrap_or("ID");
                let Some(h) = self.get(table, key).and_then(|r| r.data.get(fk)).and_then(Value::as_str) else { return };
                let h = h.to_string();
                (LINES.iter().position(|(_, lt, _)| *lt == table).map(|i| ["SalesOrders", "SalesInvoices", "SalesEntries"][i]).unwrap_or(""), h)
            }
            t => (t, key.to_string()),
        };
        let Some((_, lt, fk)) = LINES.iter().find(|(_, lt, _)| {
            matches!((header_table, *lt), ("SalesOrders", "SalesOrderLines") | ("SalesInvoices", "SalesInvoiceLines") | ("SalesEntries", "SalesEntryLines"))
        }) else {
            return;
        };
        let mut excl = 0.0;
        let mut vat = 0.0;
        for r in self.rows(lt) {
            if s(r.data.get(*fk)) == key {
                excl += num(r.data.get("AmountFC"));
                vat += num(r.data.get("VATAmount")) + num(r.data.get("VATAmountFC"));
            }
        }
        let ts = self.bump();
        let user = self.user_id.clone();
        if let Some(row) = self.tables.get_mut(header_table).and_then(|t| t.get_mut(&key)) {
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
    }

    /// Merges `changes` into a record (the caller checked which fields may change).
    pub fn update(&mut self, table: &'static str, key: &str, changes: Map<String, Value>, now: i64) -> Result<(), ApiError> {
        let key = key.to_lowercase();
        let Some(current) = self.get(table, &key).map(|r| r.data.clone()) else {
            return Err(ApiError::new(404, "Object not found"));
        };
        let mut merged = current;
        let mut new_lines = Vec::new();
        for (k, v) in changes {
            if let Some((_, lt, fk)) = LINES.iter().find(|(c, _, _)| *c == k) {
                new_lines.extend(v.as_array().cloned().unwrap_or_default().into_iter().map(|l| (*lt, *fk, l)));
                continue;
            }
            merged.insert(k, v);
        }
        if table == "Accounts" {
            if let Some(c) = merged.get("Code").and_then(Value::as_str) {
                let padded = pad_code(c);
                if self.rows("Accounts").iter().any(|r| s(r.data.get("Code")) == padded && s(r.data.get("ID")) != key) {
                    return Err(bad(format!("Code {} already exists", padded.trim())));
                }
                merged.insert("Code".into(), json!(padded));
            }
        }
        if table == "SalesOrders" {
            describe_status(&mut merged);
        }
        if table == "Contacts" {
            let full = [s(merged.get("FirstName")), s(merged.get("MiddleName")), s(merged.get("LastName"))]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            merged.insert("FullName".into(), json!(full));
        }
        self.audit(&mut merged, now, false);
        let ts = self.bump();
        if let Some(row) = self.tables.get_mut(table).and_then(|t| t.get_mut(&key)) {
            row.data = merged;
            row.ts = ts;
        }
        for (lt, fk, line) in new_lines {
            let mut l = line.as_object().cloned().unwrap_or_default();
            match l.get("ID").and_then(Value::as_str).map(str::to_lowercase) {
                Some(id) if self.get(lt, &id).is_some() => {
                    l.remove("ID");
                    self.update(lt, &id, l, now)?;
                }
                _ => {
                    l.insert(fk.into(), json!(key));
                    self.create(lt, l, now)?;
                }
            }
        }
        if matches!(table, "SalesOrderLines" | "SalesInvoiceLines" | "SalesEntryLines") {
            self.recompute(table, &key, now);
        }
        Ok(())
    }

    /// Deletes a record (and the lines of a header), leaving `sync/Deleted` tombstones.
    pub fn delete(&mut self, table: &'static str, key: &str, now: i64) -> Result<(), ApiError> {
        let key = key.to_lowercase();
        let Some(row) = self.tables.get_mut(table).and_then(|t| t.shift_remove(&key)) else {
            return Err(ApiError::new(404, "Object not found"));
        };
        self.tombstone(table, &key, now);
        let fk_of_line = LINES.iter().find(|(_, lt, _)| *lt == table).map(|(_, _, fk)| *fk);
        for (_, lt, fk) in LINES {
            let header_of = matches!((table, *lt), ("SalesOrders", "SalesOrderLines") | ("SalesInvoices", "SalesInvoiceLines") | ("SalesEntries", "SalesEntryLines"));
            if !header_of {
                continue;
            }
            let ids: Vec<String> = self.rows(lt).iter().filter(|r| s(r.data.get(*fk)) == key).map(|r| s(r.data.get("ID"))).collect();
            for id in ids {
                if let Some(t) = self.tables.get_mut(lt) {
                    t.shift_remove(&id);
                }
                self.tombstone(lt, &id, now);
            }
        }
        if let Some(fk) = fk_of_line {
            let header = s(row.data.get(fk));
            self.recompute(table, &header, now);
            if let Some(h) = LINES.iter().position(|(_, lt, _)| *lt == table) {
                let header_table = ["SalesOrders", "SalesInvoices", "SalesEntries"][h];
                self.recompute(header_table, &header, now);
            }
        }
        Ok(())
    }

    fn tombstone(&mut self, table: &str, key: &str, now: i64) {
        let Some(code) = catalog::deleted_entity_type(table) else { return };
        let id = self.guid();
        let user = self.user_id.clone();
        let row = json!({"ID": id, "EntityKey": key, "EntityType": code, "DeletedBy": user,
                         "DeletedDate": date(now), "Division": self.division});
        if let Value::Object(m) = row {
            self.put_row("Deleted", m);
        }
    }

    /// Stores a row as-is (reference data and the current user), with a fresh rowversion.
    pub fn raw_insert(&mut self, table: &'static str, data: Map<String, Value>) -> String {
        self.put_row(table, data)
    }

    /// Random index below `n` from the seeded generator.
    pub fn pick(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.gen_range(0..n)
        }
    }
}

fn describe_status(b: &mut Map<String, Value>) {
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

/// A random, lower-case, hyphenated GUID.
pub fn new_guid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.gen();
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}
