//! Seed data: fixed reference data (VAT codes, payment conditions, shipping methods, GL
//! accounts, cost centers and units, item groups, classifications), then either fixtures
//! (`<Table>.json` arrays) or generated Dutch and Belgian customers, items, orders, invoices
//! and sales entries, all drawn from the store's seeded generator.

mod customers;
mod documents;
mod items;
mod orders;

use super::catalog::TABLES;
use super::store::Store;
use super::writes::{check_body, Write};
use super::OnlineSimConfig;
use serde_json::{json, Map, Value};

const DAY_MS: i64 = 86_400_000;

/// Fills the store.
pub fn seed(store: &mut Store, config: &OnlineSimConfig, now: i64) -> Result<(), String> {
    me(store, config, now);
    let fixture_tables = match &config.fixtures {
        Some(dir) => load_fixtures(store, dir, now)?,
        None => Vec::new(),
    };
    if !fixture_tables.iter().any(|t| t == "VATCodes") {
        reference(store, now)?;
    }
    if config.fixtures.is_none() {
        let items = items::items(store, config.products, now)?;
        let accounts = customers::customers(store, config.customers, now)?;
        orders::orders(store, config.orders, &accounts, &items, now)?;
        documents::deliveries(store)?;
        let ids: Vec<String> = accounts.iter().map(|(id, _, _)| id.clone()).collect();
        documents::crm_and_stock(store, &ids, &items, now)?;
    }
    documents::division(store, now)?;
    Ok(())
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn add(store: &mut Store, table: &'static str, v: Value, now: i64) -> Result<String, String> {
    store
        .create(table, obj(v), now)
        .map_err(|e| format!("seeding {table}: {}", e.message))
}

fn pick<'a, T>(store: &mut Store, list: &'a [T]) -> &'a T {
    &list[store.pick(list.len())]
}

fn me(store: &mut Store, config: &OnlineSimConfig, now: i64) {
    let me = json!({
        "UserID": store.user_id, "CurrentDivision": config.division, "AccountingDivision": config.division,
        "FullName": "Sim Gebruiker", "FirstName": "Sim", "LastName": "Gebruiker", "Email": "sim@example.nl",
        "UserName": "sim@example.nl", "LanguageCode": "nl-NL", "Language": "NL", "Legislation": 1,
        "PackageCode": "ZZP", "ServerTime": chrono::DateTime::from_timestamp_millis(now).map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()),
        "ServerUtcOffset": 1.0, "IsClientUser": false, "IsStarterUser": false
    });
    store.raw_insert("Me", obj(me));
}

fn load_fixtures(
    store: &mut Store,
    dir: &std::path::Path,
    now: i64,
) -> Result<Vec<String>, String> {
    let mut loaded = Vec::new();
    // Reference tables first, then the ones that point at them, as TABLES lists them.
    let order = [
        "VATCodes",
        "PaymentConditions",
        "ShippingMethods",
        "GLAccounts",
        "Costcenters",
        "Costunits",
        "ItemGroups",
        "AccountClassificationNames",
        "AccountClassifications",
        "Items",
        "StockPositions",
        "SalesItemPrices",
        "Accounts",
        "Contacts",
        "Addresses",
        "SalesOrders",
        "SalesOrderLines",
        "SalesInvoices",
        "SalesInvoiceLines",
        "SalesEntries",
        "SalesEntryLines",
        "GoodsDeliveries",
        "ItemWarehouses",
        "BankAccounts",
        "Quotations",
        "WebhookSubscriptions",
    ];
    for table in order {
        let Some(table) = TABLES.iter().copied().find(|t| *t == table) else {
            continue;
        };
        let path = dir.join(format!("{table}.json"));
        if !path.exists() {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let rows: Vec<Value> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let ep = super::catalog::crud_endpoint_of(table);
        for row in rows {
            // Fixtures are written like API bodies (ISO dates), but may set any known field.
            let body = match ep {
                Some(ep) => check_body(ep, &row, Write::Trusted)
                    .map_err(|e| format!("{}: {}", path.display(), e.message))?,
                None => obj(row),
            };
            store
                .create(table, body, now)
                .map_err(|e| format!("{}: {}", path.display(), e.message))?;
        }
        loaded.push(table.to_string());
    }
    Ok(loaded)
}

fn reference(store: &mut Store, now: i64) -> Result<(), String> {
    for (code, desc, pct, ty, country) in [
        ("0", "Geen BTW", 0.0, "N", "NL"),
        ("1", "BTW hoog 21%", 0.21, "E", "NL"),
        ("2", "BTW laag 9%", 0.09, "E", "NL"),
        ("3", "Intracommunautaire levering 0%", 0.0, "B", "NL"),
        ("4", "Export buiten EU 0%", 0.0, "B", "NL"),
        ("5", "TVA/BTW België 21%", 0.21, "E", "BE"),
        ("6", "TVA/BTW België 6%", 0.06, "E", "BE"),
    ] {
        add(
            store,
            "VATCodes",
            json!({"Code": code, "Description": desc, "Percentage": pct, "Type": ty, "VATTransactionType": "S", "IsBlocked": false, "Country": country}),
            now,
        )?;
    }
    for (code, desc, days, method) in [
        ("00", "Direct", 0, "K"),
        ("14", "14 dagen", 14, "B"),
        ("30", "30 dagen", 30, "B"),
        ("IN", "Automatische incasso", 14, "I"),
        ("PS", "Betaald via webshop (PSP)", 0, "Q"),
    ] {
        add(
            store,
            "PaymentConditions",
            json!({"Code": code, "Description": desc, "PaymentDays": days, "PaymentMethod": method, "DiscountPercentage": 0.0, "DiscountPaymentDays": 0, "PaymentEndOfMonths": 0}),
            now,
        )?;
    }
    for (code, desc, amount, url) in [
        (
            "PNL",
            "PostNL pakket",
            6.95,
            "https://jouw.postnl.nl/track-and-trace/",
        ),
        (
            "DHL",
            "DHL Parcel",
            5.95,
            "https://www.dhlparcel.nl/nl/volg-uw-zending",
        ),
        ("BPO", "bpost", 8.50, "https://track.bpost.cloud/"),
        ("AFH", "Afhalen", 0.0, ""),
    ] {
        add(
            store,
            "ShippingMethods",
            json!({"Code": code, "Description": desc, "Active": true, "Amount": amount, "VATCode": "1", "TrackingURL": url}),
            now,
        )?;
    }
    for (code, desc, ty, side, vat) in [
        ("1300", "Debiteuren", 20, "D", ""),
        ("1500", "Af te dragen BTW", 24, "C", ""),
        ("3000", "Voorraad", 32, "D", ""),
        ("7000", "Inkoopwaarde omzet", 110, "D", ""),
        ("8000", "Omzet hoog NL", 111, "C", "1"),
        ("8010", "Omzet laag NL", 111, "C", "2"),
        ("8100", "Omzet België", 111, "C", "3"),
        ("8200", "Omzet export", 111, "C", "4"),
        ("8300", "Omzet diensten", 111, "C", "1"),
    ] {
        add(
            store,
            "GLAccounts",
            json!({"Code": code, "Description": desc, "Type": ty, "BalanceSide": side, "BalanceType": if code < "4000" { "B" } else { "W" }, "VATCode": if vat.is_empty() { Value::Null } else { json!(vat) }, "UseCostcenter": 0, "UseCostunit": 0, "IsBlocked": false}),
            now,
        )?;
    }
    for (code, desc) in [
        ("100", "Verkoop binnendienst"),
        ("200", "Webshop"),
        ("300", "Groothandel"),
    ] {
        add(
            store,
            "Costcenters",
            json!({"Code": code, "Description": desc, "Active": true}),
            now,
        )?;
    }
    for (code, desc) in [
        ("NOORD", "Regio Noord"),
        ("ZUID", "Regio Zuid"),
        ("BE", "België"),
    ] {
        add(
            store,
            "Costunits",
            json!({"Code": code, "Description": desc}),
            now,
        )?;
    }
    let revenue = |store: &Store, code: &str| {
        store
            .rows("GLAccounts")
            .into_iter()
            .find(|r| r.data.get("Code") == Some(&json!(code)))
            .and_then(|r| r.data.get("ID").cloned())
            .unwrap_or(Value::Null)
    };
    for (code, desc, default, gl) in [
        ("000", "Standaard", true, "8000"),
        ("KOF", "Koffie", false, "8010"),
        ("THE", "Thee", false, "8010"),
        ("SER", "Servies", false, "8000"),
        ("APP", "Apparatuur", false, "8000"),
        ("DIE", "Diensten", false, "8300"),
    ] {
        let gl = revenue(store, gl);
        add(
            store,
            "ItemGroups",
            json!({"Code": code, "Description": desc, "IsDefault": if default { 1 } else { 0 }, "GLRevenue": gl}),
            now,
        )?;
    }
    let branche = add(
        store,
        "AccountClassificationNames",
        json!({"Description": "Branche", "SequenceNumber": 1}),
        now,
    )?;
    let regio = add(
        store,
        "AccountClassificationNames",
        json!({"Description": "Regio", "SequenceNumber": 2}),
        now,
    )?;
    for (name, nd, code, desc) in [
        (&branche, "Branche", "HOR", "Horeca"),
        (&branche, "Branche", "KAN", "Kantoren"),
        (&branche, "Branche", "PAR", "Particulier"),
        (&branche, "Branche", "GRO", "Groothandel"),
        (&branche, "Branche", "RET", "Retail"),
        (&regio, "Regio", "NL", "Nederland"),
        (&regio, "Regio", "BE", "België"),
    ] {
        add(
            store,
            "AccountClassifications",
            json!({"AccountClassificationName": name, "AccountClassificationNameDescription": nd, "Code": code, "Description": desc}),
            now,
        )?;
    }
    Ok(())
}

fn id_by_code(store: &Store, table: &str, code: &str) -> Value {
    store
        .rows(table)
        .into_iter()
        .find(|r| r.data.get("Code").and_then(Value::as_str) == Some(code))
        .and_then(|r| r.data.get("ID").cloned())
        .unwrap_or(Value::Null)
}
