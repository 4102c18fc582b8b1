//! Header/line documents: sales orders, invoices, financial entries.

use crate::*;

#[tokio::test]
async fn sales_order_lines_then_header() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    let debtor = api.results("Account?$top=1").await.remove(0);
    let debnr = debtor["DebtorNumber"].as_str().unwrap().to_string();

    // Lines first: the first gets a TransactionKey, the next ones pass it.
    let stock = |sim: &GlobeSim| {
        let row = sim
            .records("ItemCatalog")
            .into_iter()
            .find(|r| r["ItemCode"] == "APP-ESP-CMP")
            .unwrap();
        (
            row["FreeStock"].as_f64().unwrap(),
            row["ToBeDelivered"].as_f64().unwrap(),
        )
    };
    let (free_before, reserved_before) = stock(&sim);
    let (s, v) = api
        .send(
            "POST",
            "SalesOrderLine",
            json!({"Itemcode": "APP-ESP-CMP", "Quantity": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let tk = v["d"]["TransactionKey"].as_str().unwrap().to_string();
    let (s, _) = api
        .send(
            "POST",
            "SalesOrderLine",
            json!({"TransactionKey": tk, "Itemcode": "MOK-ROOD-M", "Quantity": 1, "Price": 50}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = api
        .send(
            "POST",
            "SalesOrderLine",
            json!({"TransactionKey": tk, "ItemCode": "MOK-ROOD-M"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "SalesOrderLine spells it Itemcode"
    );
    assert_eq!(
        error_text(&v),
        "No property 'ItemCode' exists in type 'Exact.Metadata.Entity.SalesOrderLine'"
    );
    assert_eq!(sim.staged_lines().len(), 2);

    let (s, v) = api
        .send("POST", "SalesOrderHeader", json!({"TransactionKey": tk, "OrderDebtor": debnr.trim(), "YourReference": "WEB-1001", "Warehouse": "1"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["d"]["SalesOrderNumber"].as_str().unwrap().to_string();
    assert_eq!(number.len(), 8);
    assert_eq!(number.trim(), "1");
    assert_eq!(v["d"]["OrderDebtor"], debnr);
    assert_eq!(
        v["d"]["PaymentCondition"], debtor["PaymentCondition"],
        "taken from the debtor"
    );
    assert_eq!(v["d"]["TotalAmountExcludingVAT"], 948.0);
    assert!(sim.staged_lines().is_empty());
    assert_eq!(
        stock(&sim),
        (free_before - 2.0, reserved_before + 2.0),
        "the order reserves stock"
    );
    let lines = api
        .results(&format!(
            "SalesOrderLine?$filter={}",
            enc(&format!("SalesOrderNumber eq '{number}'"))
        ))
        .await;
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["LineNumber"], 1);
    assert_eq!(lines[0]["Description"], "Espressomachine Compact");
    assert_eq!(lines[0]["VATCode"], "1");
    let found = api
        .results(&format!(
            "SalesOrderHeader?$filter={}",
            enc("YourReference eq 'WEB-1001'")
        ))
        .await;
    assert_eq!(found.len(), 1);
    let (s, v) = api
        .get(found[0]["__metadata"]["uri"].as_str().unwrap())
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["d"]["SalesOrderNumber"], number.as_str());
    let unpadded = api
        .results(&format!(
            "SalesOrderHeader?$filter={}",
            enc("SalesOrderNumber eq '1'")
        ))
        .await;
    assert!(unpadded.is_empty());

    // A number the client chooses is kept when free, refused when taken.
    let (_, v) = api
        .send("POST", "SalesOrderLine", json!({"Itemcode": "VERZEND"}))
        .await;
    let tk2 = v["d"]["TransactionKey"].as_str().unwrap().to_string();
    let header = |n: &str| json!({"TransactionKey": tk2, "OrderDebtor": debnr, "YourReference": "WEB-1002", "SalesOrderNumber": n});
    let (s, v) = api.send("POST", "SalesOrderHeader", header("1")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_text(&v), "SalesOrderNumber '1' already exists.");
    let (s, v) = api.send("POST", "SalesOrderHeader", header("500")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["d"]["SalesOrderNumber"], "     500");

    // Master data in use cannot be deleted; unused master data can.
    let (s, v) = api.send("DELETE", "Item('APP-ESP-CMP')", json!(null)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_text(&v),
        "Item 'APP-ESP-CMP' cannot be deleted: it is in use by SalesOrderLine."
    );
    let (s, v) = api
        .send(
            "DELETE",
            &format!("Account(guid'{}')", debtor["ID"].as_str().unwrap()),
            json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = api.send("DELETE", "Item('DIE-INSTALL')", json!(null)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // The key cannot be used twice; a header without lines fails.
    let (s, v) = api
        .send(
            "POST",
            "SalesOrderHeader",
            json!({"TransactionKey": tk, "OrderDebtor": debnr, "YourReference": "WEB-1001"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_text(&v).contains("already been processed"), "{v}");
    let (s, v) = api
        .send("POST", "SalesOrderHeader", json!({"TransactionKey": uuid::Uuid::new_v4(), "OrderDebtor": debnr, "YourReference": "X"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_text(&v).contains("No lines"), "{v}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_header_leaves_its_staged_lines_behind() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    let (_, v) = api
        .send(
            "POST",
            "SalesOrderLine",
            json!({"Itemcode": "KOF-BRA-250", "Quantity": 1}),
        )
        .await;
    let tk = v["d"]["TransactionKey"].as_str().unwrap().to_string();
    let (_, _) = api
        .send(
            "POST",
            "SalesOrderLine",
            json!({"TransactionKey": tk, "Itemcode": "GEEN-ARTIKEL"}),
        )
        .await;

    let (s, v) = api
        .send(
            "POST",
            "SalesOrderHeader",
            json!({"TransactionKey": tk, "OrderDebtor": "999999", "YourReference": "WEB-2"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_text(&v), "Debtor '999999' does not exist.");
    let debnr = api.results("Account?$top=1").await[0]["DebtorNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = api
        .send(
            "POST",
            "SalesOrderHeader",
            json!({"TransactionKey": tk, "OrderDebtor": debnr, "YourReference": "WEB-2"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_text(&v), "Item 'GEEN-ARTIKEL' does not exist.");
    let (s, _) = api
        .send("POST", "SalesOrderHeader", json!({"TransactionKey": tk, "OrderDebtor": debnr, "YourReference": "WEB-2", "ShippingVia": "ZEPP"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    assert!(sim.records("SalesOrderHeader").is_empty());
    let staged = sim.staged_lines();
    assert_eq!(staged.len(), 2);
    let visible = api
        .results(&format!(
            "SalesOrderLine?$filter={}",
            enc(&format!("TransactionKey eq guid'{tk}'"))
        ))
        .await;
    assert_eq!(visible.len(), 2);
    assert!(visible.iter().all(|l| l["SalesOrderNumber"].is_null()));
    for l in &visible {
        let (s, _) = api
            .send(
                "DELETE",
                &format!("SalesOrderLine({})", l["ID"]),
                json!(null),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    assert!(sim.staged_lines().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn invoices_and_financial_entries_use_the_same_protocol() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    let debnr = api.results("Account?$top=1").await[0]["DebtorNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = api
        .send(
            "POST",
            "InvoiceLine",
            json!({"ItemCode": "KOF-ESP-1000", "Quantity": 4}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let tk = v["d"]["TransactionKey"].as_str().unwrap().to_string();
    let (s, v) = api
        .send("POST", "InvoiceHeader", json!({"TransactionKey": tk, "OrderDebtor": debnr, "YourReference": "F-1", "InvoiceCode": "1"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["d"]["InvoiceCode"], "  1");
    assert_eq!(v["d"]["TotalAmount"], 104.42);
    // InvoiceHeader cannot be read over REST (PU415: retrieve not supported).
    let (s, _) = api.get("InvoiceHeader").await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);

    let (s, v) = api
        .send(
            "POST",
            "FinancialLine",
            json!({"GLAccount": "8000", "Amount": -100, "VATCode": "1"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let tk = v["d"]["TransactionKey"].as_str().unwrap().to_string();
    let (s, v) = api
        .send(
            "POST",
            "FinancialLine",
            json!({"TransactionKey": tk, "Amount": 100}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "GLAccount is mandatory: {v}");
    let (s, v) = api
        .send(
            "POST",
            "FinancialLine",
            json!({"TransactionKey": tk, "GLAccount": "     1300", "Amount": 121}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = api
        .send(
            "POST",
            "FinancialLine",
            json!({"TransactionKey": tk, "GLAccount": "1500", "Amount": -21}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = api
        .send(
            "POST",
            "FinancialLine",
            json!({"GLAccount": "9999", "Amount": 1}),
        )
        .await;
    let bad_tk = v["d"]["TransactionKey"].as_str().unwrap().to_string();
    let (s, v) = api
        .send(
            "POST",
            "FinancialHeader",
            json!({"TransactionKey": bad_tk, "Journal": "70", "JournalAccount": "1300"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_text(&v),
        "General ledger account '9999' does not exist."
    );
    let (s, v) = api
        .send("POST", "FinancialHeader", json!({"TransactionKey": tk, "Journal": "70", "JournalAccount": "1300", "DebtorNumber": debnr, "EntryDate": "2026-03-01"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["d"]["EntryNumber"], "1");
    assert_eq!(sim.records("FinancialLine").len(), 3);
    assert_eq!(
        sim.staged_lines().len(),
        1,
        "the refused entry's line stays staged"
    );
    sim.shutdown().await;
}
