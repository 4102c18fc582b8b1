//! Seeded, realistic Dutch/Belgian data for one administration: VAT codes, payment conditions,
//! shipping methods, warehouses, cost centers and units, classifications, item assortments,
//! debtors (companies with a contact person, and persons) and items with stock. Everything is
//! written through the same create path as a POST, so the seed obeys the catalogue's rules.
//! The first debtors and items are fixed (the same e-mail addresses and item codes the
//! demo data on the Exact Online side uses), so flows find matches; the rest depend on the seed.

use super::catalog::Catalog;
use super::store::Admin;
use super::write;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn put(admin: &mut Admin, entity: &str, body: Value, now: i64) -> Result<(), String> {
    let e = Catalog::get()
        .entity(entity)
        .ok_or_else(|| format!("unknown entity {entity}"))?;
    write::create(admin, e, &body, now)
        .map(|_| ())
        .map_err(|err| format!("seeding {entity}: {}", err.message))
}

/// A debtor the seed always creates.
struct FixedDebtor {
    name: &'static str,
    first: &'static str,
    last: &'static str,
    email: &'static str,
    city: &'static str,
    postcode: &'static str,
    street: &'static str,
    country: &'static str,
    company: bool,
}

/// Fixed debtors: companies with a contact person, and persons. The first two are also in the
/// Exact Online simulator's default data (seed 42), so the order flow finds them by e-mail.
const DEBTORS: &[FixedDebtor] = &[
    FixedDebtor {
        name: "Hotel Smit V.O.F.",
        first: "Marieke",
        last: "Smit",
        email: "info@hotelsmit.nl",
        city: "Amersfoort",
        postcode: "3837 TX",
        street: "Schoolstraat 124",
        country: "NL",
        company: true,
    },
    FixedDebtor {
        name: "Pieter Jansen",
        first: "Pieter",
        last: "Jansen",
        email: "pieter.jansen@kpnmail.nl",
        city: "Maastricht",
        postcode: "6227 RJ",
        street: "Molenweg 179",
        country: "NL",
        company: false,
    },
    FixedDebtor {
        name: "Bakkerij De Korenschoof B.V.",
        first: "Jan",
        last: "de Vries",
        email: "inkoop@korenschoof.nl",
        city: "Utrecht",
        postcode: "3511 AB",
        street: "Oudegracht 12",
        country: "NL",
        company: true,
    },
    FixedDebtor {
        name: "Brouwerij Het Anker NV",
        first: "Koen",
        last: "Peeters",
        email: "orders@hetanker.be",
        city: "Mechelen",
        postcode: "2800",
        street: "Guido Gezellelaan 49",
        country: "BE",
        company: true,
    },
    FixedDebtor {
        name: "Lotte Maes",
        first: "Lotte",
        last: "Maes",
        email: "lotte.maes@example.be",
        city: "Gent",
        postcode: "9000",
        street: "Veldstraat 20",
        country: "BE",
        company: false,
    },
];

/// An item the seed always creates.
struct FixedItem {
    code: &'static str,
    description: &'static str,
    assortment: i64,
    price: f64,
    vat: &'static str,
    gtin: &'static str,
    /// Item attributes Class01/Class02 (colour, size).
    classes: [&'static str; 2],
}

/// Fixed items. These codes (and GTINs) are also in the Exact Online simulator's default
/// catalogue.
const ITEMS: &[FixedItem] = &[
    FixedItem {
        code: "VERZEND",
        description: "Verzendkosten",
        assortment: 8,
        price: 6.95,
        vat: "1",
        gtin: "",
        classes: ["", ""],
    },
    FixedItem {
        code: "KOF-BRA-250",
        description: "Koffiebonen Brazilië 250g",
        assortment: 1,
        price: 6.95,
        vat: "2",
        gtin: "8774783973340",
        classes: ["", ""],
    },
    FixedItem {
        code: "KOF-ESP-1000",
        description: "Koffiebonen Espresso Blend 1000g",
        assortment: 1,
        price: 23.95,
        vat: "2",
        gtin: "8720678954871",
        classes: ["", ""],
    },
    FixedItem {
        code: "MOK-ROOD-M",
        description: "Mok Rood maat M",
        assortment: 3,
        price: 8.95,
        vat: "1",
        gtin: "8741267846742",
        classes: ["ROOD", "M"],
    },
    FixedItem {
        code: "THE-EARL-20",
        description: "Thee Earl Grey 20 zakjes",
        assortment: 1,
        price: 3.95,
        vat: "2",
        gtin: "8739856403919",
        classes: ["", ""],
    },
    FixedItem {
        code: "APP-ESP-CMP",
        description: "Espressomachine Compact",
        assortment: 1,
        price: 449.0,
        vat: "1",
        gtin: "8703641845864",
        classes: ["", ""],
    },
    FixedItem {
        code: "DIE-INSTALL",
        description: "Installatie espressomachine",
        assortment: 7,
        price: 95.0,
        vat: "1",
        gtin: "",
        classes: ["", ""],
    },
];

const FIRST: &[&str] = &[
    "Daan", "Emma", "Lucas", "Julia", "Noah", "Tess", "Milan", "Sophie", "Bram", "Anna", "Wout",
    "Fien",
];
const LAST: &[&str] = &[
    "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Claes", "Wouters", "Janssens",
    "Dekker", "Willems", "Hendriks",
];
const TRADE: &[&str] = &[
    "Installatiebedrijf",
    "Bloemenhandel",
    "Drukkerij",
    "Tuincentrum",
    "Kantoorvakhandel",
    "Bouwmaterialen",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Amsterdam", "1012 JS", "NL"),
    ("Rotterdam", "3011 AD", "NL"),
    ("Eindhoven", "5611 AB", "NL"),
    ("Groningen", "9711 LM", "NL"),
    ("Antwerpen", "2000", "BE"),
    ("Leuven", "3000", "BE"),
    ("Brugge", "8000", "BE"),
];
const PRODUCTS: &[(&str, i64, f64)] = &[
    ("Koffiebonen Huismerk", 1, 11.95),
    ("Filterkoffie gemalen", 1, 5.49),
    ("Cappuccinokopje", 3, 6.5),
    ("Latte macchiato glas", 3, 7.25),
    ("Koffiefilters nr. 4", 3, 2.95),
    ("Ontkalker", 3, 9.95),
    ("Melkkan RVS 600 ml", 3, 19.5),
    ("Tamper 58 mm", 3, 29.0),
];

/// Fills `admin` with reference data, `debtors` debtors and `items` items.
pub fn seed(
    admin: &mut Admin,
    rng: &mut ChaCha8Rng,
    debtors: usize,
    items: usize,
    now: i64,
) -> Result<(), String> {
    for (code, desc, pct, excl, country) in [
        ("0", "Geen btw", 0, "N", "NL"),
        ("1", "Btw hoog 21%", 21, "E", "NL"),
        ("2", "Btw laag 9%", 9, "E", "NL"),
        ("3", "Btw verlegd binnen EU", 0, "E", "NL"),
        ("4", "Export buiten EU", 0, "N", "NL"),
        ("5", "BE btw 21%", 21, "E", "BE"),
        ("6", "BE btw 6%", 6, "E", "BE"),
    ] {
        put(
            admin,
            "VAT",
            json!({"VATCode": code, "Description": desc, "Percentage": pct, "Excluded": excl, "CountryCode": country, "SalesPurchase": "V", "Taxtype": "S"}),
            now,
        )?;
    }
    for (code, desc, days, due) in [
        ("00", "Contant", 0, "1"),
        ("14", "14 dagen netto", 14, "1"),
        ("30", "30 dagen netto", 30, "1"),
        ("60", "60 dagen netto", 60, "1"),
        ("VO", "Vooruitbetaling", 0, "1"),
        ("IN", "Automatische incasso", 7, "1"),
    ] {
        put(
            admin,
            "PaymentCondition",
            json!({"PaymentConditionCode": code, "Description": desc, "NumberOfDays1": days, "Term": days, "DueDateType": due, "GrossNetInvoicing": "N"}),
            now,
        )?;
    }
    for (code, desc, ty) in [
        ("PNL", "PostNL pakket", "C"),
        ("DHL", "DHL Parcel", "C"),
        ("DPD", "DPD Classic", "C"),
        ("BPOST", "bpost", "C"),
        ("AFH", "Afhalen", "O"),
        ("EIGEN", "Eigen vervoer", "O"),
    ] {
        put(
            admin,
            "ShippingMethod",
            json!({"ShippingMethodProperty": code, "Description": desc, "ShippingType": ty}),
            now,
        )?;
    }
    for (code, desc, city, country) in [
        ("1", "Hoofdmagazijn Utrecht", "Utrecht", "NL"),
        ("2", "Magazijn Antwerpen", "Antwerpen", "BE"),
        ("WEB", "Webshop voorraad", "Utrecht", "NL"),
    ] {
        put(
            admin,
            "Warehouse",
            json!({"Code": code, "Description": desc, "City": city, "Country": country}),
            now,
        )?;
    }
    for (code, desc) in [
        ("100", "Verkoop binnendienst"),
        ("200", "Webshop"),
        ("300", "Marketing"),
        ("400", "Werkplaats"),
    ] {
        put(
            admin,
            "CostCenter",
            json!({"Code": code, "Description": desc}),
            now,
        )?;
    }
    for (code, desc) in [
        ("NL", "Markt Nederland"),
        ("BE", "Markt België"),
        ("WEB", "Online verkoop"),
    ] {
        put(
            admin,
            "CostUnit",
            json!({"Code": code, "Description": desc}),
            now,
        )?;
    }
    for (code, desc, ty) in [
        ("GRO", "Groothandel", "C"),
        ("RET", "Retail", "C"),
        ("PAR", "Particulier", "C"),
        ("WEB", "Webshop klant", "C"),
    ] {
        put(
            admin,
            "Classification",
            json!({"ID": code, "Description": desc, "Type": ty}),
            now,
        )?;
    }
    for (n, code, desc) in [
        (1, "PRODUCTEN", "Producten"),
        (3, "ACCESSOIRES", "Accessoires"),
        (7, "UREN", "Uren"),
        (8, "TOESLAGEN", "Toeslagen"),
    ] {
        put(
            admin,
            "ItemAssortment",
            json!({"Assortment": n, "Code": code, "Description": desc}),
            now,
        )?;
    }
    for (code, desc, bw, dc) in [
        ("1300", "Debiteuren", "B", "D"),
        ("1500", "Te betalen btw hoog", "B", "C"),
        ("1510", "Te betalen btw laag", "B", "C"),
        ("1600", "Crediteuren", "B", "C"),
        ("3000", "Voorraad handelsgoederen", "B", "D"),
        ("7000", "Kostprijs verkopen", "W", "D"),
        ("8000", "Omzet Nederland", "W", "C"),
        ("8100", "Omzet België", "W", "C"),
        ("8200", "Omzet export", "W", "C"),
        ("8300", "Omzet verzendkosten", "W", "C"),
    ] {
        put(
            admin,
            "GeneralLedgerAccount",
            json!({"GeneralLedgerCode": code, "GeneralLedgerDescription": desc, "BalanceProfitAndLoss": bw, "DebitCredit": dc}),
            now,
        )?;
    }
    for (code, desc) in [
        ("NL", "Nederland"),
        ("BE", "België"),
        ("DE", "Duitsland"),
        ("FR", "Frankrijk"),
        ("LU", "Luxemburg"),
        ("GB", "Verenigd Koninkrijk"),
    ] {
        put(
            admin,
            "Country",
            json!({"Code": code, "Description": desc}),
            now,
        )?;
    }
    for (code, desc) in [
        ("EUR", "Euro"),
        ("GBP", "Britse pond"),
        ("USD", "Amerikaanse dollar"),
    ] {
        put(
            admin,
            "Currency",
            json!({"CurrencyCode": code, "Description": desc}),
            now,
        )?;
    }

    for i in 0..debtors {
        let (name, first, last, email, city, pc, street, country, company) = match DEBTORS.get(i) {
            Some(d) => (
                d.name.to_string(),
                d.first,
                d.last,
                d.email.to_string(),
                d.city,
                d.postcode,
                d.street.to_string(),
                d.country,
                d.company,
            ),
            None => {
                let first = *FIRST.choose(rng).unwrap_or(&"Jan");
                let last = *LAST.choose(rng).unwrap_or(&"Jansen");
                let (city, pc, country) = *CITIES.choose(rng).unwrap_or(&CITIES[0]);
                let company = rng.gen_bool(0.6);
                let name = if company {
                    format!(
                        "{} {} {}",
                        TRADE.choose(rng).unwrap_or(&TRADE[0]),
                        last,
                        if country == "BE" { "BV" } else { "B.V." }
                    )
                } else {
                    format!("{first} {last}")
                };
                let slug: String = last
                    .chars()
                    .filter(|c| c.is_ascii_alphabetic())
                    .collect::<String>()
                    .to_lowercase();
                let email = format!(
                    "{}.{slug}{i}@example.{}",
                    first.to_lowercase(),
                    country.to_lowercase()
                );
                let street = format!(
                    "{} {}",
                    ["Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenlaan"]
                        .choose(rng)
                        .unwrap_or(&"Kerkstraat"),
                    rng.gen_range(1..200)
                );
                (name, first, last, email, city, pc, street, country, company)
            }
        };
        let mut body = json!({
            "DebtorNumber": (10001 + i).to_string(),
            "AccountName": name, "CustomerType": "C", "CustomerStatus": "A",
            "CompanySize": "UNKNOWN", "SectorCode": "UNKNOWN", "Rating": "N",
            "EmailAddress": email, "PhoneNumber": format!("+{} {}", if country == "BE" { "32" } else { "31" }, rng.gen_range(100000000..999999999)),
            "ContactFirstName": first, "ContactLastName": last, "ContactFullName": format!("{first} {last}"),
            "ContactEmail": email, "ContactTitle": if rng.gen_bool(0.5) { "DHR" } else { "MEVR" },
            "ContactGender": "O",
            "PaymentCondition": if company { "30" } else { "00" },
            "ClassificationID": if company { "GRO" } else { "PAR" },
            "DeliveryMethod": if country == "BE" { "BPOST" } else { "PNL" },
            "VATNumber": if company { format!("{}{}", country, rng.gen_range(100000000u64..999999999)) } else { String::new() },
            // A custom field the customers flow carries over (to `Remarks` in Exact Online).
            "TextFreeField1": if company { json!("Levering via de achteringang") } else { json!("Bellen voor levering") },
        });
        if let Some(obj) = body.as_object_mut() {
            for prefix in ["Delivery", "Invoice", "Mailing", "Postal"] {
                obj.insert(format!("{prefix}Country"), json!(country));
            }
            obj.insert("DeliveryAddressline1".into(), json!(street));
            obj.insert("DeliveryPostCode".into(), json!(pc));
            obj.insert("DeliveryCity".into(), json!(city));
            obj.insert("InvoiceAddress".into(), json!(street));
            obj.insert("InvoiceAddressPostCode".into(), json!(pc));
            obj.insert("InvoiceCity".into(), json!(city));
            obj.retain(|k, _| Catalog::get().entity("Account").is_some_and(|e| e.has(k)));
        }
        put(admin, "Account", body, now)?;
    }

    for i in 0..items {
        let (code, desc, assortment, price, vat, gtin, class1, class2) = match ITEMS.get(i) {
            Some(it) => (
                it.code.to_string(),
                it.description.to_string(),
                it.assortment,
                it.price,
                it.vat,
                it.gtin.to_string(),
                it.classes[0],
                it.classes[1],
            ),
            None => {
                let (desc, assortment, price) = *PRODUCTS.choose(rng).unwrap_or(&PRODUCTS[0]);
                let gtin = format!("87{:011}", rng.gen_range(0u64..99_999_999_999));
                (
                    format!("ART-{:04}", 1000 + i),
                    format!("{desc} {i}"),
                    assortment,
                    price,
                    "1",
                    gtin,
                    "",
                    "",
                )
            }
        };
        let stock_item = assortment == 1 || assortment == 3;
        put(
            admin,
            "Item",
            json!({
                "ItemCode": code, "CountrySpecificDescription": desc, "Description0": desc,
                "Assortment": assortment, "SalesPrice": price, "SalesVATCode": vat,
                "GTIN": if gtin.is_empty() { Value::Null } else { json!(gtin) },
                "IsSalesItem": true, "IsStockItem": stock_item, "IsServiceItem": !stock_item,
                "Class01Code": class1, "Class02Code": class2, "SalesUnit": "STK", "Warehouse": "1",
            }),
            now,
        )?;
        if let Some(row) = admin.table_mut("ItemCatalog").get_mut(&code) {
            let stock: i64 = if stock_item { rng.gen_range(0..60) } else { 0 };
            let reserved = if stock > 0 {
                rng.gen_range(0..=stock / 3)
            } else {
                0
            };
            row.insert("AvailableStock".into(), json!(stock));
            row.insert("ShelfStock".into(), json!(stock));
            row.insert("ToBeDelivered".into(), json!(reserved));
            row.insert("FreeStock".into(), json!(stock - reserved));
            row.insert("Warehouse".into(), json!("1"));
        }
    }
    Ok(())
}
