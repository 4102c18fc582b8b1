//! The engine end to end: both simulators on 127.0.0.1 port 0, the standard pipelines of
//! `pipelines/`, the real HTTP clients built from a project's `exflow.yaml`, a real SQLite
//! state file. Call counts come from the simulators' own `/_sim/stats`.

mod common;

use common::*;
use exflow::cli::connect::{connectors, state_store};
use exflow::engine::{run_pipeline, RunOptions};
use exflow::sim::exact_globe::GlobeSim;
use exflow::sim::exact_globe::GlobeSimConfig;
use exflow::sim::exact_online::OnlineSimConfig;
use exflow::state::StateStore;
use serde_json::Value;

#[tokio::test]
async fn the_standard_flows_end_to_end() {
    let env = env(small_online(), GlobeSimConfig::default(), "null").await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();

    // A plan writes nothing to either system.
    let (online0, globe0) = (env.online.stats(), env.globe.stats());
    let plan = run(&project, "products", &conns, &store, true).await;
    assert!(plan.main_counts().created > 0, "{plan}");
    assert_eq!(writes(&env.globe.stats()), writes(&globe0));
    assert_eq!(writes(&env.online.stats()), writes(&online0));
    assert!(
        store.runs(None, 10).unwrap().is_empty(),
        "a plan records no run"
    );

    let mut created = 0;
    for name in ["products", "customers", "orders"] {
        let r = run(&project, name, &conns, &store, false).await;
        assert_eq!(r.total_failed(), 0, "{r}\n{:?}", fails(&r));
        created += r.main_counts().created;
    }
    assert!(created > 0);

    // Every open Online order with lines is in Globe exactly once, with its lines and
    // its customer found (or created) by e-mail.
    let online_lines = env.online.records("SalesOrderLines");
    let globe_orders = env.globe.records("SalesOrderHeader");
    let globe_lines = env.globe.records("SalesOrderLine");
    let globe_accounts = env.globe.records("Account");
    let accounts = env.online.records("Accounts");
    let mut open = 0;
    for o in env.online.records("SalesOrders") {
        let lines: Vec<&Value> = online_lines
            .iter()
            .filter(|l| l["OrderID"] == o["OrderID"])
            .collect();
        if o["Status"] != 12 || lines.is_empty() {
            continue;
        }
        open += 1;
        let number = text(&o["OrderNumber"]);
        let mine: Vec<&Value> = globe_orders
            .iter()
            .filter(|h| text(&h["YourReference"]) == number)
            .collect();
        assert_eq!(mine.len(), 1, "order {number} in Globe once");
        let header = mine[0];
        let key = text(&header["SalesOrderNumber"]);
        let lines_in_globe = globe_lines
            .iter()
            .filter(|l| text(&l["SalesOrderNumber"]) == key)
            .count();
        assert_eq!(lines_in_globe, lines.len(), "lines of order {number}");
        let account = accounts.iter().find(|a| a["ID"] == o["OrderedBy"]).unwrap();
        let email = text(&account["Email"]).to_lowercase();
        let debtor = globe_accounts
            .iter()
            .find(|a| text(&a["EmailAddress"]).to_lowercase() == email)
            .unwrap_or_else(|| panic!("debtor {email} in Globe"));
        assert_eq!(
            text(&header["OrderDebtor"]),
            text(&debtor["DebtorNumber"]),
            "order {number}"
        );
    }
    assert!(open > 0);

    // A rerun creates nothing: incrementally, and from scratch (cursors forgotten).
    let before = writes(&env.globe.stats());
    for name in ["products", "orders"] {
        let r = run(&project, name, &conns, &store, false).await;
        assert_eq!(r.main_counts().created + r.main_counts().updated, 0, "{r}");
        store.cursor_clear(name).unwrap();
        let r = run(&project, name, &conns, &store, false).await;
        let diffs = serde_json::to_string(&r.decisions.iter().take(2).collect::<Vec<_>>()).unwrap();
        assert_eq!(
            r.main_counts().created + r.main_counts().updated,
            0,
            "{r}\n{diffs}"
        );
        assert_eq!(r.total_failed(), 0, "{r}");
    }
    assert_eq!(
        writes(&env.globe.stats()),
        before,
        "nothing written to Globe again"
    );

    // A changed debtor reaches Online; the unchanged ones are not touched. (The debtors the
    // orders flow made in Globe first go back to Online once, with their revenue account.)
    let settle = run(&project, "customers", &conns, &store, false).await;
    assert_eq!(settle.main_counts().created, 0, "{settle}");
    let settled = run(&project, "customers", &conns, &store, false).await;
    assert_eq!(settled.records_read, 0, "{settled}");
    let debtor = globe_accounts
        .iter()
        .find(|a| a["EmailAddress"].is_string() && !text(&a["DebtorNumber"]).is_empty())
        .unwrap();
    env.globe
        .update(
            "Account",
            &text(&debtor["ID"]),
            serde_json::json!({"InvoiceCity": "Zwolle"}),
        )
        .unwrap();
    let puts = method_calls(&env.online.stats(), "PUT");
    let r = run(&project, "customers", &conns, &store, false).await;
    let diffs = serde_json::to_string(&r.decisions.iter().take(4).collect::<Vec<_>>()).unwrap();
    assert_eq!(r.main_counts().updated, 1, "{r}\n{diffs}");
    assert_eq!(method_calls(&env.online.stats(), "PUT"), puts + 1);
    let email = text(&debtor["EmailAddress"]).to_lowercase();
    let online_account = env
        .online
        .records("Accounts")
        .into_iter()
        .find(|a| text(&a["Email"]).to_lowercase() == email)
        .unwrap();
    assert_eq!(online_account["City"], "Zwolle");
}

/// Open Online orders with lines: (order number, line count, OrderedBy).
fn open_orders(env: &Env) -> Vec<(String, usize, Value)> {
    let lines = env.online.records("SalesOrderLines");
    env.online
        .records("SalesOrders")
        .into_iter()
        .filter(|o| o["Status"] == 12)
        .map(|o| {
            let n = lines
                .iter()
                .filter(|l| l["OrderID"] == o["OrderID"])
                .count();
            (text(&o["OrderNumber"]), n, o["OrderedBy"].clone())
        })
        .filter(|(_, n, _)| *n > 0)
        .collect()
}

fn globe_orders_by_reference(env: &Env) -> std::collections::HashMap<String, usize> {
    let mut out = std::collections::HashMap::new();
    for h in env.globe.records("SalesOrderHeader") {
        *out.entry(text(&h["YourReference"])).or_default() += 1;
    }
    out
}

#[tokio::test]
async fn a_missing_item_fails_its_order_alone_with_the_item_code() {
    let env = env(small_online(), GlobeSimConfig::default(), "null").await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();
    // Orders before products: items Globe does not have yet fail their orders.
    let globe_items: Vec<String> = env
        .globe
        .records("Item")
        .iter()
        .map(|i| text(&i["ItemCode"]))
        .collect();
    let debtors_before: std::collections::HashSet<String> = env
        .globe
        .records("Account")
        .iter()
        .map(|a| text(&a["DebtorNumber"]))
        .collect();
    let r = run(&project, "orders", &conns, &store, false).await;
    let failed = fails(&r);
    assert!(!failed.is_empty(), "{r}");
    // The items are checked before the debtor is touched: every debtor this run made has an
    // order in Globe (no debtor is written for an order that fails).
    let ordered: std::collections::HashSet<String> = env
        .globe
        .records("SalesOrderHeader")
        .iter()
        .map(|h| text(&h["OrderDebtor"]))
        .collect();
    for a in env.globe.records("Account") {
        let number = text(&a["DebtorNumber"]);
        if !debtors_before.contains(&number) {
            assert!(
                ordered.contains(&number),
                "debtor {number} made for a failed order"
            );
        }
    }
    for f in &failed {
        assert!(f.contains("not found by ItemCode: "), "{f}");
        let codes = f.rsplit("ItemCode: ").next().unwrap();
        for code in codes.split(", ") {
            assert!(
                !globe_items.contains(&code.to_string()),
                "{code} exists in Globe: {f}"
            );
        }
    }
    let c = r.main_counts();
    assert_eq!(c.created + c.failed, open_orders(&env).len() as u64, "{r}");
    let log = store.activity(r.run_id.unwrap()).unwrap();
    let logged = log
        .iter()
        .filter(|a| a.outcome == exflow::state::Outcome::Fail)
        .count();
    assert_eq!(logged as u64, c.failed);
    assert!(log
        .iter()
        .all(|a| a.outcome != exflow::state::Outcome::Fail || a.source_payload.is_some()));

    // Once the products are there, the next incremental run retries the failed orders:
    // they go through and nothing doubles.
    assert_eq!(store.retry_list("orders").unwrap().len() as u64, c.failed);
    run(&project, "products", &conns, &store, false).await;
    let r = run(&project, "orders", &conns, &store, false).await;
    assert_eq!(r.retried, c.failed, "{r}");
    assert!(store.retry_list("orders").unwrap().is_empty());
    assert_eq!(r.total_failed(), 0, "{r}");
    assert_eq!(r.main_counts().created, c.failed, "{r}");
    let counts = globe_orders_by_reference(&env);
    for (number, _, _) in open_orders(&env) {
        assert_eq!(counts.get(&number), Some(&1), "order {number}");
    }
}

#[tokio::test]
async fn the_default_debtor_takes_every_order() {
    let globe = GlobeSimConfig::default();
    let probe = GlobeSim::start(globe.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let debtor = probe
        .records("Account")
        .into_iter()
        .map(|a| text(&a["DebtorNumber"]))
        .find(|d| !d.is_empty())
        .unwrap();
    probe.shutdown().await;
    let env = env(small_online(), globe, &format!("\"{debtor}\"")).await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();
    run(&project, "products", &conns, &store, false).await;
    let accounts = env.globe.records("Account").len();
    let r = run(&project, "orders", &conns, &store, false).await;
    assert_eq!(r.total_failed(), 0, "{r}");
    assert!(r.main_counts().created > 0);
    assert!(
        !r.entities.contains_key("Account"),
        "no debtor created or updated: {r}"
    );
    assert_eq!(env.globe.records("Account").len(), accounts);
    for h in env.globe.records("SalesOrderHeader") {
        assert_eq!(text(&h["OrderDebtor"]), debtor);
    }
}

#[tokio::test]
async fn a_run_killed_anywhere_never_makes_a_duplicate() {
    use rand::{Rng, SeedableRng};
    let mut interrupted = 0;
    let mut resolved = 0;
    for seed in [1u64, 2, 3] {
        let env = env(small_online(), GlobeSimConfig::default(), "null").await;
        let project = load(&env);
        let pipelines: Vec<_> = project.pipelines.iter().collect();
        let conns = connectors(&project, &pipelines).await.unwrap();
        let store = state_store(&project).unwrap();
        run(&project, "products", &conns, &store, false).await;
        let orders = project.pipeline("orders").unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..4 {
            // Dropping the run at an await point is what a kill -9 leaves behind: a
            // request may have reached Globe without its answer reaching us.
            let after = std::time::Duration::from_millis(rng.gen_range(1..250));
            let run = run_pipeline(&project, orders, &conns, &store, RunOptions::default());
            let _ = tokio::time::timeout(after, run).await;
        }
        interrupted += store
            .runs(Some("orders"), 100)
            .unwrap()
            .iter()
            .filter(|r| r.status == exflow::state::RunStatus::Running)
            .count();
        let r = run(&project, "orders", &conns, &store, false).await;
        resolved += r.journal_resolved;
        assert_eq!(r.total_failed(), 0, "seed {seed}: {r}");
        assert!(store.journal_open("orders").unwrap().is_empty());
        let counts = globe_orders_by_reference(&env);
        let open = open_orders(&env);
        assert!(!open.is_empty());
        for (number, _, _) in open {
            assert_eq!(counts.get(&number), Some(&1), "seed {seed}: order {number}");
        }
        let emails: Vec<String> = env
            .globe
            .records("Account")
            .iter()
            .map(|a| text(&a["EmailAddress"]).to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        let mut unique = emails.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            emails.len(),
            "seed {seed}: a debtor was created twice"
        );
    }
    println!("{interrupted} runs interrupted, {resolved} journal entries resolved");
    assert!(
        interrupted > 0,
        "no run was interrupted: the kill points missed"
    );
}

/// Calls per order at scale (printed, run with `--ignored`): the targets are at most
/// 0.05 Exact Online calls and 0.1 Exact Globe calls beyond the protocol's writes per order.
#[tokio::test]
#[ignore]
async fn calls_per_order_at_scale() {
    let online = OnlineSimConfig {
        orders: 1000,
        customers: 200,
        products: 120,
        minutely_limit: 100_000,
        daily_limit: 1_000_000,
        ..OnlineSimConfig::default()
    };
    let env = env(online, GlobeSimConfig::default(), "null").await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();
    run(&project, "products", &conns, &store, false).await;
    let (o0, g0) = (env.online.stats(), env.globe.stats());
    let r = run(&project, "orders", &conns, &store, false).await;
    let (o1, g1) = (env.online.stats(), env.globe.stats());
    let orders = r.records_read as f64;
    let online_calls = o1["total"].as_u64().unwrap_or(0) - o0["total"].as_u64().unwrap_or(0);
    let globe_reads = method_calls(&g1, "GET") - method_calls(&g0, "GET");
    println!("{r}");
    println!(
        "orders read {orders}: exact_online {online_calls} calls ({:.3}/order), exact_globe reads {globe_reads} ({:.3}/order), writes {}",
        online_calls as f64 / orders,
        globe_reads as f64 / orders,
        writes(&g1) - writes(&g0)
    );
}

/// Runs the real `exflow` binary off the async runtime (the simulators keep serving).
async fn exflow(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = assert_cmd::Command::cargo_bin("exflow")
            .unwrap()
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_plans_and_runs_with_json_and_exit_codes() {
    let env = env(small_online(), GlobeSimConfig::default(), "null").await;
    let dir = env.dir.path().display().to_string();
    let globe_writes = writes(&env.globe.stats());

    let (code, out, err) = exflow(vec![
        "plan".into(),
        "products".into(),
        "--project".into(),
        dir.clone(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["pipeline"], "products");
    assert!(plan["created"].as_u64().unwrap() > 0, "{out}");
    assert!(!plan["records"].as_array().unwrap().is_empty());
    assert!(plan["api_calls"]["exact_globe"].as_u64().unwrap() > 0);
    assert_eq!(
        writes(&env.globe.stats()),
        globe_writes,
        "a plan writes nothing"
    );

    let (code, out, err) = exflow(vec![
        "run".into(),
        "products".into(),
        "orders".into(),
        "--project".into(),
        dir.clone(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let runs: Value = serde_json::from_str(&out).unwrap();
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["pipeline"], "orders");
    assert!(runs[1]["created"].as_u64().unwrap() > 0);
    for key in ["updated", "skipped", "failed"] {
        assert!(runs[1][key].is_u64(), "{key} in {out}");
    }
    assert!(runs[1]["api_calls"]["exact_online"].as_u64().unwrap() > 0);

    let (code, out, err) = exflow(vec![
        "plan".into(),
        "customers".into(),
        "--project".into(),
        dir.clone(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    println!("{out}");
    assert!(out.contains("plan for customers:"), "{out}");
    assert!(out.contains("API calls a run would spend"), "{out}");
    assert!(out.contains('@'), "the plan shows e-mail addresses: {out}");

    // With redact_payloads, the plan shows no personal values, in text or JSON.
    let config = env.dir.path().join("exflow.yaml");
    let yaml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        yaml.replace("redact_payloads: false", "redact_payloads: true"),
    )
    .unwrap();
    for format in ["text", "json"] {
        let (code, out, err) = exflow(vec![
            "plan".into(),
            "customers".into(),
            "--project".into(),
            dir.clone(),
            "--format".into(),
            format.into(),
        ])
        .await;
        assert_eq!(code, 0, "{err}");
        assert!(
            !out.contains('@'),
            "{format}: an e-mail address shows: {out}"
        );
        assert!(out.contains("[redacted]"), "{format}: {out}");
    }

    let (code, _, err) = exflow(vec!["run".into(), "nope".into(), "--project".into(), dir]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no pipeline `nope`"), "{err}");
}
