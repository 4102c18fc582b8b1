//! Generated sales orders (1..10 lines, statuses by age), their invoices and sales entries,
//! and direct invoices and credit notes.

use super::super::store::Store;
use super::super::wire::date;
use super::{add, id_by_code, pick, DAY_MS};
use serde_json::{json, Value};

use super::customers::Customer;

/// Creates `n` orders spread over the last 120 days, invoices for the completed ones, and direct invoices.
pub(super) fn orders(
    store: &mut Store,
    n: usize,
    customers: &[Customer],
    items: &[(String, f64, bool)],
    now: i64,
) -> Result<(), String> {
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
            let qty = if *stock {
                (1 + store.pick(5)) as f64
            } else {
                1.0
            };
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
            if roll < 75 {
                21
            } else if roll < 85 {
                45
            } else {
                12
            }
        } else if days > 7 {
            if roll < 30 {
                20
            } else if roll < 50 {
                21
            } else {
                12
            }
        } else {
            12
        };
        let web = 10_000 + i;
        // Ordered by the account's main contact, as a webshop order is.
        let contact = store
            .get("Accounts", &account)
            .and_then(|a| a.data.get("MainContact").cloned())
            .unwrap_or(Value::Null);
        let mut order = json!({
            "OrderedBy": account, "OrderedByContactPerson": contact, "OrderDate": date(at), "DeliveryDate": date(at + 3 * DAY_MS),
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
            invoice(
                store,
                &order_id,
                &account,
                journal,
                at + 2 * DAY_MS,
                days > 45,
                now,
            )?;
        }
    }
    // Direct invoices (no order): about one per ten orders, plus a credit of each kind.
    for k in 0..(n / 10).max(1) {
        let (account, _, _) = customers[store.pick(customers.len())].clone();
        let (item, _, _) = items[1 + store.pick(items.len() - 1)].clone();
        let ty = match k {
            0 => 8024,
            1 => 8021,
            _ => 8023,
        };
        let qty = if ty == 8023 {
            1.0 + store.pick(3) as f64
        } else {
            -1.0
        };
        let at = now - store.pick(60) as i64 * DAY_MS;
        add(
            store,
            "SalesInvoices",
            json!({"OrderedBy": account, "Journal": journal, "Type": ty, "InvoiceDate": date(at), "Description": if ty == 8023 { "Balieverkoop" } else { "Creditering" }, "SalesInvoiceLines": [{"Item": item, "Quantity": qty}], "Created": date(at)}),
            now,
        )?;
    }
    Ok(())
}

fn invoice(
    store: &mut Store,
    order_id: &str,
    account: &str,
    journal: &str,
    at: i64,
    processed: bool,
    now: i64,
) -> Result<(), String> {
    let order = store
        .get("SalesOrders", order_id)
        .map(|r| r.data.clone())
        .unwrap_or_default();
    let lines: Vec<Value> = store
        .children("SalesOrderLines", order_id)
        .into_iter()
        .map(|l| json!({"Item": l.data.get("Item"), "Quantity": l.data.get("Quantity"), "UnitPrice": l.data.get("UnitPrice"), "Discount": l.data.get("Discount"), "VATCode": l.data.get("VATCode"), "SalesOrder": order_id, "SalesOrderLine": l.data.get("ID")}))
        .collect();
    let inv = add(
        store,
        "SalesInvoices",
        json!({
            "OrderedBy": account, "Journal": journal, "Type": 8020, "Status": if processed { 50 } else { 20 },
            "InvoiceDate": date(at), "YourRef": order.get("YourRef"), "OrderNumber": order.get("OrderNumber"),
            "PaymentCondition": order.get("PaymentCondition"), "Description": order.get("Description"),
            "SalesInvoiceLines": lines, "Created": date(at),
        }),
        now,
    )?;
    if processed {
        let data = store
            .get("SalesInvoices", &inv)
            .map(|r| r.data.clone())
            .unwrap_or_default();
        let gl = id_by_code(store, "GLAccounts", "8000");
        add(
            store,
            "SalesEntries",
            json!({
                "Customer": account, "Journal": journal, "EntryDate": date(at), "InvoiceNumber": data.get("InvoiceNumber"),
                "YourRef": data.get("YourRef"), "Description": data.get("Description"),
                "SalesEntryLines": [{"AmountFC": data.get("AmountFCExclVat"), "GLAccount": gl, "VATCode": "1", "Description": "Omzet"}],
                "Created": date(at),
            }),
            now,
        )?;
    }
    Ok(())
}
