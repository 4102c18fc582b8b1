//! Creates and partial updates: validation, defaults, numbering, unknown properties.

use crate::*;

pub fn new_debtor(name: &str, email: &str) -> Value {
    json!({
        "AccountName": name, "CustomerType": "C", "CompanySize": "UNKNOWN", "SectorCode": "UNKNOWN",
        "Rating": "N", "EmailAddress": email, "ContactFullName": "Piet Pieters", "ContactLastName": "Pieters",
        "ContactTitle": "DHR", "DeliveryCountry": "NL", "InvoiceCountry": "NL", "MailingCountry": "NL",
        "PostalCountry": "NL", "PaymentCondition": "30"
    })
}

#[tokio::test]
async fn creates_validate_and_refuse_unknown_properties() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    let mut body = new_debtor("Nieuw B.V.", "info@nieuw.nl");
    body["Foo"] = json!(1);
    let (s, v) = api.send("POST", "Account", body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_text(&v),
        "No property 'Foo' exists in type 'Exact.Metadata.Entity.Account'"
    );
    assert!(v["error"]["innererror"]["message"].is_string());

    let mut missing = new_debtor("Nieuw B.V.", "info@nieuw.nl");
    missing.as_object_mut().unwrap().remove("SectorCode");
    let (s, v) = api.send("POST", "Account", missing).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_text(&v).contains("SectorCode"), "{v}");

    let mut long = new_debtor(&"x".repeat(51), "info@nieuw.nl");
    long["ContactTitle"] = json!("DHR");
    let (s, v) = api.send("POST", "Account", long).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_text(&v).contains("AccountName"), "{v}");

    let (s, v) = api
        .send("POST", "Account", new_debtor("Nieuw B.V.", "info@nieuw.nl"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let acc = &v["d"];
    assert_eq!(acc["DebtorNumber"].as_str().unwrap().len(), 6);
    assert_eq!(acc["JobDescription"], "--");
    assert_eq!(acc["Source"], "P");
    assert!(acc["CreatedDate"].as_str().unwrap().starts_with("/Date("));
    // The embedded main contact becomes a ContactPerson of the account.
    let contacts = api
        .results(&format!(
            "ContactPerson?$filter={}",
            enc(&format!(
                "AccountID eq guid'{}'",
                acc["ID"].as_str().unwrap()
            ))
        ))
        .await;
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0]["FullName"], "Piet Pieters");
    assert_eq!(contacts[0]["MainContact"], true);
    // Changing the main contact shows on the account, without moving its ModifiedDate.
    let contact_key = format!(
        "ContactPerson(guid'{}')",
        contacts[0]["ContactID"].as_str().unwrap()
    );
    let (s, _) = api
        .send(
            "MERGE",
            &contact_key,
            json!({"EmailAddress": "piet@nieuw.nl"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, after) = api
        .get(&format!("Account(guid'{}')", acc["ID"].as_str().unwrap()))
        .await;
    assert_eq!(after["d"]["ContactEmail"], "piet@nieuw.nl");
    assert_eq!(after["d"]["ModifiedDate"], acc["ModifiedDate"]);
    assert_ne!(
        after["d"]["ContactModifiedDate"],
        acc["ContactModifiedDate"]
    );
    // A second contact and a delivery address for the same company.
    let (s, v) = api
        .send(
            "POST",
            "ContactPerson",
            json!({"AccountID": acc["ID"], "FullName": "Els Pieters", "LastName": "Pieters", "Title": "MEVR", "Gender": "V", "EmailAddress": "els@nieuw.nl"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["d"]["AccountCode"], acc["AccountCode"]);
    let (s, v) = api
        .send(
            "POST",
            "Address",
            json!({"Account": acc["ID"], "Type": "DEL", "AddressLine1": "Havenstraat 1", "PostCode": "1234 AB", "City": "Delft", "Country": "NL"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["d"]["ContactPerson"], acc["ContactID"]);
    let (s, _) = api
        .send(
            "POST",
            "Address",
            json!({"Account": uuid::Uuid::new_v4(), "Country": "NL"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the account must exist");

    // Dates in as YYYY-MM-DD, out as /Date(ms)/.
    let (s, v) = api
        .send("POST", "Item", json!({"ItemCode": "NEW-1", "CountrySpecificDescription": "Nieuw", "SalesVATCode": "1", "Assortment": 3, "SalesValidFrom": "2026-01-15"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["d"]["SalesValidFrom"], "/Date(1768435200000)/");
    let (s, v) = api
        .send("POST", "Item", json!({"ItemCode": "NEW-2", "CountrySpecificDescription": "Nieuw", "SalesVATCode": "99"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_text(&v).contains("SalesVATCode"), "{v}");
    let (s, _) = api
        .send(
            "POST",
            "Item",
            json!({"ItemCode": "NEW-1", "CountrySpecificDescription": "Dubbel"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "duplicate key");
    assert!(sim
        .records("ItemCatalog")
        .iter()
        .any(|r| r["ItemCode"] == "NEW-1"));
    sim.shutdown().await;
}

#[tokio::test]
async fn merge_and_put_are_partial_updates() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    let acc = api.results("Account?$top=1").await.remove(0);
    let id = acc["ID"].as_str().unwrap().to_string();
    let key = format!("Account(guid'{id}')");
    let before = acc["ModifiedDate"].as_str().unwrap().to_string();

    // The entity's own URI addresses it.
    let uri = acc["__metadata"]["uri"].as_str().unwrap();
    assert!(uri.ends_with(&key), "{uri}");
    let (s, _) = api
        .send("MERGE", uri, json!({"AccountName": "Hernoemd B.V."}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = api.get(&key).await;
    assert_eq!(v["d"]["AccountName"], "Hernoemd B.V.");
    assert_eq!(
        v["d"]["EmailAddress"], acc["EmailAddress"],
        "other fields untouched"
    );
    assert_ne!(v["d"]["ModifiedDate"].as_str().unwrap(), before);

    let (s, _) = api
        .send("PUT", &key, json!({"PhoneNumber": "+31 30 1234567"}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let r = api
        .req(Method::POST, &key)
        .header("X-HTTP-Method", "MERGE")
        .json(&json!({"ContactEmail": "nieuw@example.nl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, v) = api.get(&key).await;
    assert_eq!(v["d"]["AccountName"], "Hernoemd B.V.");
    assert_eq!(v["d"]["PhoneNumber"], "+31 30 1234567");
    assert_eq!(v["d"]["ContactEmail"], "nieuw@example.nl");

    // Changes since a point: exactly the records written after it.
    let since = before
        .trim_start_matches("/Date(")
        .trim_end_matches(")/")
        .parse::<i64>()
        .unwrap();
    let iso = chrono::DateTime::from_timestamp_millis(since)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3f");
    let changed = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("ModifiedDate gt datetime'{iso}'"))
        ))
        .await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["ID"], id);

    let (s, v) = api.send("MERGE", &key, json!({"Bogus": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_text(&v).starts_with("No property 'Bogus'"));
    sim.update("Item", "APP-ESP-CMP", json!({"SalesPrice": 699}))
        .unwrap();
    let item = sim
        .records("Item")
        .into_iter()
        .find(|i| i["ItemCode"] == "APP-ESP-CMP")
        .unwrap();
    assert_eq!(item["SalesPrice"], 699);
    sim.shutdown().await;
}
