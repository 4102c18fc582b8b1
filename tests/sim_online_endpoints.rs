//! The endpoints the reference lists, as a client sees them: every one answers (a walk over
//! the reference's endpoint tables), the added ones with their real field sets, paged as
//! their kind pages (sync and bulk 1,000 a page, CRUD 60).

mod sim_online_support;

use exflow::sim::exact_online::OnlineSimConfig;
use reqwest::Method;
use serde_json::{json, Value};
use sim_online_support::{message, small, start, Api};
use std::collections::BTreeSet;

/// Endpoints the reference names that the simulator leaves out on purpose, and why.
const LEFT_OUT: &[(&str, &str)] = &[
    ("sync/SalesOrder/SalesOrders", "deprecated by Exact (reference 5.10): sync/SalesOrder/SalesOrderHeaders and SalesOrderLines replace it"),
    ("hrm/CostCenters", "the real API answers 404 too: paths are case-sensitive, the endpoint is hrm/Costcenters (reference 1)"),
    ("salesinvoice/PrintedSalesInvoices", "a POST-only function that prints and e-mails invoices; the simulator prints nothing"),
    ("sync/Cashflow/PaymentTerms", "the payment terms of financial entries; the simulator books no terms or payments (open items: read/financial/ReceivablesList)"),
    ("docs/XMLUpload", "the legacy XML API, outside /api/v1"),
    ("docs/XMLDownload", "the legacy XML API, outside /api/v1"),
];

fn listed() -> Vec<String> {
    include_str!("sim_online_reference_endpoints.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The same extraction as the list's header describes, from the reference itself.
fn from_reference(dir: &std::path::Path) -> Option<BTreeSet<String>> {
    let md = std::fs::read_to_string(dir.join("exact-online-api.md")).ok()?;
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("exact-online-schema.json")).ok()?)
            .ok()?;
    let not = [
        "api/",
        "application/",
        "feed/",
        "true/",
        "src/",
        "tests/",
        "exactonline/",
        "lib/",
        "docs/knowledge",
    ];
    let mut out = BTreeSet::new();
    let tick = regex::Regex::new(
        r"`/?(?:api/v1/\{div(?:ision)?\}/)?([a-z]+(?:/[A-Za-z]+){1,3})(\(\+Lines\))?",
    )
    .ok()?;
    for c in tick.captures_iter(&md) {
        let p = c[1].to_string();
        if not.iter().any(|n| p.starts_with(n)) {
            continue;
        }
        if c.get(2).is_some() {
            let lines = match p.strip_suffix("ies") {
                Some(stem) => format!("{stem}yLines"),
                None => format!("{}Lines", &p[..p.len() - 1]),
            };
            out.insert(lines);
        }
        out.insert(p);
    }
    let heading = regex::Regex::new(r"(?m)^### 5\.\d+ ([a-z]+/[A-Za-z]+)").ok()?;
    for c in heading.captures_iter(&md) {
        out.insert(c[1].to_string());
    }
    out.extend(schema["endpoints"].as_object()?.keys().cloned());
    Some(out)
}

#[tokio::test]
async fn every_endpoint_the_reference_lists_answers() {
    let list = listed();
    let dir = std::env::var("EXFLOW_REFERENCE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference")
        });
    if dir.exists() {
        let fresh = from_reference(&dir).expect("the reference parses");
        assert_eq!(
            fresh,
            list.iter().cloned().collect::<BTreeSet<_>>(),
            "tests/sim_online_reference_endpoints.txt is out of date with {}",
            dir.display()
        );
    }
    assert!(list.len() > 50, "{list:?}");
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let item = sim.records("StockPositions")[0]["ItemId"].clone();
    let mut missing = Vec::new();
    for ep in &list {
        let left_out = LEFT_OUT.iter().find(|(p, _)| p == ep);
        let url = if ep == "current/Me" {
            format!("{}/api/v1/current/Me", sim.base_url())
        } else if ep.starts_with("sync/") {
            format!("{ep}?$select=Timestamp&$filter=Timestamp gt 1L")
        } else if ep == "read/logistics/StockPosition" {
            format!("{ep}?itemId=guid'{}'", item.as_str().unwrap_or_default())
        } else {
            format!("{ep}?$top=1")
        };
        let (mut status, mut body) = api.get(&url).await;
        if status == 400 && message(&body).contains("mandatory filtering") {
            (status, body) = api
                .get(&format!(
                    "{url}&$filter=Modified gt datetime'2000-01-01T00:00:00'"
                ))
                .await;
        }
        match left_out {
            Some((_, why)) => assert_eq!(status, 404, "{ep} is left out ({why}) yet answers"),
            None if status == 404 => missing.push(ep.clone()),
            None => assert_eq!(status, 200, "{ep}: {body}"),
        }
    }
    assert!(
        missing.is_empty(),
        "the reference lists, the simulator answers 404: {missing:?}"
    );
    sim.shutdown().await;
}

fn keys(row: &Value) -> BTreeSet<String> {
    row.as_object()
        .map(|o| o.keys().filter(|k| *k != "__metadata").cloned().collect())
        .unwrap_or_default()
}

/// Reads every page, checking each is as long as the kind allows; returns the rows.
async fn all_pages(api: &Api, first: &str, page: usize) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut url = first.to_string();
    loop {
        let (status, body) = api.get(&url).await;
        assert_eq!(status, 200, "{url}: {body}");
        let got = Api::rows(&body);
        match body.pointer("/d/__next").and_then(Value::as_str) {
            Some(next) => {
                assert_eq!(got.len(), page, "a full page before __next");
                url = next.to_string();
                rows.extend(got);
            }
            None => {
                assert!(got.len() <= page);
                rows.extend(got);
                return rows;
            }
        }
    }
}

async fn count(api: &Api, ep: &str) -> usize {
    let (status, body) = api.get(&format!("{ep}/$count")).await;
    assert_eq!(status, 200, "{ep}: {body}");
    body.as_u64()
        .or_else(|| body.as_str().and_then(|s| s.parse().ok()))
        .expect("a number") as usize
}

#[tokio::test]
async fn added_endpoints_answer_with_their_fields_and_page_by_kind() {
    let sim = start(OnlineSimConfig {
        orders: 700,
        customers: 130,
        ..small()
    })
    .await;
    let api = Api::new(&sim);
    let supplement: Value =
        serde_json::from_str(include_str!("../src/sim/exact_online/supplement.json"))
            .expect("supplement");
    let names = |ep: &str| -> BTreeSet<String> {
        let e = &supplement["endpoints"][ep];
        match e.get("names") {
            Some(n) => n
                .as_array()
                .expect("names")
                .iter()
                .filter_map(|v| v.as_str()?.split('|').next().map(str::to_string))
                .collect(),
            None => e["props"]
                .as_array()
                .expect("props")
                .iter()
                .filter_map(|p| p.as_str()?.split('|').next().map(str::to_string))
                .collect(),
        }
    };

    // sync/SalesInvoice/SalesInvoices: the field list of the real feed, header and line rows.
    let fields = names("sync/SalesInvoice/SalesInvoices");
    let select: Vec<&str> = fields.iter().map(String::as_str).collect();
    let ep = "sync/SalesInvoice/SalesInvoices";
    let total = count(&api, ep).await;
    assert!(total > 1000, "more than a page: {total}");
    let rows = all_pages(
        &api,
        &format!("{ep}?$select={}&$filter=Timestamp gt 1L", select.join(",")),
        1000,
    )
    .await;
    assert_eq!(rows.len(), total);
    assert_eq!(keys(&rows[0]), fields);
    let headers = rows.iter().filter(|r| r["ID"] == r["InvoiceID"]).count();
    assert_eq!(
        headers,
        sim.records("SalesInvoices").len(),
        "one header row per invoice"
    );
    assert_eq!(rows.len() - headers, sim.records("SalesInvoiceLines").len());
    let (status, body) = api.get(&format!("{ep}?$select=*")).await;
    assert_eq!(status, 400, "{body}");

    // The other sync feeds with their own field lists: exactly those fields, $select=* refused.
    for ep in [
        "sync/CRM/Contacts",
        "sync/CRM/Addresses",
        "sync/Financial/GLAccounts",
        "sync/Logistics/SalesItemPrices",
    ] {
        let fields = names(ep);
        let select: Vec<&str> = fields.iter().map(String::as_str).collect();
        let (status, body) = api
            .get(&format!(
                "{ep}?$select={}&$filter=Timestamp gt 1L",
                select.join(",")
            ))
            .await;
        assert_eq!(status, 200, "{ep}: {body}");
        let rows = Api::rows(&body);
        assert!(!rows.is_empty(), "{ep}");
        assert_eq!(keys(&rows[0]), fields, "{ep}");
        assert!(rows.iter().all(|r| r["Timestamp"].is_string()), "{ep}");
        let (status, _) = api.get(&format!("{ep}?$select=*")).await;
        assert_eq!(status, 400, "{ep}");
    }

    // bulk/SalesOrder/SalesOrderLines: the order line fields without Modified.
    let ep = "bulk/SalesOrder/SalesOrderLines";
    let total = count(&api, ep).await;
    assert_eq!(total, sim.records("SalesOrderLines").len());
    assert!(total > 1000, "{total}");
    let rows = all_pages(&api, &format!("{ep}?$select=*"), 1000).await;
    assert_eq!(rows.len(), total);
    let (_, body) = api.get("salesorder/SalesOrderLines?$top=1").await;
    let mut crud = keys(&Api::rows(&body)[0]);
    crud.remove("Modified");
    assert_eq!(keys(&rows[0]), crud);

    // bulk/CRM/Contacts: the contact fields; mandatory $select.
    let (status, _) = api.get("bulk/CRM/Contacts").await;
    assert_eq!(status, 400);
    let (_, body) = api.get("bulk/CRM/Contacts?$select=*").await;
    let (_, crud) = api.get("crm/Contacts?$top=1").await;
    assert_eq!(keys(&Api::rows(&body)[0]), keys(&Api::rows(&crud)[0]));
    assert_eq!(
        Api::rows(&body).len(),
        sim.records("Contacts").len().min(1000)
    );

    // inventory/ItemWarehouses: CRUD, 60 a page, one per stock item.
    let ep = "inventory/ItemWarehouses";
    let total = count(&api, ep).await;
    assert_eq!(total, sim.records("StockPositions").len());
    let rows = all_pages(&api, ep, 60).await;
    assert_eq!(rows.len(), total);
    assert_eq!(keys(&rows[0]), names(ep));
    let stock = sim.records("StockPositions");
    for r in &rows {
        let sp = stock
            .iter()
            .find(|s| s["ItemId"] == r["Item"])
            .expect("stock position");
        assert_eq!(r["CurrentStock"], sp["CurrentStock"]);
        assert_eq!(r["ItemCode"], sp["ItemCode"]);
    }
    // CRUD paging at 60 where there are more: bank accounts of 65 customers.
    let total = count(&api, "crm/BankAccounts").await;
    assert!(total > 60, "{total}");
    assert_eq!(all_pages(&api, "crm/BankAccounts", 60).await.len(), total);
    sim.shutdown().await;
}

#[tokio::test]
async fn divisions_receivables_bank_accounts_and_quotations() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let supplement: Value =
        serde_json::from_str(include_str!("../src/sim/exact_online/supplement.json"))
            .expect("supplement");
    let props = |ep: &str| -> BTreeSet<String> {
        supplement["endpoints"][ep]["props"]
            .as_array()
            .expect("props")
            .iter()
            .filter_map(|p| p.as_str()?.split('|').next().map(str::to_string))
            .collect()
    };
    for ep in ["hrm/Divisions", "system/Divisions", "system/AllDivisions"] {
        let (status, body) = api.get(ep).await;
        assert_eq!(status, 200, "{ep}: {body}");
        let rows = Api::rows(&body);
        assert_eq!(rows.len(), 1, "{ep}");
        assert_eq!(rows[0]["Code"], json!(sim.division()));
        let want = props(if ep == "hrm/Divisions" {
            ep
        } else {
            "system/Divisions"
        });
        assert_eq!(keys(&rows[0]), want, "{ep}");
    }
    let (_, body) = api.get("system/Divisions").await;
    assert_eq!(Api::rows(&body)[0]["Current"], json!(true));
    let (status, body) = api.get(&format!("hrm/Divisions({})", sim.division())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["d"]["__metadata"]["uri"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("hrm/Divisions({})", sim.division()))));

    let (status, body) = api.get("general/Currencies('EUR')").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["d"]["Code"], json!("EUR"));
    assert!(body["d"]["__metadata"]["uri"]
        .as_str()
        .is_some_and(|u| u.ends_with("general/Currencies('EUR')")));

    // Outstanding items: one per sales entry, filtered on the due date.
    let (status, body) = api.get("read/financial/ReceivablesList").await;
    assert_eq!(status, 200, "{body}");
    let all = Api::rows(&body);
    assert_eq!(all.len(), sim.records("SalesEntries").len());
    assert!(!all.is_empty());
    assert_eq!(keys(&all[0]), props("read/financial/ReceivablesList"));
    let due = |r: &Value| {
        r["DueDate"]
            .as_str()
            .and_then(|d| {
                d.strip_prefix("/Date(")?
                    .strip_suffix(")/")?
                    .parse::<i64>()
                    .ok()
            })
            .expect("due date")
    };
    let mut dues: Vec<i64> = all.iter().map(due).collect();
    dues.sort_unstable();
    let cut = dues[dues.len() / 2];
    let cut_text = chrono::DateTime::from_timestamp_millis(cut)
        .expect("date")
        .format("%Y-%m-%dT%H:%M:%S");
    let (status, body) = api
        .get(&format!(
            "read/financial/ReceivablesList?$filter=DueDate lt datetime'{cut_text}'"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let early = Api::rows(&body);
    assert_eq!(early.len(), dues.iter().filter(|d| **d < cut).count());
    assert!(early.iter().all(|r| due(r) < cut));
    let entry = &sim.records("SalesEntries")[0];
    let item = all
        .iter()
        .find(|r| r["Id"] == entry["EntryID"])
        .expect("its item");
    assert_eq!(item["Amount"], entry["AmountDC"]);
    assert_eq!(item["AccountId"], entry["Customer"]);

    // Bank accounts.
    let account = sim.records("Accounts")[1]["ID"].clone();
    let (status, body) = api
        .send(
            Method::POST,
            "crm/BankAccounts",
            &json!({"Account": account, "BankAccount": "nl91 abna 0417 1643 00"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["d"]["BankAccount"], json!("NL91ABNA0417164300"));
    assert_eq!(body["d"]["Type"], json!("A"));
    assert_eq!(keys(&body["d"]), props("crm/BankAccounts"));
    let (status, body) = api
        .get(&format!(
            "crm/BankAccounts?$filter=Account eq guid'{}'",
            account.as_str().unwrap_or_default()
        ))
        .await;
    assert_eq!(status, 200);
    assert!(Api::rows(&body)
        .iter()
        .any(|r| r["BankAccount"] == json!("NL91ABNA0417164300")));
    let (status, body) = api
        .send(
            Method::POST,
            "crm/BankAccounts",
            &json!({"Account": account}),
        )
        .await;
    assert_eq!((status, message(&body)), (400, "Mandatory: BankAccount"));

    // Quotations with lines: numbered, priced, deleted with a tombstone (EntityType 34).
    let item = sim
        .records("Items")
        .into_iter()
        .find(|i| i["Code"] != json!("VERZEND"))
        .expect("item");
    let (status, body) = api
        .send(
            Method::POST,
            "crm/Quotations",
            &json!({"OrderAccount": account, "Description": "Offerte koffie", "QuotationLines": [{"Item": item["ID"], "Quantity": 4}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let q = &body["d"];
    assert!(q["QuotationNumber"].as_i64().is_some_and(|n| n > 0));
    let line = &q["QuotationLines"]["results"][0];
    assert_eq!(line["LineNumber"], json!(1));
    let amount = item["StandardSalesPrice"].as_f64().expect("price") * 4.0;
    assert!(
        (line["AmountFC"].as_f64().expect("amount") - amount).abs() < 0.01,
        "{line}"
    );
    assert!(
        q["AmountFC"].as_f64().expect("total") > amount,
        "VAT included: {q}"
    );
    assert_eq!(keys(q), props("crm/Quotations"));
    let id = q["QuotationID"].as_str().expect("id").to_string();
    let (_, body) = api
        .get("sync/Deleted?$select=Timestamp&$filter=Timestamp gt 1L")
        .await;
    let cursor = Api::rows(&body)
        .iter()
        .filter_map(|r| r["Timestamp"].as_str()?.parse::<i64>().ok())
        .max()
        .unwrap_or(1);
    let (status, _) = api
        .send(
            Method::DELETE,
            &format!("crm/Quotations(guid'{id}')"),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 204);
    let (_, body) = api
        .get(&format!(
            "sync/Deleted?$select=EntityKey,EntityType&$filter=Timestamp gt {cursor}L"
        ))
        .await;
    let rows = Api::rows(&body);
    assert!(
        rows.iter()
            .any(|r| r["EntityKey"] == json!(id) && r["EntityType"] == json!(34)),
        "{body}"
    );
    assert!(
        rows.iter().any(|r| r["EntityType"] == json!(35)),
        "lines too: {body}"
    );
    sim.shutdown().await;
}
