//! The division's data: one table per entity, a database-wide rowversion, number sequences,
//! tombstones, and the business rules a user in Exact Online would see (defaults, sequences,
//! order and invoice totals, padded account codes, address dedupe).

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
    /// Changes not yet turned into webhook deliveries: (table, action, key).
    pub events: Vec<(&'static str, &'static str, String)>,
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
            events: Vec::new(),
        }
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
        self.tables
            .get(table)?
            .values()
            .find(|r| s(r.data.get(field)).eq_ignore_ascii_case(value))
    }

    fn put_row(&mut self, table: &'static str, data: Map<String, Value>) -> String {
        let key = s(data.get(key_of(table))).to_lowercase();
        let ts = self.bump();
        self.tables
            .entry(table)
            .or_default()
            .insert(key.clone(), Row { data, ts });
        key
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
                body.remove(*coll)
                    .map(|v| (*coll, *lt, *fk, v.as_array().cloned().unwrap_or_default()))
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
        self.rows("Addresses")
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
            if let Some((_, lt, fk)) = LINES.iter().find(|(c, _, _)| *c == k) {
                new_lines.extend(
                    v.as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|l| (*lt, *fk, l)),
                );
                continue;
            }
            merged.insert(k, v);
        }
        if table == "Accounts" {
            if let Some(c) = merged.get("Code").and_then(Value::as_str) {
                let padded = pad_code(c);
                if self
                    .rows("Accounts")
                    .iter()
                    .any(|r| s(r.data.get("Code")) == padded && s(r.data.get("ID")) != key)
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
        if matches!(
            table,
            "SalesOrderLines" | "SalesInvoiceLines" | "SalesEntryLines"
        ) {
            self.recompute(table, &key, now);
        }
        self.events.push((table, "Update", key));
        Ok(())
    }

    /// Deletes a record (and the lines of a header), leaving `sync/Deleted` tombstones.
    pub fn delete(&mut self, table: &'static str, key: &str, now: i64) -> Result<(), ApiError> {
        let key = key.to_lowercase();
        let Some(row) = self
            .tables
            .get_mut(table)
            .and_then(|t| t.shift_remove(&key))
        else {
            return Err(ApiError::new(404, "Object not found"));
        };
        self.tombstone(table, &key, now);
        self.events.push((table, "Delete", key.clone()));
        let fk_of_line = LINES
            .iter()
            .find(|(_, lt, _)| *lt == table)
            .map(|(_, _, fk)| *fk);
        for (_, lt, fk) in LINES {
            let header_of = matches!(
                (table, *lt),
                ("SalesOrders", "SalesOrderLines")
                    | ("SalesInvoices", "SalesInvoiceLines")
                    | ("SalesEntries", "SalesEntryLines")
            );
            if !header_of {
                continue;
            }
            let ids: Vec<String> = self
                .rows(lt)
                .iter()
                .filter(|r| s(r.data.get(*fk)) == key)
                .map(|r| s(r.data.get("ID")))
                .collect();
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
