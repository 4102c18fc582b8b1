//! The exflow Exact Globe client against the Globe simulator over real HTTP on 127.0.0.1
//! port 0. Call counts come from the simulator's `/_sim/stats`; what went over the wire is
//! seen through a small recording proxy between the two.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use exflow::connectors::exact_globe::{ExactGlobeClient, GlobeAuth, GlobeConfig};
use exflow::connectors::{Connector, ConnectorError, FetchQuery, MatchKey, Record};
use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use parking_lot::Mutex;
use serde_json::{json, Value};

async fn start(config: GlobeSimConfig) -> GlobeSim {
    GlobeSim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn faulty(spec: &str) -> GlobeSimConfig {
    GlobeSimConfig {
        faults: spec.parse().unwrap(),
        ..Default::default()
    }
}

fn config(base: &str) -> GlobeConfig {
    let mut c = GlobeConfig::new(base, "localhost", "500", "exflow", "exflow");
    c.retry_delay = Duration::from_millis(5);
    c
}

fn client(base: &str) -> ExactGlobeClient {
    ExactGlobeClient::new(config(base)).unwrap()
}

fn rec(v: Value) -> Record {
    v.as_object().cloned().unwrap()
}

async fn stats(sim: &GlobeSim) -> Value {
    reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Calls of `"GET Account"` / `"DELETE SalesOrderLine(key)"` the simulator counted.
fn count(stats: &Value, call: &str) -> u64 {
    let (method, entity) = call.split_once(' ').unwrap();
    let key = format!("{method} /services/Exact.Entity.REST.EG/{entity}");
    stats["calls"][key.as_str()].as_u64().unwrap_or(0)
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Path and query, still percent-encoded.
    target: String,
    headers: HeaderMap,
    body: Value,
}

/// Forwards everything to the simulator and records it; optionally stalls one POST longer
/// than the client waits, after forwarding it (a committed create whose answer is lost) or
/// instead of forwarding it (a request that never arrived).
struct Proxy {
    target: String,
    http: reqwest::Client,
    seen: Mutex<Vec<Seen>>,
    stall: Mutex<Option<Stall>>,
}

/// Which POST to stall, once.
#[derive(Clone, Copy)]
struct Stall {
    /// Path ending of the POSTs concerned (`/SalesOrderHeader`).
    suffix: &'static str,
    /// How many of them pass first.
    skip: usize,
    /// Forward it before stalling (committed) or not (never arrived).
    forward: bool,
}

impl Stall {
    fn header() -> Option<Stall> {
        Some(Stall {
            suffix: "/SalesOrderHeader",
            skip: 0,
            forward: true,
        })
    }
}

/// Stalls when this request is the one to stall; says whether it did.
async fn stall(p: &Proxy, method: &Method, target: &str, forwarded: bool) -> bool {
    let hit = {
        let mut slot = p.stall.lock();
        match slot.as_mut() {
            Some(s)
                if *method == Method::POST
                    && target.ends_with(s.suffix)
                    && s.forward == forwarded =>
            {
                if s.skip == 0 {
                    slot.take();
                    true
                } else {
                    s.skip -= 1;
                    false
                }
            }
            _ => false,
        }
    };
    if hit {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    hit
}

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri
        .path_and_query()
        .map(|x| x.as_str().to_string())
        .unwrap_or_default();
    p.seen.lock().push(Seen {
        method: method.to_string(),
        target: target.clone(),
        headers: headers.clone(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if stall(&p, &method, &target, false).await {
        // Never forwarded, even if the client were still waiting.
        return (axum::http::StatusCode::GATEWAY_TIMEOUT, "proxy: stalled").into_response();
    }
    let mut req = p
        .http
        .request(method.clone(), format!("{}{target}", p.target))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            req = req.header(name, value);
        }
    }
    let Ok(answer) = req.send().await else {
        return (axum::http::StatusCode::BAD_GATEWAY, "proxy: no answer").into_response();
    };
    let status = answer.status();
    let bytes = answer.bytes().await.unwrap_or_default();
    stall(&p, &method, &target, true).await;
    (status, [("content-type", "application/json")], bytes).into_response()
}

async fn proxy(sim: &GlobeSim, stall: Option<Stall>) -> (String, Arc<Proxy>) {
    let p = Arc::new(Proxy {
        target: sim.base_url(),
        http: reqwest::Client::new(),
        seen: Mutex::new(Vec::new()),
        stall: Mutex::new(stall),
    });
    let app = axum::Router::new().fallback(forward).with_state(p.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, p)
}

fn first_debtor(sim: &GlobeSim) -> String {
    sim.records("Account")[0]["DebtorNumber"]
        .as_str()
        .unwrap()
        .trim()
        .to_string()
}

/// Three lines for sales items the simulator holds, the item code in three casings (the
/// client must send `Itemcode`, as `SalesOrderLine` spells it).
fn order_lines(sim: &GlobeSim) -> Vec<Record> {
    let codes: Vec<String> = sim
        .records("Item")
        .iter()
        .filter(|i| i["IsSalesItem"] == true)
        .filter_map(|i| i["ItemCode"].as_str().map(str::to_string))
        .take(3)
        .collect();
    assert_eq!(codes.len(), 3, "the simulator seeds sales items");
    vec![
        rec(json!({"ItemCode": codes[0], "Quantity": 2})),
        rec(json!({"itemcode": codes[1], "Quantity": 1, "Price": 50})),
        rec(json!({"Itemcode": codes[2], "quantity": 1})),
    ]
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_and_not_retried() {
    let sim = start(GlobeSimConfig::default()).await;
    let mut c = config(&sim.base_url());
    c.password = "wrong".into();
    let client = ExactGlobeClient::new(c).unwrap();
    let err = client
        .query("Account", None, &[], None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err}");
    assert!(
        !err.to_string().contains("wrong"),
        "the password is not shown: {err}"
    );
    assert_eq!(stats(&sim).await["total"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn administration_headers_select_the_database() {
    let admins = vec![
        ("localhost".to_string(), "500".to_string()),
        ("SRV01".to_string(), "700".to_string()),
    ];
    let sim = start(GlobeSimConfig {
        administrations: admins,
        ..Default::default()
    })
    .await;
    let (base, seen) = proxy(&sim, None).await;
    let mut c = config(&base);
    c.server_name = "SRV01".into();
    c.database_name = "700".into();
    let other = ExactGlobeClient::new(c).unwrap();
    let item = rec(json!({"ItemCode": "ONLY-700", "CountrySpecificDescription": "Alleen in 700"}));
    other.create("Item", &item, None).await.unwrap();
    let in_700 = other
        .lookup("Item", "ItemCode", &[json!("ONLY-700")], &[])
        .await
        .unwrap();
    assert_eq!(in_700.len(), 1);
    let in_500 = client(&base)
        .lookup("Item", "ItemCode", &[json!("ONLY-700")], &[])
        .await
        .unwrap();
    assert!(
        in_500.is_empty(),
        "the default administration does not see it"
    );
    for s in seen.seen.lock().iter() {
        assert!(s.headers.contains_key("servername") && s.headers.contains_key("databasename"));
        assert_eq!(s.headers["accept"], "application/json");
        assert!(s.headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with("Basic "));
    }

    let mut c = config(&sim.base_url());
    c.database_name = "999".into();
    let err = ExactGlobeClient::new(c)
        .unwrap()
        .query("Account", None, &[], None, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Cannot open database \"999\""),
        "{err}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_follows_next_sequentially() {
    let sim = start(GlobeSimConfig::default()).await;
    // Through the proxy: the simulator's `__next` names its own address, the client rebases it.
    let (base, _) = proxy(&sim, None).await;
    let mut c = config(&base);
    c.page_size = 5;
    let client = ExactGlobeClient::new(c).unwrap();
    let all = client
        .query("account", None, &["accountname".into()], None, None)
        .await
        .unwrap();
    let expected = sim.records("Account").len();
    assert_eq!(all.len(), expected);
    assert!(
        all.iter().all(|r| r.contains_key("AccountName")),
        "select casing fixed"
    );
    let pages = expected.div_ceil(5) as u64;
    assert_eq!(count(&stats(&sim).await, "GET Account"), pages);
    assert_eq!(client.calls().reads, pages);
    sim.shutdown().await;
}

#[tokio::test]
async fn codes_are_padded_in_filters_keys_and_bodies() {
    let sim = start(GlobeSimConfig::default()).await;
    let (base, seen) = proxy(&sim, None).await;
    let client = client(&base);
    let debtor = first_debtor(&sim);
    let found = client
        .lookup("Account", "debtornumber", &[json!(debtor.clone())], &[])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let padded = format!("{debtor:>6}").replace(' ', "%20");
    assert!(
        seen.seen.lock()[0]
            .target
            .contains(&format!("DebtorNumber%20eq%20%27{padded}%27")),
        "{:?}",
        seen.seen.lock()[0]
    );

    // The same filter unpadded, by a plain HTTP client: nothing.
    let raw: Value = reqwest::Client::new()
        .get(format!(
            "{}/services/Exact.Entity.REST.EG/Account?$filter=DebtorNumber%20eq%20'{debtor}'",
            sim.base_url()
        ))
        .basic_auth("exflow", Some("exflow"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["d"]["results"].as_array().unwrap().len(), 0);

    let header = rec(
        json!({"OrderDebtor": debtor.parse::<u64>().unwrap(), "YourReference": "PAD-1", "Warehouse": "1"}),
    );
    let order = client
        .create_document(
            "SalesOrderHeader",
            &header,
            "SalesOrderLine",
            &order_lines(&sim)[..1],
            None,
        )
        .await
        .unwrap();
    let number = order["SalesOrderNumber"].as_str().unwrap().to_string();
    assert_eq!(number.len(), 8);
    let sent = seen
        .seen
        .lock()
        .iter()
        .rev()
        .find(|s| s.target.ends_with("SalesOrderHeader"))
        .cloned()
        .unwrap();
    assert_eq!(
        sent.body["OrderDebtor"],
        json!(format!("{debtor:>6}")),
        "a number given for a code is sent padded"
    );

    let by_key = client
        .lookup(
            "SalesOrderHeader",
            "SalesOrderNumber",
            &[json!(number.trim())],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(by_key.len(), 1);
    assert_eq!(by_key[0]["YourReference"], "PAD-1");
    sim.shutdown().await;
}

#[tokio::test]
async fn batched_lookups_stay_under_the_url_limit() {
    let sim = start(GlobeSimConfig::default()).await;
    let codes: Vec<Value> = sim
        .records("Item")
        .iter()
        .map(|i| i["ItemCode"].clone())
        .collect();
    let mut values = codes.clone();
    values.push(json!("NOT-THERE"));
    values.push(codes[0].clone()); // duplicates are asked once

    let found = client(&sim.base_url())
        .lookup("Item", "itemcode", &values, &["salesprice".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), codes.len());
    assert!(found
        .iter()
        .all(|r| r.contains_key("SalesPrice") && r.contains_key("ItemCode")));
    assert_eq!(
        count(&stats(&sim).await, "GET Item"),
        1,
        "one call for the whole batch"
    );

    let (base, seen) = proxy(&sim, None).await;
    let mut c = config(&base);
    c.max_url_length = 400;
    let small = ExactGlobeClient::new(c).unwrap();
    let found = small
        .lookup("Item", "ItemCode", &values, &[])
        .await
        .unwrap();
    assert_eq!(found.len(), codes.len());
    let calls = seen.seen.lock().len();
    assert!(
        calls > 1 && calls < codes.len() / 2,
        "{calls} calls for {} values",
        values.len()
    );
    assert_eq!(small.calls().reads, calls as u64);
    assert_eq!(count(&stats(&sim).await, "GET Item"), 1 + calls as u64);
    for s in seen.seen.lock().iter() {
        assert!(
            base.len() + s.target.len() <= 400,
            "{} > 400",
            base.len() + s.target.len()
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn documents_are_written_lines_then_header() {
    let sim = start(GlobeSimConfig::default()).await;
    let (base, seen) = proxy(&sim, None).await;
    let client = client(&base);
    let header =
        rec(json!({"OrderDebtor": first_debtor(&sim), "YourReference": "WEB-1", "Warehouse": "1"}));
    let key = MatchKey {
        field: "YourReference".into(),
        value: json!("WEB-1"),
    };
    let order = client
        .create_document(
            "SalesOrderHeader",
            &header,
            "SalesOrderLine",
            &order_lines(&sim),
            Some(&key),
        )
        .await
        .unwrap();
    let number = order["SalesOrderNumber"].as_str().unwrap();
    let lines: Vec<Value> = sim
        .records("SalesOrderLine")
        .into_iter()
        .filter(|l| l["SalesOrderNumber"] == number)
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(sim.staged_lines().is_empty());

    let seen = seen.seen.lock().clone();
    let posts: Vec<&Seen> = seen.iter().filter(|s| s.method == "POST").collect();
    assert_eq!(posts.len(), 4);
    assert!(
        posts[0].body.get("TransactionKey").is_none(),
        "the first line asks for a key"
    );
    let tk = &posts[1].body["TransactionKey"];
    assert!(tk.is_string());
    assert_eq!(&posts[2].body["TransactionKey"], tk);
    assert!(posts[3].target.ends_with("/SalesOrderHeader"));
    assert_eq!(&posts[3].body["TransactionKey"], tk);
    assert!(
        posts[..3].iter().all(|p| p.body.get("Itemcode").is_some()),
        "SalesOrderLine spells it Itemcode"
    );
    let st = stats(&sim).await;
    assert_eq!(count(&st, "POST SalesOrderLine"), 3);
    assert_eq!(count(&st, "POST SalesOrderHeader"), 1);
    assert_eq!(client.calls().writes, 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_header_removes_its_staged_lines() {
    let sim = start(GlobeSimConfig::default()).await;
    let client = client(&sim.base_url());
    let header = rec(json!({"OrderDebtor": "999999", "YourReference": "WEB-2"}));
    let err = client
        .create_document(
            "SalesOrderHeader",
            &header,
            "SalesOrderLine",
            &order_lines(&sim)[..2],
            None,
        )
        .await
        .unwrap_err();
    match &err {
        ConnectorError::Refused {
            status, message, ..
        } => {
            assert_eq!(*status, 400, "{message}");
            assert!(
                message.contains("999999"),
                "the service's own message: {message}"
            );
            assert!(message.contains("2 staged lines were deleted"), "{message}");
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(err.is_record_error());
    assert!(sim.staged_lines().is_empty(), "{:?}", sim.staged_lines());
    assert!(sim.records("SalesOrderHeader").is_empty());
    let st = stats(&sim).await;
    assert_eq!(count(&st, "DELETE SalesOrderLine(key)"), 2);

    // A refused line: the lines before it are removed, nothing is left.
    let mut lines = order_lines(&sim);
    lines[2] = rec(json!({"Itemcode": "GEEN-ARTIKEL", "Quantity": 1}));
    let header = rec(json!({"OrderDebtor": first_debtor(&sim), "YourReference": "WEB-3"}));
    let result = client
        .create_document("SalesOrderHeader", &header, "SalesOrderLine", &lines, None)
        .await;
    if let Err(e) = result {
        assert!(e.is_record_error(), "{e}");
    }
    assert!(sim.staged_lines().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_create_answer_never_makes_a_duplicate() {
    let sim = start(faulty("lost_post=1")).await;
    let client = client(&sim.base_url());
    let item =
        rec(json!({"itemcode": "LOST-1", "CountrySpecificDescription": "Verloren antwoord"}));
    let key = MatchKey {
        field: "ItemCode".into(),
        value: json!("LOST-1"),
    };
    let stored = client.create("Item", &item, Some(&key)).await.unwrap();
    assert_eq!(stored["ItemCode"], "LOST-1");
    let with_code = |code: &str| {
        sim.records("Item")
            .iter()
            .filter(|i| i["ItemCode"] == code)
            .count()
    };
    assert_eq!(with_code("LOST-1"), 1);
    assert_eq!(
        count(&stats(&sim).await, "POST Item"),
        1,
        "found by the lookup, not sent again"
    );

    // Without a match key the client cannot know, so it does not send it again.
    let item = rec(json!({"ItemCode": "LOST-2", "CountrySpecificDescription": "Verloren"}));
    let err = client.create("Item", &item, None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unavailable { .. }), "{err}");
    assert_eq!(with_code("LOST-2"), 1);
    assert_eq!(count(&stats(&sim).await, "POST Item"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_header_answer_is_resolved_by_its_match_key() {
    let sim = start(GlobeSimConfig::default()).await;
    let (base, proxy) = proxy(&sim, Stall::header()).await;
    let mut c = config(&base);
    c.request_timeout = Duration::from_millis(800);
    let client = ExactGlobeClient::new(c).unwrap();
    let header = rec(
        json!({"OrderDebtor": first_debtor(&sim), "YourReference": "WEB-LOST", "Warehouse": "1"}),
    );
    let key = MatchKey {
        field: "YourReference".into(),
        value: json!("WEB-LOST"),
    };
    let order = client
        .create_document(
            "SalesOrderHeader",
            &header,
            "SalesOrderLine",
            &order_lines(&sim),
            Some(&key),
        )
        .await
        .unwrap();
    assert_eq!(order["YourReference"], "WEB-LOST");
    let orders: Vec<Value> = sim
        .records("SalesOrderHeader")
        .into_iter()
        .filter(|o| o["YourReference"] == "WEB-LOST")
        .collect();
    assert_eq!(orders.len(), 1, "never a second order");
    assert_eq!(orders[0]["SalesOrderNumber"], order["SalesOrderNumber"]);
    assert!(sim.staged_lines().is_empty());
    let st = stats(&sim).await;
    assert_eq!(count(&st, "POST SalesOrderHeader"), 1);
    assert_eq!(count(&st, "GET SalesOrderHeader"), 1);
    // Without a match key the outcome stays unknown: not resent, the run stops (the engine's
    // journal resolves it next time), and still one order.
    let header = rec(
        json!({"OrderDebtor": first_debtor(&sim), "YourReference": "WEB-LOST-2", "Warehouse": "1"}),
    );
    *proxy.stall.lock() = Stall::header();
    let err = client
        .create_document(
            "SalesOrderHeader",
            &header,
            "SalesOrderLine",
            &order_lines(&sim),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unavailable { .. }), "{err}");
    assert!(!err.is_record_error());
    let orders = sim
        .records("SalesOrderHeader")
        .into_iter()
        .filter(|o| o["YourReference"] == "WEB-LOST-2")
        .count();
    assert_eq!(orders, 1);
    assert_eq!(count(&stats(&sim).await, "POST SalesOrderHeader"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn updates_merge_only_the_writable_changes() {
    let sim = start(GlobeSimConfig::default()).await;
    let (base, seen) = proxy(&sim, None).await;
    let before = sim.records("Account")[0].clone();
    let id = before["ID"].clone();
    let changes =
        rec(json!({"accountname": "Hernoemd B.V.", "ModifiedDate": "/Date(0)/", "ID": id}));
    client(&base)
        .update("Account", &id, &changes)
        .await
        .unwrap();
    let after = sim
        .records("Account")
        .into_iter()
        .find(|a| a["ID"] == id)
        .unwrap();
    assert_eq!(after["AccountName"], "Hernoemd B.V.");
    assert_eq!(
        after["EmailAddress"], before["EmailAddress"],
        "other fields untouched"
    );
    let sent = seen.seen.lock().last().cloned().unwrap();
    assert_eq!(sent.method, "MERGE");
    assert_eq!(sent.body, json!({"AccountName": "Hernoemd B.V."}));

    let mut c = config(&base);
    c.merge_via_post = true;
    let tunnelled = ExactGlobeClient::new(c).unwrap();
    tunnelled
        .update(
            "Account",
            &id,
            &rec(json!({"PhoneNumber": "+31 30 1234567"})),
        )
        .await
        .unwrap();
    let sent = seen.seen.lock().last().cloned().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.headers["x-http-method"], "MERGE");
    let after = sim
        .records("Account")
        .into_iter()
        .find(|a| a["ID"] == id)
        .unwrap();
    assert_eq!(after["PhoneNumber"], "+31 30 1234567");
    assert_eq!(after["AccountName"], "Hernoemd B.V.");

    // Nothing writable: no call at all.
    let calls = seen.seen.lock().len();
    tunnelled
        .update("Account", &id, &rec(json!({"ModifiedDate": "/Date(0)/"})))
        .await
        .unwrap();
    assert_eq!(seen.seen.lock().len(), calls);
    assert_eq!(stats(&sim).await["by_method"]["MERGE"], 2);
    // Keys that are codes or numbers, not GUIDs.
    let code = sim.records("Item")[0]["ItemCode"]
        .as_str()
        .unwrap()
        .to_string();
    client(&base)
        .update("item", &json!(code), &rec(json!({"gtin": "8712345000014"})))
        .await
        .unwrap();
    let item = sim
        .records("Item")
        .into_iter()
        .find(|i| i["ItemCode"] == code.as_str())
        .unwrap();
    assert_eq!(item["GTIN"], "8712345000014");
    client(&base)
        .update(
            "ItemAssortment",
            &json!(3),
            &rec(json!({"Description": "Toebehoren"})),
        )
        .await
        .unwrap();
    let group = sim
        .records("ItemAssortment")
        .into_iter()
        .find(|a| a["Assortment"] == 3)
        .unwrap();
    assert_eq!(group["Description"], "Toebehoren");
    sim.shutdown().await;
}

#[tokio::test]
async fn refusals_carry_the_service_message_and_are_not_retried() {
    let sim = start(GlobeSimConfig::default()).await;
    let client = client(&sim.base_url());
    let err = client
        .create(
            "Item",
            &rec(json!({"ItemCode": "X-1", "CountrySpecificDescription": "x", "Bogus": 1})),
            None,
        )
        .await
        .unwrap_err();
    match err {
        ConnectorError::Refused {
            status: 400,
            message,
            ..
        } => {
            assert!(
                message.contains("No property 'Bogus' exists in type 'Exact.Metadata.Entity.Item'"),
                "{message}"
            )
        }
        other => panic!("{other}"),
    }
    assert_eq!(stats(&sim).await["total"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn transient_failures_are_retried_with_a_bound() {
    // 503s (with Retry-After: 1) and dropped connections on reads and merges: retried.
    let sim = start(faulty("status503=0.3,drop=0.2")).await;
    let mut c = config(&sim.base_url());
    c.max_retries = 12;
    c.page_size = 4;
    let client = ExactGlobeClient::new(c).unwrap();
    let all = client
        .query("Account", None, &[], None, None)
        .await
        .unwrap();
    assert_eq!(all.len(), sim.records("Account").len());
    let id = all[0]["ID"].clone();
    client
        .update("Account", &id, &rec(json!({"AccountName": "Na 503"})))
        .await
        .unwrap();
    let st = stats(&sim).await;
    let pages = all.len().div_ceil(4) as u64;
    assert!(
        st["total"].as_u64().unwrap() > pages + 1,
        "some calls failed and were retried: {st}"
    );
    assert_eq!(client.calls().total(), st["total"].as_u64().unwrap());
    sim.shutdown().await;

    // The "needs a restart" state does not go away by itself: bounded, then a clear error.
    let sim = start(faulty("restart=1")).await;
    let err = client_with_retries(&sim, 2)
        .query("Item", None, &[], None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("must be restarted"), "{err}");
    assert_eq!(stats(&sim).await["total"], 3);
    sim.shutdown().await;

    // A record locked by another user: retried, then reported.
    let sim = start(faulty("locked=1")).await;
    let id = sim.records("Account")[0]["ID"].clone();
    let err = client_with_retries(&sim, 2)
        .update("Account", &id, &rec(json!({"AccountName": "x"})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
    assert_eq!(count(&stats(&sim).await, "MERGE Account(key)"), 3);
    sim.shutdown().await;
}

fn client_with_retries(sim: &GlobeSim, retries: u32) -> ExactGlobeClient {
    let mut c = config(&sim.base_url());
    c.max_retries = retries;
    ExactGlobeClient::new(c).unwrap()
}

#[tokio::test]
async fn fetch_pages_changes_since_a_cursor() {
    let sim = start(GlobeSimConfig::default()).await;
    let mut c = config(&sim.base_url());
    c.page_size = 5;
    let client = ExactGlobeClient::new(c).unwrap();
    let mut query = FetchQuery {
        entity: "account".into(),
        ..Default::default()
    };
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let page = client.fetch_page(&query).await.unwrap();
        seen += page.records.len();
        pages += 1;
        query.cursor = page.cursor.clone();
        if !page.more {
            break;
        }
    }
    assert_eq!(seen, sim.records("Account").len());
    assert_eq!(pages, seen.div_ceil(5));
    assert!(query.cursor.is_some(), "a cursor to continue from");

    let target = sim.records("Account")[3]["ID"]
        .as_str()
        .unwrap()
        .to_string();
    sim.update("Account", &target, json!({"AccountName": "Gewijzigd"}))
        .unwrap();
    let mut changed = Vec::new();
    loop {
        let page = client.fetch_page(&query).await.unwrap();
        changed.extend(page.records);
        query.cursor = page.cursor.clone();
        if !page.more {
            break;
        }
    }
    assert_eq!(changed.len(), 1, "only the change: {changed:?}");
    assert_eq!(changed[0]["ID"], target.as_str());
    assert_eq!(changed[0]["AccountName"], "Gewijzigd");
    // Nothing changed since: nothing handed out, one call.
    let before = client.calls().reads;
    let page = client.fetch_page(&query).await.unwrap();
    assert!(page.records.is_empty() && !page.more, "{:?}", page.records);
    assert_eq!(client.calls().reads, before + 1);

    // An entity without ModifiedDate is read by key, in full; lines attached on request.
    let header =
        rec(json!({"OrderDebtor": first_debtor(&sim), "YourReference": "WEB-X", "Warehouse": "1"}));
    client
        .create_document(
            "SalesOrder",
            &header,
            "SalesOrderLine",
            &order_lines(&sim),
            None,
        )
        .await
        .unwrap();
    let query = FetchQuery {
        entity: "SalesOrderHeader".into(),
        expand: vec!["SalesOrderLine".into()],
        ..Default::default()
    };
    let before = client.calls().reads;
    let page = client.fetch_page(&query).await.unwrap();
    assert!(
        !page.more && page.cursor.is_none(),
        "no cursor without a modified time"
    );
    assert_eq!(page.records.len(), 1);
    assert_eq!(
        page.records[0]["SalesOrderLine"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        client.calls().reads,
        before + 2,
        "headers, then all their lines in one batch"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn fetch_command_reads_through_the_client() {
    let sim = start(GlobeSimConfig::default()).await;
    let debtor = first_debtor(&sim);
    let run = |args: Vec<String>| {
        let base = sim.base_url();
        tokio::task::spawn_blocking(move || {
            assert_cmd::Command::cargo_bin("exflow")
                .unwrap()
                .args(args)
                .env("EXACT_GLOBE_BASE_URL", base)
                .env("EXACT_GLOBE_USER", "exflow")
                .env("EXACT_GLOBE_PASSWORD", "exflow")
                .env_remove("EXACT_GLOBE_SERVER")
                .env_remove("EXACT_GLOBE_DATABASE")
                .env_remove("EXACT_GLOBE_AUTH")
                .output()
                .unwrap()
        })
    };
    let args = [
        "fetch",
        "exact_globe",
        "account",
        "--top",
        "3",
        "--select",
        "accountname,debtornumber",
        "--format",
        "json",
    ];
    let out = run(args.iter().map(|s| s.to_string()).collect())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["records"].as_array().unwrap().len(), 3);
    assert!(doc["records"][0]["AccountName"].is_string());

    let key = format!("DebtorNumber={debtor}");
    let out = run(vec![
        "fetch".into(),
        "exact_globe".into(),
        "Account".into(),
        "--key".into(),
        key,
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "the unpadded code was padded"
    );

    let out = run(vec![
        "fetch".into(),
        "exact_globe".into(),
        "Account".into(),
        "--filter".into(),
        "Bogus eq 1".into(),
    ])
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "a refusal is a failed run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Bogus"));
    let out = run(vec!["fetch".into(), "nowhere".into(), "Account".into()])
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = run(vec![
        "fetch".into(),
        "exact_globe".into(),
        "VAT".into(),
        "--globe-auth".into(),
        "ntlm".into(),
        "--globe-user".into(),
        "EXACT\\exflow".into(),
        "--format".into(),
        "json".into(),
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["calls"]["reads"], 2,
        "NEGOTIATE, then AUTHENTICATE with the request"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_line_answer_is_resolved_before_the_header() {
    for forward in [true, false] {
        let sim = start(GlobeSimConfig::default()).await;
        let stall = Stall {
            suffix: "/SalesOrderLine",
            skip: 1,
            forward,
        };
        let (base, _) = proxy(&sim, Some(stall)).await;
        let mut c = config(&base);
        c.request_timeout = Duration::from_millis(800);
        let client = ExactGlobeClient::new(c).unwrap();
        let header = rec(
            json!({"OrderDebtor": first_debtor(&sim), "YourReference": "WEB-L", "Warehouse": "1"}),
        );
        let order = client
            .create_document(
                "SalesOrderHeader",
                &header,
                "SalesOrderLine",
                &order_lines(&sim),
                None,
            )
            .await
            .unwrap();
        let number = order["SalesOrderNumber"].as_str().unwrap();
        let lines = sim
            .records("SalesOrderLine")
            .into_iter()
            .filter(|l| l["SalesOrderNumber"] == number)
            .count();
        assert_eq!(lines, 3, "each line once (forwarded: {forward})");
        assert!(sim.staged_lines().is_empty());
        let st = stats(&sim).await;
        // Committed: found staged, not sent again. Never arrived: sent again. Either way
        // the service saw each line once.
        assert_eq!(count(&st, "POST SalesOrderLine"), 3);
        assert_eq!(count(&st, "GET SalesOrderLine"), 1);
        assert_eq!(
            client.calls().writes,
            if forward { 4 } else { 5 },
            "the client's own count includes the stalled try"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn ntlm_authenticates_the_connection_once() {
    let sim = start(GlobeSimConfig::default()).await;
    let mut c = config(&sim.base_url());
    c.auth = GlobeAuth::Ntlm;
    c.user = "EXACT\\exflow".into();
    let client = ExactGlobeClient::new(c.clone()).unwrap();
    for _ in 0..3 {
        let page = client.query("VAT", None, &[], None, Some(2)).await.unwrap();
        assert_eq!(page.len(), 2);
    }
    let item = rec(json!({"ItemCode": "NTLM-1", "CountrySpecificDescription": "Via NTLM"}));
    client.create("Item", &item, None).await.unwrap();
    let st = stats(&sim).await;
    // NEGOTIATE (401 + CHALLENGE) and AUTHENTICATE once; then the connection is trusted.
    assert_eq!(st["total"], 5, "{st}");
    assert_eq!(st["status"]["401"], 1, "{st}");
    assert_eq!(client.calls().total(), 5);

    c.password = "wrong".into();
    let err = ExactGlobeClient::new(c)
        .unwrap()
        .query("VAT", None, &[], None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn documents_survive_503s_without_duplicates() {
    let sim = start(faulty("status503=0.3")).await;
    let mut c = config(&sim.base_url());
    c.max_retries = 12;
    let client = ExactGlobeClient::new(c).unwrap();
    let header = rec(
        json!({"OrderDebtor": first_debtor(&sim), "YourReference": "WEB-503", "Warehouse": "1"}),
    );
    let key = MatchKey {
        field: "YourReference".into(),
        value: json!("WEB-503"),
    };
    let order = client
        .create_document(
            "SalesOrderHeader",
            &header,
            "SalesOrderLine",
            &order_lines(&sim),
            Some(&key),
        )
        .await
        .unwrap();
    let number = order["SalesOrderNumber"].as_str().unwrap();
    let lines = sim
        .records("SalesOrderLine")
        .into_iter()
        .filter(|l| l["SalesOrderNumber"] == number)
        .count();
    assert_eq!(lines, 3);
    assert_eq!(sim.records("SalesOrderHeader").len(), 1);
    assert!(sim.staged_lines().is_empty());
    let st = stats(&sim).await;
    assert!(
        st["status"]["503"].as_u64().unwrap_or(0) > 0,
        "some were refused and retried: {st}"
    );
    sim.shutdown().await;
}
