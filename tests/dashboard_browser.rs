//! The dashboard in real headless Chromium (`/usr/bin/chromium` driven by
//! `/usr/bin/chromedriver`): after a run in which orders failed (Globe lacks their items),
//! find a failed order by its order number, see its reason and payloads, fix the cause in the
//! simulator, see a forged Retry (wrong CSRF token) refused, click Retry and see it created;
//! and the login when bound to a non-local address.
//! A missing browser fails this test: it does not skip. Screenshots go to `docs/dashboard/`.

mod serve_support;

use exflow::sim::exact_globe::GlobeSimConfig;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use serve_support::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser() -> (Driver, Client) {
    assert!(
        Path::new(CHROMEDRIVER).exists(),
        "{CHROMEDRIVER} is missing: apt-get install -y chromium chromium-driver"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,1000"]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let start = std::time::Instant::now();
    loop {
        let made = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        match made {
            Ok(c) => return (driver, c),
            Err(e) => {
                assert!(start.elapsed() < DEADLINE, "chromedriver: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_order_is_found_inspected_fixed_and_retried_from_the_browser() {
    // Orders before products: Globe lacks their items, so they fail.
    let env = env(
        small_online(12),
        GlobeSimConfig::default(),
        &[("products", None), ("orders", None)],
        "",
    )
    .await;
    let dir = env.dir.path();
    let (code, out, err) = exflow(&["run", "orders"], dir);
    assert_ne!(code, 0, "some orders should fail: {out}{err}");
    let (_, list, _) = exflow(&["failed", "list", "--format", "json"], dir);
    let list: Value = serde_json::from_str(&list).unwrap();
    let failed = list["failed"].as_array().unwrap();
    assert!(!failed.is_empty(), "{list}");
    let number = text(&failed[0]["business_key"]);
    let reason = text(&failed[0]["reason"]);

    let serve = Serve::start(dir);
    let (_driver, c) = browser().await;
    c.goto(&serve.url).await.unwrap();
    assert!(text_of(&c, "#pipeline-orders").await.contains("failed"));
    screenshot(&c, "overview").await;
    // The budget part of the overview: calls per day against the daily limit.
    let daily = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("#daily-calls"))
        .await
        .unwrap();
    let tip = daily.find(Locator::Css("title")).await.unwrap();
    let tip = tip.prop("textContent").await.unwrap().unwrap_or_default();
    assert!(tip.contains("Exact Online calls"), "{tip}");
    let png = c
        .find(Locator::Css("#budget"))
        .await
        .unwrap()
        .screenshot()
        .await
        .unwrap();
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboard");
    std::fs::write(docs.join("budget.png"), png).unwrap();

    // Find the order by its number, open it: the reason and the payloads.
    c.find(Locator::Css("#search"))
        .await
        .unwrap()
        .send_keys(&number)
        .await
        .unwrap();
    c.find(Locator::Css("#search-go"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let rows = text_of(&c, "#records").await;
    assert!(rows.contains(&number), "{rows}");
    screenshot(&c, "search").await;
    c.find(Locator::Css("#records a.record"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let shown = text_of(&c, "#reason").await;
    assert!(shown.contains("not found by ItemCode"), "{shown}");
    assert_eq!(shown, reason);
    assert_eq!(text_of(&c, "#key").await, number);
    let source = text_of(&c, "#source").await;
    assert!(source.contains(&number), "{source}");
    screenshot(&c, "record").await;

    // The run page, filtered to its failures.
    let run_link = c
        .find(Locator::Css("main p a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{}{run_link}?outcome=failed", serve.url))
        .await
        .unwrap();
    let rows = text_of(&c, "#records").await;
    assert!(
        rows.contains(&number) && !rows.contains("create "),
        "{rows}"
    );
    screenshot(&c, "run").await;

    // Fix the cause in the simulator: the items come to Globe; then Retry.
    let (code, out, err) = exflow(&["run", "products"], dir);
    assert_eq!(code, 0, "{out}{err}");
    c.back().await.unwrap();
    c.refresh().await.unwrap();
    // A forged form (its CSRF token replaced, as another site's page would post it) is
    // refused, and nothing is written.
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.retry-button"))
        .await
        .unwrap();
    c.execute(
        "const f = document.querySelector('form.retry'); \
         f.querySelector('input[name=csrf]').value = 'forged'; f.submit();",
        vec![],
    )
    .await
    .unwrap();
    let refused = text_of(&c, "body").await;
    assert!(refused.contains("missing or wrong CSRF token"), "{refused}");
    assert!(!globe_orders(&env.globe).contains_key(&number));
    c.back().await.unwrap();
    c.refresh().await.unwrap();
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.retry-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let message = text_of(&c, "#message").await;
    assert!(message.contains("1 created"), "{message}");
    assert!(globe_orders(&env.globe).contains_key(&number), "{message}");
    screenshot(&c, "failed").await;

    c.goto(&format!("{}/plan/orders", serve.url)).await.unwrap();
    assert!(text_of(&c, "#steps").await.contains("orders"));
    screenshot(&c, "plan").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn off_loopback_the_browser_logs_in_first() {
    let env = env(small_online(4), GlobeSimConfig::default(), &[], "").await;
    let serve = serve_support::dashboard::start_listening(env.dir.path(), "0.0.0.0:0", "pw-123");
    let (_driver, c) = browser().await;
    c.goto(&serve.url).await.unwrap();
    text_of(&c, "#password").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    screenshot(&c, "login").await;
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys("pw-123")
        .await
        .unwrap();
    c.find(Locator::Css("#login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(&c, "h1").await, "Overview");
    let html = c.source().await.unwrap();
    assert!(!html.contains("pw-123") && !html.contains("exflow-sim-secret"));
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exact_online_is_connected_by_clicking_connect() {
    let env = env(small_online(2), GlobeSimConfig::default(), &[], "").await;
    let dir = env.dir.path();
    not_logged_in(dir);
    let serve = Serve::start(dir);
    let (_driver, c) = browser().await;
    c.goto(&format!("{}/connections", serve.url)).await.unwrap();
    assert!(text_of(&c, "#exact-online").await.contains("not connected"));
    c.find(Locator::Css("#exact-online-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The simulator's authorize page approves at once and redirects to the callback.
    let division = env.online.division().to_string();
    let want = format!("Connected to Exact Online: division {division}");
    text_of(&c, "#back").await;
    let message = text_of(&c, "#message").await;
    assert!(message.contains(&want), "{message}");
    screenshot(&c, "connected").await;
    c.goto(&format!("{}/connections", serve.url)).await.unwrap();
    assert!(text_of(&c, "#exact-online").await.contains(&division));
    c.find(Locator::Css("#exact-globe-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let globe = text_of(&c, "#exact-globe").await;
    assert!(globe.contains("connected"), "{globe}");
    let page = text_of(&c, "main").await;
    assert!(page.contains("Exact Globe answered"), "{page}");
    screenshot(&c, "connections").await;
    let html = c.source().await.unwrap();
    assert!(!html.contains("exflow-sim-secret"));
    c.close().await.unwrap();
}
