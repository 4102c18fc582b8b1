//! The Exact Online simulator answers a plain HTTP client as the reference describes.
//! Real HTTP on 127.0.0.1 port 0; a raw reqwest client, never the exflow client.

use exflow::sim::exact_online::{Faults, OnlineSim, OnlineSimConfig};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::collections::HashSet;

async fn start(config: OnlineSimConfig) -> OnlineSim {
    OnlineSim::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sim starts")
}

fn small() -> OnlineSimConfig {
    OnlineSimConfig {
        orders: 130,
        customers: 20,
        products: 15,
        minutely_limit: 1000,
        daily_limit: 100_000,
        ..OnlineSimConfig::default()
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(sim: &OnlineSim) -> Api {
        let (token, _) = sim.issue_tokens();
        Api {
            http: reqwest::Client::new(),
            base: format!("{}/api/v1/{}/", sim.base_url(), sim.division()),
            token,
        }
    }
    async fn get(&self, path: &str) -> (u16, HeaderMap, Value) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let r = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("get");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        prefer: bool,
    ) -> (u16, HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .json(&body);
        if prefer {
            req = req.header("Prefer", "return=representation");
        }
        let r = req.send().await.expect("send");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn message(v: &Value) -> &str {
    v.pointer("/error/message/value")
        .and_then(Value::as_str)
        .unwrap_or("<no error message>")
}

#[tokio::test]
async fn oauth_code_flow_rotation_and_570_second_rule() {
    let sim = start(small()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = sim.base_url();
    let redirect = "http://127.0.0.1:9/callback";
    let r = http
        .get(format!("{base}/api/oauth2/auth"))
        .query(&[
            ("client_id", "exflow-sim"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("state", "xyz"),
        ])
        .send()
        .await
        .expect("auth");
    assert_eq!(r.status().as_u16(), 302);
    let location = url::Url::parse(r.headers()["location"].to_str().expect("ascii")).expect("url");
    let q: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    let code = q
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("code");
    assert!(code.contains('!'), "code contains !");
    assert!(q.iter().any(|(k, v)| k == "state" && v == "xyz"));
    let token = |form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/api/oauth2/token"))
                .form(&form)
                .send()
                .await
                .expect("token");
            let status = r.status().as_u16();
            let reason = r
                .headers()
                .get("Reason")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            (status, reason, r.json::<Value>().await.expect("json"))
        }
    };
    let creds = |mut f: Vec<(&'static str, String)>| {
        f.push(("client_id", "exflow-sim".into()));
        f.push(("client_secret", "exflow-sim-secret".into()));
        f
    };
    let code_form = creds(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
        ("redirect_uri", redirect.into()),
    ]);
    let (status, _, body) = token(code_form.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], json!("600"));
    assert_eq!(body["token_type"], json!("bearer"));
    let refresh1 = body["refresh_token"].as_str().expect("refresh").to_string();
    let access1 = body["access_token"].as_str().expect("access").to_string();
    // The code is single-use.
    assert_eq!(token(code_form).await.0, 400);
    // Refreshing within 570 s: 400 with a Reason header, and the token is not consumed.
    let (status, reason, body) = token(creds(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh1.clone()),
    ]))
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], json!("access_denied"));
    assert!(reason
        .expect("Reason header")
        .starts_with("TooEarlyToRefreshTokens"));
    sim.advance_clock(571);
    let (status, _, body) = token(creds(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh1.clone()),
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
    let refresh2 = body["refresh_token"].as_str().expect("refresh").to_string();
    assert_ne!(refresh1, refresh2, "refresh tokens rotate");
    // The old refresh token is dead forever.
    sim.advance_clock(600);
    let (status, _, body) = token(creds(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh1),
    ]))
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (401, Some("Old refresh token used."))
    );
    // The first access token expired after 600 s.
    let r = http
        .get(format!("{base}/api/v1/current/Me"))
        .bearer_auth(&access1)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("me");
    assert_eq!(r.status().as_u16(), 401);
    // Wrong client secret.
    let (status, _, _) = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh2),
        ("client_id", "exflow-sim".into()),
        ("client_secret", "nope".into()),
    ])
    .await;
    assert_eq!(status, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn me_paging_select_expand_and_count() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let (status, headers, me) = api
        .get(&format!("{}/api/v1/current/Me", sim.base_url()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        me.pointer("/d/results/0/CurrentDivision"),
        Some(&json!(sim.division()))
    );
    assert!(
        headers.get("X-RateLimit-Limit").is_none(),
        "no rate headers without a division"
    );

    let mut next = Some(
        "salesorder/SalesOrders?$select=OrderID,OrderNumber,Description&$inlinecount=allpages"
            .to_string(),
    );
    let mut seen = HashSet::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        let (status, _, body) = api.get(&url).await;
        assert_eq!(status, 200, "{body}");
        let rows = body["d"]["results"].as_array().expect("results");
        assert!(rows.len() <= 60);
        if pages == 0 {
            assert_eq!(body["d"]["__count"], json!("130"));
            assert_eq!(rows.len(), 60);
            assert!(
                rows[0].get("AmountFC").is_none(),
                "$select limits the fields"
            );
            assert!(rows[0]["__metadata"]["uri"]
                .as_str()
                .expect("uri")
                .contains("SalesOrders(guid'"));
        }
        for r in rows {
            assert!(
                seen.insert(r["OrderID"].as_str().expect("id").to_string()),
                "no duplicates across pages"
            );
        }
        next = body["d"]["__next"].as_str().map(str::to_string);
        if let Some(n) = &next {
            assert!(
                n.contains("$skiptoken=guid'")
                    && n.contains("$select=OrderID,OrderNumber,Description"),
                "{n}"
            );
        }
        pages += 1;
    }
    assert_eq!((seen.len(), pages), (130, 3));

    // $orderby and $top carry over the pages.
    let mut next = Some(
        "salesorder/SalesOrders?$select=OrderNumber&$orderby=OrderNumber desc&$top=100".to_string(),
    );
    let mut numbers = Vec::new();
    while let Some(url) = next.take() {
        let (status, _, body) = api.get(&url).await;
        assert_eq!(status, 200, "{body}");
        let rows = body["d"]["results"]
            .as_array()
            .expect("results shape on every page");
        numbers.extend(rows.iter().filter_map(|r| r["OrderNumber"].as_i64()));
        next = body["d"]["__next"].as_str().map(str::to_string);
    }
    assert_eq!(numbers, (31..=130).rev().collect::<Vec<i64>>());

    // Lines are deferred unless expanded.
    let (_, _, body) = api.get("salesorder/SalesOrders?$top=1").await;
    let order = &body["d"][0];
    assert!(order["SalesOrderLines"]["__deferred"]["uri"]
        .as_str()
        .expect("deferred")
        .ends_with("/SalesOrderLines"));
    let id = order["OrderID"].as_str().expect("id");
    let (_, _, body) = api
        .get(&format!(
            "salesorder/SalesOrders(guid'{id}')?$expand=SalesOrderLines"
        ))
        .await;
    let lines = body["d"]["SalesOrderLines"]["results"]
        .as_array()
        .expect("expanded");
    assert!(!lines.is_empty() && lines.len() <= 11);
    assert!(lines.iter().all(|l| l["OrderID"] == json!(id)));

    let r = reqwest::Client::new()
        .get(format!("{}salesorder/SalesOrders/$count", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("count");
    assert_eq!(r.text().await.expect("text"), "130");

    // Without Accept: application/json the service answers Atom XML.
    let r = reqwest::Client::new()
        .get(format!("{}salesorder/SalesOrders?$top=1", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("xml");
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("application/atom+xml"));
    assert!(r.text().await.expect("text").contains("<m:properties>"));

    let r = reqwest::Client::new()
        .get(format!("{}crm/$metadata", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("metadata");
    let xml = r.text().await.expect("text");
    assert!(
        xml.contains("<EntitySet Name=\"Accounts\" EntityType=\"Exact.Web.Api.Models.Account\" />"),
        "{xml}"
    );

    // Paths are case-sensitive.
    let (status, _, _) = api.get("hrm/CostCenters").await;
    assert_eq!(status, 404);
    let (status, _, body) = api.get("hrm/Costcenters").await;
    assert_eq!(status, 200, "{body}");
    sim.shutdown().await;
}

#[tokio::test]
async fn filters_padding_and_endpoint_rules() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    let accounts = sim.records("Accounts");
    let code = accounts[0]["Code"].as_str().expect("code").to_string();
    assert_eq!(code.len(), 18, "codes are padded to 18");
    assert!(code.starts_with(' '));
    let (_, _, body) = api
        .get(&format!(
            "crm/Accounts?$filter=Code eq '{code}'&$select=ID,Name"
        ))
        .await;
    assert_eq!(
        body["d"]["results"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );
    let (_, _, body) = api
        .get(&format!(
            "crm/Accounts?$filter=Code eq '{}'&$select=ID",
            code.trim()
        ))
        .await;
    assert_eq!(
        body["d"]["results"].as_array().map(Vec::len),
        Some(0),
        "unpadded code finds nothing"
    );

    let id = accounts[1]["ID"].as_str().expect("id");
    let (_, _, body) = api
        .get(&format!(
            "crm/Accounts?$filter=ID eq guid'{}' or ID eq guid'{}'&$select=ID",
            id.to_uppercase(),
            accounts[2]["ID"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        body["d"]["results"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    let (status, _, body) = api.get(&format!("crm/Accounts?$filter=ID eq '{id}'")).await;
    assert_eq!(status, 400, "guid compared to a string is refused: {body}");
    let (status, _, body) = api.get(&format!("crm/Accounts(guid'{id}')")).await;
    assert_eq!(status, 200, "a read by key needs no filter: {body}");
    assert_eq!(body["d"]["ID"], json!(id));
    let (status, _, body) = api.get("crm/Accounts").await;
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("This endpoint has mandatory filtering applied."));
    let (_, _, body) = api.get("crm/Accounts?$filter=substringof('@', Email) eq true and Blocked eq false&$select=Email").await;
    assert_eq!(body["d"]["results"].as_array().map(Vec::len), Some(20));
    let (status, _, body) = api.get("crm/Accounts?$filter=Name eq Email").await;
    assert_eq!(status, 400, "field-to-field: {body}");
    let (status, _, _) = api.get("crm/Accounts?$filter=Name eq 'x' and").await;
    assert_eq!(status, 400);
    let long = (0..400)
        .map(|i| format!("Email eq 'klant{i}@example.nl'"))
        .collect::<Vec<_>>()
        .join(" or ");
    let (status, _, _) = api.get(&format!("crm/Accounts?$filter={long}")).await;
    assert_eq!(status, 414, "URLs over 6000 characters are refused");
    // The limit counts the URL as sent: reqwest (the url crate) sends `'` in a query as `%27`.
    let sent = reqwest::Url::parse("http://127.0.0.1/x?$filter=Name eq 'a'").expect("url");
    assert!(sent.as_str().ends_with("Name%20eq%20%27a%27"), "{sent}");

    let (status, _, body) = api.get("sync/CRM/Accounts?$filter=Timestamp gt 1L").await;
    assert_eq!(status, 400);
    assert_eq!(
        message(&body),
        "Please add a $select or a $top=1 statement to the query string."
    );
    let (status, _, body) = api
        .get("sync/CRM/Accounts?$select=*&$filter=Timestamp gt 1L")
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = api
        .get("sync/CRM/Accounts?$select=ID&$filter=Name eq 'x'")
        .await;
    assert_eq!(
        (status, message(&body)),
        (400, "Filtering on these fields is not supported: Name")
    );

    let (_, _, body) = api.get("logistics/Items?$filter=Modified ge datetime'2000-01-01T00:00:00'&$orderby=Code desc&$select=Code").await;
    let codes: Vec<&str> = body["d"]["results"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["Code"].as_str())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort_by_key(|b| std::cmp::Reverse(b.to_lowercase()));
    assert_eq!(codes, sorted);
    assert_eq!(codes.len(), 15);
    sim.shutdown().await;
}

#[tokio::test]
async fn minute_limit_429_with_headers() {
    let sim = start(OnlineSimConfig {
        minutely_limit: 3,
        ..small()
    })
    .await;
    let api = Api::new(&sim);
    for i in 0..3 {
        let (status, h, _) = api.get("vat/VATCodes?$select=Code").await;
        assert_eq!(status, 200);
        for name in [
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "X-RateLimit-Minutely-Limit",
            "X-RateLimit-Minutely-Remaining",
            "X-RateLimit-Minutely-Reset",
        ] {
            assert!(h.get(name).is_some(), "{name}");
        }
        assert_eq!(
            h["X-RateLimit-Minutely-Remaining"].to_str().ok(),
            Some((2 - i).to_string().as_str())
        );
        let reset: i64 = h["X-RateLimit-Minutely-Reset"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("ms");
        assert_eq!(reset % 60_000, 0, "minute window is clock-aligned, in ms");
        let daily: i64 = h["X-RateLimit-Reset"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("ms");
        assert_eq!(daily % 86_400_000, 0, "daily window resets at 00:00 UTC");
    }
    let (status, h, body) = api.get("vat/VATCodes?$select=Code").await;
    assert_eq!(status, 429);
    assert_eq!(body, Value::String(String::new()), "429 has an empty body");
    assert_eq!(h["X-RateLimit-Minutely-Remaining"].to_str().ok(), Some("0"));
    assert!(
        h.get("X-RateLimit-Remaining").is_none(),
        "only the minutely headers on a minutely 429"
    );
    sim.advance_clock(60);
    let (status, _, _) = api.get("vat/VATCodes?$select=Code").await;
    assert_eq!(status, 200);
    let stats = sim.stats();
    assert_eq!(stats["throttled"], json!(1));
    assert_eq!(
        stats["calls"]["GET /api/v1/{division}/vat/VATCodes"],
        json!(5)
    );
    let over_http: Value = reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(over_http, stats);
    reqwest::Client::new()
        .post(format!("{}/_sim/reset", sim.base_url()))
        .send()
        .await
        .expect("reset");
    assert_eq!(sim.stats()["total"], json!(0));
    sim.shutdown().await;
}

#[tokio::test]
async fn writes_and_their_errors() {
    let sim = start(small()).await;
    let api = Api::new(&sim);
    // POST without Prefer: sparse answer; Code padded.
    let (status, headers, body) = api.send(reqwest::Method::POST, "crm/Accounts", json!({"Name": "Fietsenwinkel Zonneveld", "Code": "9001", "City": "Utrecht", "Country": "NL"}), false).await;
    assert_eq!(status, 201, "{body}");
    assert!(headers.get("Location").is_some());
    let acc = body["d"]["ID"].as_str().expect("ID").to_string();
    assert_eq!(body["d"]["Code"], json!("              9001"));
    assert_eq!(body["d"]["Status"], Value::Null, "sparse without Prefer");
    let (status, _, body) = api
        .send(
            reqwest::Method::POST,
            "crm/Accounts",
            json!({"Name": "Koffiehuis Noord"}),
            true,
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        body["d"]["Status"],
        json!("C"),
        "full with Prefer: return=representation"
    );

    for (payload, want) in [
        (
            json!({"Name": "x", "Colour": "red"}),
            "The property 'Colour' does not exist",
        ),
        (json!({"City": "Gent"}), "Mandatory: Name"),
        (json!({"Name": "x", "Code": "9001"}), "already exists"),
    ] {
        let (status, _, body) = api
            .send(reqwest::Method::POST, "crm/Accounts", payload, false)
            .await;
        assert_eq!(status, 400);
        assert!(message(&body).contains(want), "{body}");
        assert_eq!(body["error"]["code"], json!(""));
    }

    // A sales order with lines: next OrderNumber, status 12, totals from item prices.
    let item = sim
        .records("Items")
        .into_iter()
        .find(|i| i["Code"] != json!("VERZEND"))
        .expect("item");
    let order = json!({"OrderedBy": acc, "YourRef": "WEB-1", "OrderDate": "2026-11-01T10:00:00", "SalesOrderLines": [{"Item": item["ID"], "Quantity": 2}]});
    let (status, _, body) = api
        .send(reqwest::Method::POST, "salesorder/SalesOrders", order, true)
        .await;
    assert_eq!(status, 201, "{body}");
    let d = &body["d"];
    assert_eq!(d["OrderNumber"], json!(131));
    assert_eq!(d["Status"], json!(12));
    assert!(d["OrderDate"].as_str().expect("date").starts_with("/Date("));
    assert_eq!(d["SalesOrderLines"]["results"][0]["ItemCode"], item["Code"]);
    let order_id = d["OrderID"].as_str().expect("id").to_string();
    let (status, _, body) = api
        .send(
            reqwest::Method::POST,
            "salesorder/SalesOrders",
            json!({"OrderedBy": acc}),
            false,
        )
        .await;
    assert_eq!(
        (status, message(&body)),
        (400, "Mandatory: SalesOrderLines")
    );

    // Sync cursor: remember the highest Timestamp, change the order, only it comes back.
    let (_, _, body) = api
        .get("sync/SalesOrder/SalesOrderHeaders?$select=Timestamp,OrderID&$filter=Timestamp gt 1L")
        .await;
    let max: i64 = body["d"]["results"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["Timestamp"].as_str()?.parse().ok())
        .max()
        .expect("max");
    let path = format!("salesorder/SalesOrders(guid'{order_id}')");
    let (status, _, body) = api
        .send(
            reqwest::Method::PUT,
            &path,
            json!({"Description": "Spoed"}),
            false,
        )
        .await;
    assert_eq!((status, body), (204, Value::String(String::new())));
    let (_, _, body) = api.get(&format!("sync/SalesOrder/SalesOrderHeaders?$select=Timestamp,OrderID,Description&$filter=Timestamp gt {max}L")).await;
    let rows = body["d"]["results"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["Description"], json!("Spoed"));

    // OrderedBy can not change after creation: like every read-only property it is skipped,
    // without an error (docs/exact-online-simulator.md).
    let (status, _, body) = api
        .send(
            reqwest::Method::PUT,
            &path,
            json!({"OrderedBy": sim.records("Accounts")[0]["ID"]}),
            false,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, _, body) = api.get(&path).await;
    assert_eq!(body["d"]["OrderedBy"], json!(acc), "OrderedBy unchanged");
    let (status, _, _) = api
        .send(
            reqwest::Method::PATCH,
            &path,
            json!({"Description": "x"}),
            false,
        )
        .await;
    assert_eq!(status, 405);
    sim.update("SalesOrders", &order_id, json!({"Status": 21}))
        .expect("complete it");
    let (status, _, _) = api
        .send(
            reqwest::Method::PUT,
            &path,
            json!({"Description": "late"}),
            false,
        )
        .await;
    assert_eq!(status, 400, "completed orders refuse PUT");

    let (status, _, body) = api
        .send(
            reqwest::Method::DELETE,
            &format!("crm/Accounts(guid'{acc}')"),
            Value::Null,
            false,
        )
        .await;
    assert_eq!(
        status, 400,
        "an account with orders can not be deleted: {body}"
    );

    // DELETE leaves a tombstone in sync/Deleted.
    let (status, _, _) = api
        .send(reqwest::Method::DELETE, &path, Value::Null, false)
        .await;
    assert_eq!(status, 204);
    let (_, _, body) = api
        .get(&format!(
            "sync/Deleted?$select=EntityKey,EntityType&$filter=Timestamp gt {max}L"
        ))
        .await;
    let rows = body["d"]["results"].as_array().expect("rows");
    assert!(
        rows.iter()
            .any(|r| r["EntityKey"] == json!(order_id) && r["EntityType"] == json!(32)),
        "{body}"
    );
    assert!(
        rows.iter().any(|r| r["EntityType"] == json!(33)),
        "lines are tombstoned too"
    );
    let (status, _, _) = api.get(&path).await;
    assert_eq!(status, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_drop_and_lost_post() {
    let faults: Faults = "lost_post=1.0".parse().expect("spec");
    let sim = start(OnlineSimConfig { faults, ..small() }).await;
    let api = Api::new(&sim);
    let before = sim.records("Costunits").len();
    let r = api
        .http
        .post(format!("{}hrm/Costunits", api.base))
        .bearer_auth(&api.token)
        .header("Accept", "application/json")
        .json(&json!({"Code": "X1", "Description": "Extra"}))
        .send()
        .await;
    assert!(
        r.is_err(),
        "the answer of the POST is lost: {:?}",
        r.map(|r| r.status())
    );
    assert_eq!(
        sim.records("Costunits").len(),
        before + 1,
        "but the POST was committed"
    );
    sim.shutdown().await;

    let sim = start(OnlineSimConfig {
        faults: "burst429=2,status503=1.0".parse().expect("spec"),
        ..small()
    })
    .await;
    let api = Api::new(&sim);
    assert_eq!(api.get("vat/VATCodes?$select=Code").await.0, 429);
    assert_eq!(api.get("vat/VATCodes?$select=Code").await.0, 429);
    assert_eq!(api.get("vat/VATCodes?$select=Code").await.0, 503);
    sim.shutdown().await;
}

#[tokio::test]
async fn seed_is_deterministic_and_fixtures_load() {
    let a = start(small()).await;
    let b = start(small()).await;
    let names = |s: &OnlineSim| {
        s.records("Accounts")
            .iter()
            .map(|r| (r["Name"].clone(), r["Email"].clone(), r["Postcode"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&a), names(&b));
    let orders = a.records("SalesOrders");
    assert!(
        orders.iter().any(|o| o["Status"] == json!(21))
            && orders.iter().any(|o| o["Status"] == json!(12))
    );
    let invoices = a.records("SalesInvoices");
    assert!(
        invoices.iter().any(|i| i["Type"] == json!(8023)),
        "direct invoices exist"
    );
    assert!(!a.records("SalesEntries").is_empty());
    assert!(a
        .records("Accounts")
        .iter()
        .any(|r| r["Country"] == json!("BE")));
    a.shutdown().await;
    b.shutdown().await;

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Accounts.json"), r#"[{"Name": "Fixture BV", "Code": "77", "Email": "info@fixture.nl", "Created": "2024-03-01T09:00:00"}]"#).expect("write");
    let sim = start(OnlineSimConfig {
        fixtures: Some(dir.path().to_path_buf()),
        ..small()
    })
    .await;
    let accounts = sim.records("Accounts");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["Code"], json!("                77"));
    assert_eq!(accounts[0]["Created"], json!("/Date(1709283600000)/"));
    assert!(
        sim.records("VATCodes").len() > 3,
        "reference data still seeded"
    );
    let inserted = sim
        .insert("Items", json!({"Code": "NEW-1", "Description": "Nieuw"}))
        .expect("insert");
    assert_eq!(inserted["Code"], json!("NEW-1"));
    assert!(sim
        .insert("Items", json!({"Code": "NEW-2", "Nope": 1}))
        .is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn webhooks_validate_and_deliver_signed_bodies() {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let receiver = tokio::spawn(async move { axum::serve(listener, app).await });

    let sim = start(small()).await;
    let api = Api::new(&sim);
    let (status, _, body) = api
        .send(
            reqwest::Method::POST,
            "webhooks/WebhookSubscriptions",
            json!({"CallbackURL": hook, "Topic": "Accounts"}),
            false,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let validation = rx.recv().await.expect("validation post");
    assert_eq!(validation, "", "validation is an empty POST");
    let (status, _, body) = api
        .send(
            reqwest::Method::POST,
            "webhooks/WebhookSubscriptions",
            json!({"CallbackURL": hook.replace("/hook", "/missing"), "Topic": "Accounts"}),
            false,
        )
        .await;
    assert_eq!(status, 500);
    assert!(
        message(&body).starts_with("Invalid: Post to callback URL endpoint returns 404"),
        "{body}"
    );

    let account = sim.records("Accounts")[0]["ID"]
        .as_str()
        .expect("id")
        .to_string();
    sim.update("Accounts", &account, json!({"Phone": "+31 20 123 4567"}))
        .expect("update");
    let delivery = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("in time")
        .expect("delivery");
    let v: Value = serde_json::from_str(&delivery).expect("json");
    assert_eq!(v["Content"]["Action"], json!("Update"));
    assert_eq!(v["Content"]["Key"], json!(account));
    assert_eq!(v["Content"]["Topic"], json!("Accounts"));
    let raw = &delivery[delivery.find("{\"Content\":").expect("content") + 11
        ..delivery.find(",\"HashCode\":").expect("hash")];
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(sim.webhook_secret().as_bytes()).expect("key");
    mac.update(raw.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(v["HashCode"], json!(expected));
    sim.shutdown().await;
    receiver.abort();
}

#[tokio::test]
async fn error_budget_bulk_and_stock_position() {
    let sim = start(OnlineSimConfig {
        error_budget: true,
        ..small()
    })
    .await;
    let mut api = Api::new(&sim);
    for _ in 0..11 {
        assert_eq!(api.get("crm/Contacts?$filter=Nope eq 1").await.0, 400);
    }
    let (status, _, body) = api.get("crm/Contacts?$select=ID").await;
    assert_eq!(status, 403, "blocked after more than 10 errors: {body}");
    assert_eq!(
        api.get("crm/Addresses?$select=ID").await.0,
        200,
        "other endpoints are not blocked"
    );
    sim.advance_clock(3601);
    api.token = sim.issue_tokens().0;
    assert_eq!(
        api.get("crm/Contacts?$select=ID").await.0,
        200,
        "the block lifts after an hour"
    );

    let (status, _, body) = api.get("bulk/Logistics/Items").await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = api.get("bulk/Logistics/Items?$select=ID,Code").await;
    assert_eq!(
        status, 400,
        "bulk endpoints with a sync counterpart demand a filter: {body}"
    );
    let (_, _, body) = api
        .get("bulk/Logistics/Items?$select=ID,Code&$filter=Modified ge datetime'2000-01-01T00:00:00'")
        .await;
    assert_eq!(body["d"]["results"].as_array().map(Vec::len), Some(15));
    assert!(body["d"].get("__next").is_none());

    let item = sim
        .records("Items")
        .into_iter()
        .find(|i| i["IsStockItem"] == json!(true))
        .expect("stock item");
    let (status, _, body) = api
        .get(&format!(
            "read/logistics/StockPosition?itemId=guid'{}'",
            item["ID"].as_str().expect("id")
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["d"]["results"][0]["ItemId"], item["ID"]);
    assert!(body["d"]["results"][0]["InStock"].is_number());
    assert_eq!(api.get("read/logistics/StockPosition").await.0, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn exflow_sim_binary_prints_its_address() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args([
            "sim",
            "--online",
            "127.0.0.1:0",
            "--globe",
            "127.0.0.1:0",
            "--orders",
            "5",
            "--customers",
            "3",
            "--products",
            "4",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn exflow sim");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("in time")
        .expect("read")
        .expect("a line");
    let url = first
        .strip_prefix("exact_online ")
        .expect("exact_online first");
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let stats: Value = reqwest::get(format!("{url}/_sim/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["total"], json!(0));
    child.kill().await.expect("stop the child we started");
}

#[tokio::test]
async fn lost_token_response_kills_the_old_refresh_token_and_sync_timestamp() {
    let sim = start(OnlineSimConfig {
        faults: "lost_post=1.0".parse().expect("spec"),
        ..small()
    })
    .await;
    let (_, refresh) = sim.issue_tokens();
    sim.advance_clock(571);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "exflow-sim"),
        ("client_secret", "exflow-sim-secret"),
    ];
    let http = reqwest::Client::new();
    let url = format!("{}/api/oauth2/token", sim.base_url());
    assert!(
        http.post(&url).form(&form).send().await.is_err(),
        "the token answer is lost"
    );
    // The refresh happened anyway: the token the client still holds is now dead.
    let r = http.post(&url).form(&form).send().await;
    // The 401 is not a 2xx, so it is not lost.
    let r = r.expect("answer");
    assert_eq!(r.status().as_u16(), 401);
    sim.shutdown().await;

    let sim = start(small()).await;
    let api = Api::new(&sim);
    let (status, _, body) = api.get("read/sync/Sync/SyncTimestamp?modified=datetime'2000-01-01T00:00:00'&endPoint='SalesOrderHeaders'").await;
    assert_eq!(status, 200, "{body}");
    let first = body["d"]["results"][0]["TimeStampAsBigInt"]
        .as_i64()
        .expect("ts");
    let (_, _, body) = api
        .get(&format!(
            "sync/SalesOrder/SalesOrderHeaders?$select=Timestamp&$filter=Timestamp gt {}L",
            first - 1
        ))
        .await;
    assert_eq!(
        body["d"]["results"].as_array().map(Vec::len),
        Some(130),
        "from the first timestamp on, every order"
    );
    assert_eq!(
        api.get("read/sync/Sync/SyncTimestamp?endPoint='Accounts'")
            .await
            .0,
        400
    );
    sim.shutdown().await;
}
