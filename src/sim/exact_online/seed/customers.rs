//! Generated Dutch and Belgian customers: companies with a contact person and persons, with
//! e-mail, phone, visit/invoice/delivery addresses.

use super::super::store::Store;
use super::super::wire::date;
use super::{add, id_by_code, obj, pick, DAY_MS};
use rand::Rng;
use serde_json::{json, Value};

const NL_CITIES: &[(&str, &str)] = &[
    ("Amsterdam", "10"),
    ("Rotterdam", "30"),
    ("Utrecht", "35"),
    ("Den Haag", "25"),
    ("Eindhoven", "56"),
    ("Groningen", "97"),
    ("Zwolle", "80"),
    ("Haarlem", "20"),
    ("Nijmegen", "65"),
    ("Leeuwarden", "89"),
    ("Amersfoort", "38"),
    ("Breda", "48"),
    ("Tilburg", "50"),
    ("Arnhem", "68"),
    ("Maastricht", "62"),
];
const BE_CITIES: &[(&str, &str)] = &[
    ("Antwerpen", "2000"),
    ("Gent", "9000"),
    ("Brugge", "8000"),
    ("Leuven", "3000"),
    ("Brussel", "1000"),
    ("Hasselt", "3500"),
    ("Mechelen", "2800"),
    ("Kortrijk", "8500"),
    ("Namur", "5000"),
    ("Liège", "4000"),
];
const NL_STREETS: &[&str] = &[
    "Kerkstraat",
    "Dorpsstraat",
    "Stationsweg",
    "Molenweg",
    "Schoolstraat",
    "Julianastraat",
    "Wilhelminastraat",
    "Beatrixlaan",
    "Hoofdstraat",
    "Eikenlaan",
    "Parallelweg",
    "Nieuwstraat",
    "Marktplein",
    "Havenkade",
    "Industrieweg",
];
const BE_STREETS: &[&str] = &[
    "Kerkstraat",
    "Stationsstraat",
    "Molenstraat",
    "Nieuwstraat",
    "Kapelstraat",
    "Grote Markt",
    "Dorpsstraat",
    "Schoolstraat",
    "Veldstraat",
    "Rue de la Station",
];
const FIRST: &[&str] = &[
    "Jan", "Pieter", "Sanne", "Emma", "Lotte", "Daan", "Sem", "Lucas", "Julia", "Eva", "Thomas",
    "Anouk", "Bram", "Fleur", "Koen", "Marieke", "Wout", "Lieselot", "Jens", "Elke", "Joris",
    "Annelies",
];
const LAST: &[(&str, &str)] = &[
    ("", "Jansen"),
    ("de", "Vries"),
    ("van den", "Berg"),
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Mulder"),
    ("de", "Boer"),
    ("", "Peeters"),
    ("", "Janssens"),
    ("", "Maes"),
    ("", "Claes"),
    ("", "Willems"),
    ("van", "Dijk"),
    ("", "Hendriks"),
    ("van", "Damme"),
    ("de", "Smet"),
    ("", "Wouters"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
];
const BUSINESS: &[&str] = &[
    "Bakkerij",
    "Koffiebar",
    "Restaurant",
    "Hotel",
    "Lunchroom",
    "Brasserie",
    "Café",
    "Espressobar",
    "Catering",
    "Kantoorservice",
];
const NAMES: &[&str] = &[
    "De Molen",
    "Het Anker",
    "De Gouden Leeuw",
    "Den Hoek",
    "De Zwaan",
    "Het Wapen",
    "De Kroon",
    "Zonneveld",
];
const MAIL_NL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "ziggo.nl",
    "kpnmail.nl",
    "hotmail.com",
];
const MAIL_BE: &[&str] = &["gmail.com", "telenet.be", "skynet.be", "outlook.com"];

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
pub(super) type Customer = (String, String, Option<String>);

/// Creates `n` customers (about 60% companies, 25% Belgian) with contacts and addresses.
pub(super) fn customers(store: &mut Store, n: usize, now: i64) -> Result<Vec<Customer>, String> {
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
        let person_name = [first, mid, last]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let company = store.pick(10) < 6;
        let tld = if be { "be" } else { "nl" };
        let phone = if be {
            format!(
                "+32 4{:02} {:02} {:02} {:02}",
                store.pick(100),
                store.pick(100),
                store.pick(100),
                store.pick(100)
            )
        } else {
            format!("+31 6 {:04} {:04}", store.pick(10_000), store.pick(10_000))
        };
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
            let base = if store.pick(2) == 0 {
                (*pick(store, NAMES)).to_string()
            } else {
                last.to_string()
            };
            let legal = if be {
                *pick(store, &[" BV", " NV", " CommV", ""])
            } else {
                *pick(store, &[" B.V.", "", " V.O.F."])
            };
            let name = format!("{kind} {base}{legal}");
            domain = format!("{}.{tld}", slug(&format!("{kind}{base}")));
            acc["Name"] = json!(name);
            acc["Email"] = json!(format!("info@{domain}"));
            acc["Website"] = json!(format!("www.{domain}"));
            acc["VATNumber"] = json!(if be {
                format!("BE0{:09}", store.rng.gen_range(100_000_000u64..999_999_999))
            } else {
                format!(
                    "NL{:09}B01",
                    store.rng.gen_range(100_000_000u64..999_999_999)
                )
            });
            if !be {
                acc["ChamberOfCommerce"] = json!(format!(
                    "{:08}",
                    store.rng.gen_range(10_000_000u64..99_999_999)
                ));
            }
            acc["Classification1"] = class(
                store,
                if matches!(kind, "Kantoorservice") {
                    "KAN"
                } else {
                    "HOR"
                },
            );
        } else {
            domain = (*pick(store, if be { MAIL_BE } else { MAIL_NL })).to_string();
            acc["Name"] = json!(person_name);
            acc["Email"] = json!(format!(
                "{}.{}{}@{domain}",
                slug(first),
                slug(mid),
                slug(last)
            ));
            acc["Classification1"] = class(store, "PAR");
        }
        let account = add(store, "Accounts", acc.clone(), now)?;
        let contact_mail = if company {
            format!("{}@{domain}", slug(first))
        } else {
            acc["Email"].as_str().unwrap_or_default().to_string()
        };
        let contact = add(
            store,
            "Contacts",
            json!({"Account": account, "FirstName": first, "MiddleName": if mid.is_empty() { Value::Null } else { json!(mid) }, "LastName": last, "Email": contact_mail, "Phone": phone, "JobTitleDescription": if company { json!("Eigenaar") } else { Value::Null }}),
            now,
        )?;
        store
            .update(
                "Accounts",
                &account,
                obj(json!({"MainContact": contact})),
                now,
            )
            .map_err(|e| e.message)?;
        for ty in [1, 3] {
            add(
                store,
                "Addresses",
                json!({"Account": account, "Type": ty, "Main": true, "AddressLine1": line1, "Postcode": postcode, "City": city, "Country": country}),
                now,
            )?;
        }
        let delivery = if store.pick(10) < 3 {
            let street2 = *pick(store, if be { BE_STREETS } else { NL_STREETS });
            let line = format!("{street2} {}", store.pick(120) + 1);
            Some(add(
                store,
                "Addresses",
                json!({"Account": account, "Type": 4, "Main": true, "AddressLine1": line, "Postcode": postcode, "City": city, "Country": country}),
                now,
            )?)
        } else {
            None
        };
        let _ = i;
        out.push((account, country.to_string(), delivery));
    }
    Ok(out)
}
