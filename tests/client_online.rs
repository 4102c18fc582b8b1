//! The Exact Online client against the simulator over real HTTP (port 0), with a real
//! SQLite token store. API calls are counted from the simulator's `/_sim/stats`.

use exflow::cli::auth::{run_auth, AuthMode};
use exflow::connectors::exact_online::{ExactOnlineClient, OnlineConfig};
use exflow::connectors::{Connector, ConnectorError, FetchQuery, MatchKey, Record};
use exflow::sim::exact_online::{Faults, OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

type R<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Env {
    sim: OnlineSim,
    _dir: tempfile::TempDir,
    db: PathBuf,
    config: OnlineConfig,
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn env(sim_config: OnlineSimConfig) -> R<Env> {
    let sim = OnlineSim::start(sim_config, "127.0.0.1:0".parse()?).await?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("state.db");
    let mut config = OnlineConfig::new(&sim.base_url(), "exflow-sim", "exflow-sim-secret");
    config.division = Some(sim.division());
    let (access, refresh) = sim.issue_tokens();
    TokenStore::open(&db)?.save(
        &config.token_key,
        &StoredToken {
            access_token: access,
            refresh_token: refresh,
            access_expires_at: now_s() + 600,
            refreshed_at: now_s(),
        },
    )?;
    Ok(Env {
        sim,
        _dir: dir,
        db,
        config,
    })
}

impl Env {
    async fn client(&self) -> R<ExactOnlineClient> {
        Ok(ExactOnlineClient::new(self.config.clone(), TokenStore::open(&self.db)?).await?)
    }

    /// `GET /_sim/stats` over HTTP.
    async fn stats(&self) -> R<Value> {
        let url = format!("{}/_sim/stats", self.sim.base_url());
        Ok(reqwest::get(url).await?.json().await?)
    }

    async fn calls(&self, pattern: &str) -> R<u64> {
        Ok(self.stats().await?["calls"][pattern].as_u64().unwrap_or(0))
    }

    /// Every counted call except the token endpoint's.
    async fn api_calls(&self) -> R<u64> {
        let s = self.stats().await?;
        let token = s["calls"]["POST /api/oauth2/token"].as_u64().unwrap_or(0);
        Ok(s["total"].as_u64().unwrap_or(0) - token)
    }

    async fn reset_stats(&self) -> R {
        let url = format!("{}/_sim/reset", self.sim.base_url());
        reqwest::Client::new()
            .post(url)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    fn stored(&self) -> R<StoredToken> {
        TokenStore::open(&self.db)?
            .load(&self.config.token_key)?
            .ok_or_else(|| "no token stored".into())
    }
}

fn small() -> OnlineSimConfig {
    OnlineSimConfig {
        orders: 20,
        customers: 10,
        products: 10,
        ..OnlineSimConfig::default()
    }
}

fn accounts_query() -> FetchQuery {
    FetchQuery {
        entity: "Accounts".into(),
        select: vec!["ID".into(), "Code".into(), "Name".into()],
        ..FetchQuery::default()
    }
}

fn text<'a>(r: &'a Value, field: &str) -> &'a str {
    r.get(field).and_then(Value::as_str).unwrap_or_default()
}

#[tokio::test]
async fn token_rotation_persists_the_new_pair_before_use() -> R {
    let env = env(small()).await?;
    let client = env.client().await?;
    let before = env.stored()?;
    client.fetch_page(&accounts_query()).await?;
    assert_eq!(
        client.tokens().refresh_calls(),
        0,
        "no refresh while the token is fresh"
    );

    env.sim.advance_clock(601);
    client.fetch_page(&accounts_query()).await?;
    let after = env.stored()?;
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "rotated pair stored"
    );
    assert_ne!(after.access_token, before.access_token);
    assert!(after.access_expires_at > now_s() + 500);
    assert_eq!(env.calls("POST /api/oauth2/token").await?, 1);

    // Someone holding the old pair is told clearly what to do.
    let dir = tempfile::tempdir()?;
    let stale_db = dir.path().join("stale.db");
    TokenStore::open(&stale_db)?.save(
        &env.config.token_key,
        &StoredToken {
            access_expires_at: 0,
            ..before
        },
    )?;
    let stale = ExactOnlineClient::new(env.config.clone(), TokenStore::open(&stale_db)?).await?;
    let err = stale
        .fetch_page(&accounts_query())
        .await
        .err()
        .ok_or("the old refresh token must be refused")?;
    let msg = format!(
        "{err} {:?}",
        std::error::Error::source(&err).map(|s| s.to_string())
    );
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err}");
    assert!(msg.contains("exflow auth exact-online"), "{msg}");
    // Tokens never show in Debug output.
    assert!(!format!("{after:?}").contains(&after.refresh_token));
    Ok(())
}

#[tokio::test]
async fn concurrent_refresh_happens_once_across_processes_and_tasks() -> R {
    let env = env(small()).await?;
    // Two "processes": separate clients, separate SQLite handles on one file.
    let a = env.client().await?;
    let b = env.client().await?;
    env.sim.advance_clock(601);
    let q = accounts_query();
    let mut tasks = Vec::new();
    for c in [&a, &b, &a, &b, &a, &b] {
        let c = c.clone();
        let q = q.clone();
        tasks.push(tokio::spawn(async move { c.fetch_page(&q).await }));
    }
    for t in tasks {
        t.await??;
    }
    assert_eq!(
        env.calls("POST /api/oauth2/token").await?,
        1,
        "exactly one refresh"
    );
    assert_eq!(a.tokens().refresh_calls() + b.tokens().refresh_calls(), 1);
    Ok(())
}

/// A token endpoint that rotates the refresh token but fails the answer (500 with the new
/// refresh token in the body, no access token): the new refresh token must be kept.
#[tokio::test]
async fn refresh_token_from_a_failed_token_answer_is_persisted() -> R {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/api/oauth2/token",
        post(|| async {
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "server_error", "refresh_token": "Gcp7!ROTATED"})),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("state.db");
    let mut config = OnlineConfig::new(&base, "app", "secret");
    config.division = Some(1);
    let store = TokenStore::open(&db)?;
    store.save(
        &config.token_key,
        &StoredToken {
            access_token: "old-access".into(),
            refresh_token: "Gcp7!OLD".into(),
            access_expires_at: now_s() - 1,
            refreshed_at: now_s() - 700,
        },
    )?;
    let client = ExactOnlineClient::new(config.clone(), store.clone()).await?;
    let err = client
        .fetch_page(&accounts_query())
        .await
        .err()
        .ok_or("a failed token answer cannot succeed")?;
    assert!(matches!(err, ConnectorError::Unavailable { .. }), "{err}");
    let kept = store.load(&config.token_key)?.ok_or("pair vanished")?;
    assert_eq!(kept.refresh_token, "Gcp7!ROTATED");
    assert_eq!(
        kept.access_expires_at, 0,
        "no usable access token: refresh next time"
    );
    server.abort();
    Ok(())
}

#[tokio::test]
async fn waits_out_a_429_and_repeats_the_call() -> R {
    let env = env(OnlineSimConfig {
        faults: Faults {
            burst429: 1,
            ..Faults::default()
        },
        ..small()
    })
    .await?;
    let client = env.client().await?;
    let page = client.fetch_page(&accounts_query()).await?;
    assert_eq!(page.records.len(), 10);
    let s = env.stats().await?;
    assert_eq!(s["throttled"], json!(1));
    assert_eq!(
        s["status"]["200"],
        json!(1),
        "the same request repeated once"
    );
    let limits = client.limiter().limits();
    assert_eq!(limits.minutely_limit, Some(60));
    assert_eq!(limits.daily_limit, Some(5000));
    assert!(limits.minutely_reset_ms.is_some() && limits.daily_reset_ms.is_some());
    Ok(())
}

#[tokio::test]
async fn low_minutely_limit_waits_instead_of_getting_429s() -> R {
    let env = env(OnlineSimConfig {
        minutely_limit: 3,
        ..small()
    })
    .await?;
    let client = env.client().await?;
    for _ in 0..5 {
        client.fetch_page(&accounts_query()).await?;
    }
    let s = env.stats().await?;
    assert_eq!(s["status"]["200"], json!(5));
    // At most one 429 (a window that rolled between header and call), never a storm.
    assert!(s["throttled"].as_u64().unwrap_or(99) <= 1, "{s}");
    Ok(())
}

#[tokio::test]
async fn daily_reserve_stops_cleanly() -> R {
    let env = env(OnlineSimConfig {
        daily_limit: 505,
        ..small()
    })
    .await?;
    let client = env.client().await?;
    let mut ok = 0;
    let err = loop {
        match client.fetch_page(&accounts_query()).await {
            Ok(_) => ok += 1,
            Err(e) => break e,
        }
        if ok > 10 {
            return Err("the reserve was not kept".into());
        }
    };
    assert!(
        matches!(err, ConnectorError::BudgetExhausted { reserve: 500, .. }),
        "{err}"
    );
    assert_eq!(ok, 5);
    assert_eq!(
        env.api_calls().await?,
        5,
        "no call spent after the reserve was reached"
    );
    Ok(())
}

#[tokio::test]
async fn pages_follow_next_links_sequentially() -> R {
    let env = env(OnlineSimConfig {
        orders: 150,
        ..small()
    })
    .await?;
    let client = env.client().await?;
    let mut q = FetchQuery {
        entity: "SalesOrders".into(),
        filter: Some("OrderNumber gt 0".into()),
        select: vec!["OrderID".into(), "OrderNumber".into()],
        ..FetchQuery::default()
    };
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let page = client.fetch_page(&q).await?;
        pages += 1;
        for r in &page.records {
            assert!(seen.insert(r["OrderID"].to_string()), "duplicate row");
        }
        if !page.more {
            break;
        }
        q.cursor = page.cursor;
    }
    assert_eq!(seen.len(), env.sim.records("SalesOrders").len());
    assert_eq!(pages, 3, "60 rows a page");
    assert_eq!(
        env.calls("GET /api/v1/{division}/salesorder/SalesOrders")
            .await?,
        3
    );
    Ok(())
}

#[tokio::test]
async fn or_lookups_are_split_under_the_url_limit() -> R {
    let env = env(OnlineSimConfig {
        customers: 80,
        ..small()
    })
    .await?;
    let client = env.client().await?;
    let mut ids: Vec<Value> = env
        .sim
        .records("Accounts")
        .iter()
        .map(|a| a["ID"].clone())
        .collect();
    let real = ids.len();
    // Plus 300 unknown keys: about 380 GUIDs do not fit one 6,000-character URL.
    ids.extend((0..300).map(|_| json!(uuid::Uuid::new_v4().to_string())));
    env.reset_stats().await?;
    let found = client
        .lookup("Accounts", "ID", &ids, &["ID".into(), "Name".into()])
        .await?;
    assert_eq!(found.len(), real);
    let gets = env.calls("GET /api/v1/{division}/crm/Accounts").await?;
    assert!((4..=8).contains(&gets), "{gets} calls");
    assert_eq!(
        env.stats().await?["status"].get("400"),
        None,
        "no URL refused"
    );
    Ok(())
}

#[tokio::test]
async fn account_codes_are_padded_on_lookup_and_create() -> R {
    let env = env(small()).await?;
    let client = env.client().await?;
    let acc = env
        .sim
        .records("Accounts")
        .into_iter()
        .next()
        .ok_or("no account")?;
    let code = text(&acc, "Code").trim().to_string();
    assert_ne!(
        code,
        text(&acc, "Code"),
        "the simulator stores padded codes"
    );
    let found = client
        .lookup("Accounts", "Code", &[json!(code)], &[])
        .await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["ID"], acc["ID"]);

    let mut rec = Record::new();
    rec.insert("Code".into(), json!("990077"));
    rec.insert("Name".into(), json!("Bakkerij Test"));
    let created = client.create("Accounts", &rec, None).await?;
    assert_eq!(created["Code"], json!(format!("{:>18}", "990077")));
    Ok(())
}

#[tokio::test]
async fn put_sends_only_the_changed_fields() -> R {
    let env = env(small()).await?;
    let client = env.client().await?;
    let acc = env
        .sim
        .records("Accounts")
        .into_iter()
        .next()
        .ok_or("no account")?;
    let id = acc["ID"].clone();
    let mut changes = Record::new();
    changes.insert("Name".into(), json!("Nieuwe Naam B.V."));
    client.update("Accounts", &id, &changes).await?;
    let after = env
        .sim
        .records("Accounts")
        .into_iter()
        .find(|a| a["ID"] == id)
        .ok_or("account gone")?;
    assert_eq!(after["Name"], json!("Nieuwe Naam B.V."));
    for field in ["Code", "City", "Email", "VATNumber"] {
        assert_eq!(after[field], acc[field], "{field} untouched");
    }
    // A refused write (4xx) is not retried. Exact Online skips read-only fields without an
    // error; an unknown property is refused.
    let mut bad = Record::new();
    bad.insert("Colour".into(), json!("red"));
    env.reset_stats().await?;
    let err = client
        .update("Accounts", &id, &bad)
        .await
        .err()
        .ok_or("must be refused")?;
    assert!(err.is_record_error(), "{err}");
    assert_eq!(
        env.calls("PUT /api/v1/{division}/crm/Accounts(guid)")
            .await?,
        1
    );
    Ok(())
}

fn order(sim: &OnlineSim, your_ref: &str) -> R<(Record, Vec<Record>)> {
    let acc = sim
        .records("Accounts")
        .into_iter()
        .next()
        .ok_or("no account")?;
    let item = sim.records("Items").into_iter().next().ok_or("no item")?;
    let mut header = Record::new();
    header.insert("OrderedBy".into(), acc["ID"].clone());
    header.insert("YourRef".into(), json!(your_ref));
    header.insert("Description".into(), json!("test order"));
    let mut line = Record::new();
    line.insert("Item".into(), item["ID"].clone());
    line.insert("Quantity".into(), json!(2));
    Ok((header, vec![line]))
}

#[tokio::test]
async fn a_post_whose_answer_is_lost_is_not_duplicated() -> R {
    let env = env(OnlineSimConfig {
        faults: Faults {
            lost_post: 1.0,
            ..Faults::default()
        },
        ..small()
    })
    .await?;
    let client = env.client().await?;
    let (header, lines) = order(&env.sim, "WEB-4711")?;
    let mk = MatchKey {
        field: "YourRef".into(),
        value: json!("WEB-4711"),
    };
    let created = client
        .create_document("SalesOrders", &header, "SalesOrderLines", &lines, Some(&mk))
        .await?;
    assert_eq!(created["YourRef"], json!("WEB-4711"));
    let with_ref = |sim: &OnlineSim, r: &str| {
        sim.records("SalesOrders")
            .iter()
            .filter(|o| o["YourRef"] == json!(r))
            .count()
    };
    assert_eq!(with_ref(&env.sim, "WEB-4711"), 1);
    assert_eq!(
        env.calls("POST /api/v1/{division}/salesorder/SalesOrders")
            .await?,
        1
    );

    // Without a match key the client will not guess: one POST, a clear error.
    let (header, lines) = order(&env.sim, "WEB-4712")?;
    let err = client
        .create_document("SalesOrders", &header, "SalesOrderLines", &lines, None)
        .await
        .err()
        .ok_or("cannot know the outcome")?;
    assert!(matches!(err, ConnectorError::Unavailable { .. }), "{err}");
    assert_eq!(with_ref(&env.sim, "WEB-4712"), 1);
    assert_eq!(
        env.calls("POST /api/v1/{division}/salesorder/SalesOrders")
            .await?,
        2
    );
    Ok(())
}

#[tokio::test]
async fn deep_insert_and_refusals() -> R {
    let env = env(small()).await?;
    let client = env.client().await?;
    let (header, lines) = order(&env.sim, "WEB-1")?;
    let created = client
        .create_document("SalesOrders", &header, "SalesOrderLines", &lines, None)
        .await?;
    assert!(
        created["OrderNumber"].as_i64().is_some(),
        "full representation: {created:?}"
    );
    assert_eq!(created["SalesOrderLines"].as_array().map(Vec::len), Some(1));
    let mut bad = header.clone();
    bad.insert("NoSuchField".into(), json!(1));
    let err = client
        .create_document("SalesOrders", &bad, "SalesOrderLines", &lines, None)
        .await
        .err()
        .ok_or("unknown field must be refused")?;
    match err {
        ConnectorError::Refused {
            status, message, ..
        } => {
            assert_eq!(status, 400);
            assert!(!message.is_empty());
        }
        other => return Err(format!("expected Refused, got {other}").into()),
    }
    Ok(())
}

#[tokio::test]
async fn reading_1000_orders_with_lines_and_accounts_costs_few_calls() -> R {
    let env = env(OnlineSimConfig {
        orders: 1000,
        customers: 80,
        products: 60,
        ..OnlineSimConfig::default()
    })
    .await?;
    let client = env.client().await?;
    env.reset_stats().await?;
    let mut q = FetchQuery {
        entity: "SalesOrders".into(),
        expand: vec!["SalesOrderLines".into()],
        ..FetchQuery::default()
    };
    let mut orders: Vec<Record> = Vec::new();
    loop {
        let page = client.fetch_page(&q).await?;
        orders.extend(page.records);
        q.cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(orders.len(), 1000);
    let lines: usize = orders
        .iter()
        .map(|o| o["SalesOrderLines"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(lines, env.sim.records("SalesOrderLines").len());
    assert!(orders.iter().all(|o| o["SalesOrderLines"]
        .as_array()
        .is_some_and(|l| !l.is_empty())));
    let mut accounts: Vec<Value> = orders.iter().map(|o| o["OrderedBy"].clone()).collect();
    accounts.sort_by_key(|v| v.to_string());
    accounts.dedup();
    let found = client.lookup("Accounts", "ID", &accounts, &[]).await?;
    assert_eq!(found.len(), accounts.len());
    let spent = env.api_calls().await?;
    eprintln!(
        "1000 orders, {lines} lines, {} accounts: {spent} API calls ({:?})",
        accounts.len(),
        env.stats().await?["calls"]
    );
    assert!(spent <= 50, "{spent} calls");
    assert_eq!(spent, client.calls().total());
    Ok(())
}

#[tokio::test]
async fn incremental_sync_resumes_from_the_cursor() -> R {
    let env = env(small()).await?;
    let client = env.client().await?;
    let q = FetchQuery {
        entity: "Accounts".into(),
        ..FetchQuery::default()
    };
    let first = client.fetch_page(&q).await?;
    assert_eq!(first.records.len(), 10);
    assert!(!first.more);
    let id = text(&Value::Object(first.records[3].clone()), "ID").to_string();
    env.sim
        .update("Accounts", &id, json!({"Name": "Gewijzigd"}))?;
    let next = client
        .fetch_page(&FetchQuery {
            cursor: first.cursor.clone(),
            ..q.clone()
        })
        .await?;
    assert_eq!(next.records.len(), 1);
    assert_eq!(next.records[0]["Name"], json!("Gewijzigd"));
    assert!(next.records[0]["Timestamp"].is_i64());
    Ok(())
}

#[tokio::test]
async fn auth_flow_with_the_local_redirect_listener() -> R {
    let sim = OnlineSim::start(small(), "127.0.0.1:0".parse()?).await?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join(".exflow/state.db");
    let mut config = OnlineConfig::new(&sim.base_url(), "exflow-sim", "exflow-sim-secret");
    config.redirect_uri = "http://127.0.0.1:0/callback".into();
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let tx = std::sync::Mutex::new(Some(tx));
    let show = move |url: &str| {
        if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(url.to_string());
        }
    };
    let browser = tokio::spawn(async move {
        let url = rx.await?;
        // The simulator approves at once and redirects to our listener.
        let resp = reqwest::get(url).await?;
        Ok::<u16, Box<dyn std::error::Error + Send + Sync>>(resp.status().as_u16())
    });
    let outcome = run_auth(
        config.clone(),
        &db,
        AuthMode::Browser {
            timeout: Duration::from_secs(30),
        },
        &show,
    )
    .await?;
    assert_eq!(browser.await??, 200);
    assert_eq!(outcome.division, sim.division());
    let stored = TokenStore::open(&db)?
        .load(&config.token_key)?
        .ok_or("not stored")?;
    assert!(stored.access_expires_at > now_s() + 500);

    // Importing an unknown refresh token fails without storing a usable pair.
    let err = run_auth(
        config,
        &db,
        AuthMode::RefreshToken("Gcp7!NOPE".into()),
        &|_| {},
    )
    .await
    .err()
    .ok_or("a made-up refresh token must fail")?;
    assert!(err.to_string().contains("refused"), "{err}");
    Ok(())
}

#[tokio::test]
async fn reads_survive_server_errors_and_dropped_connections() -> R {
    let env = env(OnlineSimConfig {
        orders: 200,
        faults: Faults {
            status500: 0.15,
            status503: 0.15,
            drop: 0.1,
            ..Faults::default()
        },
        ..small()
    })
    .await?;
    let client = env.client().await?;
    let mut q = FetchQuery {
        entity: "SalesOrders".into(),
        filter: Some("OrderNumber gt 0".into()),
        select: vec!["OrderID".into()],
        ..FetchQuery::default()
    };
    let mut seen = HashSet::new();
    loop {
        let page = client.fetch_page(&q).await?;
        for r in &page.records {
            seen.insert(r["OrderID"].to_string());
        }
        if !page.more {
            break;
        }
        q.cursor = page.cursor;
    }
    assert_eq!(seen.len(), 200);
    let s = env.stats().await?;
    let failed = s["status"]["500"].as_u64().unwrap_or(0)
        + s["status"]["503"].as_u64().unwrap_or(0)
        + s["status"]["0"].as_u64().unwrap_or(0);
    assert!(failed > 0, "faults were injected: {s}");
    Ok(())
}

/// The real binary: `exflow auth exact-online --code` with a code from the simulator's
/// authorize endpoint (URL-encoded, with `!`), then `--refresh-token`. No token is printed.
#[tokio::test(flavor = "multi_thread")]
async fn auth_command_imports_a_code_and_a_refresh_token() -> R {
    let sim = OnlineSim::start(small(), "127.0.0.1:0".parse()?).await?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("state.db");
    let redirect = "http://127.0.0.1:9/callback";
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let resp = no_redirects
        .get(format!("{}/api/oauth2/auth", sim.base_url()))
        .query(&[
            ("client_id", "exflow-sim"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
        ])
        .send()
        .await?;
    let location = resp
        .headers()
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .ok_or("no redirect")?
        .to_string();
    let code = location.split("code=").nth(1).ok_or("no code")?.to_string();
    let base = sim.base_url();
    let run = |args: Vec<String>| {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            assert_cmd::Command::cargo_bin("exflow")
                .map(|mut c| {
                    c.args(["auth", "exact-online", "--base-url"])
                        .args(&args)
                        .arg("--state")
                        .arg(&db)
                        .env("EXACT_ONLINE_CLIENT_ID", "exflow-sim")
                        .env("EXACT_ONLINE_CLIENT_SECRET", "exflow-sim-secret")
                        .output()
                })
                .map_err(|e| e.to_string())
        })
    };
    let out = run(vec![
        base.clone(),
        "--redirect-uri".into(),
        redirect.into(),
        "--code".into(),
        code,
    ])
    .await??
    .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("division {}", sim.division())),
        "{stdout}"
    );
    let stored = TokenStore::open(&db)?
        .load("exact_online:exflow-sim")?
        .ok_or("not stored")?;
    assert!(!stdout.contains(&stored.refresh_token) && !stdout.contains(&stored.access_token));

    // Import the stored refresh token later (after 570 s): it is rotated and stored again.
    sim.advance_clock(571);
    let out = run(vec![
        base,
        "--refresh-token".into(),
        stored.refresh_token.clone(),
    ])
    .await??
    .map_err(|e| e.to_string())?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated = TokenStore::open(&db)?
        .load("exact_online:exflow-sim")?
        .ok_or("not stored")?;
    assert_ne!(rotated.refresh_token, stored.refresh_token);
    Ok(())
}

#[tokio::test]
async fn refusals_pause_an_endpoint_before_the_error_budget_blocks_it() -> R {
    let env = env(OnlineSimConfig {
        error_budget: true,
        ..small()
    })
    .await?;
    let client = env.client().await?;
    let acc = env
        .sim
        .records("Accounts")
        .into_iter()
        .next()
        .ok_or("no account")?;
    // Exact Online skips read-only fields; an unknown property is refused.
    let mut bad = Record::new();
    bad.insert("Colour".into(), json!("red"));
    let mut refused = 0;
    let err = loop {
        match client.update("Accounts", &acc["ID"], &bad).await {
            Err(e) if e.is_record_error() => refused += 1,
            Err(e) => break e,
            Ok(()) => return Err("an unknown property was accepted".into()),
        }
        if refused > 20 {
            return Err("never paused".into());
        }
    };
    assert!(matches!(err, ConnectorError::Unavailable { .. }), "{err}");
    assert_eq!(refused, 9);
    assert_eq!(
        env.calls("PUT /api/v1/{division}/crm/Accounts(guid)")
            .await?,
        9
    );
    // Other endpoints go on.
    client
        .lookup("Items", "Code", &[json!("nope")], &[])
        .await?;
    Ok(())
}

#[tokio::test]
async fn refreshes_ahead_of_expiry_without_a_401() -> R {
    let env = env(small()).await?;
    // The stored access token has 10 s left: inside the last 30 s, so refresh first.
    let mut t = env.stored()?;
    t.access_expires_at = now_s() + 10;
    TokenStore::open(&env.db)?.save(&env.config.token_key, &t)?;
    env.sim.advance_clock(590);
    let client = env.client().await?;
    client.fetch_page(&accounts_query()).await?;
    let s = env.stats().await?;
    assert_eq!(s["calls"]["POST /api/oauth2/token"], json!(1));
    assert_eq!(
        s["status"].get("401"),
        None,
        "refreshed before the token ran out"
    );
    assert_ne!(env.stored()?.refresh_token, t.refresh_token);
    Ok(())
}

/// `exflow fetch exact_online` reads through the client with the stored tokens.
#[tokio::test(flavor = "multi_thread")]
async fn fetch_command_reads_through_the_client() -> R {
    let env = env(small()).await?;
    let acc = env
        .sim
        .records("Accounts")
        .into_iter()
        .next()
        .ok_or("no account")?;
    let code = text(&acc, "Code").trim().to_string();
    let args: Vec<String> = vec![
        "fetch".into(),
        "exact_online".into(),
        "Accounts".into(),
        "--key".into(),
        format!("Code={code}"),
        "--select".into(),
        "ID,Code,Name".into(),
        "--format".into(),
        "json".into(),
        "--online-url".into(),
        env.sim.base_url(),
        "--online-division".into(),
        env.sim.division().to_string(),
        "--state".into(),
        env.db.display().to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::cargo_bin("exflow")
            .map(|mut c| {
                c.args(&args)
                    .env("EXACT_ONLINE_CLIENT_ID", "exflow-sim")
                    .env("EXACT_ONLINE_CLIENT_SECRET", "exflow-sim-secret")
                    .output()
            })
            .map_err(|e| e.to_string())
    })
    .await??
    .map_err(|e| e.to_string())?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(doc["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["records"][0]["ID"], acc["ID"]);
    assert_eq!(doc["calls"]["reads"], json!(1));
    Ok(())
}
