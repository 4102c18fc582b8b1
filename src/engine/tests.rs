//! Engine unit tests over the in-memory fake connector: decisions, requires, journal
//! recovery, dry runs, cursors. Whole flows against the real simulators live in `tests/`.

use super::fake::FakeConnector;
use super::*;
use crate::connectors::System;
use crate::lang::{compile, parse, Program, Tables};
use crate::pipeline::{
    Each, Lines, MatchSpec, OnMatch, OnMissing, Pipeline, Require, Source, Target,
};
use crate::state::{SqliteStore, StateStore};
use serde_json::{json, Value};
use std::sync::Arc;

fn prog(src: &str) -> Program {
    compile(&parse(src).unwrap()).unwrap()
}

static TABLES: std::sync::LazyLock<Tables> = std::sync::LazyLock::new(Tables::new);

fn env() -> RunEnv<'static> {
    RunEnv {
        vars: json!({}),
        tables: &TABLES,
        scripts: None,
        retention_days: 30,
        // Runs here follow each other within milliseconds: no backoff between them.
        retry: crate::state::RetryPolicy {
            backoff: chrono::Duration::zero(),
            ..Default::default()
        },
    }
}

fn map(fields: &[(&str, &str)]) -> Vec<(String, Program)> {
    fields
        .iter()
        .map(|(f, e)| (f.to_string(), prog(e)))
        .collect()
}

/// The orders flow in small: Online SalesOrders -> Globe SalesOrder with lines, the
/// customer found by e-mail (created or updated), every item required to exist.
pub(super) fn orders() -> Pipeline {
    Pipeline {
        reads: Default::default(),
        name: "orders".into(),
        description: String::new(),
        file: "pipelines/orders.yaml".into(),
        source: Source {
            system: System::ExactOnline,
            entity: "SalesOrders".into(),
            filter: None,
            where_: Some(prog("Status == 12")),
            expand: vec!["SalesOrderLines".into()],
            joins: Vec::new(),
            complement: None,
        },
        target: Target {
            system: System::ExactGlobe,
            entity: "SalesOrderHeader".into(),
            lines: Some(Lines {
                entity: "SalesOrderLine".into(),
                field: "Lines".into(),
            }),
            match_: MatchSpec {
                field: "YourReference".into(),
                value: prog("text(OrderNumber)"),
            },
            on_match: OnMatch::Skip,
        },
        requires: vec![
            Require {
                name: "customer".into(),
                entity: "Account".into(),
                each: None,
                when: None,
                match_: MatchSpec {
                    field: "Email".into(),
                    value: prog("Email"),
                },
                on_missing: OnMissing::Create,
                on_match: OnMatch::Update,
                map: map(&[("Name", "CustomerName"), ("Email", "Email")]),
                create_only: Vec::new(),
            },
            Require {
                name: "items".into(),
                entity: "Item".into(),
                each: Some(Each {
                    list: prog("SalesOrderLines"),
                    binding: "line".into(),
                }),
                when: None,
                match_: MatchSpec {
                    field: "ItemCode".into(),
                    value: prog("line.ItemCode"),
                },
                on_missing: OnMissing::Fail,
                on_match: OnMatch::Skip,
                map: Vec::new(),
                create_only: Vec::new(),
            },
        ],
        map: map(&[
            ("YourReference", "text(OrderNumber)"),
            ("OrderDebtor", "customer.ID"),
            (
                "Lines",
                "SalesOrderLines | map(l => {ItemCode: l.ItemCode, Quantity: l.Quantity})",
            ),
        ]),
        create_only: Vec::new(),
        update_only_if_changed: true,
        schedule: None,
        defaults: Vec::new(),
    }
}

pub(super) fn order(n: u64, email: &str, name: &str, items: &[&str]) -> Value {
    json!({
        "ID": format!("o{n}"),
        "OrderNumber": n,
        "Status": 12,
        "Email": email,
        "CustomerName": name,
        "SalesOrderLines": items.iter().map(|i| json!({"ItemCode": i, "Quantity": 1})).collect::<Vec<_>>(),
    })
}

pub(super) struct World {
    pub online: Arc<FakeConnector>,
    pub globe: Arc<FakeConnector>,
    pub connectors: Connectors,
    pub store: SqliteStore,
}

pub(super) fn world(page_size: usize) -> World {
    let online = Arc::new(FakeConnector::new(System::ExactOnline, page_size));
    let globe = Arc::new(FakeConnector::new(System::ExactGlobe, page_size));
    globe.insert("Item", json!({"ItemCode": "A"}));
    globe.insert("Item", json!({"ItemCode": "B"}));
    globe.insert(
        "Account",
        json!({"ID": "acc-1", "Email": "known@x.nl", "Name": "Known BV"}),
    );
    let connectors = Connectors {
        exact_online: Some(online.clone()),
        exact_globe: Some(globe.clone()),
    };
    World {
        online,
        globe,
        connectors,
        store: SqliteStore::in_memory(false).unwrap(),
    }
}

pub(super) async fn run(w: &World, p: &Pipeline, dry_run: bool) -> Result<RunReport, EngineError> {
    let options = RunOptions {
        dry_run,
        ..RunOptions::default()
    };
    run_with_env(&env(), p, &w.connectors, &w.store, options).await
}

fn seed_orders(w: &World) {
    w.online
        .insert("SalesOrders", order(1, "known@x.nl", "Known BV", &["A"]));
    w.online
        .insert("SalesOrders", order(2, "new@x.nl", "New", &["A", "B"]));
    w.online
        .insert("SalesOrders", order(3, "new@x.nl", "New", &["B"]));
    w.online.insert(
        "SalesOrders",
        order(4, "other@x.nl", "Other", &["A", "ZZ-9", "QQ"]),
    );
    let mut draft = order(5, "known@x.nl", "Known BV", &["A"]);
    draft["Status"] = json!(20);
    w.online.insert("SalesOrders", draft);
}

#[tokio::test]
async fn orders_are_created_once_with_their_customer_and_items_checked() {
    let w = world(2);
    seed_orders(&w);
    let p = orders();
    let r = run(&w, &p, false).await.unwrap();
    let c = r.entities["SalesOrderHeader"];
    assert_eq!((c.created, c.skipped, c.failed), (3, 1, 1), "{r}");
    // The new customer of orders 2 and 3 is created once. Requires resolve in order, so
    // order 4's customer is created before its items are found missing.
    let accounts = w.globe.records("Account");
    assert_eq!(accounts.len(), 3);
    assert_eq!(
        accounts.iter().filter(|a| a["Email"] == "new@x.nl").count(),
        1
    );
    let orders = w.globe.records("SalesOrderHeader");
    assert_eq!(orders.len(), 3);
    let o2 = orders.iter().find(|o| o["YourReference"] == "2").unwrap();
    let new_id = &accounts.iter().find(|a| a["Email"] == "new@x.nl").unwrap()["ID"];
    assert_eq!(&o2["OrderDebtor"], new_id);
    assert_eq!(o2["__line_count"], 2);
    assert!(!o2.contains_key("Lines"));
    // The failure names every missing item code and is in the activity log.
    let log = w.store.activity(r.run_id.unwrap()).unwrap();
    let failed: Vec<_> = log
        .iter()
        .filter(|a| a.outcome == crate::state::Outcome::Fail)
        .collect();
    assert_eq!(failed.len(), 1);
    let reason = failed[0].error.as_deref().unwrap();
    assert!(reason.contains("ZZ-9") && reason.contains("QQ"), "{reason}");
    assert_eq!(failed[0].source_key.as_deref(), Some("o4"));
    assert_eq!(r.failures.len(), 1);
    assert!(
        r.decisions.is_empty(),
        "a real run keeps no decisions unless asked"
    );

    // A rerun from the start creates nothing.
    w.store.cursor_clear("orders").unwrap();
    let again = run(&w, &p, false).await.unwrap();
    assert_eq!(again.entities["SalesOrderHeader"].created, 0, "{again}");
    assert_eq!(w.globe.records("SalesOrderHeader").len(), 3);
    assert_eq!(again.entities.get("Account").map_or(0, |c| c.created), 0);
}

#[tokio::test]
async fn page_lookups_are_batched() {
    let w = world(100);
    seed_orders(&w);
    let before = w.globe.calls();
    let r = run(&w, &orders(), false).await.unwrap();
    // One page: one lookup per require (customers, items), one for the orders and one more
    // of the orders about to be created, just before their writes; the rest are writes
    // (2 customers, 3 headers, 4 lines).
    let after = w.globe.calls();
    assert_eq!(after.reads - before.reads, 4, "{r}");
    assert_eq!(after.writes - before.writes, 2 + 3 + 4);
    assert_eq!(r.calls(System::ExactGlobe), 13);
    assert_eq!(r.calls(System::ExactOnline), 1);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_counts_the_writes() {
    let w = world(2);
    seed_orders(&w);
    let p = orders();
    let plan = run(&w, &p, true).await.unwrap();
    assert_eq!(w.globe.calls().writes, 0);
    assert!(w.globe.records("SalesOrderHeader").is_empty());
    assert_eq!(w.store.cursor_get("orders").unwrap(), None);
    assert!(w.store.runs(None, 10).unwrap().is_empty());
    let real = run(&w, &p, false).await.unwrap();
    assert_eq!(plan.to_json(), {
        let mut j = real.to_json();
        j["api_calls"] = plan.to_json()["api_calls"].clone();
        j
    });
    assert_eq!(
        plan.calls(System::ExactGlobe),
        real.calls(System::ExactGlobe)
    );
    let creates = plan
        .decisions
        .iter()
        .filter(|d| matches!(d.decision, Decision::Create { .. }))
        .count();
    assert_eq!(creates, 3 + 2, "3 orders and 2 customers");
}

#[tokio::test]
async fn a_lost_create_response_is_resolved_without_a_duplicate() {
    let w = world(2);
    seed_orders(&w);
    let p = orders();
    // Creates: 1 order 1; 2 customer new@; 3 order 2 (answer lost).
    *w.globe.lose_create.lock() = Some(3);
    let err = run(&w, &p, false).await.unwrap_err();
    assert!(matches!(err, EngineError::Connector(_)), "{err}");
    assert_eq!(w.store.journal_open("orders").unwrap().len(), 1);
    assert_eq!(
        w.store.runs(None, 1).unwrap()[0].status,
        crate::state::RunStatus::Aborted
    );
    *w.globe.lose_create.lock() = None;
    let r = run(&w, &p, false).await.unwrap();
    assert_eq!(r.journal_resolved, 1);
    assert!(w.store.journal_open("orders").unwrap().is_empty());
    let orders = w.globe.records("SalesOrderHeader");
    for n in ["1", "2", "3"] {
        assert_eq!(
            orders.iter().filter(|o| o["YourReference"] == n).count(),
            1,
            "order {n}"
        );
    }
}

#[tokio::test]
async fn a_refused_record_fails_alone() {
    let w = world(10);
    seed_orders(&w);
    *w.globe.refuse.lock() = Some(json!("2"));
    let r = run(&w, &orders(), false).await.unwrap();
    let c = r.entities["SalesOrderHeader"];
    assert_eq!((c.created, c.failed), (2, 2), "{r}");
    assert!(w.store.journal_open("orders").unwrap().is_empty());
}

#[tokio::test]
async fn the_cursor_makes_the_next_run_incremental() {
    let w = world(2);
    seed_orders(&w);
    let p = orders();
    run(&w, &p, false).await.unwrap();
    assert_eq!(w.store.cursor_get("orders").unwrap().as_deref(), Some("5"));
    w.online
        .insert("SalesOrders", order(6, "known@x.nl", "Known BV", &["B"]));
    let r = run(&w, &p, false).await.unwrap();
    assert_eq!(r.records_read, 1);
    assert_eq!(r.entities["SalesOrderHeader"].created, 1);
}

#[tokio::test]
async fn a_changed_customer_is_updated_and_an_unchanged_one_is_not() {
    let w = world(10);
    w.online
        .insert("SalesOrders", order(1, "known@x.nl", "Known BV", &["A"]));
    w.online
        .insert("SalesOrders", order(2, " known@x.nl", "Known BV", &["A"]));
    let r = run(&w, &orders(), false).await.unwrap();
    assert_eq!(r.entities.get("Account").map_or(0, |c| c.updated), 0, "{r}");
    w.online
        .insert("SalesOrders", order(3, "known@x.nl", "Renamed BV", &["A"]));
    let r = run(&w, &orders(), false).await.unwrap();
    assert_eq!(r.entities["Account"].updated, 1, "{r}");
    let acc = &w.globe.records("Account")[0];
    assert_eq!(acc["Name"], "Renamed BV");
}

/// The products flow in small: create or update by SKU, a create-only field.
fn products() -> Pipeline {
    Pipeline {
        reads: Default::default(),
        name: "products".into(),
        description: String::new(),
        file: "pipelines/products.yaml".into(),
        source: Source {
            system: System::ExactOnline,
            entity: "Items".into(),
            filter: None,
            where_: None,
            expand: Vec::new(),
            joins: Vec::new(),
            complement: None,
        },
        target: Target {
            system: System::ExactGlobe,
            entity: "Item".into(),
            lines: None,
            match_: MatchSpec {
                field: "ItemCode".into(),
                value: prog("Code"),
            },
            on_match: OnMatch::Update,
        },
        requires: Vec::new(),
        map: map(&[
            ("ItemCode", "Code"),
            ("Description", "Description"),
            ("LongDescription", "Notes"),
        ]),
        create_only: vec!["LongDescription".into()],
        update_only_if_changed: true,
        schedule: None,
        defaults: Vec::new(),
    }
}

#[tokio::test]
async fn products_update_changed_fields_but_never_create_only_ones() {
    let w = world(10);
    w.globe.insert(
        "Item",
        json!({"ItemCode": "P1", "Description": "Old", "LongDescription": "enriched"}),
    );
    w.globe.insert(
        "Item",
        json!({"ItemCode": "P2", "Description": "Same", "LongDescription": "x"}),
    );
    w.online.insert(
        "Items",
        json!({"ID": "i1", "Code": "P1", "Description": "New", "Notes": "from online"}),
    );
    w.online.insert(
        "Items",
        json!({"ID": "i2", "Code": "P2", "Description": "Same", "Notes": "other"}),
    );
    w.online.insert(
        "Items",
        json!({"ID": "i3", "Code": "P3", "Description": "Fresh", "Notes": "long"}),
    );
    let plan = run(&w, &products(), true).await.unwrap();
    let p1 = plan
        .decisions
        .iter()
        .find(|d| d.match_value == json!("P1"))
        .unwrap();
    assert_eq!(
        p1.decision,
        Decision::Update {
            key: json!("P1"),
            diff: vec![FieldChange {
                field: "Description".into(),
                old: json!("Old"),
                new: json!("New")
            }]
        }
    );
    let r = run(&w, &products(), false).await.unwrap();
    let c = r.entities["Item"];
    assert_eq!((c.created, c.updated, c.skipped), (1, 1, 1), "{r}");
    let items = w.globe.records("Item");
    let p1 = items.iter().find(|i| i["ItemCode"] == "P1").unwrap();
    assert_eq!(p1["Description"], "New");
    assert_eq!(p1["LongDescription"], "enriched");
    let p3 = items.iter().find(|i| i["ItemCode"] == "P3").unwrap();
    assert_eq!(p3["LongDescription"], "long");
}

#[test]
fn the_plan_lists_the_steps_in_order() {
    let plan = Plan::compile(&orders());
    let text = plan.to_string();
    let order = [
        "fetch",
        "filter",
        "require  customer",
        "require  items",
        "map",
        "check",
        "upsert",
    ];
    let mut at = 0;
    for step in order {
        let i = text[at..]
            .find(step)
            .unwrap_or_else(|| panic!("{step} in {text}"));
        at += i;
    }
    assert_eq!(plan.steps.len(), 7);
}

#[tokio::test]
async fn an_existing_order_is_skipped_before_its_customer_is_touched() {
    let w = world(10);
    w.online
        .insert("SalesOrders", order(1, "known@x.nl", "Renamed BV", &["A"]));
    w.globe.insert(
        "SalesOrderHeader",
        json!({"SalesOrderNumber": "100", "YourReference": "1"}),
    );
    let before = w.globe.calls();
    let r = run(&w, &orders(), false).await.unwrap();
    assert_eq!(r.entities["SalesOrderHeader"].skipped, 1, "{r}");
    assert!(!r.entities.contains_key("Account"), "{r}");
    assert_eq!(
        w.globe.calls().reads - before.reads,
        1,
        "only the order lookup"
    );
    assert_eq!(w.globe.records("Account")[0]["Name"], "Known BV");
    // The id map now knows the order: a rerun asks Globe nothing.
    w.store.cursor_clear("orders").unwrap();
    let before = w.globe.calls();
    let r = run(&w, &orders(), false).await.unwrap();
    assert_eq!(r.entities["SalesOrderHeader"].skipped, 1, "{r}");
    assert_eq!(w.globe.calls().total() - before.total(), 0);
}

#[tokio::test]
async fn a_refused_customer_is_not_tried_again_in_the_same_run() {
    let w = world(10);
    seed_orders(&w);
    *w.globe.refuse.lock() = Some(json!("new@x.nl"));
    let r = run(&w, &orders(), false).await.unwrap();
    let c = r.entities["SalesOrderHeader"];
    // Orders 2 and 3 share the refused customer; order 4 misses items.
    assert_eq!((c.created, c.failed), (1, 3), "{r}");
    // Creates: other@x.nl, the refused new@x.nl once, order 1.
    assert_eq!(w.globe.calls().writes, 3 + 1, "order 1 has one line");
    let log = w.store.activity(r.run_id.unwrap()).unwrap();
    let o3 = log
        .iter()
        .find(|a| a.source_key.as_deref() == Some("o3"))
        .unwrap();
    assert!(o3.error.as_deref().unwrap().contains("refused"), "{o3:?}");
}

#[tokio::test]
async fn a_failed_record_is_retried_by_the_next_runs_until_it_goes_through() {
    let w = world(2);
    seed_orders(&w);
    let p = orders();
    let r = run(&w, &p, false).await.unwrap();
    assert_eq!(r.entities["SalesOrderHeader"].failed, 1);
    assert_eq!(w.store.retry_list("orders").unwrap().len(), 1);
    // Nothing new at the source, the items still missing: it fails again, once.
    let r = run(&w, &p, false).await.unwrap();
    assert_eq!(
        (r.retried, r.entities["SalesOrderHeader"].failed),
        (1, 1),
        "{r}"
    );
    assert_eq!(w.store.retry_list("orders").unwrap()[0].attempts, 2);
    // A plan shows the retry without touching the list.
    w.globe.insert("Item", json!({"ItemCode": "ZZ-9"}));
    w.globe.insert("Item", json!({"ItemCode": "QQ"}));
    let plan = run(&w, &p, true).await.unwrap();
    assert_eq!(plan.entities["SalesOrderHeader"].created, 1, "{plan}");
    assert_eq!(w.store.retry_list("orders").unwrap().len(), 1);
    let r = run(&w, &p, false).await.unwrap();
    assert_eq!(r.entities["SalesOrderHeader"].created, 1, "{r}");
    assert!(w.store.retry_list("orders").unwrap().is_empty());
    let made = w.globe.records("SalesOrderHeader");
    assert_eq!(made.iter().filter(|o| o["YourReference"] == "4").count(), 1);
}

#[tokio::test]
async fn a_failing_record_backs_off_and_stops_at_the_attempt_limit() {
    let w = world(2);
    seed_orders(&w);
    let p = orders();
    let mut env = env();
    let run = |env: &RunEnv<'static>, options: RunOptions| {
        let env = RunEnv {
            vars: env.vars.clone(),
            ..*env
        };
        let (p, w) = (&p, &w);
        async move { run_with_env(&env, p, &w.connectors, &w.store, options).await }
    };
    env.retry = crate::state::RetryPolicy {
        max_attempts: 3,
        backoff: chrono::Duration::hours(1),
    };
    run(&env, RunOptions::default()).await.unwrap();
    // Failed once: the next run retries it at once, and it fails again.
    let r = run(&env, RunOptions::default()).await.unwrap();
    assert_eq!(
        (r.retried, r.entities["SalesOrderHeader"].failed),
        (1, 1),
        "{r}"
    );
    // Failed twice: it waits an hour, so this run leaves it alone.
    let r = run(&env, RunOptions::default()).await.unwrap();
    assert_eq!(r.retried, 0, "{r}");
    assert_eq!(w.store.retry_list("orders").unwrap()[0].attempts, 2);
    // By hand it goes now, whatever its backoff, and nothing new is fetched.
    let by_hand = RunOptions {
        retry_only: Some(vec!["o4".to_string()]),
        ..RunOptions::default()
    };
    let r = run(&env, by_hand.clone()).await.unwrap();
    assert_eq!((r.retried, r.pages), (1, 0), "{r}");
    // Three failures: the limit. Even without a backoff it is no longer retried by itself,
    // but it stays listed, and a hand still runs it.
    env.retry.backoff = chrono::Duration::zero();
    let r = run(&env, RunOptions::default()).await.unwrap();
    assert_eq!(r.retried, 0, "{r}");
    assert_eq!(w.store.retry_list("orders").unwrap()[0].attempts, 3);
    w.globe.insert("Item", json!({"ItemCode": "ZZ-9"}));
    w.globe.insert("Item", json!({"ItemCode": "QQ"}));
    let r = run(&env, by_hand).await.unwrap();
    assert_eq!(r.entities["SalesOrderHeader"].created, 1, "{r}");
    assert!(w.store.retry_list("orders").unwrap().is_empty());
}
