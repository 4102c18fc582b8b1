//! Goods deliveries: created, read, synced and bulk-read through HTTP; they move the order's
//! delivered quantities, `DeliveryStatus` and `Status` (12 open, 20 partial, 21 complete).

mod sim_online_support;

use reqwest::Method;
use serde_json::{json, Value};
use sim_online_support::{message, small, start, Api};

fn max_ts(body: &Value) -> i64 {
    Api::rows(body)
        .iter()
        .filter_map(|r| r["Timestamp"].as_str()?.parse().ok())
        .max()
        .unwrap_or(1)
}

#[tokio::test]
async fn deliveries_move_an_order_from_open_to_partial_to_complete() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let order = sim
        .records("SalesOrders")
        .into_iter()
        .find(|o| {
            o["Status"] == json!(12)
                && sim
                    .records("SalesOrderLines")
                    .iter()
                    .filter(|l| l["OrderID"] == o["OrderID"])
                    .count()
                    >= 2
        })
        .expect("an open order of two lines or more");
    let id = order["OrderID"].as_str().expect("id").to_string();
    let order_path = format!("salesorder/SalesOrders(guid'{id}')?$expand=SalesOrderLines");
    let (_, body) = api.get(&order_path).await;
    let lines = body["d"]["SalesOrderLines"]["results"]
        .as_array()
        .expect("lines")
        .clone();
    let (_, body) = api
        .get("sync/SalesOrder/GoodsDeliveries?$select=Timestamp&$filter=Timestamp gt 1L")
        .await;
    let cursor = max_ts(&body);
    let (_, body) = api
        .get("sync/SalesOrder/GoodsDeliveryLines?$select=Timestamp&$filter=Timestamp gt 1L")
        .await;
    let line_cursor = max_ts(&body);
    let (_, body) = api
        .get("sync/SalesOrder/SalesOrderHeaders?$select=Timestamp&$filter=Timestamp gt 1L")
        .await;
    let order_cursor = max_ts(&body);

    // First delivery: the first line in full.
    let first = json!({"DeliveryDate": "2026-11-20T09:00:00", "TrackingNumber": "3SABC123",
        "GoodsDeliveryLines": [{"SalesOrderLineID": lines[0]["ID"], "QuantityDelivered": lines[0]["Quantity"]}]});
    let (status, body) = api
        .send(Method::POST, "salesorder/GoodsDeliveries", &first)
        .await;
    assert_eq!(status, 201, "{body}");
    let d = &body["d"];
    let entry = d["EntryID"].as_str().expect("EntryID").to_string();
    assert!(d["DeliveryNumber"].as_i64().is_some_and(|n| n > 0), "{d}");
    assert_eq!(d["DeliveryAccount"], order["DeliverTo"]);
    let dl = &d["GoodsDeliveryLines"]["results"][0];
    assert_eq!(dl["SalesOrderNumber"], order["OrderNumber"]);
    assert_eq!(dl["SalesOrderLineNumber"], json!(1));
    assert_eq!(dl["QuantityOrdered"], lines[0]["Quantity"]);
    assert_eq!(dl["Item"], lines[0]["Item"]);
    assert_eq!(dl["EntryID"], json!(entry));

    let (_, body) = api.get(&order_path).await;
    let o = &body["d"];
    assert_eq!(
        (o["DeliveryStatus"].clone(), o["Status"].clone()),
        (json!(20), json!(20)),
        "partial"
    );
    assert_eq!(o["StatusDescription"], json!("Partial"));
    let l0 = &o["SalesOrderLines"]["results"][0];
    assert_eq!(l0["QuantityDelivered"], lines[0]["Quantity"]);
    assert_eq!(l0["DeliveryStatus"], json!(21));
    assert_eq!(
        o["SalesOrderLines"]["results"][1]["DeliveryStatus"],
        json!(12)
    );

    // Read back: single, navigation to lines, lines endpoint by EntryID.
    let (status, body) = api
        .get(&format!("salesorder/GoodsDeliveries(guid'{entry}')"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["d"]["TrackingNumber"], json!("3SABC123"));
    let (_, body) = api
        .get(&format!(
            "salesorder/GoodsDeliveries(guid'{entry}')/GoodsDeliveryLines"
        ))
        .await;
    assert_eq!(Api::rows(&body).len(), 1);
    let (_, body) = api
        .get(&format!(
            "salesorder/GoodsDeliveryLines?$filter=EntryID eq guid'{entry}'"
        ))
        .await;
    assert_eq!(Api::rows(&body).len(), 1, "{body}");

    // Sync: only the new delivery and its line come after the cursor; the order moved too.
    let (status, body) = api
        .get(&format!("sync/SalesOrder/GoodsDeliveries?$select=Timestamp,EntryID,DeliveryNumber&$filter=Timestamp gt {cursor}L"))
        .await;
    assert_eq!(status, 200, "{body}");
    let rows = Api::rows(&body);
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["EntryID"], json!(entry));
    let (_, body) = api
        .get(&format!("sync/SalesOrder/GoodsDeliveryLines?$select=Timestamp,EntryID,SalesOrderLineID,QuantityDelivered&$filter=Timestamp gt {line_cursor}L"))
        .await;
    let rows = Api::rows(&body);
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["SalesOrderLineID"], lines[0]["ID"]);
    let (_, body) = api
        .get(&format!("sync/SalesOrder/SalesOrderHeaders?$select=Timestamp,OrderID,Status,DeliveryStatus&$filter=Timestamp gt {order_cursor}L"))
        .await;
    assert!(
        Api::rows(&body)
            .iter()
            .any(|r| r["OrderID"] == json!(id) && r["DeliveryStatus"] == json!(20)),
        "{body}"
    );
    // Bulk: $select mandatory, 1000 a page.
    let (status, body) = api
        .get(&format!("bulk/SalesOrder/GoodsDeliveries?$select=EntryID,DeliveryNumber,DeliveryAccount&$filter=EntryID eq guid'{entry}'"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(Api::rows(&body).len(), 1);
    let (status, _) = api.get("bulk/SalesOrder/GoodsDeliveries").await;
    assert_eq!(status, 400, "bulk without $select");
    let (status, body) = api
        .get(&format!("bulk/SalesOrder/GoodsDeliveryLines?$select=ID,QuantityDelivered&$filter=EntryID eq guid'{entry}'"))
        .await;
    assert_eq!((status, Api::rows(&body).len()), (200, 1), "{body}");

    // A line delivered in full can not be delivered again; nothing else changes.
    let again = json!({"GoodsDeliveryLines": [{"SalesOrderLineID": lines[0]["ID"], "QuantityDelivered": 1}]});
    let (status, body) = api
        .send(Method::POST, "salesorder/GoodsDeliveries", &again)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("delivered completely"), "{body}");
    let (status, body) = api
        .send(
            Method::POST,
            "salesorder/GoodsDeliveries",
            &json!({"DeliveryDate": "2026-11-21T00:00:00"}),
        )
        .await;
    assert_eq!(
        (status, message(&body)),
        (400, "Mandatory: GoodsDeliveryLines")
    );

    // Second delivery: the rest, the last line in two parts (one posted on its own).
    let mut rest: Vec<Value> = lines[1..]
        .iter()
        .map(|l| json!({"SalesOrderLineID": l["ID"], "QuantityDelivered": l["Quantity"]}))
        .collect();
    let last = lines.last().expect("last").clone();
    let last_qty = last["Quantity"].as_f64().expect("qty");
    let part = if last_qty > 1.0 { 1.0 } else { last_qty };
    rest.last_mut().expect("rest")["QuantityDelivered"] = json!(part);
    let (status, body) = api
        .send(
            Method::POST,
            "salesorder/GoodsDeliveries",
            &json!({"GoodsDeliveryLines": rest}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let second = body["d"]["EntryID"].clone();
    if part < last_qty {
        let (_, body) = api.get(&order_path).await;
        assert_eq!(body["d"]["Status"], json!(20), "one line still partly open");
        let line = json!({"EntryID": second, "SalesOrderLineID": last["ID"], "QuantityDelivered": last_qty - part});
        let (status, body) = api
            .send(Method::POST, "salesorder/GoodsDeliveryLines", &line)
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, body) = api.get(&order_path).await;
    let o = &body["d"];
    assert_eq!(
        (o["DeliveryStatus"].clone(), o["Status"].clone()),
        (json!(21), json!(21)),
        "complete"
    );
    assert_eq!(o["DeliveryStatusDescription"], json!("Complete"));
    for l in o["SalesOrderLines"]["results"].as_array().expect("lines") {
        assert_eq!(l["QuantityDelivered"], l["Quantity"], "{l}");
    }
    // A complete order can not be changed any more.
    let (status, _) = api
        .send(
            Method::PUT,
            &format!("salesorder/SalesOrders(guid'{id}')"),
            &json!({"Description": "te laat"}),
        )
        .await;
    assert_eq!(status, 400);
    // Deliveries can not be deleted through the API.
    let (status, _) = api
        .send(
            Method::DELETE,
            &format!("salesorder/GoodsDeliveries(guid'{entry}')"),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn seeded_orders_have_the_deliveries_their_status_says() {
    let sim = start(small()).await;
    let deliveries = sim.records("GoodsDeliveryLines");
    let lines = sim.records("SalesOrderLines");
    let mut partial = 0;
    for o in sim.records("SalesOrders") {
        let own: Vec<&Value> = lines
            .iter()
            .filter(|l| l["OrderID"] == o["OrderID"])
            .collect();
        let delivered = |l: &Value| l["QuantityDelivered"].as_f64().unwrap_or(0.0);
        match o["Status"].as_i64() {
            Some(21) => {
                assert!(
                    own.iter()
                        .all(|l| delivered(l) >= l["Quantity"].as_f64().unwrap_or(0.0)),
                    "{o}"
                );
                assert!(own
                    .iter()
                    .all(|l| deliveries.iter().any(|d| d["SalesOrderLineID"] == l["ID"])));
            }
            Some(12) | Some(45) => assert!(own.iter().all(|l| delivered(l) == 0.0), "{o}"),
            Some(20) => {
                if own.iter().any(|l| delivered(l) > 0.0) {
                    partial += 1;
                }
            }
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert!(partial > 0, "some orders are partly delivered");
    // There are open orders left to deliver.
    assert!(sim
        .records("SalesOrders")
        .iter()
        .any(|o| o["Status"] == json!(12)));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_delivery_triggers_its_webhook_and_the_orders() {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let receiver = tokio::spawn(async move { axum::serve(listener, app).await });
    let sim = start(small()).await;
    let api = Api::new(&sim);
    for topic in ["GoodsDeliveries", "SalesOrders"] {
        let (status, body) = api
            .send(
                Method::POST,
                "webhooks/WebhookSubscriptions",
                &json!({"CallbackURL": hook, "Topic": topic}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(rx.recv().await.expect("validation"), "");
    }
    let line = sim
        .records("SalesOrderLines")
        .into_iter()
        .find(|l| {
            l["OrderStatus"] == json!(12)
                && l["DeliveryStatus"] == json!(12)
                && l["Quantity"].as_f64().is_some_and(|q| q > 0.0)
        })
        .expect("an open line");
    let (status, body) = api
        .send(
            Method::POST,
            "salesorder/GoodsDeliveries",
            &json!({"GoodsDeliveryLines": [{"SalesOrderLineID": line["ID"], "QuantityDelivered": line["Quantity"]}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let entry = body["d"]["EntryID"].clone();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let text = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("in time")
            .expect("delivery");
        let v: Value = serde_json::from_str(&text).expect("json");
        seen.push((
            v["Content"]["Topic"].clone(),
            v["Content"]["Action"].clone(),
            v["Content"]["Key"].clone(),
        ));
    }
    assert!(
        seen.contains(&(json!("GoodsDeliveries"), json!("Create"), entry)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(
            json!("SalesOrders"),
            json!("Update"),
            line["OrderID"].clone()
        )),
        "{seen:?}"
    );
    sim.shutdown().await;
    receiver.abort();
}
