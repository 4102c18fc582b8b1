//! The HTTP face (axum): path and method resolution (`X-HTTP-Method` tunnelling), call
//! counters, fault injection, Basic authentication, administration selection by the
//! `ServerName`/`DatabaseName` headers, and OData error bodies. `/_sim/*` are test hooks.

use super::catalog::Catalog;
use super::conn::ConnHandle;
use super::faults::Faults;
use super::service::{self, Outcome, SERVICE_PATH};
use super::store::{Admin, ApiError};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use parking_lot::Mutex;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The mutable world: administrations and the write clock.
pub struct World {
    /// Administrations; the first is the default (`localhost` / `500`).
    pub admins: Vec<Admin>,
    last_ms: i64,
}

impl World {
    /// A world with these administrations.
    pub fn new(admins: Vec<Admin>) -> Self {
        World { admins, last_ms: 0 }
    }

    /// Wall-clock milliseconds, strictly increasing across writes, so that every write gets a
    /// distinct `ModifiedDate` and "changed since" reads never miss or repeat a record.
    pub fn now(&mut self) -> i64 {
        let n = chrono::Utc::now().timestamp_millis().max(self.last_ms + 1);
        self.last_ms = n;
        n
    }

    /// The administration selected by the headers' values (ServerName case-insensitive).
    pub fn admin_mut(&mut self, server: &str, database: &str) -> Option<&mut Admin> {
        self.admins.iter_mut().find(|a| {
            a.server.eq_ignore_ascii_case(server) && a.database.eq_ignore_ascii_case(database)
        })
    }
}

/// Calls seen, per method and path pattern.
#[derive(Default)]
pub struct Stats {
    total: u64,
    by_method: BTreeMap<String, u64>,
    calls: BTreeMap<String, u64>,
    status: BTreeMap<String, u64>,
}

impl Stats {
    fn record(&mut self, method: &str, pattern: &str, status: &str) {
        self.total += 1;
        *self.by_method.entry(method.to_string()).or_default() += 1;
        *self.calls.entry(format!("{method} {pattern}")).or_default() += 1;
        *self.status.entry(status.to_string()).or_default() += 1;
    }

    /// `{"total": n, "by_method": {"GET": n}, "status": {"200": n, "dropped": n},
    /// "calls": {"GET /services/Exact.Entity.REST.EG/Account(key)": n, ...}}`.
    pub fn to_json(&self) -> Value {
        json!({ "total": self.total, "by_method": self.by_method, "status": self.status, "calls": self.calls })
    }
}

/// Everything the handlers share.
pub struct Shared {
    /// Data.
    pub world: Mutex<World>,
    /// Counters.
    pub stats: Mutex<Stats>,
    /// Fault decisions.
    pub rng: Mutex<ChaCha8Rng>,
    /// The faults in force: `--faults` at start, changed by `PUT /_sim/faults`.
    pub faults: Mutex<Faults>,
    /// Basic credentials.
    pub user: String,
    /// Basic credentials.
    pub password: String,
    /// Set by the `restart` fault; cleared by `POST /_sim/restart`.
    pub needs_restart: AtomicBool,
    /// `http://127.0.0.1:PORT`, prefix of `__metadata.uri` and `__next`.
    pub base: String,
}

/// The router: test hooks plus every other path handled as the REST service.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sim/stats", get(stats))
        .route("/_sim/reset", post(reset))
        .route("/_sim/restart", post(restart))
        .route("/_sim/staged", get(staged))
        .route(
            "/_sim/faults",
            get(faults_get).put(faults_put).delete(faults_clear),
        )
        .fallback(entity)
        .with_state(shared)
}

async fn stats(State(sh): State<Arc<Shared>>) -> Json<Value> {
    Json(sh.stats.lock().to_json())
}

/// `{"count": n, "lines": [...]}`: the document lines of the default administration staged
/// under a TransactionKey that no header committed (what a crashed client leaves behind).
async fn staged(State(sh): State<Arc<Shared>>) -> Json<Value> {
    let lines = {
        let world = sh.world.lock();
        world
            .admins
            .first()
            .map(|a| service::staged(a, &sh.base))
            .unwrap_or_default()
    };
    Json(json!({ "count": lines.len(), "lines": lines }))
}

async fn faults_get(State(sh): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "faults": sh.faults.lock().spec() }))
}

/// Sets the faults at run time, from a spec as `--faults` takes it: a test turns them off
/// without a restart that would lose the simulator's data.
async fn faults_put(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed = std::str::from_utf8(&body)
        .map_err(|_| "the spec is not UTF-8".to_string())
        .and_then(|t| t.parse::<Faults>().map_err(|e| e.to_string()));
    match parsed {
        Ok(f) => {
            let spec = f.spec();
            *sh.faults.lock() = f;
            Json(json!({ "faults": spec })).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn faults_clear(State(sh): State<Arc<Shared>>) -> Json<Value> {
    *sh.faults.lock() = Faults::default();
    Json(json!({ "faults": "" }))
}

async fn reset(State(sh): State<Arc<Shared>>) -> StatusCode {
    *sh.stats.lock() = Stats::default();
    StatusCode::NO_CONTENT
}

async fn restart(State(sh): State<Arc<Shared>>) -> StatusCode {
    sh.needs_restart.store(false, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

/// An error in the WCF Data Services JSON shape.
pub fn error_response(err: &ApiError) -> Response {
    let body = json!({
        "error": {
            "code": "",
            "message": { "lang": "en-US", "value": err.message },
            "innererror": {
                "message": err.message,
                "type": if err.status >= 500 { "Exact.Services.EntityFunctionalException" } else { "System.Data.Services.DataServiceException" },
                "stacktrace": "",
                "internalexception": {
                    "message": err.message,
                    "type": "Exact.Services.EntityException",
                    "stacktrace": ""
                }
            }
        }
    });
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &body)
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_text_response(status, body.to_string())
}

fn json_text_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    r.headers_mut()
        .insert("DataServiceVersion", HeaderValue::from_static("1.0;"));
    r
}

fn chance(sh: &Shared, p: f64) -> bool {
    p > 0.0 && sh.rng.lock().gen_bool(p.min(1.0))
}

fn cut(conn: &ConnHandle) -> Response {
    conn.cut();
    // Never written: the connection fails on the first byte.
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// Entity path -> (entity name as written, text inside the parentheses).
fn resolve(uri: &Uri) -> Option<(String, Option<String>)> {
    let path = percent_encoding::percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .into_owned();
    if path.eq_ignore_ascii_case(SERVICE_PATH) {
        return Some((String::new(), None));
    }
    let prefix = format!("{}/", SERVICE_PATH.to_ascii_lowercase());
    let rest = path
        .to_ascii_lowercase()
        .starts_with(&prefix)
        .then(|| path[prefix.len()..].to_string())?;
    Some(match rest.find('(') {
        Some(i) if rest.ends_with(')') => (
            rest[..i].to_string(),
            Some(rest[i + 1..rest.len() - 1].to_string()),
        ),
        _ => (rest.trim_end_matches('/').to_string(), None),
    })
}

async fn entity(
    State(sh): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut verb = method.as_str().to_ascii_uppercase();
    if verb == "POST" {
        if let Some(t) = headers.get("X-HTTP-Method").and_then(|v| v.to_str().ok()) {
            verb = t.trim().to_ascii_uppercase();
        }
    }
    let target = resolve(&uri);
    let pattern = match &target {
        Some((name, key)) => format!(
            "{SERVICE_PATH}/{}{}",
            Catalog::get()
                .entity(name)
                .map(|e| e.name.as_str())
                .unwrap_or(name),
            if key.is_some() { "(key)" } else { "" }
        ),
        None => uri.path().to_string(),
    };
    let response = serve(&sh, &conn, &verb, target, &uri, &headers, &body).await;
    let status = if conn.is_cut() {
        "dropped".to_string()
    } else {
        response.status().as_u16().to_string()
    };
    sh.stats.lock().record(&verb, &pattern, &status);
    response
}

async fn serve(
    sh: &Shared,
    conn: &ConnHandle,
    verb: &str,
    target: Option<(String, Option<String>)>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some((name, raw_key)) = target else {
        return (StatusCode::NOT_FOUND, "Endpoint not found.").into_response();
    };
    let entity = Catalog::get().entity(&name);
    let faults = sh.faults.lock().clone();

    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if sh.needs_restart.load(Ordering::SeqCst) {
        return error_response(&ApiError::server(
            "Insufficient memory to continue the execution of the program. The Exact Globe Entity Service must be restarted.",
        ));
    }
    if chance(sh, faults.restart) {
        sh.needs_restart.store(true, Ordering::SeqCst);
        return error_response(&ApiError::server(
            "Insufficient memory to continue the execution of the program. The Exact Globe Entity Service must be restarted.",
        ));
    }
    if chance(sh, faults.status503) {
        let mut r = (
            StatusCode::SERVICE_UNAVAILABLE,
            "<h1>Service Unavailable</h1>",
        )
            .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    if chance(sh, faults.drop) {
        return cut(conn);
    }
    if let Some(answer) = super::auth::authenticate(sh, conn, headers) {
        return answer;
    }
    if chance(sh, faults.mac) {
        return error_response(&ApiError::server(
            "MacAddress2: this workstation is not registered in Exact Globe (System / HR and Security / Workstation).",
        ));
    }
    if name == "$metadata" && verb == "GET" {
        let mut r = (StatusCode::OK, super::metadata::document()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml;charset=utf-8"),
        );
        return r;
    }
    if name.is_empty() && verb == "GET" {
        // The service document: the entity sets this service exposes.
        let sets: Vec<&str> = Catalog::get().entities().map(|e| e.name.as_str()).collect();
        return json_response(StatusCode::OK, &json!({ "d": { "EntitySets": sets } }));
    }
    let Some(entity) = entity else {
        return error_response(&ApiError::not_found(format!(
            "Resource not found for the segment '{name}'."
        )));
    };
    let server = header_text(headers, "ServerName").unwrap_or_else(|| "localhost".into());
    let database = header_text(headers, "DatabaseName").unwrap_or_else(|| "500".into());
    let is_write = verb != "GET";
    let locks = matches!(verb, "MERGE" | "PUT" | "PATCH" | "DELETE")
        || (verb == "POST" && super::documents::is_header(&entity.name));
    if locks && chance(sh, faults.locked) {
        return error_response(&ApiError::server(
            "The record is locked by another user. Try again later.",
        ));
    }
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let outcome = {
        let mut world = sh.world.lock();
        let now = if is_write { world.now() } else { 0 };
        let Some(admin) = world.admin_mut(&server, &database) else {
            return error_response(&unknown_admin(&server, &database, &world.admins));
        };
        let req = service::Request {
            method: verb,
            entity,
            raw_key: raw_key.as_deref(),
            query: &query,
            body,
            base: &sh.base,
        };
        service::handle(admin, now, &req)
    };
    match outcome {
        Ok(Outcome::Ok(v)) => json_response(StatusCode::OK, &v),
        Ok(Outcome::Body(text)) => json_text_response(StatusCode::OK, text),
        Ok(Outcome::Created(v)) => {
            if chance(sh, faults.lost_post) {
                return cut(conn);
            }
            let mut r = json_response(StatusCode::CREATED, &v);
            if let Some(loc) = v.pointer("/d/__metadata/uri").and_then(Value::as_str) {
                if let Ok(h) = HeaderValue::from_str(loc) {
                    r.headers_mut().insert(header::LOCATION, h);
                }
            }
            r
        }
        Ok(Outcome::NoContent) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// What SQL Server says when the headers point at a server or database that is not there.
fn unknown_admin(server: &str, database: &str, admins: &[Admin]) -> ApiError {
    if admins.iter().any(|a| a.server.eq_ignore_ascii_case(server)) {
        ApiError::server(format!(
            "Cannot open database \"{database}\" requested by the login. The login failed."
        ))
    } else {
        ApiError::server(format!(
            "A network-related or instance-specific error occurred while establishing a connection to SQL Server '{server}'. The server was not found or was not accessible."
        ))
    }
}
