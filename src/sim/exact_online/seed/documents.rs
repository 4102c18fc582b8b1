//! Seeded after everything else, so the generated customers, items and orders stay exactly
//! as before: goods deliveries of the partly and completely delivered orders, quotations,
//! bank accounts, item warehouses, the division lists and currencies.

use super::super::filter::{val_of, Val};
use super::super::store::Store;
use super::super::wire::date;
use super::{add, DAY_MS};
use rand::Rng;
use serde_json::{json, Value};

/// The division as `hrm/Divisions` and `system/Divisions` list it, and the currencies.
pub(super) fn division(store: &mut Store, now: i64) -> Result<(), String> {
    let code = store.division;
    let created = date(now - 400 * DAY_MS);
    add(
        store,
        "Divisions",
        json!({"Code": code, "Description": "Koffie & Co B.V.", "Country": "NL", "CountryDescription": "Nederland",
               "Currency": "EUR", "CurrencyDescription": "Euro", "HID": 1, "Main": true, "Status": 0,
               "BlockingStatus": 0, "StartDate": created, "VATNumber": "NL001234567B01", "Created": created}),
        now,
    )?;
    add(
        store,
        "SystemDivisions",
        json!({"Code": code, "Description": "Koffie & Co B.V.", "Country": "NL", "Currency": "EUR", "Current": true,
               "Hid": 1, "IsMainDivision": true, "Status": 1, "AddressLine1": "Stationsplein 1",
               "Postcode": "3511 ED", "City": "Utrecht", "Email": "info@koffieenco.nl", "Phone": "030 123 4567",
               "ChamberOfCommerceNumber": "12345678", "VATNumber": "NL001234567B01", "Created": created}),
        now,
    )?;
    for (c, d, p) in [
        ("EUR", "Euro", 2.0),
        ("USD", "US Dollar", 2.0),
        ("GBP", "Pond sterling", 2.0),
    ] {
        add(
            store,
            "Currencies",
            json!({"Code": c, "Description": d, "AmountPrecision": 0.01, "PricePrecision": p / 10000.0, "Created": created}),
            now,
        )?;
    }
    Ok(())
}

fn ms(v: Option<&Value>) -> Option<i64> {
    match v.map(val_of) {
        Some(Val::Date(ms)) => Some(ms),
        _ => None,
    }
}

/// One delivery per partly (first line) or completely (every line) delivered order, dated as
/// the order was last changed, so the orders' `Modified` stays what it was.
pub(super) fn deliveries(store: &mut Store) -> Result<(), String> {
    let orders: Vec<(String, i64, i64)> = store
        .rows("SalesOrders")
        .into_iter()
        .filter_map(|o| {
            let status = o.data.get("Status")?.as_i64()?;
            let at = ms(o.data.get("Modified"))?;
            let id = o.data.get("OrderID")?.as_str()?.to_string();
            matches!(status, 20 | 21).then_some((id, status, at))
        })
        .collect();
    for (order, status, at) in orders {
        let lines: Vec<(Value, f64)> = store
            .children("SalesOrderLines", &order)
            .into_iter()
            .filter_map(|l| Some((l.data.get("ID")?.clone(), l.data.get("Quantity")?.as_f64()?)))
            .filter(|(_, q)| *q > 0.0)
            .collect();
        let deliver: Vec<Value> = if status == 21 {
            lines
                .iter()
                .map(|(id, q)| json!({"SalesOrderLineID": id, "QuantityDelivered": q}))
                .collect()
        } else if lines.len() > 1 {
            vec![json!({"SalesOrderLineID": lines[0].0, "QuantityDelivered": lines[0].1})]
        } else {
            match lines.first() {
                Some((id, q)) if *q >= 2.0 => {
                    vec![json!({"SalesOrderLineID": id, "QuantityDelivered": (q / 2.0).floor()})]
                }
                _ => Vec::new(),
            }
        };
        if deliver.is_empty() {
            continue;
        }
        add(
            store,
            "GoodsDeliveries",
            json!({"DeliveryDate": date(at), "Description": "Levering", "GoodsDeliveryLines": deliver, "Created": date(at)}),
            at,
        )?;
    }
    Ok(())
}

/// A valid Dutch IBAN (mod-97 check digits) for a bank code and ten account digits.
fn iban(bank: &str, account: u64) -> String {
    let bban = format!("{bank}{account:010}");
    let digits: String = format!("{bban}NL00")
        .chars()
        .map(|c| match c.to_digit(36) {
            Some(d) if c.is_ascii_alphabetic() => d.to_string(),
            _ => c.to_string(),
        })
        .collect();
    let rem = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .fold(0u64, |acc, d| (acc * 10 + u64::from(d)) % 97);
    format!("NL{:02}{bban}", 98 - rem)
}

/// Bank accounts of half the customers, a few quotations, and the item warehouses of the
/// stock items.
pub(super) fn crm_and_stock(
    store: &mut Store,
    accounts: &[String],
    items: &[(String, f64, bool)],
    now: i64,
) -> Result<(), String> {
    let banks = ["ABNA", "INGB", "RABO", "TRIO"];
    for (i, acc) in accounts.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let bank = banks[i / 2 % banks.len()];
        let number: u64 = store.rng.gen_range(100_000_000..9_999_999_999);
        add(
            store,
            "BankAccounts",
            json!({"Account": acc, "BankAccount": iban(bank, number), "BICCode": format!("{bank}NL2A"), "Main": true, "Description": "Hoofdrekening"}),
            now,
        )?;
    }
    if items.len() > 1 && !accounts.is_empty() {
        for k in 0..(accounts.len() / 4).max(1) {
            let acc = &accounts[store.pick(accounts.len())];
            let lines: Vec<Value> = (0..1 + store.pick(3))
                .map(|_| {
                    let (item, _, _) = &items[1 + store.pick(items.len() - 1)];
                    json!({"Item": item, "Quantity": (1 + store.pick(10)) as f64})
                })
                .collect();
            let at = now - (k as i64 + 1) * 3 * DAY_MS;
            add(
                store,
                "Quotations",
                json!({"OrderAccount": acc, "Description": format!("Offerte {}", k + 1), "QuotationDate": date(at),
                       "DueDate": date(at + 30 * DAY_MS), "QuotationLines": lines, "Created": date(at)}),
                now,
            )?;
        }
    }
    let warehouse = store.warehouse_id();
    let stocked: Vec<Value> = store
        .rows("StockPositions")
        .into_iter()
        .filter_map(|r| r.data.get("ItemId").cloned())
        .collect();
    for item in stocked {
        add(
            store,
            "ItemWarehouses",
            json!({"Item": item, "Warehouse": warehouse, "SafetyStock": 5.0, "MaximumStock": 500.0}),
            now,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn iban_check_digits() {
        // NL91ABNA0417164300 is the well-known valid example IBAN.
        assert_eq!(super::iban("ABNA", 417_164_300), "NL91ABNA0417164300");
    }
}
