//! Shared by the `serve_*` tests: both simulators and a project pointing at them, the
//! real `exflow serve` binary, `/metrics` parsing, signed webhooks, and local notification
//! receivers (a webhook listener and a tiny SMTP server).
#![allow(dead_code)]

pub mod dashboard;

use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub const DEADLINE: Duration = Duration::from_secs(120);

pub struct Env {
    pub online: OnlineSim,
    pub globe: GlobeSim,
    pub dir: tempfile::TempDir,
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if !e.file_name().to_string_lossy().ends_with(".test.yaml") {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Both simulators and a project; `pipelines` are the standard ones kept, each with its
/// schedule (`None`: no `schedule:`); `extra` is appended to exflow.yaml.
pub async fn env(
    online: OnlineSimConfig,
    globe: GlobeSimConfig,
    pipelines: &[(&str, Option<&str>)],
    extra: &str,
) -> Env {
    let online = OnlineSim::start(online, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let globe = GlobeSim::start(globe, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pdir = dir.path().join("pipelines");
    copy_dir(&root.join("pipelines"), &pdir);
    for name in ["products", "customers", "orders"] {
        let file = pdir.join(format!("{name}.yaml"));
        match pipelines.iter().find(|(n, _)| *n == name) {
            None => std::fs::remove_file(file).unwrap(),
            Some((_, Some(cron))) => set_schedule(&file, cron),
            Some((_, None)) => {}
        }
    }
    let yaml = format!(
        "project: e2e\nstate: .exflow/state.db\nretention_days: 30\n\
         connections:\n  exact_online:\n    base_url: {}\n    division: {}\n    client_id: exflow-sim\n    \
         client_secret: exflow-sim-secret\n    redirect_uri: http://127.0.0.1:9/callback\n    daily_reserve: 10\n  \
         exact_globe:\n    base_url: {}\n    server_name: localhost\n    database_name: \"500\"\n    \
         user: exflow\n    password: exflow\n\
         vars:\n  default_debtor: null\n  home_country: NL\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n\
         serve:\n  webhook_secret: {}\n  debounce_ms: 200\n  reload_seconds: 1\n{extra}",
        online.base_url(),
        online.division(),
        globe.base_url(),
        online.webhook_secret(),
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
    Env { online, globe, dir }
}

pub fn set_schedule(file: &Path, cron: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("schedule:"))
        .collect();
    let line = format!("schedule: \"{cron}\"");
    kept.push(&line);
    std::fs::write(file, kept.join("\n") + "\n").unwrap();
}

pub fn small_online(orders: usize) -> OnlineSimConfig {
    OnlineSimConfig {
        orders,
        customers: 20,
        products: 25,
        minutely_limit: 100_000,
        daily_limit: 1_000_000,
        ..OnlineSimConfig::default()
    }
}

/// A running `exflow serve` and the base URL it printed.
pub struct Serve {
    pub child: Child,
    pub url: String,
}

impl Serve {
    pub fn start(dir: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_exflow"))
            .args(["serve", "--listen", "127.0.0.1:0", "--project"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("exflow serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_string();
        Serve { child, url }
    }

    pub fn terminate(&mut self) -> i32 {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn exflow(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(args)
        .arg("--project")
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits until `f` holds, polling; panics with `what` after the deadline.
pub async fn until<F: FnMut() -> bool>(what: &str, mut f: F) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < DEADLINE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn metrics(base: &str) -> prometheus_parse::Scrape {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

/// Sum of a metric's samples whose labels include every `(name, value)` of `labels`.
pub fn value(s: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == metric)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn sign(content: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(content.as_bytes());
    let hash: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("{{\"Content\":{content},\"HashCode\":\"{hash}\"}}")
}

/// Globe orders per YourReference.
pub fn globe_orders(globe: &GlobeSim) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for h in globe.records("SalesOrderHeader") {
        *out.entry(text(&h["YourReference"])).or_default() += 1;
    }
    out
}

/// Order numbers of the open Online orders with lines (what the orders pipeline moves).
pub fn open_orders(online: &OnlineSim) -> Vec<String> {
    let lines = online.records("SalesOrderLines");
    online
        .records("SalesOrders")
        .into_iter()
        .filter(|o| o["Status"] == 12)
        .filter(|o| lines.iter().any(|l| l["OrderID"] == o["OrderID"]))
        .map(|o| text(&o["OrderNumber"]))
        .collect()
}

/// A new open order, copied from an existing one (same customer and items).
pub fn new_order(online: &OnlineSim) -> String {
    let lines = online.records("SalesOrderLines");
    let template = online
        .records("SalesOrders")
        .into_iter()
        .find(|o| o["Status"] == 12 && lines.iter().any(|l| l["OrderID"] == o["OrderID"]))
        .unwrap();
    let order_lines: Vec<Value> = lines
        .iter()
        .filter(|l| l["OrderID"] == template["OrderID"])
        .map(|l| json!({"Item": l["Item"], "Quantity": 1.0}))
        .collect();
    let mut order = json!({
        "OrderedBy": template["OrderedBy"],
        "Description": "Webhook order",
        "Status": 12,
        "SalesOrderLines": order_lines,
    });
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
    let created = online.insert("SalesOrders", order).unwrap();
    text(&created["OrderNumber"])
}

/// A tiny SMTP server: accepts every message and keeps its DATA.
pub async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 localhost ESMTP test\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(std::mem::take(d));
                            data = None;
                            let _ = w.write_all(b"250 OK queued\r\n").await;
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-localhost\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 OK\r\n",
                    };
                    let _ = w.write_all(answer).await;
                }
            });
        }
    });
    (port, mails)
}

/// A webhook listener keeping every JSON body.
pub async fn webhook_listener() -> (String, Arc<Mutex<Vec<Value>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, bodies)
}

/// Forgets the Exact Online login of `dir` and points its redirect URI at serve's own port
/// (port 0), as a project looks before anyone pressed Connect.
pub fn not_logged_in(dir: &Path) {
    std::fs::remove_dir_all(dir.join(".exflow")).unwrap();
    let yaml = std::fs::read_to_string(dir.join("exflow.yaml")).unwrap();
    let yaml = yaml.replace(
        "http://127.0.0.1:9/callback",
        "http://127.0.0.1:0/exflow/callback",
    );
    std::fs::write(dir.join("exflow.yaml"), yaml).unwrap();
}
