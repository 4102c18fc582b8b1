//! Writes as widely used clients send them: a record read, changed in one field and PUT back
//! whole; read-only properties in new records; invoice lines without a GL account; sales
//! entries without a reporting period.

mod sim_online_support;

use reqwest::Method;
use serde_json::{json, Value};
use sim_online_support::{message, small, start, Api};

/// Fields the service itself changes on every update.
const AUDIT: &[&str] = &["Modified", "Modifier", "ModifierFullName"];

fn without(v: &Value, skip: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for k in skip.iter().chain(AUDIT) {
            o.remove(*k);
        }
    }
    v
}

#[tokio::test]
async fn a_record_put_back_whole_changes_only_the_changed_field() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let id = sim.records("Accounts")[3]["ID"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("crm/Accounts(guid'{id}')");
    let (status, body) = api.get(&path).await;
    assert_eq!(status, 200, "{body}");
    let before = body["d"].clone();
    let mut changed = before.clone();
    changed["Remarks"] = json!("Levering via achterdeur");
    let (status, body) = api.send(Method::PUT, &path, &changed).await;
    assert_eq!(
        status, 204,
        "the whole record, read-only fields and all: {body}"
    );
    let (_, body) = api.get(&path).await;
    let after = &body["d"];
    assert_eq!(after["Remarks"], json!("Levering via achterdeur"));
    assert_eq!(without(after, &["Remarks"]), without(&before, &["Remarks"]));
    let dropped = &sim.dropped_read_only()["crm/Accounts"];
    for f in ["Created", "CountryName", "IsSales", "Division"] {
        assert!(dropped.iter().any(|d| d == f), "{f} skipped: {dropped:?}");
    }
    assert!(!dropped.iter().any(|d| d == "Remarks"));
    // The simulator reports the skipped fields in /_sim/stats too.
    assert!(sim.stats()["dropped_read_only"]["crm/Accounts"]
        .as_array()
        .is_some_and(|a| a.contains(&json!("Created"))));

    // An open order read with its lines and PUT back whole: only the description changes.
    let order = sim
        .records("SalesOrders")
        .into_iter()
        .find(|o| o["Status"] == json!(12))
        .expect("an open order");
    let path = format!(
        "salesorder/SalesOrders(guid'{}')",
        order["OrderID"].as_str().expect("id")
    );
    let (_, body) = api.get(&format!("{path}?$expand=SalesOrderLines")).await;
    let before = body["d"].clone();
    let mut changed = before.clone();
    changed["Description"] = json!("Spoedlevering");
    let (status, body) = api.send(Method::PUT, &path, &changed).await;
    assert_eq!(status, 204, "{body}");
    let (_, body) = api.get(&format!("{path}?$expand=SalesOrderLines")).await;
    let after = &body["d"];
    assert_eq!(after["Description"], json!("Spoedlevering"));
    let lines = |v: &Value| -> Vec<Value> {
        v["SalesOrderLines"]["results"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| without(l, &[]))
            .collect()
    };
    assert_eq!(lines(after), lines(&before), "lines unchanged");
    assert_eq!(
        without(after, &["Description", "SalesOrderLines"]),
        without(&before, &["Description", "SalesOrderLines"])
    );
    let dropped = &sim.dropped_read_only()["salesorder/SalesOrders"];
    for f in [
        "AmountDC",
        "OrderedBy",
        "Status",
        "SalesOrderLines/LineNumber",
    ] {
        assert!(dropped.iter().any(|d| d == f), "{f} skipped: {dropped:?}");
    }

    // Unknown properties are still refused.
    let (status, body) = api
        .send(Method::PUT, &path, &json!({"Colour": "red"}))
        .await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("does not exist"), "{body}");
    sim.shutdown().await;
}

#[tokio::test]
async fn new_records_with_read_only_properties_are_created() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let (status, body) = api
        .send(
            Method::POST,
            "crm/Accounts",
            &json!({"Name": "Lunchroom De Zon", "IsSales": true, "Status": "C"}),
        )
        .await;
    assert_eq!(status, 201, "IsSales is read-only and skipped: {body}");
    let account = body["d"]["ID"].clone();
    assert_eq!(body["d"]["IsSales"], json!(true));
    let items: Vec<Value> = sim
        .records("Items")
        .into_iter()
        .filter(|i| i["Code"] != json!("VERZEND"))
        .take(2)
        .collect();
    let order = json!({"OrderedBy": account, "Description": "met regelnummers", "SalesOrderLines": [
        {"LineNumber": 7, "Item": items[0]["ID"], "Quantity": 2, "AmountDC": 1.0},
        {"LineNumber": 8, "Item": items[1]["ID"], "Quantity": 1, "ItemCode": "nonsense"},
    ]});
    let (status, body) = api
        .send(Method::POST, "salesorder/SalesOrders", &order)
        .await;
    assert_eq!(status, 201, "{body}");
    let lines = body["d"]["SalesOrderLines"]["results"]
        .as_array()
        .expect("lines")
        .clone();
    assert_eq!(lines.len(), 2);
    // The service numbers the lines and computes amounts and codes itself.
    assert_eq!(lines[0]["LineNumber"], json!(1));
    assert_eq!(lines[1]["LineNumber"], json!(2));
    assert_eq!(lines[1]["ItemCode"], items[1]["Code"]);
    assert_ne!(lines[0]["AmountDC"], json!(1.0));
    let dropped = &sim.dropped_read_only()["salesorder/SalesOrders"];
    for f in [
        "SalesOrderLines/LineNumber",
        "SalesOrderLines/AmountDC",
        "SalesOrderLines/ItemCode",
    ] {
        assert!(dropped.iter().any(|d| d == f), "{f}: {dropped:?}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn invoice_lines_without_gl_account_take_the_items_revenue_account() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let account = sim.records("Accounts")[0]["ID"].clone();
    let item = sim
        .records("Items")
        .into_iter()
        .find(|i| i["Code"].as_str().is_some_and(|c| c.starts_with("KOF")))
        .expect("a coffee item");
    let group = sim
        .records("ItemGroups")
        .into_iter()
        .find(|g| g["ID"] == item["ItemGroup"])
        .expect("its group");
    assert!(group["GLRevenue"].is_string(), "{group}");
    assert_eq!(
        item["GLRevenue"], group["GLRevenue"],
        "items take the group's account"
    );
    let invoice = json!({"OrderedBy": account, "Journal": "70", "SalesInvoiceLines": [{"Item": item["ID"], "Quantity": 3}]});
    let (status, body) = api
        .send(Method::POST, "salesinvoice/SalesInvoices", &invoice)
        .await;
    assert_eq!(status, 201, "{body}");
    let d = &body["d"];
    assert_eq!(
        d["SalesInvoiceLines"]["results"][0]["GLAccount"],
        item["GLRevenue"]
    );
    // A line posted on its own, for the same invoice, too.
    let line = json!({"InvoiceID": d["InvoiceID"], "Item": item["ID"], "Quantity": 1});
    let (status, body) = api
        .send(Method::POST, "salesinvoice/SalesInvoiceLines", &line)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["d"]["GLAccount"], item["GLRevenue"]);
    // Still mandatory: the item.
    let (status, body) = api
        .send(
            Method::POST,
            "salesinvoice/SalesInvoiceLines",
            &json!({"InvoiceID": d["InvoiceID"], "Quantity": 1}),
        )
        .await;
    assert_eq!((status, message(&body)), (400, "Mandatory: Item"));
    sim.shutdown().await;
}

#[tokio::test]
async fn sales_entries_get_the_reporting_period_of_their_date() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    for e in sim.records("SalesEntries") {
        for f in [
            "ReportingYear",
            "ReportingPeriod",
            "DueDate",
            "StatusDescription",
        ] {
            assert!(!e[f].is_null(), "seeded entry fills {f}: {e}");
        }
    }
    let customer = sim.records("Accounts")[1]["ID"].clone();
    let gl = sim
        .records("GLAccounts")
        .into_iter()
        .find(|g| g["Code"] == json!("8000"))
        .expect("8000")["ID"]
        .clone();
    let entry = json!({"Customer": customer, "Journal": "70", "EntryDate": "2025-03-15T00:00:00",
        "PaymentCondition": "14", "SalesEntryLines": [{"AmountFC": 100.0, "GLAccount": gl, "VATCode": "1"}]});
    let (status, body) = api
        .send(Method::POST, "salesentry/SalesEntries", &entry)
        .await;
    assert_eq!(status, 201, "{body}");
    let d = &body["d"];
    assert_eq!(
        (d["ReportingYear"].clone(), d["ReportingPeriod"].clone()),
        (json!(2025), json!(3))
    );
    // 15 March + 14 days.
    assert_eq!(d["DueDate"], json!("/Date(1743206400000)/"));
    let (status, body) = api
        .get("salesentry/SalesEntries?$filter=ReportingYear eq 2025 and ReportingPeriod eq 3&$select=EntryID")
        .await;
    assert_eq!(status, 200, "{body}");
    let found = Api::rows(&body);
    assert_eq!(found.len(), 1, "{body}");
    assert_eq!(found[0]["EntryID"], d["EntryID"]);
    // A period given is kept.
    let mut given = entry.clone();
    given["ReportingPeriod"] = json!(4);
    let (_, body) = api
        .send(Method::POST, "salesentry/SalesEntries", &given)
        .await;
    assert_eq!(body["d"]["ReportingPeriod"], json!(4));
    sim.shutdown().await;
}

#[tokio::test]
async fn seeded_records_fill_what_the_service_always_fills() {
    let sim = start(small()).await;
    let filled: &[(&str, &[&str])] = &[
        (
            "Accounts",
            &["CountryName", "Currency", "LanguageDescription"],
        ),
        (
            "Items",
            &[
                "GLRevenue",
                "GLRevenueCode",
                "GLRevenueDescription",
                "SalesVatCodeDescription",
                "UnitDescription",
            ],
        ),
        (
            "SalesOrders",
            &[
                "PaymentConditionDescription",
                "ShippingMethodDescription",
                "WarehouseID",
                "WarehouseCode",
                "ApprovalStatusDescription",
                "StatusDescription",
            ],
        ),
        (
            "SalesOrderLines",
            &[
                "VATCodeDescription",
                "VATPercentage",
                "UnitDescription",
                "CostPriceFC",
            ],
        ),
        (
            "SalesInvoices",
            &[
                "DueDate",
                "InvoiceToName",
                "DeliverToName",
                "VATAmountDC",
                "StatusDescription",
                "TypeDescription",
            ],
        ),
        (
            "SalesInvoiceLines",
            &[
                "GLAccount",
                "GLAccountDescription",
                "VATCodeDescription",
                "VATPercentage",
            ],
        ),
        (
            "SalesEntries",
            &[
                "ReportingYear",
                "ReportingPeriod",
                "DueDate",
                "VATAmountDC",
                "TypeDescription",
            ],
        ),
    ];
    for (table, fields) in filled {
        let rows = sim.records(table);
        assert!(!rows.is_empty(), "{table}");
        for r in &rows {
            for f in *fields {
                assert!(!r[*f].is_null(), "{table}.{f} is filled: {r}");
            }
        }
    }
    sim.shutdown().await;
}
