//! The HTTP face: one axum fallback handler that routes like the real service (OAuth, current/Me,
//! division URLs, `/_sim/*`), applies auth, rate limits, the error budget and faults, and
//! answers in the real shapes. Everything under the lock is synchronous.

mod odata;

use super::catalog;
use super::limits::Admit;
use super::query;
use super::stats;
use super::webhooks;
use super::wire::{self, project, ApiError, Shape};
use super::Shared;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};
use std::sync::Arc;

/// Longest request URL accepted, path and query, percent-encoded.
const MAX_URL: usize = 6000;

/// The router of one simulator.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// What a handler decided, before it becomes an HTTP response.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Out,
}

/// The body of an answer.
pub(super) enum Out {
    Json(Value),
    Text(String, &'static str),
    Empty,
}

impl Answer {
    pub(super) fn json(status: u16, v: Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Out::Json(v),
        }
    }
    pub(super) fn empty(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Out::Empty,
        }
    }
    pub(super) fn error(e: &ApiError, json_out: bool) -> Answer {
        let mut a = if json_out {
            Answer::json(e.status, e.body())
        } else {
            Answer {
                status: e.status,
                headers: Vec::new(),
                body: Out::Text(e.xml(), "application/xml;charset=utf-8"),
            }
        };
        if let Some(r) = &e.reason {
            a.headers.push(("Reason", r.clone()));
        }
        a
    }
}

fn into_response(a: Answer) -> Response {
    let mut resp = match a.body {
        Out::Json(v) => {
            let mut r = Response::new(Body::from(v.to_string()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            r
        }
        Out::Text(t, ct) => {
            let mut r = Response::new(Body::from(t));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            r
        }
        Out::Empty => Response::new(Body::empty()),
    };
    *resp.status_mut() =
        StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in a.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// A response whose body fails at once: hyper closes the connection without a complete
/// answer, which the client sees as a dropped connection.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault: connection dropped",
        ))
    });
    Response::new(Body::from_stream(stream))
}

enum Fault {
    None,
    Drop,
    Status(u16),
    Burst,
}

async fn handle(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if let Some(rest) = path.strip_prefix("/_sim/") {
        return into_response(sim_endpoint(&sh, &method, rest, uri.query(), &body));
    }
    let pattern = stats::pattern(method.as_str(), &path);
    let latency = sh.inner.lock().faults.latency;
    if let Some(l) = latency {
        tokio::time::sleep(l).await;
    }
    // Exact Online refuses URLs over 6,000 characters (KB "Restrictions").
    if uri.to_string().len() > MAX_URL {
        let mut inner = sh.inner.lock();
        inner.stats.record(&pattern, 414);
        return into_response(Answer::error(
            &ApiError::new(
                414,
                "The request URL is too long (maximum 6000 characters).",
            ),
            true,
        ));
    }
    let is_api = path.starts_with("/api/v1/") && !path.starts_with("/api/v1/current/");
    let fault = {
        let mut inner = sh.inner.lock();
        let f = inner.faults.clone();
        if !is_api {
            Fault::None
        } else if inner.burst_left > 0 {
            inner.burst_left -= 1;
            Fault::Burst
        } else {
            let x: f64 = inner.fault_rng.gen();
            if x < f.drop {
                Fault::Drop
            } else if x < f.drop + f.status500 {
                Fault::Status(500)
            } else if x < f.drop + f.status500 + f.status503 {
                Fault::Status(503)
            } else {
                Fault::None
            }
        }
    };
    let answer = match fault {
        Fault::Drop => {
            sh.inner.lock().stats.record(&pattern, 0);
            return dropped();
        }
        Fault::Status(s) => {
            let msg = if s == 503 {
                "The service is temporarily unavailable."
            } else {
                "An error has occurred."
            };
            Answer::error(&ApiError::new(s, msg), true)
        }
        Fault::Burst => {
            let now = sh.now_ms();
            let mut a = Answer::empty(429);
            a.headers = sh.inner.lock().limiter.minutely_exhausted(now);
            a
        }
        Fault::None => match subscription_check(&method, &path, &body).await {
            Some(e) => Answer::error(&e, true),
            None => dispatch(&sh, &method, &path, uri.query(), &headers, &body),
        },
    };
    let mut inner = sh.inner.lock();
    inner.stats.record(&pattern, answer.status);
    let lost_post = inner.faults.lost_post;
    let lost =
        method == Method::POST && (200..300).contains(&answer.status) && lost_post > 0.0 && {
            let x: f64 = inner.fault_rng.gen();
            x < lost_post
        };
    let deliveries = webhooks::deliveries(&mut inner.store, &sh.base_url, sh.now_ms());
    drop(inner);
    if !deliveries.is_empty() {
        tokio::spawn(webhooks::send(deliveries));
    }
    if lost {
        return dropped();
    }
    into_response(answer)
}

/// A new webhook subscription is validated by an empty POST to its callback first.
async fn subscription_check(method: &Method, path: &str, body: &[u8]) -> Option<ApiError> {
    if method != Method::POST || !path.ends_with("/webhooks/WebhookSubscriptions") {
        return None;
    }
    let url = serde_json::from_slice::<Value>(body)
        .ok()?
        .get("CallbackURL")?
        .as_str()?
        .to_string();
    match webhooks::validate_callback(&url).await {
        Ok(()) => None,
        Err(e) => Some(ApiError::new(
            500,
            format!("Invalid: Post to callback URL endpoint returns {e}"),
        )),
    }
}

fn sim_endpoint(sh: &Shared, method: &Method, rest: &str, q: Option<&str>, body: &[u8]) -> Answer {
    match (method.as_str(), rest) {
        // Faults at run time, without a restart that would lose the data: `PUT` a spec as
        // `--faults` takes it (the 429 burst starts over), `DELETE` clears them all.
        ("GET", "faults") => Answer::json(200, json!({"faults": sh.inner.lock().faults.spec()})),
        ("PUT", "faults") => match std::str::from_utf8(body)
            .map_err(|_| "the spec is not UTF-8".to_string())
            .and_then(|t| t.parse::<super::Faults>().map_err(|e| e.to_string()))
        {
            Ok(f) => {
                let mut inner = sh.inner.lock();
                inner.burst_left = f.burst429;
                inner.faults = f;
                Answer::json(200, json!({"faults": inner.faults.spec()}))
            }
            Err(e) => Answer::error(&ApiError::new(400, e), true),
        },
        ("DELETE", "faults") => {
            let mut inner = sh.inner.lock();
            inner.faults = super::Faults::default();
            inner.burst_left = 0;
            Answer::json(200, json!({"faults": ""}))
        }
        ("GET", "stats") => {
            let inner = sh.inner.lock();
            let mut v = inner.stats.json();
            v["dropped_read_only"] = json!(inner.store.dropped);
            Answer::json(200, v)
        }
        ("POST", "reset") => {
            let mut inner = sh.inner.lock();
            inner.stats = Default::default();
            inner.store.dropped.clear();
            inner.burst_left = inner.faults.burst429;
            Answer::json(200, json!({"reset": true}))
        }
        ("POST", "advance") => {
            let secs = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "seconds")
                .and_then(|(_, v)| v.parse::<i64>().ok());
            match secs {
                Some(s) => {
                    sh.advance(s);
                    Answer::json(200, json!({"now": sh.now_ms()}))
                }
                None => Answer::error(&ApiError::new(400, "seconds=N required"), true),
            }
        }
        _ => Answer::error(&ApiError::new(404, "Unknown simulator endpoint"), true),
    }
}

fn form(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn dispatch(
    sh: &Shared,
    method: &Method,
    path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    let json_out = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let now = sh.now_ms();
    match path {
        "/api/oauth2/auth" if method == Method::GET => return authorize(sh, raw_query, now),
        "/api/oauth2/token" if method == Method::POST => return token(sh, body, now),
        "/api/oauth2/auth" | "/api/oauth2/token" => {
            return Answer::error(&ApiError::new(405, "Method not allowed"), true)
        }
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return Answer::error(&ApiError::new(404, "Not found"), json_out);
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or_default()
        .to_string();
    let mut inner = sh.inner.lock();
    if !inner.oauth.valid(&bearer, now) {
        // A 401 on a division URL spends the endpoint's error budget too.
        if let Some((_, path)) = rest.split_once('/') {
            let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
            let ep = decoded
                .split('(')
                .next()
                .unwrap_or_default()
                .trim_end_matches("/$count");
            inner.budget.record(ep, now);
        }
        let mut a = Answer::error(&ApiError::new(401, "Unauthorized"), json_out);
        a.headers.push(("WWW-Authenticate", "Bearer".into()));
        return a;
    }
    if rest == "current/Me" {
        drop(inner);
        return me(sh, method, json_out);
    }
    let (div, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(div) = div.parse::<i32>() else {
        return Answer::error(&ApiError::new(404, "Not found"), json_out);
    };
    if div != sh.config.division {
        return Answer::error(&ApiError::new(403, "Forbidden - WrongDivision"), json_out);
    }
    let rest = percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned();
    let ep_path = rest
        .split('(')
        .next()
        .unwrap_or_default()
        .trim_end_matches("/$count")
        .to_string();
    if sh.config.error_budget && inner.budget.blocked(&ep_path, now) {
        return Answer::error(&ApiError::new(403, "Forbidden - The maximum number of errors for this endpoint has been exceeded. Try again later."), json_out);
    }
    let rate_headers = match inner.limiter.admit(now) {
        Admit::Ok(h) => h,
        Admit::Throttled(h) => {
            return Answer {
                status: 429,
                headers: h,
                body: Out::Empty,
            }
        }
    };
    let q = query::parse_query(raw_query);
    let mut answer = match q {
        Ok(q) => match odata::route(
            sh,
            &mut inner.store,
            method,
            &rest,
            &q,
            headers,
            body,
            json_out,
            now,
        ) {
            Ok(a) => a,
            Err(e) => Answer::error(&e, json_out),
        },
        Err(e) => Answer::error(&e, json_out),
    };
    if matches!(answer.status, 400 | 401 | 403 | 404) {
        inner.budget.record(&ep_path, now);
    }
    answer.headers.extend(rate_headers);
    answer
}

fn authorize(sh: &Shared, raw_query: Option<&str>, now: i64) -> Answer {
    let pairs = form(raw_query.unwrap_or_default().as_bytes());
    let redirect = field(&pairs, "redirect_uri");
    if field(&pairs, "client_id") != sh.config.client_id
        || redirect.is_empty()
        || field(&pairs, "response_type") != "code"
    {
        return Answer {
            status: 400,
            headers: Vec::new(),
            body: Out::Text("Bad Request".into(), "text/plain"),
        };
    }
    let mut inner = sh.inner.lock();
    let inner = &mut *inner;
    let code = inner.oauth.code(&mut inner.store.rng, redirect, now);
    let mut location = format!(
        "{redirect}{}code={}",
        if redirect.contains('?') { '&' } else { '?' },
        url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
    );
    let state = field(&pairs, "state");
    if !state.is_empty() {
        location.push_str(&format!(
            "&state={}",
            url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
        ));
    }
    Answer {
        status: 302,
        headers: vec![("Location", location)],
        body: Out::Empty,
    }
}

fn token(sh: &Shared, body: &[u8], now: i64) -> Answer {
    let pairs = form(body);
    if field(&pairs, "client_id") != sh.config.client_id
        || field(&pairs, "client_secret") != sh.config.client_secret
    {
        return Answer::json(400, json!({"error": "invalid_client"}));
    }
    let mut inner = sh.inner.lock();
    let inner = &mut *inner;
    if !inner.oauth.count_call(now) {
        let t = super::oauth::OAuth::too_many_calls();
        return Answer::json(t.status, t.body);
    }
    let t = match field(&pairs, "grant_type") {
        "authorization_code" => inner.oauth.exchange_code(
            &mut inner.store.rng,
            field(&pairs, "code"),
            field(&pairs, "redirect_uri"),
            now,
        ),
        "refresh_token" => {
            inner
                .oauth
                .refresh(&mut inner.store.rng, field(&pairs, "refresh_token"), now)
        }
        _ => return Answer::json(400, json!({"error": "unsupported_grant_type"})),
    };
    let mut a = Answer::json(t.status, t.body);
    a.headers.push(("Cache-Control", "no-store".into()));
    if let Some(r) = t.reason {
        a.headers.push(("Reason", r));
    }
    a
}

fn me(sh: &Shared, method: &Method, json_out: bool) -> Answer {
    if method != Method::GET {
        return Answer::error(&ApiError::new(405, "Method not allowed"), json_out);
    }
    let inner = sh.inner.lock();
    let Some(ep) = catalog::endpoint("current/Me") else {
        return Answer::error(&ApiError::new(500, "catalogue"), json_out);
    };
    let base = format!("{}/api/v1/", sh.base_url);
    let shape = Shape {
        select: None,
        expand: &[],
        base: &base,
    };
    let rows: Vec<Value> = inner
        .store
        .rows("Me")
        .into_iter()
        .map(|r| project(ep, r, &inner.store, &shape))
        .collect();
    if json_out {
        Answer::json(200, json!({"d": {"results": rows}}))
    } else {
        Answer {
            status: 200,
            headers: Vec::new(),
            body: Out::Text(
                wire::atom(&rows, "Me"),
                "application/atom+xml;type=feed;charset=utf-8",
            ),
        }
    }
}
