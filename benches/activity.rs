//! The activity log at scale: 100,000 logged records (ten runs of 10,000 orders, 2% failed,
//! a 1.5 KB source payload and what was sent each) in a SQLite state file, then the queries
//! `exflow activity` makes: the newest page, a page deep in the log, failed records of one
//! pipeline, one run's failures, one record by its order number. Prints the file's size.
//! Then the dashboard's pages over the same log, through its router (HTML rendered): a run,
//! a run's failures, a search by order number, a record with its payloads.

use axum::body::{to_bytes, Body};
use axum::http::Request;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use exflow::state::{Activity, ActivityQuery, Outcome, SqliteStore, StateStore};
use exflow::web::dashboard::{
    router, Access, Actions, Budget, Connection, Dashboard, PipelineInfo, PlanView, RetryDone,
    FALLBACK_CALLBACK,
};
use serde_json::json;
use std::sync::Arc;
use tower::ServiceExt;

const RECORDS: i64 = 100_000;
const PER_RUN: i64 = 10_000;

fn order(n: i64) -> serde_json::Value {
    let lines: Vec<_> = (0..5)
        .map(|i| {
            json!({"ItemCode": format!("ART-{:05}", 1000 + i), "Description": "Office chair, black",
                   "Quantity": 1 + i, "UnitPrice": 49.95, "VATCode": "2", "DeliveryDate": "2026-03-01"})
        })
        .collect();
    json!({
        "OrderID": format!("5b8a7c2e-1d3f-4e6a-9b0c-{n:012}"), "OrderNumber": 100_000 + n,
        "OrderDate": "2026-02-27T10:15:00Z", "Description": format!("Web order {n}"),
        "PaymentCondition": "14", "ShippingMethod": "DHL", "Currency": "EUR",
        "SalesOrderLines": lines,
    })
}

/// A state file holding `RECORDS` activity lines; returns it with its folder.
fn filled() -> (tempfile::TempDir, SqliteStore, i64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path, false).unwrap();
    let mut middle_run = 0;
    // One transaction per run's lines: the fill is set-up, not what is measured.
    for r in 0..RECORDS / PER_RUN {
        let run = store.begin_run("orders").unwrap();
        if r == RECORDS / PER_RUN / 2 {
            middle_run = run;
        }
        store.with_connection(|c| c.execute_batch("BEGIN").unwrap());
        for i in 0..PER_RUN {
            let n = r * PER_RUN + i;
            let failed = n % 50 == 0;
            let source = order(n);
            store
                .log_activity(&Activity {
                    run,
                    pipeline: "orders".into(),
                    entity: "SalesOrderHeader".into(),
                    source_key: Some(format!("5b8a7c2e-1d3f-4e6a-9b0c-{n:012}")),
                    business_key: Some((100_000 + n).to_string()),
                    key_field: Some("YourReference".into()),
                    sent_payload: Some(json!({"YourReference": (100_000 + n).to_string(),
                        "OrderDebtor": "   12345", "Lines": source["SalesOrderLines"].clone()})),
                    source_payload: Some(source),
                    target_response: (!failed).then(|| json!({"SalesOrderNumber": n})),
                    changes: None,
                    outcome: if failed {
                        Outcome::Fail
                    } else {
                        Outcome::Create
                    },
                    error: failed.then(|| "item ART-01004 not found by ItemCode".to_string()),
                    at: Utc::now(),
                })
                .unwrap();
        }
        store.with_connection(|c| c.execute_batch("COMMIT").unwrap());
    }
    store.with_connection(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap());
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "state file with {RECORDS} activity lines: {:.1} MB ({} bytes a line)",
        size as f64 / 1e6,
        size / RECORDS as u64
    );
    (dir, store, middle_run)
}

fn bench(c: &mut Criterion) {
    let (_dir, store, middle_run) = filled();
    let page = |q: ActivityQuery| {
        let rows = store.activity_page(&q).unwrap();
        assert!(!rows.is_empty());
        rows.len()
    };
    let mut g = c.benchmark_group("activity_100k");
    g.bench_function("newest page", |b| {
        b.iter(|| {
            page(ActivityQuery {
                limit: 50,
                ..Default::default()
            })
        })
    });
    g.bench_function("page deep in the log, with payloads", |b| {
        b.iter(|| {
            page(ActivityQuery {
                before: Some(RECORDS / 3),
                payloads: true,
                limit: 50,
                ..Default::default()
            })
        })
    });
    g.bench_function("failed of one pipeline", |b| {
        b.iter(|| {
            page(ActivityQuery {
                pipeline: Some("orders".into()),
                outcome: Some(Outcome::Fail),
                limit: 50,
                ..Default::default()
            })
        })
    });
    g.bench_function("failed of one run", |b| {
        b.iter(|| {
            page(ActivityQuery {
                run: Some(middle_run),
                outcome: Some(Outcome::Fail),
                limit: 50,
                ..Default::default()
            })
        })
    });
    g.bench_function("one record by order number", |b| {
        b.iter(|| {
            page(ActivityQuery {
                record: Some("154321".into()),
                payloads: true,
                ..Default::default()
            })
        })
    });
    g.finish();
}

/// The service side the pages do not use here.
struct NoService;

#[async_trait::async_trait]
impl Actions for NoService {
    fn pipelines(&self) -> Vec<PipelineInfo> {
        Vec::new()
    }
    fn budgets(&self) -> Vec<Budget> {
        Vec::new()
    }
    async fn retry(&self, _: &str, _: Vec<String>) -> Result<RetryDone, String> {
        Err("not in a benchmark".into())
    }
    async fn plan(&self, _: &str) -> Result<PlanView, String> {
        Err("not in a benchmark".into())
    }
    fn connections(&self) -> Vec<Connection> {
        Vec::new()
    }
    fn online_authorize_url(&self, _: &str) -> Result<String, String> {
        Err("not in a benchmark".into())
    }
    fn online_callback_path(&self) -> String {
        FALLBACK_CALLBACK.into()
    }
    async fn online_connect(&self, _: &str) -> Result<String, String> {
        Err("not in a benchmark".into())
    }
    async fn globe_test(&self) -> Result<String, String> {
        Err("not in a benchmark".into())
    }
}

fn pages(c: &mut Criterion) {
    let (_dir, store, middle_run) = filled();
    let router = router(Dashboard {
        store: Arc::new(store),
        actions: Arc::new(NoService),
        access: Arc::new(Access::new(false, None)),
        logins: Arc::default(),
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let get = |uri: &str| {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        runtime.block_on(async {
            let answer = router.clone().oneshot(request).await.unwrap();
            assert_eq!(answer.status(), 200, "{uri}");
            to_bytes(answer.into_body(), usize::MAX)
                .await
                .unwrap()
                .len()
        })
    };
    let record = RECORDS / 3;
    let mut g = c.benchmark_group("dashboard_100k");
    for (name, uri) in [
        ("run page", format!("/runs/{middle_run}")),
        (
            "run page, failed",
            format!("/runs/{middle_run}?outcome=failed"),
        ),
        ("search by order number", "/search?q=154321".to_string()),
        ("record with payloads", format!("/records/{record}")),
    ] {
        g.bench_function(name, |b| b.iter(|| get(&uri)));
    }
    g.finish();
}

criterion_group!(benches, bench, pages);
criterion_main!(benches);
