//! `exflow runs`, `activity` and `failed list|show|retry|skip` through the real binary,
//! against both simulators in-process on 127.0.0.1 port 0, with `redact_payloads: true`:
//! orders fail on items Globe lacks, one is skipped by hand, the rest are retried once the
//! products are there, and no e-mail address is ever printed.

use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;

struct Env {
    online: OnlineSim,
    globe: GlobeSim,
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if !e.path().to_string_lossy().ends_with(".test.yaml") {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Both simulators serving on the runtime's threads while the test runs the binary, and a
/// project pointing at them with the tokens `exflow auth exact-online` would have stored.
fn env() -> Env {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let online_config = OnlineSimConfig {
        orders: 30,
        customers: 10,
        products: 15,
        minutely_limit: 10_000,
        daily_limit: 100_000,
        ..OnlineSimConfig::default()
    };
    let (online, globe) = runtime.block_on(async {
        let addr = "127.0.0.1:0".parse().unwrap();
        let online = OnlineSim::start(online_config, addr).await.unwrap();
        let globe = GlobeSim::start(GlobeSimConfig::default(), addr)
            .await
            .unwrap();
        (online, globe)
    });
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("pipelines"), &dir.path().join("pipelines"));
    let yaml = format!(
        "project: activity\nstate: .exflow/state.db\nretention_days: 30\nredact_payloads: true\n\
         retry:\n  max_attempts: 3\n  backoff_minutes: 60\n\
         connections:\n  exact_online:\n    base_url: {}\n    division: {}\n    client_id: exflow-sim\n    \
         client_secret: exflow-sim-secret\n    redirect_uri: http://127.0.0.1:9/callback\n    daily_reserve: 10\n  \
         exact_globe:\n    base_url: {}\n    server_name: localhost\n    database_name: \"500\"\n    \
         user: exflow\n    password: exflow\n\
         vars:\n  default_debtor: null\n  home_country: NL\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n",
        online.base_url(),
        online.division(),
        globe.base_url()
    );
    std::fs::write(dir.path().join("exflow.yaml"), yaml).unwrap();
    let (access, refresh) = online.issue_tokens();
    let tokens = TokenStore::open(&dir.path().join(".exflow/state.db")).unwrap();
    let now = chrono::Utc::now().timestamp();
    let token = StoredToken {
        access_token: access,
        refresh_token: refresh,
        access_expires_at: now + 600,
        refreshed_at: now,
    };
    tokens.save("exact_online:exflow-sim", &token).unwrap();
    Env {
        online,
        globe,
        dir,
        runtime,
    }
}

impl Env {
    /// Runs the binary in the project; asserts the exit code and that nothing personal
    /// (an Online customer's e-mail address) is printed, on stdout or stderr.
    fn exflow(&self, args: &[&str], code: i32) -> String {
        let out = assert_cmd::Command::cargo_bin("exflow")
            .unwrap()
            .args(args)
            .args(["--project", &self.dir.path().display().to_string()])
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}\n{stderr}\n{stdout}"
        );
        for email in self.emails() {
            assert!(
                !stdout.to_lowercase().contains(&email) && !stderr.to_lowercase().contains(&email),
                "{args:?} prints {email}:\n{stdout}\n{stderr}"
            );
        }
        stdout
    }

    fn json(&self, args: &[&str], code: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.exflow(&all, code);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
    }

    fn emails(&self) -> Vec<String> {
        self.online
            .records("Accounts")
            .iter()
            .filter_map(|a| a["Email"].as_str())
            .filter(|e| e.contains('@'))
            .map(|e| e.trim().to_lowercase())
            .collect()
    }

    /// Calls that read sales order headers from Exact Online.
    fn order_reads(&self) -> u64 {
        let stats = self.online.stats();
        stats["calls"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.ends_with("/SalesOrders"))
            .filter_map(|(_, v)| v.as_u64())
            .sum()
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

fn list(v: &Value, key: &str) -> Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} list: {v}"))
        .clone()
}

#[test]
fn runs_activity_and_the_retry_list_through_the_binary() {
    let env = env();
    // Orders before products: orders whose items Globe lacks fail.
    let run = env.json(&["run", "orders"], 1);
    let failed = run["runs"][0]["failed"].as_u64().unwrap();
    assert!(failed >= 2, "{run}");

    let runs = env.json(&["runs"], 0);
    let runs = list(&runs, "runs");
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(
        (r["pipeline"].as_str(), r["status"].as_str()),
        (Some("orders"), Some("failed"))
    );
    assert_eq!(r["failed"], failed);
    assert!(r["duration_seconds"].as_f64().unwrap() >= 0.0, "{r}");
    assert!(r["api_calls"]["exact_online"].as_u64().unwrap() > 0, "{r}");
    let run_id = r["id"].as_i64().unwrap();

    // Every failed order is listed by its order number, with the reason.
    let numbers: Vec<String> = env
        .online
        .records("SalesOrders")
        .iter()
        .map(|o| text(&o["OrderNumber"]))
        .collect();
    let log = env.json(
        &[
            "activity",
            "orders",
            "--run",
            &run_id.to_string(),
            "--outcome",
            "failed",
            "--limit",
            "1000",
        ],
        0,
    );
    let rows = list(&log, "activity");
    assert_eq!(rows.len() as u64, failed, "{log}");
    for row in &rows {
        assert_eq!(row["outcome"], "failed");
        assert_eq!(row["key_field"], "YourReference");
        assert!(numbers.contains(&text(&row["business_key"])), "{row}");
        assert!(text(&row["reason"]).contains("ItemCode"), "{row}");
        assert!(
            row.get("source_payload").is_none(),
            "payloads only with --show: {row}"
        );
    }
    assert!(log["next_before"].is_null());

    // Paging: two lines a page, the next page strictly older, no line twice.
    let first = env.json(&["activity", "--limit", "2"], 0);
    let before = first["next_before"].as_i64().expect("a next page");
    let second = env.json(
        &["activity", "--limit", "2", "--before", &before.to_string()],
        0,
    );
    let ids = |v: &Value| {
        list(v, "activity")
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first).len(), 2);
    assert!(ids(&second).iter().all(|id| *id < before), "{second}");

    // One order in full: what came from Exact Online, by its order number.
    let number = text(&rows[0]["business_key"]);
    let one = env.json(&["activity", "--record", &number, "--show"], 0);
    let one = list(&one, "activity");
    assert!(!one.is_empty());
    assert_eq!(
        text(&one[0]["source_payload"]["OrderNumber"]),
        number,
        "{:?}",
        one[0]
    );

    // The retry list: every failed order, due for the next run.
    let waiting = list(&env.json(&["failed", "list"], 0), "failed");
    assert_eq!(waiting.len() as u64, failed);
    for w in &waiting {
        assert_eq!(
            (w["attempts"].as_u64(), w["retry"].as_str()),
            (Some(1), Some("due")),
            "{w}"
        );
        assert_eq!(w["last_run"], run_id);
    }
    let shown = env.json(&["failed", "show", "orders", &number], 0);
    assert_eq!(text(&shown["payload"]["OrderNumber"]), number);

    // Skip one by hand: off the list, the note in the log, never written.
    let skipped = env.json(
        &[
            "failed",
            "skip",
            "orders",
            &number,
            "--note",
            "cancelled by phone",
        ],
        0,
    );
    assert_eq!(text(&skipped["skipped"]["business_key"]), number);
    env.exflow(&["failed", "skip", "orders", &number, "--note", "again"], 1);
    assert_eq!(
        list(&env.json(&["failed", "list"], 0), "failed").len() as u64,
        failed - 1
    );
    let note = env.json(
        &["activity", "--record", &number, "--outcome", "skipped"],
        0,
    );
    assert!(
        text(&list(&note, "activity")[0]["reason"]).contains("cancelled by phone"),
        "{note}"
    );

    // Fix the cause (the products), then retry just the listed orders: nothing new is
    // read from the source, every one goes through once.
    env.exflow(&["run", "products"], 0);
    let reads = env.order_reads();
    let retried = env.json(&["failed", "retry", "orders"], 0);
    let r = &retried["runs"][0];
    assert_eq!(
        (r["retried"].as_u64(), r["created"].as_u64()),
        (Some(failed - 1), Some(failed - 1)),
        "{retried}"
    );
    assert_eq!(r["failed"], 0);
    assert_eq!(env.order_reads(), reads, "a retry reads no new orders");
    assert!(list(&env.json(&["failed", "list"], 0), "failed").is_empty());
    let refs: Vec<String> = env
        .globe
        .records("SalesOrderHeader")
        .iter()
        .map(|h| text(&h["YourReference"]))
        .collect();
    for w in &waiting {
        let key = text(&w["business_key"]);
        let made = refs.iter().filter(|r| **r == key).count();
        assert_eq!(made, usize::from(key != number), "order {key}");
    }
    assert_eq!(
        list(&env.json(&["runs", "orders", "--last", "5"], 0), "runs").len(),
        2
    );
    env.exflow(&["failed", "retry", "orders", "no-such-order"], 1);

    // Customers are logged under their e-mail address, hashed: found by it, never shown.
    let mut found = 0;
    for email in env.emails() {
        let rows = env.json(
            &["activity", "--record", &email.to_uppercase(), "--show"],
            0,
        );
        for row in list(&rows, "activity") {
            assert!(text(&row["business_key"]).starts_with("hmac:"), "{row}");
            assert_eq!(row["key_field"], "EmailAddress");
            found += 1;
        }
    }
    assert!(found > 0, "no customer line found by its e-mail address");
    let everything = env.exflow(&["activity", "--show", "--limit", "10000"], 0);
    assert!(
        everything.contains("hmac:") && !everything.contains('@'),
        "{everything}"
    );

    // A reader that goes away (`| head`) ends the output quietly, without a panic.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("exflow"))
        .args(["activity", "--show", "--limit", "10000", "--project"])
        .arg(env.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "{stderr}"
    );

    env.exflow(&["activity", "--outcome", "exploded"], 2);
    drop(env.runtime);
}
