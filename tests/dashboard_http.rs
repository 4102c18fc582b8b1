//! The dashboard over plain HTTP: a POST without the CSRF token is refused, the login is
//! asked for off loopback (and its cookie is HttpOnly and SameSite=Strict), and no page
//! renders a secret.

mod serve_support;

use exflow::sim::exact_globe::GlobeSimConfig;
use serve_support::dashboard::client;
use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_post_without_the_csrf_token_is_refused() {
    let env = env(
        small_online(6),
        GlobeSimConfig::default(),
        &[("orders", None)],
        "",
    )
    .await;
    let dir = env.dir.path();
    exflow(&["run", "orders"], dir);
    let serve = Serve::start(dir);
    let http = client();
    let page = http
        .get(format!("{}/failed", serve.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"csrf\""), "{html}");
    for secret in ["exflow-sim-secret", env.online.webhook_secret()] {
        assert!(!html.contains(secret));
    }
    for path in ["/failed/retry", "/failed/skip"] {
        for form in [
            vec![("pipeline", "orders"), ("key", "x"), ("note", "n")],
            vec![("pipeline", "orders"), ("key", "x"), ("csrf", "forged")],
        ] {
            let r = http
                .post(format!("{}{path}", serve.url))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{path} {form:?}");
        }
    }
    // With the token the form is taken (the key waits nowhere: said, not done).
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{}/failed/skip", serve.url))
        .form(&[
            ("pipeline", "orders"),
            ("key", "no-such"),
            ("csrf", &token),
            ("note", "n"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    for path in [
        "/",
        "/runs/1",
        "/records/1",
        "/search?q=%3Cscript%3E",
        "/plan/orders",
    ] {
        let r = http
            .get(format!("{}{path}", serve.url))
            .send()
            .await
            .unwrap();
        assert!(r.status() != 500, "{path}: {}", r.status());
        let body = r.text().await.unwrap();
        assert!(!body.contains("<script>"), "{path}");
        assert!(!body.contains("exflow-sim-secret"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn off_loopback_every_page_asks_for_the_login() {
    let env = env(small_online(4), GlobeSimConfig::default(), &[], "").await;
    let serve = serve_support::dashboard::start_listening(env.dir.path(), "0.0.0.0:0", "pw-123");
    let http = client();
    let r = http
        .get(format!("{}/failed", serve.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let r = http
        .post(format!("{}/failed/retry", serve.url))
        .form(&[("pipeline", "orders")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The health routes stay open for probes.
    let r = http
        .get(format!("{}/healthz", serve.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{}/login", serve.url))
        .form(&[("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{}/login", serve.url))
        .form(&[("password", "pw-123")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let r = http
        .get(format!("{}/", serve.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("Overview") && !body.contains("pw-123"));
}
