//! Latency of the real-time path: an order created in the Exact Online simulator -> its
//! webhook -> `exflow serve` (the real binary) -> the order in the Exact Globe simulator.
//! 200 orders one after another; prints the median and p99. Not a test (it measures wall
//! time): `cargo bench --bench webhook_latency` (`-- N` for another count).

use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use serde_json::{json, Value};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else if !e.file_name().to_string_lossy().ends_with(".test.yaml") {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn exflow(args: &[&str], dir: &Path) {
    let s = Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(args)
        .arg("--project")
        .arg(dir)
        .status()
        .expect("exflow");
    assert!(s.success(), "exflow {args:?} failed");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let online = OnlineSim::start(
        OnlineSimConfig {
            orders: 20,
            customers: 20,
            products: 25,
            minutely_limit: 1_000_000,
            daily_limit: 10_000_000,
            ..OnlineSimConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("online sim");
    let globe = GlobeSim::start(
        GlobeSimConfig::default(),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("globe sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("pipelines"), &dir.path().join("pipelines"));
    let yaml = format!(
        "state: .exflow/state.db\nconnections:\n  exact_online:\n    base_url: {}\n    division: {}\n    client_id: exflow-sim\n    \
         client_secret: exflow-sim-secret\n    daily_reserve: 10\n  exact_globe:\n    base_url: {}\n    user: exflow\n    password: exflow\n\
         vars:\n  default_debtor: null\n  home_country: NL\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n\
         serve:\n  webhook_secret: {}\n  debounce_ms: 200\n",
        online.base_url(),
        online.division(),
        globe.base_url(),
        online.webhook_secret()
    );
    std::fs::write(dir.path().join("exflow.yaml"), yaml).expect("exflow.yaml");
    let (access, refresh) = online.issue_tokens();
    let now = chrono::Utc::now().timestamp();
    TokenStore::open(&dir.path().join(".exflow/state.db"))
        .expect("tokens")
        .save(
            "exact_online:exflow-sim",
            &StoredToken {
                access_token: access,
                refresh_token: refresh,
                access_expires_at: now + 600,
                refreshed_at: now,
            },
        )
        .expect("save");
    exflow(&["run"], dir.path());

    let mut child = Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(["serve", "--listen", "127.0.0.1:0", "--project"])
        .arg(dir.path())
        .env("EXFLOW_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("line");
    let url = first
        .trim()
        .trim_start_matches("exflow serve: listening on ")
        .to_string();
    exflow(
        &[
            "webhooks",
            "subscribe",
            "SalesOrders",
            "--callback",
            &format!("{url}/webhooks/exact-online"),
        ],
        dir.path(),
    );

    let lines = online.records("SalesOrderLines");
    let template = online
        .records("SalesOrders")
        .into_iter()
        .find(|o| o["Status"] == 12 && lines.iter().any(|l| l["OrderID"] == o["OrderID"]))
        .expect("an open order");
    let order_lines: Vec<Value> = lines
        .iter()
        .filter(|l| l["OrderID"] == template["OrderID"])
        .map(|l| json!({"Item": l["Item"], "Quantity": 1.0}))
        .collect();
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let mut order = json!({"OrderedBy": template["OrderedBy"], "Description": format!("bench {i}"),
            "Status": 12, "SalesOrderLines": order_lines});
        for f in [
            "OrderedByContactPerson",
            "DeliveryAddress",
            "ShippingMethod",
            "PaymentCondition",
        ] {
            if !template[f].is_null() {
                order[f] = template[f].clone();
            }
        }
        let start = Instant::now();
        let created = online.insert("SalesOrders", order).expect("insert");
        let number = text(&created["OrderNumber"]);
        loop {
            if globe
                .records("SalesOrderHeader")
                .iter()
                .any(|h| text(&h["YourReference"]) == number)
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "order {number} never arrived"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        samples.push(start.elapsed());
    }
    let _ = child.kill();
    let _ = child.wait();
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "webhook latency over {n} orders: median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        samples
            .last()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    );
}
