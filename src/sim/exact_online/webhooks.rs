//! Webhooks: subscriptions are validated with an empty POST to the callback; every change to a
//! subscribed topic is delivered as `{"Content":{...},"HashCode":"..."}` where `HashCode` is the
//! upper-case hex HMAC-SHA256 of the raw `Content` JSON, keyed with the app's webhook secret.

use super::catalog;
use super::store::Store;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

/// The webhook secret of the simulated app.
pub const WEBHOOK_SECRET: &str = "exflow-sim-webhook-secret";

/// Topics a subscription may name.
pub const TOPICS: &[&str] = &[
    "Accounts",
    "Addresses",
    "BankAccounts",
    "Contacts",
    "CostTransactions",
    "Documents",
    "FinancialTransactions",
    "GoodsDeliveries",
    "Items",
    "PurchaseEntries",
    "PurchaseOrders",
    "Quotations",
    "SalesEntries",
    "SalesInvoices",
    "SalesOrders",
    "StockPositions",
    "Subscriptions",
];

/// One delivery to make.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Callback URL.
    pub url: String,
    /// Exact body bytes.
    pub body: String,
}

/// The topic a table's changes belong to, and the header table for line tables.
fn topic_of(table: &str) -> Option<(&'static str, Option<(&'static str, &'static str)>)> {
    Some(match table {
        "Accounts" => ("Accounts", None),
        "Contacts" => ("Contacts", None),
        "Addresses" => ("Addresses", None),
        "Items" => ("Items", None),
        "StockPositions" => ("StockPositions", None),
        "SalesOrders" => ("SalesOrders", None),
        "SalesOrderLines" => ("SalesOrders", Some(("SalesOrders", "OrderID"))),
        "SalesInvoices" => ("SalesInvoices", None),
        "SalesInvoiceLines" => ("SalesInvoices", Some(("SalesInvoices", "InvoiceID"))),
        "SalesEntries" => ("SalesEntries", None),
        "SalesEntryLines" => ("SalesEntries", Some(("SalesEntries", "EntryID"))),
        "GoodsDeliveries" => ("GoodsDeliveries", None),
        "GoodsDeliveryLines" => ("GoodsDeliveries", Some(("GoodsDeliveries", "EntryID"))),
        "Quotations" => ("Quotations", None),
        "QuotationLines" => ("Quotations", Some(("Quotations", "QuotationID"))),
        "BankAccounts" => ("BankAccounts", None),
        _ => return None,
    })
}

/// Signs a `Content` JSON text and wraps it in the delivery body.
pub fn signed_body(content: &str, secret: &str) -> String {
    let hash = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(content.as_bytes());
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>()
        }
        Err(_) => String::new(),
    };
    format!("{{\"Content\":{content},\"HashCode\":\"{hash}\"}}")
}

/// Turns pending change events into deliveries for the matching subscriptions.
pub fn deliveries(store: &mut Store, base_url: &str, now_ms: i64) -> Vec<Delivery> {
    let events = std::mem::take(&mut store.events);
    let subs: Vec<(String, String)> = store
        .rows("WebhookSubscriptions")
        .iter()
        .filter_map(|r| {
            Some((
                r.data.get("Topic")?.as_str()?.to_string(),
                r.data.get("CallbackURL")?.as_str()?.to_string(),
            ))
        })
        .collect();
    if subs.is_empty() {
        return Vec::new();
    }
    let created = chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (table, action, key) in events {
        let Some((topic, header)) = topic_of(table) else {
            continue;
        };
        let (table, action, key) = match header {
            None => (table, action, key),
            Some((ht, fk)) => {
                // A line change is an update of its header; a deleted line's header is unknown.
                let Some(h) = store
                    .get(table, &key)
                    .and_then(|r| r.data.get(fk))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                (ht, "Update", h.to_string())
            }
        };
        if !seen.insert((topic, action, key.clone())) {
            continue;
        }
        let Some(ep) = catalog::crud_endpoint_of(table) else {
            continue;
        };
        let content = json!({
            "Topic": topic, "ClientId": store.client_guid, "Division": store.division, "Action": action, "Key": key,
            "ExactOnlineEndpoint": format!("{base_url}/api/v1/{}/{}(guid'{key}')", store.division, ep.path),
            "EventCreatedOn": created,
        });
        let body = signed_body(&content.to_string(), WEBHOOK_SECRET);
        for (t, url) in &subs {
            if t == topic {
                out.push(Delivery {
                    url: url.clone(),
                    body: body.clone(),
                });
            }
        }
    }
    out
}

/// Posts the deliveries (best effort, like the real service: a failed delivery is lost).
pub async fn send(deliveries: Vec<Delivery>) {
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    else {
        return;
    };
    for d in deliveries {
        let r = http
            .post(&d.url)
            .header("Content-Type", "application/json")
            .body(d.body)
            .send()
            .await;
        if let Err(e) = r {
            tracing::debug!("webhook delivery failed: {e}");
        }
    }
}

/// The empty POST Exact sends to a new subscription's callback; it must answer 2xx.
pub async fn validate_callback(url: &str) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    match http.post(url).header("Content-Length", "0").send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!(
            "{} {}",
            r.status().as_u16(),
            r.status().canonical_reason().unwrap_or_default()
        )),
        Err(_) => Err("500 An error occurred while sending the request.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_upper_hex_hmac_of_raw_content() {
        let body = signed_body("{\"Topic\":\"Accounts\"}", "secret");
        let v: Value = serde_json::from_str(&body).expect("json");
        let hash = v["HashCode"].as_str().expect("hash");
        assert_eq!(hash.len(), 64);
        assert!(hash
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let raw = &body[body.find("{\"Content\":").map(|i| i + 11).expect("content")
            ..body.find(",\"HashCode\":").expect("hash")];
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").expect("key");
        mac.update(raw.as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(hash, expected);
    }
}
