//! Connecting the systems from the dashboard: `exflow serve` starts with no Exact Online
//! token, the Connect button runs the OAuth authorization-code flow against the simulator
//! (authorize page, redirect back to serve's callback with a one-time state), the tokens land
//! in the state store, and the orders pipeline that waited runs; the Globe test button asks
//! Globe for a record and says what answered, or why not.

mod serve_support;

use exflow::sim::exact_globe::GlobeSimConfig;
use exflow::state::tokens::TokenStore;
use serve_support::dashboard::{client, csrf_of};
use serve_support::*;

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_exact_online_from_the_dashboard_and_test_globe() {
    let env = env(
        small_online(5),
        GlobeSimConfig::default(),
        &[("orders", Some("0 0 1 1 *"))],
        "",
    )
    .await;
    let dir = env.dir.path();
    not_logged_in(dir);

    let serve = Serve::start(dir);
    let http = client();
    let get = |path: &str| http.get(format!("{}{path}", serve.url)).send();
    let page = get("/connections").await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("not connected"), "{html}");
    assert!(html.contains("no Exact Online token"), "{html}");
    assert!(!html.contains("exflow-sim-secret"), "{html}");
    let csrf = csrf_of(&html);

    // Without the token the button does nothing.
    let r = http
        .post(format!("{}/connections/exact-online", serve.url))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = http
        .post(format!("{}/connections/exact-online", serve.url))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let authorize = location(&r);
    assert!(
        authorize.starts_with(&format!("{}/api/oauth2/auth?", env.online.base_url())),
        "{authorize}"
    );
    let port = serve.url.rsplit(':').next().unwrap();
    let redirect = format!("http://127.0.0.1:{port}/exflow/callback");
    let wanted: String = url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect();
    assert!(authorize.contains(&wanted), "{authorize}");

    // The simulator approves at once and sends the browser back to serve.
    let r = http.get(&authorize).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let back = location(&r);
    assert!(back.starts_with(&redirect), "{back}");
    // A forged state is refused, and the real code is not spent by it.
    let forged = format!("{}&state=forged", back.split("&state=").next().unwrap());
    let r = http.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = http.get(&back).send().await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let division = env.online.division().to_string();
    assert!(
        body.contains(&format!("Connected to Exact Online: division {division}")),
        "{body}"
    );
    // The state is good once.
    let r = http.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 400);

    // Stored as `exflow auth exact-online` stores them.
    let tokens = TokenStore::open(&dir.join(".exflow/state.db")).unwrap();
    assert!(tokens.load("exact_online:exflow-sim").unwrap().is_some());

    // The pipeline that waited runs now (its schedule is a year away) and reads every open
    // order from Exact Online; without the products pipeline Globe lacks their items, so the
    // orders that pass its filter fail by item code, which proves they were read.
    let want = open_orders(&env.online).len();
    assert!(want > 0);
    let mut runs = serde_json::Value::Null;
    until("the orders run after connecting", || {
        let (code, out, _) = exflow(&["runs", "orders", "--format", "json"], dir);
        runs = serde_json::from_str(&out).unwrap_or_default();
        code == 0 && runs["runs"].as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    let (_, activity, _) = exflow(&["activity", "orders"], dir);
    assert!(
        activity.contains("Item not found by ItemCode"),
        "{activity}"
    );
    assert!(!activity.contains("authentication"), "{activity}");
    let html = get("/connections").await.unwrap().text().await.unwrap();
    assert!(
        html.contains(&format!("Connected to division {division}")),
        "{html}"
    );
    for secret in ["exflow-sim-secret", "\"access_token\""] {
        assert!(!html.contains(secret), "{secret}");
    }

    // Globe: the test button says what answered.
    let r = http
        .post(format!("{}/connections/exact-globe/test", serve.url))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/connections?msg="), "{to}");
    let html = get(&to).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Exact Globe answered: administration 500 on localhost"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_globe_that_does_not_answer_is_said_with_its_url() {
    let env = env(
        small_online(2),
        GlobeSimConfig::default(),
        &[("products", Some("0 0 1 1 *"))],
        "",
    )
    .await;
    let dir = env.dir.path();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let yaml = std::fs::read_to_string(dir.join("exflow.yaml")).unwrap();
    let yaml = yaml.replace(&env.globe.base_url(), &dead);
    std::fs::write(dir.join("exflow.yaml"), yaml).unwrap();
    let serve = Serve::start(dir);
    let http = client();
    let html = http
        .get(format!("{}/connections", serve.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The default redirect URI points elsewhere: the page says how to fix it.
    assert!(
        html.contains("where this service does not listen"),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let r = http
        .post(format!("{}/connections/exact-globe/test", serve.url))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let to = location(&r);
    assert!(to.starts_with("/connections?error="), "{to}");
    let html = http
        .get(format!("{}{to}", serve.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Exact Globe did not answer"), "{html}");
    assert!(html.contains(&dead), "{html}");
    assert!(!html.contains("exflow-sim-secret") && !html.contains("password: exflow"));
}
