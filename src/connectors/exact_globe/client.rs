//! The HTTP side of the Globe client: requests as the Entity Services expect them
//! (`/services/Exact.Entity.REST.EG/{Entity}`, `ServerName`/`DatabaseName` headers, Basic
//! auth, JSON), bounded retries of what is safe to repeat, call counting, and the basic
//! operations (read pages, create, merge, delete) that `connector` and `document` build on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::catalogue::{Catalogue, EntityDef};
use super::config::{GlobeAuth, GlobeConfig};
use super::ntlm;
use super::odata::{self, Collection};
use super::padding;
use crate::connectors::{CallCount, ConnectorError, Record, System};

/// The REST service path under the host.
pub const SERVICE_PATH: &str = "/services/Exact.Entity.REST.EG";

const SYSTEM: System = System::ExactGlobe;

/// A client for one Globe administration. Cheap to clone: clones share the connection pool
/// and the call counters.
#[derive(Clone)]
pub struct ExactGlobeClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: GlobeConfig,
    /// `base_url` without a trailing slash.
    base: String,
    http: reqwest::Client,
    reads: AtomicU64,
    writes: AtomicU64,
    /// NTLM only: held for a whole request, so requests go one at a time over the one
    /// connection; true while that connection is authenticated.
    ntlm: tokio::sync::Mutex<bool>,
}

/// What a request carries to authenticate.
enum Credentials {
    Basic,
    /// Nothing: the connection is already authenticated (NTLM).
    Connection,
    /// An `Authorization` header value (an NTLM message).
    Token(String),
}

impl std::fmt::Debug for ExactGlobeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactGlobeClient")
            .field("config", &self.inner.config)
            .finish()
    }
}

/// How a request may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Reads, MERGE and DELETE: repeating them changes nothing, so every transient failure
    /// is retried.
    Safe,
    /// Creates: only failures that prove nothing was written are retried (connection refused,
    /// "needs a restart", locked record); a lost answer is reported as [`CallError::Lost`].
    Create,
}

/// Why a request did not produce an answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The request reached the service but the answer did not come back (or came back as a
    /// 5xx that does not say whether the write happened): it may have been applied.
    Lost(String),
    /// A definite failure.
    Failed(ConnectorError),
}

impl From<CallError> for ConnectorError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Lost(message) => ConnectorError::Unavailable {
                system: SYSTEM,
                message: format!("no answer, the write may have been applied: {message}"),
            },
            CallError::Failed(e) => e,
        }
    }
}

/// Whether a refusal is a transient state of the service: the "needs a restart" state its
/// memory leak brings, or a record locked by another user. Both go away by waiting.
fn is_transient_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("restart")
        || lower.contains("locked")
        || lower.contains("in use by another")
        // SQL Server rolls the victim's transaction back: nothing was written.
        || lower.contains("chosen as the deadlock victim")
}

fn protocol(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Protocol {
        system: SYSTEM,
        message: message.into(),
    }
}

impl ExactGlobeClient {
    /// A client for the administration `config` names. Makes no request.
    pub fn new(config: GlobeConfig) -> Result<Self, ConnectorError> {
        config.validate()?;
        Catalogue::get()?;
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(15));
        if config.auth == GlobeAuth::Ntlm {
            // NTLM authenticates a connection, not a request: keep exactly one.
            builder = builder.pool_max_idle_per_host(1);
        }
        let http = builder
            .build()
            .map_err(|e| ConnectorError::Config(format!("exact_globe HTTP client: {e}")))?;
        let base = config.base_url.trim_end_matches('/').to_string();
        Ok(ExactGlobeClient {
            inner: Arc::new(Inner {
                config,
                base,
                http,
                reads: AtomicU64::new(0),
                writes: AtomicU64::new(0),
                ntlm: tokio::sync::Mutex::new(false),
            }),
        })
    }

    /// The settings this client was made with.
    pub fn config(&self) -> &GlobeConfig {
        &self.inner.config
    }

    /// API calls spent so far (every attempt, retries included).
    pub fn calls(&self) -> CallCount {
        CallCount {
            reads: self.inner.reads.load(Ordering::Relaxed),
            writes: self.inner.writes.load(Ordering::Relaxed),
        }
    }

    /// The entity's catalogue entry (matched case-insensitively) and the name to put in the
    /// URL: the catalogue's spelling, or the given one for entities it does not list.
    pub fn resolve(entity: &str) -> Result<(String, Option<&'static EntityDef>), ConnectorError> {
        let name = entity.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConnectorError::Config(format!(
                "{entity:?} is not a Globe entity name"
            )));
        }
        let catalogue = Catalogue::get()?;
        // Pipelines may name a document by its header's stem: `SalesOrder`, `Invoice`.
        let def = catalogue
            .entity(name)
            .or_else(|| catalogue.entity(&format!("{name}Header")));
        Ok((
            def.map_or_else(|| name.to_string(), |d| d.name.clone()),
            def,
        ))
    }

    /// `http://host:8020/services/Exact.Entity.REST.EG/{entity}`.
    pub fn entity_url(&self, entity: &str) -> String {
        format!("{}{SERVICE_PATH}/{entity}", self.inner.base)
    }

    /// The URL of one record: `Account(guid'…')`, `Item('A-1')`, `SalesOrderHeader('      17')`.
    pub fn key_url(
        &self,
        entity: &str,
        def: Option<&EntityDef>,
        key: &Value,
    ) -> Result<String, ConnectorError> {
        let key_prop = def.and_then(EntityDef::key_property);
        let literal = match (key_prop, key) {
            (Some(prop), _) => odata::literal(Some(prop), key),
            (None, Value::String(s)) if odata::guid_literal(s).is_ok() => odata::guid_literal(s),
            (None, other) => odata::literal(None, other),
        }
        .map_err(|e| ConnectorError::Config(format!("key of {entity}: {e}")))?;
        Ok(format!(
            "{}({})",
            self.entity_url(entity),
            odata::encode_path(&literal)
        ))
    }

    /// Rebuilds a `__next` link on our own base URL: the service writes its own host name
    /// into the link, which behind a reverse proxy or NAT is not the one we can reach.
    pub fn follow_url(&self, next: &str) -> String {
        let lower = next.to_ascii_lowercase();
        match lower.find("/services/") {
            Some(at) => format!("{}{}", self.inner.base, &next[at..]),
            None if next.starts_with('/') => format!("{}{next}", self.inner.base),
            None => next.to_string(),
        }
    }

    /// Reads one page at `url` (a set URL with its query, or a followed `__next`).
    pub async fn get_page(&self, url: &str) -> Result<Collection, ConnectorError> {
        let body = self
            .send(Method::GET, url, None, Repeat::Safe)
            .await
            .map_err(ConnectorError::from)?;
        odata::parse_collection(body).map_err(protocol)
    }

    /// Every record of `entity` matching `filter`, following `__next` sequentially, at most
    /// `limit` records (all when `None`).
    pub async fn query(
        &self,
        entity: &str,
        filter: Option<&str>,
        select: &[String],
        orderby: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(filter) = filter.filter(|f| !f.trim().is_empty()) {
            pairs.push(("$filter", filter.to_string()));
        }
        let select = canonical_names(def, select);
        if !select.is_empty() {
            pairs.push(("$select", select.join(",")));
        }
        if let Some(orderby) = orderby {
            pairs.push(("$orderby", orderby.to_string()));
        }
        let page_size = self.inner.config.page_size as usize;
        let top = limit.map_or(page_size, |l| l.clamp(1, page_size));
        pairs.push(("$top", top.to_string()));
        let mut url = format!("{}?{}", self.entity_url(&name), odata::query_string(&pairs));
        let mut out = Vec::new();
        loop {
            let page = self.get_page(&url).await?;
            out.extend(page.records);
            if let Some(limit) = limit {
                if out.len() >= limit {
                    out.truncate(limit);
                    return Ok(out);
                }
            }
            match page.next {
                Some(next) => url = self.follow_url(&next),
                None => return Ok(out),
            }
        }
    }

    /// POSTs `record` (casing fixed, codes padded) to `entity` and returns the stored record.
    pub(crate) async fn post(&self, entity: &str, record: &Record) -> Result<Record, CallError> {
        let (name, def) = Self::resolve(entity).map_err(CallError::Failed)?;
        let body = Value::Object(padding::prepare_record(def, record));
        let answer = self
            .send(
                Method::POST,
                &self.entity_url(&name),
                Some(&body),
                Repeat::Create,
            )
            .await?;
        odata::parse_entity(answer).map_err(|e| CallError::Failed(protocol(e)))
    }

    /// Partial update (MERGE, or POST with `X-HTTP-Method: MERGE`) of the record at `key`.
    pub(crate) async fn merge(
        &self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let url = self.key_url(&name, def, key)?;
        let body = Value::Object(padding::prepare_record(def, changes));
        if self.inner.config.merge_via_post {
            self.send_tunnelled(Method::POST, &url, Some(&body), Repeat::Safe, Some("MERGE"))
                .await?;
        } else {
            let merge =
                Method::from_bytes(b"MERGE").map_err(|e| ConnectorError::Config(e.to_string()))?;
            self.send(merge, &url, Some(&body), Repeat::Safe).await?;
        }
        Ok(())
    }

    /// Deletes the record at `key`. A record that is already gone counts as deleted.
    pub async fn delete(&self, entity: &str, key: &Value) -> Result<(), ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let url = self.key_url(&name, def, key)?;
        match self.send(Method::DELETE, &url, None, Repeat::Safe).await {
            Ok(_) => Ok(()),
            Err(CallError::Failed(ConnectorError::Refused { status: 404, .. })) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends one request with the bounded retries `repeat` allows; returns the JSON body
    /// (`Null` for an empty 2xx answer).
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Value, CallError> {
        self.send_tunnelled(method, url, body, repeat, None).await
    }

    /// [`send`](Self::send) with the verb tunnelled in `X-HTTP-Method` when given.
    async fn send_tunnelled(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        repeat: Repeat,
        tunnel: Option<&str>,
    ) -> Result<Value, CallError> {
        let config = &self.inner.config;
        let mut attempt = 0u32;
        loop {
            let outcome = self.attempt(&method, url, body, tunnel).await;
            let retry_after = match outcome {
                Attempt::Broken(m) => return Err(CallError::Failed(ConnectorError::Config(m))),
                Attempt::Answer(Answer {
                    status,
                    bytes,
                    retry_after,
                    basic_offered,
                    ..
                }) => match self.judge(status, &bytes, repeat, basic_offered) {
                    Verdict::Done => return parse_body(&bytes),
                    Verdict::Fail(e) => return Err(CallError::Failed(e)),
                    Verdict::Lost(m) => return Err(CallError::Lost(m)),
                    Verdict::Retry(m) if attempt >= config.max_retries => {
                        return Err(CallError::Failed(ConnectorError::Unavailable {
                            system: SYSTEM,
                            message: format!("{m} (after {} attempts)", attempt + 1),
                        }))
                    }
                    Verdict::Retry(m) => {
                        tracing::warn!(system = "exact_globe", %method, status = status.as_u16(), "retrying: {m}");
                        retry_after
                    }
                },
                Attempt::NotSent(m) | Attempt::Unanswered(m) if attempt >= config.max_retries => {
                    return Err(CallError::Failed(ConnectorError::Unavailable {
                        system: SYSTEM,
                        message: format!("{m} (after {} attempts)", attempt + 1),
                    }))
                }
                Attempt::Unanswered(m) if repeat == Repeat::Create => {
                    return Err(CallError::Lost(m))
                }
                Attempt::NotSent(m) | Attempt::Unanswered(m) => {
                    tracing::warn!(system = "exact_globe", %method, "retrying after a network error: {m}");
                    None
                }
            };
            let backoff = config.retry_delay.saturating_mul(1u32 << attempt.min(6));
            tokio::time::sleep(retry_after.unwrap_or(backoff).min(Duration::from_secs(60))).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        tunnel: Option<&str>,
    ) -> Attempt {
        match self.inner.config.auth {
            GlobeAuth::Basic => {
                self.send_once(method, url, body, tunnel, Credentials::Basic)
                    .await
            }
            GlobeAuth::Ntlm => self.attempt_ntlm(method, url, body, tunnel).await,
        }
    }

    /// One request under NTLM: on an authenticated connection as it is; otherwise (or when
    /// the server asks again) the handshake, NEGOTIATE then AUTHENTICATE, each carrying the
    /// request, the second one answered for real.
    async fn attempt_ntlm(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        tunnel: Option<&str>,
    ) -> Attempt {
        let mut authenticated = self.inner.ntlm.lock().await;
        if *authenticated {
            match self
                .send_once(method, url, body, tunnel, Credentials::Connection)
                .await
            {
                Attempt::Answer(a) if a.status == StatusCode::UNAUTHORIZED => {
                    *authenticated = false
                }
                other => return other,
            }
        }
        let negotiate = format!("NTLM {}", B64.encode(ntlm::negotiate()));
        let first = self
            .send_once(method, url, body, tunnel, Credentials::Token(negotiate))
            .await;
        let challenge = match first {
            Attempt::Answer(a) if a.status == StatusCode::UNAUTHORIZED => {
                match a.ntlm_challenge.as_deref().and_then(ntlm::parse_challenge) {
                    Some(c) => c,
                    None => return Attempt::Answer(a),
                }
            }
            // Without credentials nothing was done, whatever happened to the answer.
            Attempt::Unanswered(m) => return Attempt::NotSent(m),
            other => return other,
        };
        let config = &self.inner.config;
        let message = ntlm::authenticate(
            &challenge,
            &config.user,
            &config.password,
            rand::random(),
            ntlm::filetime_now(),
        );
        let token = format!("NTLM {}", B64.encode(message));
        let answer = self
            .send_once(method, url, body, tunnel, Credentials::Token(token))
            .await;
        if let Attempt::Answer(a) = &answer {
            *authenticated = a.status != StatusCode::UNAUTHORIZED;
        }
        answer
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        tunnel: Option<&str>,
        credentials: Credentials,
    ) -> Attempt {
        let config = &self.inner.config;
        let counter = if *method == Method::GET {
            &self.inner.reads
        } else {
            &self.inner.writes
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .inner
            .http
            .request(method.clone(), url)
            .header("ServerName", &config.server_name)
            .header("DatabaseName", &config.database_name)
            .header("Accept", "application/json")
            .header("MaxDataServiceVersion", "2.0");
        request = match credentials {
            Credentials::Basic => request.basic_auth(&config.user, Some(&config.password)),
            Credentials::Connection => request,
            Credentials::Token(value) => request.header("Authorization", value),
        };
        if let Some(verb) = tunnel {
            request = request.header("X-HTTP-Method", verb);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        // The path only: filters can hold e-mail addresses and names.
        let path = url.split('?').next().unwrap_or_default();
        tracing::debug!(system = "exact_globe", %method, path, "request");
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return Attempt::NotSent(format!("cannot connect: {}", e.without_url()))
            }
            Err(e) if e.is_builder() => {
                return Attempt::Broken(format!("cannot build the request: {}", e.without_url()))
            }
            Err(e) => return Attempt::Unanswered(e.without_url().to_string()),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let challenges: Vec<String> = response
            .headers()
            .get_all("WWW-Authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok().map(|v| v.trim().to_string()))
            .collect();
        let basic_offered = challenges
            .iter()
            .any(|v| v.to_ascii_lowercase().starts_with("basic"));
        let ntlm_challenge = challenges.iter().find_map(|v| {
            let (scheme, token) = v.split_once(' ')?;
            let scheme = scheme.to_ascii_lowercase();
            (scheme == "ntlm" || scheme == "negotiate")
                .then(|| B64.decode(token.trim()).ok())
                .flatten()
        });
        match response.bytes().await {
            Ok(bytes) => Attempt::Answer(Answer {
                status,
                bytes,
                retry_after,
                basic_offered,
                ntlm_challenge,
            }),
            Err(e) => Attempt::Unanswered(format!("answer cut off: {}", e.without_url())),
        }
    }

    fn judge(
        &self,
        status: StatusCode,
        body: &[u8],
        repeat: Repeat,
        basic_offered: bool,
    ) -> Verdict {
        if status.is_success() {
            return Verdict::Done;
        }
        let message = odata::error_message(body)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        let code = status.as_u16();
        match code {
            401 if !basic_offered && self.inner.config.auth == GlobeAuth::Basic => {
                Verdict::Fail(ConnectorError::Auth {
                    system: SYSTEM,
                    reason: format!(
                    "{code} {message}: the server does not offer Basic authentication; set the \
                     connection's auth to ntlm (see docs/exact-globe.md)"
                )
                    .into(),
                })
            }
            401 | 403 => Verdict::Fail(ConnectorError::Auth {
                system: SYSTEM,
                reason: format!(
                    "{code} {message}: check the user and password, and that the user is an active \
                     Globe employee with rights in administration {}",
                    self.inner.config.database_name
                )
                .into(),
            }),
            // A locked record is refused with a 4xx by some versions: it is not the record's fault.
            400..=499 if is_transient_message(&message) => Verdict::Retry(message),
            400..=499 => Verdict::Fail(ConnectorError::Refused {
                system: SYSTEM,
                status: code,
                message,
            }),
            _ if is_transient_message(&message) => Verdict::Retry(message),
            502..=504 if repeat == Repeat::Safe => Verdict::Retry(format!("{code} {message}")),
            // A create answered by a gateway error may or may not have been applied.
            502..=504 => Verdict::Lost(format!("{code} {message}")),
            _ => Verdict::Fail(ConnectorError::Unavailable {
                system: SYSTEM,
                message: format!("{code} {message}"),
            }),
        }
    }
}

enum Attempt {
    Answer(Answer),
    /// The request could not be built: repeating it cannot help.
    Broken(String),
    /// The connection failed before the request went out.
    NotSent(String),
    /// The request went out but no complete answer came back.
    Unanswered(String),
}

struct Answer {
    status: StatusCode,
    bytes: bytes::Bytes,
    retry_after: Option<Duration>,
    /// Whether a 401 offered Basic authentication among its challenges.
    basic_offered: bool,
    /// The NTLM CHALLENGE message a 401 carried, decoded.
    ntlm_challenge: Option<Vec<u8>>,
}

enum Verdict {
    Done,
    Retry(String),
    Lost(String),
    Fail(ConnectorError),
}

fn parse_body(bytes: &[u8]) -> Result<Value, CallError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes)
        .map_err(|e| CallError::Failed(protocol(format!("the answer is not JSON: {e}"))))
}

/// `names` in the catalogue's casing (unknown names kept as given).
pub(crate) fn canonical_names(def: Option<&EntityDef>, names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            def.and_then(|d| d.property(n))
                .map_or_else(|| n.trim().to_string(), |p| p.name.clone())
        })
        .collect()
}

/// The property `name` in the catalogue's casing (kept as given when unknown).
pub(crate) fn canonical_name(def: Option<&EntityDef>, name: &str) -> String {
    def.and_then(|d| d.property(name))
        .map_or_else(|| name.trim().to_string(), |p| p.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> ExactGlobeClient {
        ExactGlobeClient::new(GlobeConfig::new(base, "localhost", "500", "u", "p")).unwrap()
    }

    #[test]
    fn urls() {
        let c = client("http://h:8020/");
        assert_eq!(
            c.entity_url("Account"),
            "http://h:8020/services/Exact.Entity.REST.EG/Account"
        );
        let (name, def) = ExactGlobeClient::resolve("salesorderheader").unwrap();
        assert_eq!(name, "SalesOrderHeader");
        assert_eq!(
            c.key_url(&name, def, &Value::from("17")).unwrap(),
            "http://h:8020/services/Exact.Entity.REST.EG/SalesOrderHeader('%20%20%20%20%20%2017')"
        );
        let (name, def) = ExactGlobeClient::resolve("account").unwrap();
        assert!(c
            .key_url(
                &name,
                def,
                &Value::from("{6F9619FF-8B86-D011-B42D-00C04FC964FF}")
            )
            .unwrap()
            .ends_with("Account(guid'6f9619ff-8b86-d011-b42d-00c04fc964ff')"));
        assert!(ExactGlobeClient::resolve("Account?x=1").is_err());
        assert_eq!(
            ExactGlobeClient::resolve("SalesOrder").unwrap().0,
            "SalesOrderHeader"
        );
        assert_eq!(
            ExactGlobeClient::resolve("BrowserData_Items").unwrap().0,
            "BrowserData_Items"
        );
    }

    #[test]
    fn next_links_are_rebased() {
        let c = client("https://proxy.example/globe");
        assert_eq!(
            c.follow_url("http://SRV01:8020/services/Exact.Entity.REST.EG/Account?$skiptoken=abc"),
            "https://proxy.example/globe/services/Exact.Entity.REST.EG/Account?$skiptoken=abc"
        );
    }

    #[test]
    fn transient_messages() {
        assert!(is_transient_message("The record is locked by another user"));
        assert!(is_transient_message("The Entity service needs a restart"));
        assert!(is_transient_message(
            "Transaction (Process ID 52) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction."
        ));
        assert!(!is_transient_message("No property 'X' exists"));
    }
}
