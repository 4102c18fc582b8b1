//! The division's data: one table per entity, a database-wide rowversion, number sequences,
//! tombstones, and the business rules a user in Exact Online would see (defaults, sequences,
//! order and invoice totals, padded account codes, address dedupe).

mod deliveries;
mod derived;
mod rules;

use rules::describe_status;

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
    /// The registered app's GUID (`ClientID` of webhook subscriptions and deliveries).
    pub client_guid: String,
    /// Child rows by parent: (child table, parent key) -> child keys, for the tables in `FK`.
    children: HashMap<(&'static str, String), indexmap::IndexSet<String>>,
    /// Unique codes: (table, lower-case code) -> key, for Accounts and Items.
    codes: HashMap<(&'static str, String), String>,
    /// Changes not yet turned into webhook deliveries: (table, action, key).
    pub events: Vec<(&'static str, &'static str, String)>,
    /// Read-only properties skipped in write bodies, per endpoint (for `/_sim/stats`).
    pub dropped: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

/// Child tables and their parent reference, indexed so lookups stay O(1) as data grows.
const FK: &[(&str, &str)] = &[
    ("Addresses", "Account"),
    ("Contacts", "Account"),
    ("BankAccounts", "Account"),
    ("SalesOrderLines", "OrderID"),
    ("SalesInvoiceLines", "InvoiceID"),
    ("SalesEntryLines", "EntryID"),
    ("GoodsDeliveryLines", "EntryID"),
    ("QuotationLines", "QuotationID"),
];

/// The key property of a table.
pub fn key_of(table: &str) -> &'static str {
    match table {
        "SalesOrders" => "OrderID",
        "SalesInvoices" => "InvoiceID",
        "SalesEntries" | "GoodsDeliveries" => "EntryID",
        "Quotations" => "QuotationID",
        "Divisions" | "SystemDivisions" | "Currencies" => "Code",
        "ReceivablesList" => "HID",
        "StockPositions" => "ItemId",
        "Me" => "UserID",
        _ => "ID",
    }
}

fn s(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

/// A row's key as text: GUIDs lower-case, numeric keys (`Code`, `HID`) as digits.
fn key_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        other => s(other).to_lowercase(),
    }
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
        let client_guid = new_guid(&mut rng);
        let mut seq = HashMap::new();
        seq.insert("OrderNumber", 0);
        seq.insert("InvoiceNumber", 26_700_000);
        seq.insert("EntryNumber", 26_800_000);
        seq.insert("AccountCode", 0);
        Store {
            tables: HashMap::new(),
            rowversion: 100_000,
            seq,
            rng,
            division,
            user_id,
            client_guid,
            children: HashMap::new(),
            codes: HashMap::new(),
            events: Vec::new(),
            dropped: Default::default(),
        }
    }

    /// Remembers read-only properties a write body carried (and that were skipped).
    pub fn note_dropped(&mut self, endpoint: &str, fields: &[String]) {
        self.dropped
            .entry(endpoint.to_string())
            .or_default()
            .extend(fields.iter().cloned());
    }

    /// The current (highest) rowversion of the division.
    pub fn rowversion(&self) -> i64 {
        self.rowversion
    }

    /// A fresh GUID from the seeded generator.
    pub fn guid(&mut self) -> String {
        new_guid(&mut self.rng)
    }

    /// All rows of a table, in insertion order.
    pub fn rows(&self, table: &str) -> Vec<&Row> {
        self.tables
            .get(table)
            .map(|t| t.values().collect())
            .unwrap_or_default()
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
        if field == "Code" && matches!(table, "Accounts" | "Items") {
            let t = if table == "Accounts" {
                "Accounts"
            } else {
                "Items"
            };
            let key = self.codes.get(&(t, value.to_lowercase()))?;
            return self.get(table, key);
        }
        self.tables
            .get(table)?
            .values()
            .find(|r| s(r.data.get(field)).eq_ignore_ascii_case(value))
    }

    /// Rows of a child table that point at `parent` (e.g. the lines of an order).
    pub fn children(&self, table: &str, parent: &str) -> Vec<&Row> {
        let Some((t, _)) = FK.iter().find(|(t, _)| *t == table) else {
            return Vec::new();
        };
        match (
            self.children.get(&(*t, parent.to_lowercase())),
            self.tables.get(table),
        ) {
            (Some(keys), Some(rows)) => keys.iter().filter_map(|k| rows.get(k)).collect(),
            _ => Vec::new(),
        }
    }

    fn index(&mut self, table: &'static str, key: &str, data: &Map<String, Value>, add: bool) {
        if let Some((t, fk)) = FK.iter().find(|(t, _)| *t == table) {
            if let Some(parent) = data.get(*fk).and_then(Value::as_str) {
                let set = self
                    .children
                    .entry((*t, parent.to_lowercase()))
                    .or_default();
                if add {
                    set.insert(key.to_string());
                } else {
                    set.shift_remove(key);
                }
            }
        }
        if matches!(table, "Accounts" | "Items") {
            if let Some(code) = data.get("Code").and_then(Value::as_str) {
                let k = (table, code.to_lowercase());
                if add {
                    self.codes.insert(k, key.to_string());
                } else if self.codes.get(&k).map(String::as_str) == Some(key) {
                    self.codes.remove(&k);
                }
            }
        }
    }

    fn put_row(&mut self, table: &'static str, data: Map<String, Value>) -> String {
        let key = key_text(data.get(key_of(table)));
        let ts = self.bump();
        if let Some(old) = self
            .tables
            .get(table)
            .and_then(|t| t.get(&key))
            .map(|r| r.data.clone())
        {
            self.index(table, &key, &old, false);
        }
        self.index(table, &key, &data, true);
        self.tables
            .entry(table)
            .or_default()
            .insert(key.clone(), Row { data, ts });
        key
    }

    fn remove_row(&mut self, table: &'static str, key: &str) -> Option<Row> {
        let row = self.tables.get_mut(table)?.shift_remove(key)?;
        self.index(table, key, &row.data, false);
        Some(row)
    }

    /// Creates a record with the defaults and rules of Exact Online; returns its key.
    /// `now` is epoch ms. Lines inside a header body (e.g. `SalesOrderLines`) are created too.
    pub fn create(
        &mut self,
        table: &'static str,
        mut body: Map<String, Value>,
        now: i64,
    ) -> Result<String, ApiError> {
        let key_field = key_of(table);
        let given = key_text(body.get(key_field));
        let key = if given.is_empty() { self.guid() } else { given };
        if self.get(table, &key).is_some() {
            return Err(bad("Gegeven bestaat reeds"));
        }
        // GUID keys are stored lower-case; numeric and code keys (`Code` of a division or a
        // currency) as given.
        if matches!(body.get(key_field), None | Some(Value::Null))
            || matches!(body.get(key_field), Some(Value::String(k)) if uuid::Uuid::parse_str(k).is_ok())
        {
            body.insert(key_field.into(), json!(key));
        }
        if table == "Addresses" {
            if let Some(existing) = self.same_address(&body) {
                return Ok(existing);
            }
        }
        let lines: Vec<(&str, &'static str, &str, Vec<Value>)> = LINES
            .iter()
            .filter(|l| l.header == table)
            .filter_map(|l| {
                body.remove(l.collection).map(|v| {
                    (
                        l.collection,
                        l.table,
                        l.fk,
                        v.as_array().cloned().unwrap_or_default(),
                    )
                })
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
        self.after_create(table, &key, now)?;
        self.events.push((table, "Create", key.clone()));
        Ok(key)
    }

    fn audit(&self, body: &mut Map<String, Value>, now: i64, create: bool) {
        if create {
            body.entry("Created").or_insert(json!(date(now)));
            body.entry("Creator").or_insert(json!(self.user_id));
            body.entry("CreatorFullName")
                .or_insert(json!("Sim Gebruiker"));
        }
        if !create || !body.contains_key("Modified") {
            body.insert("Modified".into(), json!(date(now)));
        }
        body.insert("Modifier".into(), json!(self.user_id));
        body.insert("ModifierFullName".into(), json!("Sim Gebruiker"));
        body.insert("Division".into(), json!(self.division));
    }

    fn same_address(&self, body: &Map<String, Value>) -> Option<String> {
        let fields = [
            "Account",
            "Type",
            "AddressLine1",
            "Postcode",
            "City",
            "Country",
        ];
        let account = body
            .get("Account")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.children("Addresses", account)
            .into_iter()
            .find(|r| fields.iter().all(|f| r.data.get(*f) == body.get(*f)))
            .map(|r| s(r.data.get("ID")))
    }

    /// Merges `changes` into a record (the caller checked which fields may change).
    pub fn update(
        &mut self,
        table: &'static str,
        key: &str,
        changes: Map<String, Value>,
        now: i64,
    ) -> Result<(), ApiError> {
        let key = key.to_lowercase();
        let Some(current) = self.get(table, &key).map(|r| r.data.clone()) else {
            return Err(ApiError::new(404, "Object not found"));
        };
        let mut merged = current;
        let mut new_lines = Vec::new();
        for (k, v) in changes {
            if let Some(l) = catalog::lines_by_collection(&k) {
                new_lines.extend(
                    v.as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|line| (l.table, l.fk, line)),
                );
                continue;
            }
            // The key names the record; a body sent back whole repeats it, it never moves it.
            if k == key_of(table) {
                continue;
            }
            merged.insert(k, v);
        }
        if table == "Accounts" {
            if let Some(c) = merged.get("Code").and_then(Value::as_str) {
                let padded = pad_code(c);
                if self
                    .find("Accounts", "Code", &padded)
                    .is_some_and(|r| s(r.data.get("ID")) != key)
                {
                    return Err(bad(format!("Code {} already exists", padded.trim())));
                }
                merged.insert("Code".into(), json!(padded));
            }
        }
        if table == "SalesOrders" {
            describe_status(&mut merged);
        }
        if table == "Contacts" {
            let full = [
                s(merged.get("FirstName")),
                s(merged.get("MiddleName")),
                s(merged.get("LastName")),
            ]
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
        if catalog::lines_by_table(table).is_some() {
            self.recompute(table, &key, now);
        }
        self.events.push((table, "Update", key));
        Ok(())
    }

    /// Deletes a record (and the lines of a header), leaving `sync/Deleted` tombstones.
    pub fn delete(&mut self, table: &'static str, key: &str, now: i64) -> Result<(), ApiError> {
        let key = key.to_lowercase();
        // Exact refuses to delete master data that transactions still point at.
        let used_by: &[(&str, &str)] = match table {
            "Accounts" => &[
                ("SalesOrders", "OrderedBy"),
                ("SalesInvoices", "OrderedBy"),
                ("SalesEntries", "Customer"),
            ],
            "Items" => &[("SalesOrderLines", "Item"), ("SalesInvoiceLines", "Item")],
            _ => &[],
        };
        for (t, field) in used_by {
            if self
                .rows(t)
                .iter()
                .any(|r| r.data.get(*field).and_then(Value::as_str) == Some(key.as_str()))
            {
                return Err(bad("This record is in use and can not be deleted."));
            }
        }
        let Some(row) = self.remove_row(table, &key) else {
            return Err(ApiError::new(404, "Object not found"));
        };
        self.tombstone(table, &key, now);
        self.events.push((table, "Delete", key.clone()));
        for l in LINES.iter().filter(|l| l.header == table) {
            let ids: Vec<String> = self
                .children(l.table, &key)
                .iter()
                .map(|r| s(r.data.get("ID")))
                .collect();
            for id in ids {
                self.remove_row(l.table, &id);
                self.tombstone(l.table, &id, now);
            }
        }
        if let Some(l) = catalog::lines_by_table(table) {
            let header = s(row.data.get(l.fk));
            self.recompute(l.header, &header, now);
        }
        Ok(())
    }

    fn tombstone(&mut self, table: &str, key: &str, now: i64) {
        let Some(code) = catalog::deleted_entity_type(table) else {
            return;
        };
        let id = self.guid();
        let user = self.user_id.clone();
        let row = json!({"ID": id, "EntityKey": key, "EntityType": code, "DeletedBy": user,
                         "DeletedDate": date(now), "Division": self.division});
        if let Value::Object(m) = row {
            self.put_row("Deleted", m);
        }
    }

    /// Sets one field of a row as a side effect of another change (bumps its rowversion).
    fn set_field(&mut self, table: &str, key: &str, field: &str, value: Value, now: i64) {
        let ts = self.bump();
        if let Some(row) = self
            .tables
            .get_mut(table)
            .and_then(|t| t.get_mut(&key.to_lowercase()))
        {
            row.data.insert(field.into(), value);
            row.data.insert("Modified".into(), json!(date(now)));
            row.ts = ts;
        }
    }

    /// Sets fields of a row as a side effect of another change, with one rowversion bump.
    fn patch(&mut self, table: &'static str, key: &str, fields: &[(&str, Value)], now: i64) {
        let ts = self.bump();
        let user = self.user_id.clone();
        if let Some(row) = self
            .tables
            .get_mut(table)
            .and_then(|t| t.get_mut(&key.to_lowercase()))
        {
            for (f, v) in fields {
                row.data.insert((*f).into(), v.clone());
            }
            row.data.insert("Modified".into(), json!(date(now)));
            row.data.insert("Modifier".into(), json!(user));
            row.ts = ts;
            self.events.push((table, "Update", key.to_lowercase()));
        }
    }

    /// The GUID of the division's one warehouse (`1`, Hoofdmagazijn): derived from the
    /// division, so it costs the seeded generator nothing and every other key stays put.
    pub fn warehouse_id(&self) -> String {
        format!(
            "00000000-0000-4000-8000-{:012}",
            self.division.unsigned_abs()
        )
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

/// A random, lower-case, hyphenated GUID.
pub fn new_guid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.gen();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}
