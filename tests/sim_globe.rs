//! The Exact Globe simulator seen by a plain HTTP client (reqwest, not the exflow client):
//! real HTTP on 127.0.0.1 port 0.

use exflow::sim::exact_globe::{Faults, GlobeSim, GlobeSimConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const SVC: &str = "/services/Exact.Entity.REST.EG";

async fn start(config: GlobeSimConfig) -> GlobeSim {
    GlobeSim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Api {
    http: Client,
    base: String,
    database: String,
}

impl Api {
    fn new(sim: &GlobeSim) -> Self {
        Api {
            http: Client::new(),
            base: sim.base_url(),
            database: "500".into(),
        }
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{SVC}/{path}", self.base)
        };
        self.http
            .request(method, url)
            .basic_auth("exflow", Some("exflow"))
            .header("ServerName", "localhost")
            .header("DatabaseName", &self.database)
            .header("Accept", "application/json")
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.req(Method::GET, path).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .req(Method::from_bytes(method.as_bytes()).unwrap(), path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        let text = r.text().await.unwrap();
        (s, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn results(&self, path: &str) -> Vec<Value> {
        let (s, v) = self.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v["d"]["results"].as_array().cloned().unwrap_or_default()
    }
}

fn error_text(v: &Value) -> String {
    v["error"]["message"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn authentication_is_required() {
    let sim = start(GlobeSimConfig::default()).await;
    let url = format!("{}{SVC}/Account", sim.base_url());
    let http = Client::new();
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
    assert!(challenges.iter().any(|h| h.to_str().unwrap() == "NTLM"));
    let r = http
        .get(&url)
        .basic_auth("exflow", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .get(&url)
        .basic_auth("EXACT\\exflow", Some("exflow"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn ntlm_handshake_authenticates_the_connection() {
    use base64::Engine;
    use exflow::sim::exact_globe::ntlm;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sim = start(GlobeSimConfig::default()).await;
    let url = format!("{}{SVC}/VAT?$top=1", sim.base_url());
    for (password, expected) in [
        ("exflow", StatusCode::OK),
        ("wrong", StatusCode::UNAUTHORIZED),
    ] {
        // One client, one pooled connection: NTLM authenticates the connection.
        let http = Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let r = http
            .get(&url)
            .header(
                "Authorization",
                format!("NTLM {}", b64.encode(ntlm::client_negotiate())),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        r.bytes().await.unwrap();
        let challenge = b64
            .decode(challenge.strip_prefix("NTLM ").unwrap())
            .unwrap();
        let answer =
            ntlm::client_authenticate(&challenge, "EXACT", "exflow", password, [7; 8]).unwrap();
        let r = http
            .get(&url)
            .header("Authorization", format!("NTLM {}", b64.encode(answer)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
        r.bytes().await.unwrap();
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(
            r.status(),
            expected,
            "the connection stays (un)authenticated"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn administration_headers_select_the_database() {
    let config = GlobeSimConfig {
        administrations: vec![
            ("localhost".into(), "500".into()),
            ("SRV01\\EXACT".into(), "700".into()),
        ],
        ..Default::default()
    };
    let sim = start(config).await;
    let mut api = Api::new(&sim);
    // The path is case-insensitive; the wrapper and the metadata are OData v2 verbose.
    let (s, v) = api.get("account?$top=1").await;
    assert_eq!(s, StatusCode::OK);
    let acc = &v["d"]["results"][0];
    assert_eq!(acc["__metadata"]["type"], "Exact.Metadata.Entity.Account");
    assert!(acc["__metadata"]["uri"]
        .as_str()
        .unwrap()
        .contains("/Account(guid'"));
    assert_eq!(acc["CompanyCode"], "500");

    let r = api
        .http
        .get(format!("{}{SVC}/Account?$top=1", sim.base_url()))
        .basic_auth("exflow", Some("exflow"))
        .header("ServerName", "srv01\\exact")
        .header("DatabaseName", "700")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["d"]["results"][0]["CompanyCode"], "700");

    api.database = "999".into();
    let (s, v) = api.get("Account").await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        error_text(&v).contains("Cannot open database \"999\""),
        "{v}"
    );
    assert!(v["error"]["innererror"]["internalexception"]["message"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_follows_next_links_and_query_options_apply() {
    let sim = start(GlobeSimConfig {
        items: 23,
        ..Default::default()
    })
    .await;
    let api = Api::new(&sim);
    let mut url = "Item?$top=5&$select=ItemCode,SalesPrice&$orderby=ItemCode desc".to_string();
    let mut codes = Vec::new();
    let mut pages = 0;
    loop {
        let (s, v) = api.get(&url).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        pages += 1;
        for r in v["d"]["results"].as_array().unwrap() {
            assert_eq!(
                r.as_object().unwrap().len(),
                3,
                "only the selected fields: {r}"
            );
            codes.push(r["ItemCode"].as_str().unwrap().to_string());
        }
        match v["d"]["__next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(codes.len(), 23);
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(codes, sorted);
    assert_eq!(codes.len(), sim.records("Item").len());

    let skipped = api.results("Item?$orderby=ItemCode&$skip=20").await;
    assert_eq!(skipped.len(), 3);
    let (_, v) = api.get("Item?$top=2&$inlinecount=allpages").await;
    assert_eq!(v["d"]["__count"], "23");
    let (s, v) = api.get("").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["d"]["EntitySets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "SalesOrderLine"));
    let (s, v) = api.get("Item?$select=Nope").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        error_text(&v).contains("No property 'Nope' exists in type 'Exact.Metadata.Entity.Item'")
    );
    let stats = sim.stats();
    assert_eq!(stats["calls"]["GET /services/Exact.Entity.REST.EG/Item"], 8);
    sim.shutdown().await;
}

#[tokio::test]
async fn filters_need_padded_codes() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    let email = "inkoop@korenschoof.nl";
    let hits = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("EmailAddress eq '{email}'"))
        ))
        .await;
    assert_eq!(hits.len(), 1);
    let acc = &hits[0];
    let code = acc["DebtorCode"].as_str().unwrap();
    assert_eq!(code.len(), 20);
    assert!(code.starts_with(' '));
    let number = acc["DebtorNumber"].as_str().unwrap();
    assert_eq!(number.len(), 6);
    assert_eq!(acc["AccountCode"], acc["DebtorCode"]);

    let unpadded = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("DebtorCode eq '{}'", code.trim()))
        ))
        .await;
    assert!(unpadded.is_empty(), "an unpadded code finds nothing");
    let padded = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("DebtorCode eq '{code}'"))
        ))
        .await;
    assert_eq!(padded.len(), 1);
    let either = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("(DebtorNumber eq '{number}' or AccountName eq 'Nobody') and substringof('korenschoof', EmailAddress)"))
        ))
        .await;
    assert_eq!(either.len(), 1);

    // Keys by GUID, with or without braces.
    let id = acc["ID"].as_str().unwrap();
    for key in [
        format!("guid'{id}'"),
        format!("guid'{{{}}}'", id.to_uppercase()),
    ] {
        let (s, v) = api.get(&format!("Account({key})")).await;
        assert_eq!(s, StatusCode::OK, "{key}: {v}");
        assert_eq!(v["d"]["ID"], id);
    }
    let by_id = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("ID eq guid'{{{id}}}'"))
        ))
        .await;
    assert_eq!(by_id.len(), 1);

    let (s, v) = api
        .get(&format!("Account?$filter={}", enc("Itemcode eq 'X'")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_text(&v),
        "No property 'Itemcode' exists in type 'Exact.Metadata.Entity.Account' at position 0."
    );
    let (s, _) = api
        .get("Account(guid'00000000-0000-4000-8000-000000000000')")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    sim.shutdown().await;
}

fn new_debtor(name: &str, email: &str) -> Value {
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

#[tokio::test]
async fn faults_503_restart_locked() {
    let faults: Faults = "status503=1".parse().unwrap();
    let sim = start(GlobeSimConfig {
        faults,
        ..Default::default()
    })
    .await;
    let (s, _) = Api::new(&sim).get("Account").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    sim.shutdown().await;

    let sim = start(GlobeSimConfig {
        faults: "restart=1".parse().unwrap(),
        ..Default::default()
    })
    .await;
    let api = Api::new(&sim);
    for _ in 0..2 {
        let (s, v) = api.get("Account").await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(error_text(&v).contains("must be restarted"), "{v}");
    }
    sim.shutdown().await;

    let sim = start(GlobeSimConfig {
        faults: "mac=1".parse().unwrap(),
        ..Default::default()
    })
    .await;
    let (s, v) = Api::new(&sim).get("Account").await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(error_text(&v).starts_with("MacAddress2"), "{v}");
    sim.shutdown().await;

    let sim = start(GlobeSimConfig {
        faults: "locked=1,latency=5ms".parse().unwrap(),
        ..Default::default()
    })
    .await;
    let api = Api::new(&sim);
    let acc = api.results("Account?$top=1").await.remove(0);
    let key = format!("Account(guid'{}')", acc["ID"].as_str().unwrap());
    let (s, v) = api
        .send("MERGE", &key, json!({"AccountName": "Nooit"}))
        .await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(error_text(&v).contains("locked"), "{v}");
    let (_, v) = api.get(&key).await;
    assert_eq!(v["d"]["AccountName"], acc["AccountName"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_dropped_connection_and_lost_create_response() {
    let sim = start(GlobeSimConfig {
        faults: "drop=1".parse().unwrap(),
        ..Default::default()
    })
    .await;
    let api = Api::new(&sim);
    let sent = api.req(Method::GET, "Account").send().await;
    assert!(sent.is_err(), "no answer at all: {sent:?}");
    assert_eq!(sim.stats()["status"]["dropped"], 1);
    sim.shutdown().await;

    let sim = start(GlobeSimConfig {
        faults: "lost_post=1".parse().unwrap(),
        ..Default::default()
    })
    .await;
    let api = Api::new(&sim);
    let before = sim.records("Item").len();
    let sent = api
        .req(Method::POST, "Item")
        .json(&json!({"ItemCode": "LOST-1", "CountrySpecificDescription": "Verloren antwoord"}))
        .send()
        .await;
    assert!(sent.is_err(), "the answer is lost: {sent:?}");
    assert_eq!(
        sim.records("Item").len(),
        before + 1,
        "but the create was committed"
    );
    let found = api
        .results(&format!("Item?$filter={}", enc("ItemCode eq 'LOST-1'")))
        .await;
    assert_eq!(found.len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn stats_count_calls_and_reset() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    api.get("Account").await;
    api.get("account?$top=1").await;
    let acc = api.results("Item?$top=1").await;
    assert_eq!(acc.len(), 1);
    api.send("MERGE", "Item('VERZEND')", json!({"GTIN": "8700000000017"}))
        .await;
    let http = Client::new();
    let stats: Value = http
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 4);
    assert_eq!(
        stats["calls"]["GET /services/Exact.Entity.REST.EG/Account"],
        2
    );
    assert_eq!(
        stats["calls"]["MERGE /services/Exact.Entity.REST.EG/Item(key)"],
        1
    );
    assert_eq!(stats["by_method"]["GET"], 3);
    assert_eq!(stats["status"]["200"], 3);
    assert_eq!(stats["status"]["204"], 1);
    let r = http
        .post(format!("{}/_sim/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(sim.stats()["total"], 0);
    sim.shutdown().await;
}

#[test]
fn the_password_stays_out_of_debug_output() {
    let config = GlobeSimConfig {
        password: "s3cret-Pa55".into(),
        ..Default::default()
    };
    assert!(!format!("{config:?}").contains("s3cret-Pa55"));
}

#[tokio::test]
async fn the_seed_decides_the_data() {
    let a = start(GlobeSimConfig::default()).await;
    let b = start(GlobeSimConfig::default()).await;
    let c = start(GlobeSimConfig {
        seed: 7,
        ..Default::default()
    })
    .await;
    let strip = |sim: &GlobeSim| -> Vec<(Value, Value, Value)> {
        sim.records("Account")
            .into_iter()
            .map(|r| {
                (
                    r["ID"].clone(),
                    r["AccountName"].clone(),
                    r["EmailAddress"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&a), strip(&b));
    assert_ne!(strip(&a), strip(&c));
    assert_eq!(a.records("Account").len(), 12);
    assert_eq!(a.records("Item").len(), 20);
    for sim in [a, b, c] {
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn fixtures_and_insert() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Item.json"),
        r#"[{"ItemCode": "FIX-1", "CountrySpecificDescription": "Uit fixture", "SalesPrice": 10, "SalesVATCode": "2"}]"#,
    )
    .unwrap();
    let sim = start(GlobeSimConfig {
        fixtures: Some(dir.path().to_path_buf()),
        items: 0,
        debtors: 0,
        ..Default::default()
    })
    .await;
    assert_eq!(sim.records("Item").len(), 1);
    assert!(sim.records("Account").is_empty());
    let acc = sim
        .insert("Account", new_debtor("Via API", "api@example.nl"))
        .unwrap();
    assert_eq!(acc["DebtorNumber"], "     1");
    assert_eq!(acc["DebtorCode"], format!("{}1", " ".repeat(19)));
    assert!(sim
        .insert("Account", json!({"Nope": 1}))
        .unwrap_err()
        .contains("No property 'Nope'"));
    sim.shutdown().await;

    std::fs::write(
        dir.path().join("Account.json"),
        r#"[{"AccountName": "zonder rest"}]"#,
    )
    .unwrap();
    let err = GlobeSim::start(
        GlobeSimConfig {
            fixtures: Some(dir.path().to_path_buf()),
            ..Default::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("Account.json"), "{err}");
}

#[tokio::test]
async fn exflow_sim_prints_both_simulators_and_serves_globe() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args([
            "sim",
            "--online",
            "127.0.0.1:0",
            "--globe",
            "127.0.0.1:0",
            "--globe-items",
            "3",
        ])
        .args([
            "--globe-admin",
            "localhost/500",
            "--globe-admin",
            "SRV01\\EXACT/700",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .take(2)
            .map(|l| l.unwrap())
            .collect()
    })
    .await
    .unwrap();
    assert!(
        lines[0].starts_with("exact_online http://127.0.0.1:"),
        "{lines:?}"
    );
    let url = lines[1].strip_prefix("exact_globe ").unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{lines:?}");
    let r = Client::new()
        .get(format!("{url}{SVC}/Item"))
        .basic_auth("exflow", Some("exflow"))
        .header("ServerName", "SRV01\\EXACT")
        .header("DatabaseName", "700")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["d"]["results"].as_array().unwrap().len(), 3);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args([
            "sim",
            "--online",
            "127.0.0.1:0",
            "--globe",
            "127.0.0.1:0",
            "--globe-faults",
            "explode=1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--globe-faults"));
}
