//! A failing 10 MB record must not grow the state file by its size on every run that meets
//! it again: the activity log keeps a capped form (with a marker), the retry list the one
//! full copy it needs. Uses only APIs that existed before the cap, so it fails on a build
//! without it (74 -> 168 MB over three reruns was the report).

use exflow::cli::connect::{connectors, state_store};
use exflow::engine::{run_pipeline, RunOptions};
use exflow::pipeline;
use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use exflow::state::{SqliteStore, StateStore};
use serde_json::json;
use std::path::Path;

/// Bytes of the database in use (pages not on the free list), WAL included.
fn used_bytes(store: &SqliteStore) -> i64 {
    store.with_connection(|c| {
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        (q("PRAGMA page_count") - q("PRAGMA freelist_count")) * q("PRAGMA page_size")
    })
}

#[tokio::test]
async fn a_large_failing_record_is_kept_once_not_logged_whole_on_every_run() {
    let online = OnlineSim::start(
        OnlineSimConfig {
            orders: 0,
            customers: 0,
            products: 3,
            minutely_limit: 10_000,
            daily_limit: 100_000,
            ..OnlineSimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let globe = GlobeSim::start(GlobeSimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.path().join("pipelines/tables")).unwrap();
    std::fs::copy(
        root.join("pipelines/products.yaml"),
        dir.path().join("pipelines/products.yaml"),
    )
    .unwrap();
    for e in std::fs::read_dir(root.join("pipelines/tables")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(
            e.path(),
            dir.path().join("pipelines/tables").join(e.file_name()),
        )
        .unwrap();
    }
    let yaml = format!(
        "project: size\nstate: .exflow/state.db\n\
         connections:\n  exact_online:\n    base_url: {}\n    division: {}\n    client_id: exflow-sim\n    \
         client_secret: exflow-sim-secret\n    redirect_uri: http://127.0.0.1:9/callback\n    daily_reserve: 10\n  \
         exact_globe:\n    base_url: {}\n    server_name: localhost\n    database_name: \"500\"\n    \
         user: exflow\n    password: exflow\n\
         vars:\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n",
        online.base_url(),
        online.division(),
        globe.base_url()
    );
    std::fs::write(dir.path().join("exflow.yaml"), yaml).unwrap();
    let (access, refresh) = online.issue_tokens();
    let now = chrono::Utc::now().timestamp();
    TokenStore::open(&dir.path().join(".exflow/state.db"))
        .unwrap()
        .save(
            "exact_online:exflow-sim",
            &StoredToken {
                access_token: access,
                refresh_token: refresh,
                access_expires_at: now + 600,
                refreshed_at: now,
            },
        )
        .unwrap();

    // An item with 10 MB of notes whose code Exact Globe refuses.
    let notes = "Lorem ipsum dolor sit amet. ".repeat(10 * 1024 * 1024 / 28);
    let item = online
        .insert(
            "Items",
            json!({"Code": "X".repeat(60), "Description": "Huge", "Notes": notes,
                   "IsSalesItem": true, "IsStockItem": true}),
        )
        .unwrap();
    let id = item["ID"].as_str().unwrap().to_string();

    let project = pipeline::load_project(dir.path()).unwrap_or_else(|d| panic!("{d}"));
    let products = project.pipeline("products").unwrap();
    let conns = connectors(&project, &[products]).await.unwrap();
    let store = state_store(&project).unwrap();
    let run = || run_pipeline(&project, products, &conns, &store, RunOptions::default());
    let first = run().await.unwrap();
    assert_eq!(first.total_failed(), 1, "{first}");
    let after_first = used_bytes(&store);

    // The activity log keeps a marker, not the 10 MB; the retry list the whole record.
    let log = store.activity(first.run_id.unwrap()).unwrap();
    let failed: Vec<_> = log
        .iter()
        .filter(|a| a.error.is_some() && a.source_payload.is_some())
        .collect();
    assert!(!failed.is_empty(), "{log:?}");
    for a in &log {
        for payload in [&a.source_payload, &a.sent_payload, &a.target_response]
            .into_iter()
            .flatten()
        {
            let size = payload.to_string().len();
            assert!(size < 100_000, "the log keeps {size} bytes of one payload");
        }
    }
    let retry = store.retry_list("products").unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(
        retry[0].payload["Notes"].as_str().map(str::len),
        Some(notes.len())
    );

    // Three more runs meet it again (it changes at the source, so the cursor brings it
    // each time): the state grows by far less than the record, not by its size each run.
    for i in 0..3 {
        online
            .update("Items", &id, json!({"Description": format!("Huge {i}")}))
            .unwrap();
        let r = run().await.unwrap();
        assert!(r.total_failed() >= 1, "{r}");
    }
    let growth = used_bytes(&store) - after_first;
    println!("state in use: {after_first} bytes after the first run, +{growth} after three more");
    assert!(
        growth < 2 * 1024 * 1024,
        "three reruns grew the state by {growth} bytes (from {after_first})"
    );
}
