//! Injected faults and the call counters.

use crate::*;

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
