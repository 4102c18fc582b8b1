//! Seed data: fixed reference data (VAT codes, payment conditions, shipping methods, GL
//! accounts, cost centers and units, item groups, classifications), then either fixtures
//! (`<Table>.json` arrays) or generated Dutch and Belgian customers, items, orders, invoices
//! and sales entries, all drawn from the store's seeded generator.

use super::catalog::TABLES;
use super::store::Store;
use super::wire::date;
use super::writes::{check_body, Write};
use super::OnlineSimConfig;
use rand::Rng;
use serde_json::{json, Map, Value};

const DAY_MS: i64 = 86_400_000;

const NL_CITIES: &[(&str, &str)] = &[
    ("Amsterdam", "10"), ("Rotterdam", "30"), ("Utrecht", "35"), ("Den Haag", "25"), ("Eindhoven", "56"),
    ("Groningen", "97"), ("Zwolle", "80"), ("Haarlem", "20"), ("Nijmegen", "65"), ("Leeuwarden", "89"),
    ("Amersfoort", "38"), ("Breda", "48"), ("Tilburg", "50"), ("Arnhem", "68"), ("Maastricht", "62"),
];
const BE_CITIES: &[(&str, &str)] = &[
    ("Antwerpen", "2000"), ("Gent", "9000"), ("Brugge", "8000"), ("Leuven", "3000"), ("Brussel", "1000"),
    ("Hasselt", "3500"), ("Mechelen", "2800"), ("Kortrijk", "8500"), ("Namur", "5000"), ("Liège", "4000"),
];
const NL_STREETS: &[&str] = &[
    "Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg", "Schoolstraat", "Julianastraat",
    "Wilhelminastraat", "Beatrixlaan", "Hoofdstraat", "Eikenlaan", "Parallelweg", "Nieuwstraat",
    "Marktplein", "Havenkade", "Industrieweg",
];
const BE_STREETS: &[&str] = &[
    "Kerkstraat", "Stationsstraat", "Molenstraat", "Nieuwstraat", "Kapelstraat", "Grote Markt",
    "Dorpsstraat", "Schoolstraat", "Veldstraat", "Rue de la Station",
];
const FIRST: &[&str] = &[
    "Jan", "Pieter", "Sanne", "Emma", "Lotte", "Daan", "Sem", "Lucas", "Julia", "Eva", "Thomas",
    "Anouk", "Bram", "Fleur", "Koen", "Marieke", "Wout", "Lieselot", "Jens", "Elke", "Joris", "Annelies",
];
const LAST: &[(&str, &str)] = &[
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("", "Bakker"), ("", "Visser"), ("", "Smit"),
    ("", "Mulder"), ("de", "Boer"), ("", "Peeters"), ("", "Janssens"), ("", "Maes"), ("", "Claes"),
    ("", "Willems"), ("van", "Dijk"), ("", "Hendriks"), ("van", "Damme"), ("de", "Smet"), ("", "Wouters"),
    ("van", "Leeuwen"), ("", "Dekker"),
];
const BUSINESS: &[&str] = &[
    "Bakkerij", "Koffiebar", "Restaurant", "Hotel", "Lunchroom", "Brasserie", "Café", "Espressobar",
    "Catering", "Kantoorservice",
];
const NAMES: &[&str] = &["De Molen", "Het Anker", "De Gouden Leeuw", "Den Hoek", "De Zwaan", "Het Wapen", "De Kroon", "Zonneveld"];
const MAIL_NL: &[&str] = &["gmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "hotmail.com"];
const MAIL_BE: &[&str] = &["gmail.com", "telenet.be", "skynet.be", "outlook.com"];

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
        let items = items(store, config.products, now)?;
        let accounts = customers(store, config.customers, now)?;
        orders(store, config.orders, &accounts, &items, now)?;
    }
    Ok(())
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn add(store: &mut Store, table: &'static str, v: Value, now: i64) -> Result<String, String> {
    store.create(table, obj(v), now).map_err(|e| format!("seeding {table}: {}", e.message))
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

fn load_fixtures(store: &mut Store, dir: &std::path::Path, now: i64) -> Result<Vec<String>, String> {
    let mut loaded = Vec::new();
    // Reference tables first, then the ones that point at them, as TABLES lists them.
    let order = [
        "VATCodes", "PaymentConditions", "ShippingMethods", "GLAccounts", "Costcenters", "Costunits",
        "ItemGroups", "AccountClassificationNames", "AccountClassifications", "Items", "StockPositions",
        "SalesItemPrices", "Accounts", "Contacts", "Addresses", "SalesOrders", "SalesOrderLines",
        "SalesInvoices", "SalesInvoiceLines", "SalesEntries", "SalesEntryLines", "WebhookSubscriptions",
    ];
    for table in order {
        let Some(table) = TABLES.iter().copied().find(|t| *t == table) else { continue };
        let path = dir.join(format!("{table}.json"));
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let rows: Vec<Value> = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let ep = super::catalog::crud_endpoint_of(table);
        for row in rows {
            // Fixtures are written like API bodies (ISO dates), but may set any known field.
            let body = match ep {
                Some(ep) => check_body(ep, &row, Write::Trusted).map_err(|e| format!("{}: {}", path.display(), e.message))?,
                None => obj(row),
            };
            store.create(table, body, now).map_err(|e| format!("{}: {}", path.display(), e.message))?;
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
        add(store, "VATCodes", json!({"Code": code, "Description": desc, "Percentage": pct, "Type": ty, "VATTransactionType": "S", "IsBlocked": false, "Country": country}), now)?;
    }
    for (code, desc, days, method) in [
        ("00", "Direct", 0, "K"), ("14", "14 dagen", 14, "B"), ("30", "30 dagen", 30, "B"),
        ("IN", "Automatische incasso", 14, "I"), ("PS", "Betaald via webshop (PSP)", 0, "Q"),
    ] {
        add(store, "PaymentConditions", json!({"Code": code, "Description": desc, "PaymentDays": days, "PaymentMethod": method, "DiscountPercentage": 0.0, "DiscountPaymentDays": 0, "PaymentEndOfMonths": 0}), now)?;
    }
    for (code, desc, amount, url) in [
        ("PNL", "PostNL pakket", 6.95, "https://jouw.postnl.nl/track-and-trace/"),
        ("DHL", "DHL Parcel", 5.95, "https://www.dhlparcel.nl/nl/volg-uw-zending"),
        ("BPO", "bpost", 8.50, "https://track.bpost.cloud/"),
        ("AFH", "Afhalen", 0.0, ""),
    ] {
        add(store, "ShippingMethods", json!({"Code": code, "Description": desc, "Active": true, "Amount": amount, "VATCode": "1", "TrackingURL": url}), now)?;
    }
    for (code, desc, ty, side, vat) in [
        ("1300", "Debiteuren", 20, "D", ""), ("1500", "Af te dragen BTW", 24, "C", ""),
        ("3000", "Voorraad", 32, "D", ""), ("7000", "Inkoopwaarde omzet", 110, "D", ""),
        ("8000", "Omzet hoog NL", 111, "C", "1"), ("8010", "Omzet laag NL", 111, "C", "2"),
        ("8100", "Omzet België", 111, "C", "3"), ("8200", "Omzet export", 111, "C", "4"),
        ("8300", "Omzet diensten", 111, "C", "1"),
    ] {
        add(store, "GLAccounts", json!({"Code": code, "Description": desc, "Type": ty, "BalanceSide": side, "BalanceType": if code < "4000" { "B" } else { "W" }, "VATCode": if vat.is_empty() { Value::Null } else { json!(vat) }, "UseCostcenter": 0, "UseCostunit": 0, "IsBlocked": false}), now)?;
    }
    for (code, desc) in [("100", "Verkoop binnendienst"), ("200", "Webshop"), ("300", "Groothandel")] {
        add(store, "Costcenters", json!({"Code": code, "Description": desc, "Active": true}), now)?;
    }
    for (code, desc) in [("NOORD", "Regio Noord"), ("ZUID", "Regio Zuid"), ("BE", "België")] {
        add(store, "Costunits", json!({"Code": code, "Description": desc}), now)?;
    }
    let revenue = |store: &Store, code: &str| {
        store.rows("GLAccounts").into_iter().find(|r| r.data.get("Code") == Some(&json!(code))).and_then(|r| r.data.get("ID").cloned()).unwrap_or(Value::Null)
    };
    for (code, desc, default, gl) in [
        ("000", "Standaard", true, "8000"), ("KOF", "Koffie", false, "8010"), ("THE", "Thee", false, "8010"),
        ("SER", "Servies", false, "8000"), ("APP", "Apparatuur", false, "8000"), ("DIE", "Diensten", false, "8300"),
    ] {
        let gl = revenue(store, gl);
        add(store, "ItemGroups", json!({"Code": code, "Description": desc, "IsDefault": if default { 1 } else { 0 }, "GLRevenue": gl}), now)?;
    }
    let branche = add(store, "AccountClassificationNames", json!({"Description": "Branche", "SequenceNumber": 1}), now)?;
    let regio = add(store, "AccountClassificationNames", json!({"Description": "Regio", "SequenceNumber": 2}), now)?;
    for (name, nd, code, desc) in [
        (&branche, "Branche", "HOR", "Horeca"), (&branche, "Branche", "KAN", "Kantoren"), (&branche, "Branche", "PAR", "Particulier"),
        (&regio, "Regio", "NL", "Nederland"), (&regio, "Regio", "BE", "België"),
    ] {
        add(store, "AccountClassifications", json!({"AccountClassificationName": name, "AccountClassificationNameDescription": nd, "Code": code, "Description": desc}), now)?;
    }
    Ok(())
}

fn id_by_code(store: &Store, table: &str, code: &str) -> Value {
    store.rows(table).into_iter().find(|r| r.data.get("Code").and_then(Value::as_str) == Some(code)).and_then(|r| r.data.get("ID").cloned()).unwrap_or(Value::Null)
}

fn gtin(store: &mut Store) -> String {
    let mut digits: Vec<u32> = vec![8, 7];
    for _ in 0..10 {
        digits.push(store.rng.gen_range(0..10));
    }
    let sum: u32 = digits.iter().enumerate().map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 }).sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect()
}

/// Item kinds: (group, code, description, extra, VAT code, price, stock item).
fn catalogue() -> Vec<(&'static str, String, String, String, &'static str, f64, bool)> {
    let mut out = vec![("DIE", "VERZEND".to_string(), "Verzendkosten".to_string(), String::new(), "1", 6.95, false)];
    for (origin, tag) in [("Brazilië", "BRA"), ("Colombia", "COL"), ("Ethiopië", "ETH"), ("Guatemala", "GUA"), ("Kenia", "KEN"), ("Peru", "PER"), ("Huisblend", "HUI"), ("Espresso Blend", "ESP")] {
        for (grams, price) in [(250, 6.95), (500, 12.95), (1000, 23.95)] {
            out.push(("KOF", format!("KOF-{tag}-{grams}"), format!("Koffiebonen {origin} {grams}g"), format!("Herkomst: {origin}; Gewicht: {grams} gram"), "2", price, true));
        }
    }
    for (colour, ctag) in [("Rood", "ROOD"), ("Blauw", "BLAUW"), ("Zwart", "ZWART"), ("Wit", "WIT")] {
        for (size, price) in [("S", 7.50), ("M", 8.95), ("L", 9.95)] {
            out.push(("SER", format!("MOK-{ctag}-{size}"), format!("Mok {colour} maat {size}"), format!("Kleur: {colour}; Maat: {size}"), "1", price, true));
        }
    }
    for (tea, ttag) in [("Earl Grey", "EARL"), ("Groene thee", "GROEN"), ("Rooibos", "ROOI"), ("Verse munt", "MUNT"), ("English Breakfast", "ENGB"), ("Chai", "CHAI")] {
        out.push(("THE", format!("THE-{ttag}-20"), format!("Thee {tea} 20 zakjes"), format!("Soort: {tea}"), "2", 3.95, true));
    }
    for (name, tag, price) in [("Espressomachine Barista Pro", "ESP-PRO", 1299.0), ("Espressomachine Compact", "ESP-CMP", 449.0), ("Koffiemolen Conisch", "MOL-CON", 189.0), ("Melkopschuimer", "MLK-OPS", 89.0), ("Waterkoker Temperatuur", "WAT-TMP", 69.0)] {
        out.push(("APP", format!("APP-{tag}"), name.to_string(), "Garantie: 2 jaar".to_string(), "1", price, true));
    }
    for (name, tag, price, vat) in [("Installatie espressomachine", "INSTALL", 95.0, "1"), ("Onderhoudscontract 1 jaar", "ONDERH-1J", 249.0, "1"), ("Barista workshop", "WORKSHOP", 59.0, "1"), ("Cadeaubon 25 euro", "CADEAU-25", 25.0, "0")] {
        out.push(("DIE", format!("DIE-{tag}"), name.to_string(), String::new(), vat, price, false));
    }
    out
}

fn items(store: &mut Store, n: usize, now: i64) -> Result<Vec<(String, f64, bool)>, String> {
    let mut all = catalogue();
    // Keep VERZEND first, shuffle the rest deterministically, then cut to n.
    for i in (2..all.len()).rev() {
        let j = 1 + store.pick(i);
        all.swap(i, j);
    }
    all.truncate(n.max(1));
    let mut out = Vec::new();
    for (group, code, desc, extra, vat, price, stock) in all {
        let group_id = id_by_code(store, "ItemGroups", group);
        let barcode = if stock { json!(gtin(store)) } else { Value::Null };
        let age = store.pick(365) as i64 + 90;
        let on_hand = if stock { store.pick(250) as f64 } else { 0.0 };
        let id = add(store, "Items", json!({
            "Code": code, "Description": desc, "ExtraDescription": if extra.is_empty() { Value::Null } else { json!(extra) },
            "Barcode": barcode, "IsSalesItem": true, "IsPurchaseItem": stock, "IsStockItem": stock, "IsWebshopItem": 1,
            "SalesVatCode": vat, "Unit": "stuk", "ItemGroup": group_id, "CostPriceStandard": (price * 0.55 * 100.0_f64).round() / 100.0,
            "StandardSalesPrice": price, "Stock": on_hand, "NetWeight": if group == "APP" { json!(6.5) } else { Value::Null },
            "Created": date(now - age * DAY_MS), "Modified": date(now - age * DAY_MS / 2),
        }), now)?;
        add(store, "SalesItemPrices", json!({"Item": id, "ItemCode": code, "Currency": "EUR", "Price": price, "Quantity": 1.0, "Unit": "stuk", "NumberOfItemsPerUnit": 1.0, "StartDate": date(now - age * DAY_MS)}), now)?;
        if stock {
            let sp_id = store.guid();
            add(store, "StockPositions", json!({"ItemId": id, "ID": sp_id, "ItemCode": code, "ItemDescription": desc, "InStock": on_hand, "CurrentStock": on_hand, "FreeStock": on_hand, "PlanningIn": 0.0, "PlanningOut": 0.0, "ProjectedStock": on_hand, "ReservedStock": 0.0, "ReorderPoint": 10.0, "UnitCode": "stuk", "WarehouseCode": "1", "WarehouseDescription": "Hoofdmagazijn"}), now)?;
        }
        out.push((id, price, stock));
    }
    Ok(out)
}

fn slug(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'ë' | 'é' | 'è' => 'e',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// One customer: (account ID, country, delivery address ID if any).
type Customer = (String, String, Option<String>);

fn customers(store: &mut Store, n: usize, now: i64) -> Result<Vec<Customer>, String> {
    let class = |store: &Store, code: &str| id_by_code(store, "AccountClassifications", code);
    let ship = ["PNL", "DHL", "BPO", "AFH"].map(|c| id_by_code(store, "ShippingMethods", c));
    let mut out = Vec::new();
    for i in 0..n {
        let be = store.pick(4) == 0;
        let country = if be { "BE" } else { "NL" };
        let (city, prefix) = *pick(store, if be { BE_CITIES } else { NL_CITIES });
        let street = *pick(store, if be { BE_STREETS } else { NL_STREETS });
        let number = store.pick(240) + 1;
        let suffix = *pick(store, &["", "", "", "A", "B", "-2"]);
        let line1 = format!("{street} {number}{suffix}");
        let postcode = if be {
            prefix.to_string()
        } else {
            let letters = b"ABCEGHJKLMNPRTVWXZ";
            let a = letters[store.pick(letters.len())] as char;
            let b = letters[store.pick(letters.len())] as char;
            format!("{prefix}{:02} {a}{b}", store.pick(100))
        };
        let first = *pick(store, FIRST);
        let (mid, last) = *pick(store, LAST);
        let person_name = [first, mid, last].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ");
        let company = store.pick(10) < 6;
        let tld = if be { "be" } else { "nl" };
        let phone = if be { format!("+32 4{:02} {:02} {:02} {:02}", store.pick(100), store.pick(100), store.pick(100), store.pick(100)) } else { format!("+31 6 {:04} {:04}", store.pick(10_000), store.pick(10_000)) };
        let age = store.pick(700) as i64 + 100;
        let mut acc = json!({
            "AddressLine1": line1, "Postcode": postcode, "City": city, "Country": country, "Phone": phone,
            "Status": "C", "IsSales": true, "Blocked": false, "Language": if be && matches!(city, "Namur" | "Liège" | "Brussel") { "FR" } else { "NL" },
            "SalesVATCode": if be { "5" } else { "1" }, "PaymentConditionSales": *pick(store, &["00", "14", "30", "IN", "PS"]),
            "ShippingMethod": ship[if be { 2 } else { store.pick(2) }].clone(), "Classification2": class(store, country),
            "Created": date(now - age * DAY_MS), "Modified": date(now - age * DAY_MS / 3),
        });
        let domain;
        if company {
            let kind = *pick(store, BUSINESS);
            let base = if store.pick(2) == 0 { (*pick(store, NAMES)).to_string() } else { last.to_string() };
            let legal = if be { *pick(store, &[" BV", " NV", " CommV", ""]) } else { *pick(store, &[" B.V.", "", " V.O.F."]) };
            let name = format!("{kind} {base}{legal}");
            domain = format!("{}.{tld}", slug(&format!("{kind}{base}")));
            acc["Name"] = json!(name);
            acc["Email"] = json!(format!("info@{domain}"));
            acc["Website"] = json!(format!("www.{domain}"));
            acc["VATNumber"] = json!(if be { format!("BE0{:09}", store.rng.gen_range(100_000_000u64..999_999_999)) } else { format!("NL{:09}B01", store.rng.gen_range(100_000_000u64..999_999_999)) });
            if !be {
                acc["ChamberOfCommerce"] = json!(format!("{:08}", store.rng.gen_range(10_000_000u64..99_999_999)));
            }
            acc["Classification1"] = class(store, if matches!(kind, "Kantoorservice") { "KAN" } else { "HOR" });
        } else {
            domain = (*pick(store, if be { MAIL_BE } else { MAIL_NL })).to_string();
            acc["Name"] = json!(person_name);
            acc["Email"] = json!(format!("{}.{}{}@{domain}", slug(first), slug(mid), slug(last)));
            acc["Classification1"] = class(store, "PAR");
        }
        let account = add(store, "Accounts", acc.clone(), now)?;
        let contact_mail = if company { format!("{}@{domain}", slug(first)) } else { acc["Email"].as_str().unwrap_or_default().to_string() };
        let contact = add(store, "Contacts", json!({"Account": account, "FirstName": first, "MiddleName": if mid.is_empty() { Value::Null } else { json!(mid) }, "LastName": last, "Email": contact_mail, "Phone": phone, "JobTitleDescription": if company { json!("Eigenaar") } else { Value::Null }}), now)?;
        store.update("Accounts", &account, obj(json!({"MainContact": contact})), now).map_err(|e| e.message)?;
        for ty in [1, 3] {
            add(store, "Addresses", json!({"Account": account, "Type": ty, "Main": true, "AddressLine1": line1, "Postcode": postcode, "City": city, "Country": country}), now)?;
        }
        let delivery = if store.pick(10) < 3 {
            let street2 = *pick(store, if be { BE_STREETS } else { NL_STREETS });
            let line = format!("{street2} {}", store.pick(120) + 1);
            Some(add(store, "Addresses", json!({"Account": account, "Type": 4, "Main": true, "AddressLine1": line, "Postcode": postcode, "City": city, "Country": country}), now)?)
        } else {
            None
        };
        let _ = i;
        out.push((account, country.to_string(), delivery));
    }
    Ok(out)
}

fn orders(store: &mut Store, n: usize, customers: &[Customer], items: &[(String, f64, bool)], now: i64) -> Result<(), String> {
    if customers.is_empty() || items.len() < 2 {
        return Ok(());
    }
    let journal = "70";
    let mut ages: Vec<i64> = (0..n).map(|_| store.pick(120 * 24) as i64).collect();
    ages.sort_unstable_by(|a, b| b.cmp(a));
    let ship = ["PNL", "DHL", "BPO"].map(|c| id_by_code(store, "ShippingMethods", c));
    for (i, age_h) in ages.into_iter().enumerate() {
        let (account, country, delivery) = customers[store.pick(customers.len())].clone();
        let at = now - age_h * 3_600_000;
        let line_count = 1 + store.pick(10).min(store.pick(10));
        let mut lines = Vec::new();
        let mut used = Vec::new();
        for _ in 0..line_count {
            let idx = 1 + store.pick(items.len() - 1);
            if used.contains(&idx) {
                continue;
            }
            used.push(idx);
            let (item, _, stock) = &items[idx];
            let qty = if *stock { (1 + store.pick(5)) as f64 } else { 1.0 };
            let mut l = json!({"Item": item, "Quantity": qty});
            if store.pick(8) == 0 {
                l["Discount"] = json!(0.1);
            }
            if country == "BE" {
                l["VATCode"] = json!("5");
            }
            lines.push(l);
        }
        if store.pick(3) > 0 {
            lines.push(json!({"Item": items[0].0, "Quantity": 1.0, "VATCode": if country == "BE" { "5" } else { "1" }}));
        }
        let days = age_h / 24;
        let roll = store.pick(100);
        let status = if days > 30 {
            if roll < 75 { 21 } else if roll < 85 { 45 } else { 12 }
        } else if days > 7 {
            if roll < 30 { 20 } else if roll < 50 { 21 } else { 12 }
        } else {
            12
        };
        let web = 10_000 + i;
        let mut order = json!({
            "OrderedBy": account, "OrderDate": date(at), "DeliveryDate": date(at + 3 * DAY_MS),
            "Description": format!("Webshop bestelling {web}"), "YourRef": format!("WEB-{web}"),
            "PaymentCondition": *pick(store, &["PS", "PS", "14", "30"]), "ShippingMethod": ship[if country == "BE" { 2 } else { store.pick(2) }].clone(),
            "Status": status, "DeliveryStatus": if status == 21 { 21 } else if status == 20 { 20 } else { 12 },
            "InvoiceStatus": if status == 21 { 21 } else { 12 }, "SalesOrderLines": lines,
            "Created": date(at), "Modified": date(at + if status == 12 { 0 } else { 2 * DAY_MS }),
        });
        if let Some(d) = &delivery {
            order["DeliveryAddress"] = json!(d);
        }
        let order_id = add(store, "SalesOrders", order, now)?;
        if status == 21 {
            invoice(store, &order_id, &account, journal, at + 2 * DAY_MS, days > 45, now)?;
        }
    }
    // Direct invoices (no order): about one per ten orders, plus a credit of each kind.
    for k in 0..(n / 10).max(1) {
        let (account, _, _) = customers[store.pick(customers.len())].clone();
        let (item, _, _) = items[1 + store.pick(items.len() - 1)].clone();
        let ty = match k { 0 => 8024, 1 => 8021, _ => 8023 };
        let qty = if ty == 8023 { 1.0 + store.pick(3) as f64 } else { -1.0 };
        let at = now - store.pick(60) as i64 * DAY_MS;
        add(store, "SalesInvoices", json!({"OrderedBy": account, "Journal": journal, "Type": ty, "InvoiceDate": date(at), "Description": if ty == 8023 { "Balieverkoop" } else { "Creditering" }, "SalesInvoiceLines": [{"Item": item, "Quantity": qty}], "Created": date(at)}), now)?;
    }
    Ok(())
}

fn invoice(store: &mut Store, order_id: &str, account: &str, journal: &str, at: i64, processed: bool, now: i64) -> Result<(), String> {
    let order = store.get("SalesOrders", order_id).map(|r| r.data.clone()).unwrap_or_default();
    let lines: Vec<Value> = store
        .rows("SalesOrderLines")
        .into_iter()
        .filter(|l| l.data.get("OrderID").and_then(Value::as_str) == Some(order_id))
        .map(|l| json!({"Item": l.data.get("Item"), "Quantity": l.data.get("Quantity"), "UnitPrice": l.data.get("UnitPrice"), "Discount": l.data.get("Discount"), "VATCode": l.data.get("VATCode"), "SalesOrder": order_id, "SalesOrderLine": l.data.get("ID")}))
        .collect();
    let inv = add(store, "SalesInvoices", json!({
        "OrderedBy": account, "Journal": journal, "Type": 8020, "Status": if processed { 50 } else { 20 },
        "InvoiceDate": date(at), "YourRef": order.get("YourRef"), "OrderNumber": order.get("OrderNumber"),
        "PaymentCondition": order.get("PaymentCondition"), "Description": order.get("Description"),
        "SalesInvoiceLines": lines, "Created": date(at),
    }), now)?;
    if processed {
        let data = store.get("SalesInvoices", &inv).map(|r| r.data.clone()).unwrap_or_default();
        let gl = id_by_code(store, "GLAccounts", "8000");
        add(store, "SalesEntries", json!({
            "Customer": account, "Journal": journal, "EntryDate": date(at), "InvoiceNumber": data.get("InvoiceNumber"),
            "YourRef": data.get("YourRef"), "Description": data.get("Description"),
            "SalesEntryLines": [{"AmountFC": data.get("AmountFCExclVat"), "GLAccount": gl, "VATCode": "1", "Description": "Omzet"}],
            "Created": date(at),
        }), now)?;
    }
    Ok(())
}
