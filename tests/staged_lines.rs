//! Staged Globe document lines never outlive a run: a run killed between the lines and the
//! header, or one whose line answers are lost (the first one too), leaves lines staged
//! under the TransactionKey it journalled, and the next run deletes them before it writes
//! the order again. Both simulators on 127.0.0.1 port 0, the standard pipelines, a real
//! SQLite state file; staged lines are counted through the simulator's `GET /_sim/staged`.

mod common;

use common::{env, load, small_online, Env};
use exflow::cli::connect::{connectors, state_store};
use exflow::engine::{run_pipeline, RunOptions};
use exflow::sim::exact_globe::{Faults, GlobeSimConfig};
use exflow::state::StateStore;
use serde_json::Value;
use std::collections::BTreeMap;

/// Lines staged under a TransactionKey no header committed, as the simulator's hook says.
async fn staged(env: &Env) -> u64 {
    let url = format!("{}/_sim/staged", env.globe.base_url());
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body["count"].as_u64().unwrap()
}

/// The TransactionKeys of the staged lines, for failure messages.
fn staged_keys(env: &Env) -> Vec<Value> {
    let lines = env.globe.staged_lines();
    lines.iter().map(|l| l["TransactionKey"].clone()).collect()
}

/// Committed Globe orders per YourReference.
fn orders_by_reference(env: &Env) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for h in env.globe.records("SalesOrderHeader") {
        let r = h["YourReference"].as_str().unwrap_or_default().trim();
        *counts.entry(r.to_string()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn a_run_killed_between_lines_and_header_leaves_no_staged_lines() {
    use rand::{Rng, SeedableRng};
    let mut left_by_kills = 0;
    for seed in [7u64, 8, 9] {
        // A few milliseconds per call puts most kill points inside a document.
        let globe = GlobeSimConfig {
            faults: Faults {
                latency: std::time::Duration::from_millis(3),
                ..Faults::default()
            },
            ..GlobeSimConfig::default()
        };
        let env = env(small_online(), globe, "null").await;
        let project = load(&env);
        let pipelines: Vec<_> = project.pipelines.iter().collect();
        let conns = connectors(&project, &pipelines).await.unwrap();
        let store = state_store(&project).unwrap();
        let products = project.pipeline("products").unwrap();
        run_pipeline(&project, products, &conns, &store, RunOptions::default())
            .await
            .unwrap();
        let orders = project.pipeline("orders").unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..5 {
            // Dropping the run at an await point is what a kill -9 leaves behind.
            let after = std::time::Duration::from_millis(rng.gen_range(20..400));
            let run = run_pipeline(&project, orders, &conns, &store, RunOptions::default());
            let _ = tokio::time::timeout(after, run).await;
            left_by_kills += staged(&env).await;
        }
        let r = run_pipeline(&project, orders, &conns, &store, RunOptions::default())
            .await
            .unwrap();
        assert_eq!(r.total_failed(), 0, "seed {seed}: {r}");
        assert_eq!(
            staged(&env).await,
            0,
            "seed {seed}: {:?}",
            staged_keys(&env)
        );
        assert!(store.journal_open("orders").unwrap().is_empty());
        let counts = orders_by_reference(&env);
        assert!(!counts.is_empty());
        for (reference, n) in counts {
            assert_eq!(n, 1, "seed {seed}: order {reference} written {n} times");
        }
    }
    assert!(
        left_by_kills > 0,
        "no kill landed between a line and its header"
    );
}

#[tokio::test]
async fn lost_line_answers_leave_no_staged_lines() {
    // Every third create is committed but its answer never arrives, first lines included.
    let globe = GlobeSimConfig {
        faults: Faults {
            lost_post: 0.35,
            ..Faults::default()
        },
        ..GlobeSimConfig::default()
    };
    let env = env(small_online(), globe, "null").await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();
    for name in ["products", "orders"] {
        let p = project.pipeline(name).unwrap();
        // A run stopped by an answer lost too often is resumed by the next one.
        let mut clean = false;
        for _ in 0..8 {
            if let Ok(r) = run_pipeline(&project, p, &conns, &store, RunOptions::default()).await {
                if r.total_failed() == 0 && r.retried == 0 {
                    clean = true;
                    break;
                }
            }
        }
        assert!(clean, "{name} never ran clean");
    }
    assert_eq!(staged(&env).await, 0, "{:?}", staged_keys(&env));
    assert!(store.journal_open("orders").unwrap().is_empty());
    let counts = orders_by_reference(&env);
    assert!(!counts.is_empty());
    for (reference, n) in counts {
        assert_eq!(n, 1, "order {reference} written {n} times");
    }
}

#[tokio::test]
async fn locked_headers_and_deletes_leave_no_staged_lines() {
    // A third of header commits and deletes meet a locked record: refused headers leave
    // lines whose delete may be refused too; the next run deletes what is left.
    let globe = GlobeSimConfig {
        faults: Faults {
            locked: 0.35,
            ..Faults::default()
        },
        ..GlobeSimConfig::default()
    };
    let env = env(small_online(), globe, "null").await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();
    for name in ["products", "orders"] {
        let p = project.pipeline(name).unwrap();
        // A run stopped by an answer lost too often is resumed by the next one.
        let mut clean = false;
        for _ in 0..12 {
            if let Ok(r) = run_pipeline(&project, p, &conns, &store, RunOptions::default()).await {
                if r.total_failed() == 0 && r.retried == 0 {
                    clean = true;
                    break;
                }
            }
        }
        assert!(clean, "{name} never ran clean");
    }
    assert_eq!(staged(&env).await, 0, "{:?}", staged_keys(&env));
    assert!(store.journal_open("orders").unwrap().is_empty());
    let counts = orders_by_reference(&env);
    assert!(!counts.is_empty());
    for (reference, n) in counts {
        assert_eq!(n, 1, "order {reference} written {n} times");
    }
}
