//! `exflow serve`, the real binary, against both simulators on 127.0.0.1 port 0: schedules,
//! Exact Online webhooks (signed, forged, in bursts), SIGTERM in the middle of a run,
//! notifications to a local webhook listener and a local SMTP server, and `/metrics` read
//! with a Prometheus text-format parser. Waiting is "until it happens, or give up after a
//! generous deadline"; nothing asserts how long anything took.

mod serve_support;

use exflow::sim::exact_globe::GlobeSimConfig;
use serve_support::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_schedule_runs_the_pipeline_and_metrics_count_what_it_did() {
    let env = env(
        small_online(10),
        GlobeSimConfig::default(),
        &[("products", Some("*/1 * * * * *"))],
        "",
    )
    .await;
    let items_before = env.globe.records("Item").len();
    let online_items = env.online.records("Items").len();
    let serve = Serve::start(env.dir.path());
    until("the scheduled products run", || {
        env.globe.records("Item").len() > items_before
    })
    .await;
    let http = reqwest::Client::new();
    // Wait for a second scheduled run, so the counts below are settled and stable.
    let mut m = metrics(&serve.url).await;
    let start = std::time::Instant::now();
    while value(
        &m,
        "exflow_runs_total",
        &[("pipeline", "products"), ("trigger", "schedule")],
    ) < 2.0
    {
        assert!(start.elapsed() < DEADLINE, "no second scheduled run");
        tokio::time::sleep(Duration::from_millis(200)).await;
        m = metrics(&serve.url).await;
    }
    let created = env.globe.records("Item").len() - items_before;
    assert!(created > 0 && created <= online_items);
    assert_eq!(
        value(
            &m,
            "exflow_records_total",
            &[
                ("pipeline", "products"),
                ("entity", "Item"),
                ("outcome", "create")
            ]
        ),
        created as f64,
        "records created by the runs"
    );
    assert_eq!(
        value(&m, "exflow_runs_total", &[("trigger", "webhook")]),
        0.0
    );
    assert!(value(&m, "exflow_api_calls_total", &[("system", "exact_online")]) >= 2.0);
    assert!(value(&m, "exflow_rate_limit_remaining", &[("window", "daily")]) > 0.0);
    // Health and readiness; no POST anywhere but the webhook path.
    let get = |p: &str| http.get(format!("{}{p}", serve.url)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let post = http
        .post(format!("{}/metrics", serve.url))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_bring_a_new_order_to_globe_forgeries_are_refused_bursts_are_cheap() {
    let yearly = Some("0 0 1 1 *");
    let env = env(
        small_online(40),
        GlobeSimConfig::default(),
        &[
            ("products", yearly),
            ("customers", yearly),
            ("orders", yearly),
        ],
        "",
    )
    .await;
    let dir = env.dir.path();
    // Everything in step first, so no schedule is due when the service starts.
    let (code, _, err) = exflow(&["run"], dir);
    assert_eq!(code, 0, "{err}");
    let serve = Serve::start(dir);
    let callback = format!("{}/webhooks/exact-online", serve.url);
    let (code, out, err) = exflow(&["webhooks", "subscribe", "--callback", &callback], dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("SalesOrders: subscribed") && out.contains("Items: subscribed"),
        "{out}"
    );
    let (code, out, _) = exflow(&["webhooks", "list", "--callback", &callback], dir);
    assert_eq!(code, 0);
    assert!(out.contains(&callback), "{out}");

    let number = new_order(&env.online);
    until("the new order in Globe", || {
        globe_orders(&env.globe).contains_key(&number)
    })
    .await;
    let m = metrics(&serve.url).await;
    assert_eq!(
        value(&m, "exflow_runs_total", &[("trigger", "schedule")]),
        0.0
    );
    assert!(
        value(
            &m,
            "exflow_runs_total",
            &[("pipeline", "orders"), ("trigger", "webhook")]
        ) >= 1.0
    );

    // A forged HashCode is refused and counted.
    let http = reqwest::Client::new();
    let content = format!(
        r#"{{"Topic":"SalesOrders","ClientId":"x","Division":{},"Action":"Update","Key":"00000000-0000-0000-0000-000000000001","EventCreatedOn":"2026-01-01T10:00:00.000"}}"#,
        env.online.division()
    );
    let forged = http
        .post(&callback)
        .body(sign(&content, "not-the-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let m = metrics(&serve.url).await;
    assert_eq!(
        value(
            &m,
            "exflow_webhooks_refused_total",
            &[("reason", "bad_hash")]
        ),
        1.0
    );

    // A burst of 500 notifications: a bounded number of runs and Exact Online calls.
    let runs_before = value(&m, "exflow_runs_total", &[("trigger", "webhook")]);
    let received_before = value(&m, "exflow_webhooks_received_total", &[]);
    let calls_before = env.online.stats()["total"].as_u64().unwrap();
    let body = sign(&content, env.online.webhook_secret());
    for _ in 0..500 {
        let r = http
            .post(&callback)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let mut quiet = 0;
    let start = std::time::Instant::now();
    while quiet < 5 {
        assert!(start.elapsed() < DEADLINE, "the burst never settled");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let m = metrics(&serve.url).await;
        let idle = value(&m, "exflow_runs_in_progress", &[]) == 0.0
            && value(&m, "exflow_webhooks_received_total", &[]) == received_before + 500.0;
        quiet = if idle { quiet + 1 } else { 0 };
    }
    let m = metrics(&serve.url).await;
    let runs = value(&m, "exflow_runs_total", &[("trigger", "webhook")]) - runs_before;
    let calls = env.online.stats()["total"].as_u64().unwrap() - calls_before;
    assert!(
        (1.0..=10.0).contains(&runs),
        "{runs} runs for 500 notifications"
    );
    assert!(
        calls <= 40,
        "{calls} Exact Online calls for 500 notifications"
    );
    let globe = globe_orders(&env.globe);
    assert!(globe.values().all(|n| *n == 1), "duplicates: {globe:?}");

    let (code, out, err) = exflow(&["webhooks", "unsubscribe", "--callback", &callback], dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 subscription(s) removed"), "{out}");
    let (_, out, _) = exflow(&["webhooks", "list", "--callback", &callback], dir);
    assert!(!out.contains(&callback), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_run_loses_nothing_and_duplicates_nothing() {
    // More orders than one page of the sync endpoint (1,000): the stop lands in page one,
    // so the run ends after it with the second page unread.
    let yearly = Some("0 0 1 1 *");
    let env = env(
        small_online(1100),
        GlobeSimConfig::default(),
        &[
            ("products", yearly),
            ("customers", yearly),
            ("orders", yearly),
        ],
        "",
    )
    .await;
    let dir = env.dir.path();
    // Changed orders come last in the sync feed: touching 150 open ones puts open orders on
    // the second page, the one a stop during the first leaves unread.
    let touched: Vec<serde_json::Value> = env
        .online
        .records("SalesOrders")
        .into_iter()
        .filter(|o| o["Status"] == 12)
        .take(150)
        .collect();
    for o in &touched {
        let id = o["OrderID"].as_str().unwrap().to_string();
        env.online
            .update(
                "SalesOrders",
                &id,
                serde_json::json!({"Remarks": "gewijzigd"}),
            )
            .unwrap();
    }
    let mut serve = Serve::start(dir);
    // Never run before: every schedule is due at start. Stop once orders are arriving.
    until("the first orders in Globe", || {
        !globe_orders(&env.globe).is_empty()
    })
    .await;
    assert_eq!(serve.terminate(), 0, "exit code after SIGTERM");
    let stopped_at = globe_orders(&env.globe);
    assert!(
        stopped_at.values().all(|n| *n == 1),
        "duplicates: {stopped_at:?}"
    );
    let open = open_orders(&env.online);
    assert!(
        stopped_at.len() < open.len(),
        "the stop did not land mid-run ({} of {})",
        stopped_at.len(),
        open.len()
    );
    // The next run goes on from the stored cursor.
    let (code, _, err) = exflow(&["run"], dir);
    assert_eq!(code, 0, "{err}");
    let globe = globe_orders(&env.globe);
    assert!(globe.values().all(|n| *n == 1), "duplicates: {globe:?}");
    for number in open {
        assert!(globe.contains_key(&number), "order {number} lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_reach_webhook_and_email_by_business_key_without_secrets_or_emails() {
    let (smtp_port, mails) = smtp_server().await;
    let (hook, bodies) = webhook_listener().await;
    let extra = format!(
        "redact_payloads: true\nnotifications:\n  channels:\n    - type: webhook\n      url: {hook}\n    \
         - type: email\n      smtp_host: 127.0.0.1\n      smtp_port: {smtp_port}\n      tls: none\n      \
         from: exflow@example.com\n      to: [ops@example.com]\n"
    );
    // Orders without the products pipeline: Globe lacks their items, so they fail.
    let env = env(
        small_online(20),
        GlobeSimConfig::default(),
        &[("orders", Some("0 0 1 1 *"))],
        &extra,
    )
    .await;
    let dir = env.dir.path();
    let (code, out, err) = exflow(&["notify", "test"], dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("sent to 2 of 2"), "{out}");
    assert!(bodies.lock().unwrap().iter().any(|b| b["event"] == "test"));
    assert_eq!(mails.lock().unwrap().len(), 1);

    let serve = Serve::start(dir);
    until("the records_failed message", || {
        bodies
            .lock()
            .unwrap()
            .iter()
            .any(|b| b["event"] == "records_failed")
    })
    .await;
    until("the e-mail", || mails.lock().unwrap().len() >= 2).await;
    let body = bodies
        .lock()
        .unwrap()
        .iter()
        .find(|b| b["event"] == "records_failed")
        .cloned()
        .unwrap();
    assert_eq!(body["pipeline"], "orders");
    let numbers: Vec<String> = env
        .online
        .records("SalesOrders")
        .iter()
        .map(|o| text(&o["OrderNumber"]))
        .collect();
    let records = body["records"].as_array().unwrap();
    assert!(!records.is_empty(), "{body}");
    for r in records {
        assert_eq!(r["key_field"], "YourReference", "{r}");
        assert!(
            numbers.contains(&text(&r["key"])),
            "not an order number: {r}"
        );
    }
    let mail = mails.lock().unwrap()[1].clone();
    assert!(mail.contains("failed in `orders`"), "{mail}");
    let key = text(&records[0]["key"]);
    assert!(mail.contains(&key), "{mail}");
    let emails = regex::Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}").unwrap();
    let everything = format!("{}\n{}", body, body["text"]);
    for secret in ["exflow-sim-secret", env.online.webhook_secret()] {
        assert!(!everything.contains(secret) && !mail.contains(secret));
    }
    assert!(
        !emails.is_match(&everything),
        "an e-mail address in {everything}"
    );
    let mail_body = mail.split("\n\n").skip(1).collect::<Vec<_>>().join("\n\n");
    assert!(
        !emails.is_match(&mail_body),
        "an e-mail address in {mail_body}"
    );

    // A broken edit is reported, the previous configuration keeps running.
    set_schedule(&dir.join("pipelines/orders.yaml"), "this is not cron");
    until("the config_invalid message", || {
        bodies
            .lock()
            .unwrap()
            .iter()
            .any(|b| b["event"] == "config_invalid")
    })
    .await;
    let invalid = bodies
        .lock()
        .unwrap()
        .iter()
        .find(|b| b["event"] == "config_invalid")
        .cloned()
        .unwrap();
    assert!(
        invalid["text"].as_str().unwrap().contains("E121"),
        "{invalid}"
    );
    let m = metrics(&serve.url).await;
    assert_eq!(value(&m, "exflow_config_reload_failed", &[]), 1.0);
    let ready = reqwest::get(format!("{}/readyz", serve.url)).await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[test]
fn validate_refuses_a_bad_schedule_and_shows_the_next_runs_of_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("pipelines"), &dir.path().join("pipelines"));
    let vars = "vars:\n  default_debtor: null\n  home_country: NL\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n";
    std::fs::write(dir.path().join("exflow.yaml"), vars).unwrap();
    let file = dir.path().join("pipelines/products.yaml");
    set_schedule(&file, "*/15 * * * *");
    let validate = |verbose: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_exflow"));
        c.arg("validate").arg(dir.path());
        if verbose {
            c.arg("--verbose");
        }
        c.output().unwrap()
    };
    let out = validate(true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("products: schedule `*/15 * * * *`: next runs"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(
        line.matches(":00 ").count() + line.matches(":00,").count(),
        3,
        "{line}"
    );

    set_schedule(&file, "this is not cron");
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    let out = validate(false);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E121"), "{stderr}");
    assert!(
        stderr.contains(&format!("products.yaml:{lines}:11")),
        "{stderr}"
    );
}
