//! The HTTP client: every call goes through the shared rate limiter and the token manager;
//! 429s wait for the reset and repeat the call, 401s refresh once; reads (and idempotent
//! PUTs) are retried on 5xx and network errors with backoff; a POST is sent once and a lost
//! answer is reported as such (the connector resolves it by a lookup).

use super::config::OnlineConfig;
use super::error_budget::{self, ErrorBudget};
use super::odata::{self, ODataPage};
use super::paging::resolve_next;
use super::rate_limit::{Denied, RateLimiter};
use super::token::TokenManager;
use crate::connectors::{CallCount, ConnectorError, Record, System};
use crate::state::tokens::TokenStore;
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Attempts for a safe (repeatable) request on 5xx / network errors.
const SAFE_ATTEMPTS: u32 = 5;
/// 429s in a row before giving up (each waits for the window reset).
const MAX_THROTTLED: u32 = 20;

/// A production Exact Online client for one app + division. Cheap to clone.
#[derive(Clone)]
pub struct ExactOnlineClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: OnlineConfig,
    tokens: TokenManager,
    division: i32,
    limiter: Arc<RateLimiter>,
    errors: Arc<ErrorBudget>,
    reads: AtomicU64,
    writes: AtomicU64,
}

impl std::fmt::Debug for ExactOnlineClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactOnlineClient")
            .field("base_url", &self.inner.config.base_url)
            .field("division", &self.inner.division)
            .finish_non_exhaustive()
    }
}

/// How one HTTP exchange ended, before status codes are judged.
#[derive(Debug)]
pub enum Outcome {
    /// An answer arrived.
    Answer {
        /// HTTP status.
        status: u16,
        /// Response headers.
        headers: HeaderMap,
        /// The body as text.
        body: String,
    },
    /// Nothing reached the server (connect failed): safe to send again.
    NotSent(String),
    /// The request may have been processed but the answer was lost.
    Lost(String),
}

fn unavailable(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Unavailable {
        system: System::ExactOnline,
        message: message.into(),
    }
}

fn protocol(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Protocol {
        system: System::ExactOnline,
        message: message.into(),
    }
}

/// The error for a non-2xx answer that is not a 429/401 (those are handled before).
pub fn refused(status: u16, body: &str) -> ConnectorError {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let message = odata::error_message(&parsed).unwrap_or_else(|| {
        let t = body.trim();
        if t.is_empty() || t.len() > 300 {
            format!("HTTP {status}")
        } else {
            t.to_string()
        }
    });
    if status >= 500 {
        unavailable(format!("HTTP {status}: {message}"))
    } else {
        ConnectorError::Refused {
            system: System::ExactOnline,
            status,
            message,
        }
    }
}

impl ExactOnlineClient {
    /// Connects: loads the token pair from `tokens`, and when `config.division` is `None`
    /// reads `CurrentDivision` from `/api/v1/current/Me` (a call that costs no budget).
    pub async fn new(config: OnlineConfig, tokens: TokenStore) -> Result<Self, ConnectorError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ConnectorError::Config(format!("HTTP client: {e}")))?;
        let manager = TokenManager::new(http.clone(), config.clone(), tokens);
        let division = match config.division {
            Some(d) => d,
            None => current_division(&http, &config, &manager).await?,
        };
        let limiter = RateLimiter::shared(
            config.base(),
            &config.client_id,
            division,
            config.daily_reserve,
        );
        let errors = ErrorBudget::shared(config.base(), &config.client_id, division);
        Ok(ExactOnlineClient {
            inner: Arc::new(Inner {
                errors,
                http,
                config,
                tokens: manager,
                division,
                limiter,
                reads: AtomicU64::new(0),
                writes: AtomicU64::new(0),
            }),
        })
    }

    /// The division this client works in.
    pub fn division(&self) -> i32 {
        self.inner.division
    }

    /// The configuration.
    pub fn config(&self) -> &OnlineConfig {
        &self.inner.config
    }

    /// The shared rate limiter of this app + division.
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.inner.limiter
    }

    /// The token manager (token-endpoint calls are counted there).
    pub fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }

    /// API calls sent so far (token-endpoint calls not included).
    pub fn calls(&self) -> CallCount {
        CallCount {
            reads: self.inner.reads.load(Ordering::Relaxed),
            writes: self.inner.writes.load(Ordering::Relaxed),
        }
    }

    /// `{base}/api/v1/{division}/{path}{query}`.
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        format!(
            "{}/api/v1/{}/{}{}",
            self.inner.config.base(),
            self.inner.division,
            path.trim_start_matches('/'),
            odata::query_string(query)
        )
    }

    /// One page of a collection at `url` (absolute), with `__next` made absolute.
    pub async fn get_page(&self, url: &str) -> Result<ODataPage, ConnectorError> {
        let body = self.get_json(url).await?;
        let mut page = odata::parse_collection(&body).map_err(|e| protocol(e.to_string()))?;
        page.next = match page.next {
            Some(n) => Some(
                resolve_next(self.inner.config.base(), url, &n)
                    .ok_or_else(|| protocol(format!("unusable __next link {n}")))?,
            ),
            None => None,
        };
        Ok(page)
    }

    /// GET `url` and parse the JSON body; retried on 5xx and network errors.
    pub async fn get_json(&self, url: &str) -> Result<Value, ConnectorError> {
        let (status, body) = self.safe_call(Method::GET, url, None).await?;
        if !(200..300).contains(&status) {
            return Err(refused(status, &body));
        }
        serde_json::from_str(&body).map_err(|e| protocol(format!("GET answered non-JSON: {e}")))
    }

    /// PUT `changes` to `path` (e.g. `crm/Accounts(guid'…')`): a partial update, 204.
    /// Repeating the same partial update is harmless, so it is retried like a read.
    pub async fn put(&self, path: &str, changes: &Record) -> Result<(), ConnectorError> {
        let url = self.url(path, &[]);
        let body = Value::Object(changes.clone());
        let (status, text) = self.safe_call(Method::PUT, &url, Some(&body)).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(refused(status, &text))
        }
    }

    /// POST `record` to `path` once, asking for the full representation. A lost answer is
    /// returned as [`Outcome::Lost`]: the caller decides (never blindly re-sent here).
    pub async fn post_once(&self, path: &str, record: &Value) -> Result<Outcome, ConnectorError> {
        let url = self.url(path, &[]);
        self.call(Method::POST, &url, Some(record)).await
    }

    /// Parses a POST answer: the created record, or the refusal.
    pub fn created(status: u16, body: &str) -> Result<Record, ConnectorError> {
        if !(200..300).contains(&status) {
            return Err(refused(status, body));
        }
        let v: Value = serde_json::from_str(body)
            .map_err(|e| protocol(format!("POST answered non-JSON: {e}")))?;
        odata::parse_single(&v).map_err(|e| protocol(e.to_string()))
    }

    /// A repeatable request: retried with backoff on network errors and 5xx.
    async fn safe_call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(u16, String), ConnectorError> {
        let mut last = String::new();
        for attempt in 0..SAFE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            match self.call(method.clone(), url, body).await? {
                Outcome::Answer { status, body, .. } if status >= 500 => {
                    last = format!("HTTP {status}");
                    if attempt + 1 == SAFE_ATTEMPTS {
                        return Err(refused(status, &body));
                    }
                    tracing::warn!(
                        status,
                        attempt,
                        "exact online: HTTP {status}; retrying in {} ms (attempt {} of {SAFE_ATTEMPTS})",
                        100u64 << (attempt + 1),
                        attempt + 2
                    );
                }
                Outcome::Answer { status, body, .. } => return Ok((status, body)),
                Outcome::NotSent(e) | Outcome::Lost(e) => {
                    if attempt + 1 < SAFE_ATTEMPTS {
                        tracing::warn!(
                            attempt,
                            "exact online: {e}; retrying in {} ms (attempt {} of {SAFE_ATTEMPTS})",
                            100u64 << (attempt + 1),
                            attempt + 2
                        );
                    }
                    last = e;
                }
            }
        }
        Err(unavailable(format!(
            "{method} failed after {SAFE_ATTEMPTS} attempts: {last}"
        )))
    }

    /// One logical call: rate limit, bearer token, 429 wait-and-repeat, one refresh on 401.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Outcome, ConnectorError> {
        let endpoint = error_budget::endpoint_of(url);
        if let Err(errors) = self.inner.errors.check(&endpoint) {
            return Err(unavailable(format!(
                "{errors} refused calls on {endpoint} in the last hour: pausing this endpoint before Exact Online blocks the app (it does after 10)"
            )));
        }
        let mut token = self.inner.tokens.access_token().await?;
        let mut refreshed = false;
        let mut throttled = 0;
        loop {
            self.inner
                .limiter
                .acquire()
                .await
                .map_err(
                    |Denied::Budget { reserve }| ConnectorError::BudgetExhausted {
                        system: System::ExactOnline,
                        reserve: u64::from(reserve),
                    },
                )?;
            let counter = if method == Method::GET {
                &self.inner.reads
            } else {
                &self.inner.writes
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let mut req = self
                .inner
                .http
                .request(method.clone(), url)
                .bearer_auth(&token)
                .header(ACCEPT, "application/json");
            if let Some(b) = body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .header("Prefer", "return=representation")
                    .body(b.to_string());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if e.is_connect() => {
                    // The host only: the full URL can carry filter values.
                    return Ok(Outcome::NotSent(format!(
                        "cannot connect to {}: {}",
                        self.inner.config.base_url,
                        e.without_url()
                    )));
                }
                Err(e) => return Ok(Outcome::Lost(e.without_url().to_string())),
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            if status == 429 {
                self.inner.limiter.throttled(&headers);
                throttled += 1;
                if throttled > MAX_THROTTLED {
                    return Err(unavailable(
                        "still rate limited (429) after waiting for resets",
                    ));
                }
                continue;
            }
            self.inner.limiter.observe(&headers);
            if error_budget::counts(status) {
                self.inner.errors.record(&endpoint);
            }
            if status == 401 && !refreshed {
                refreshed = true;
                token = self.inner.tokens.after_unauthorized(&token).await?;
                continue;
            }
            let text = match resp.text().await {
                Ok(t) => t,
                Err(e) => return Ok(Outcome::Lost(e.without_url().to_string())),
            };
            if status == 401 {
                return Err(ConnectorError::Auth {
                    system: System::ExactOnline,
                    reason: format!(
                        "the API refused a freshly refreshed access token (401): {}",
                        odata::error_message(&serde_json::from_str(&text).unwrap_or(Value::Null))
                            .unwrap_or_default()
                    )
                    .into(),
                });
            }
            return Ok(Outcome::Answer {
                status,
                headers,
                body: text,
            });
        }
    }
}

/// `GET /api/v1/current/Me` -> `CurrentDivision`.
async fn current_division(
    http: &reqwest::Client,
    config: &OnlineConfig,
    tokens: &TokenManager,
) -> Result<i32, ConnectorError> {
    let url = format!(
        "{}/api/v1/current/Me?$select=CurrentDivision",
        config.base()
    );
    let mut token = tokens.access_token().await?;
    for attempt in 0..SAFE_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
        let resp = match http
            .get(&url)
            .bearer_auth(&token)
            .header(ACCEPT, "application/json")
            .send()
            .await
        {
            Ok(r) => r,
            Err(_) => continue,
        };
        let status = resp.status().as_u16();
        if status == 401 && attempt == 0 {
            token = tokens.after_unauthorized(&token).await?;
            continue;
        }
        let text = resp.text().await.unwrap_or_default();
        if status >= 500 {
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(refused(status, &text));
        }
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| protocol(format!("current/Me answered non-JSON: {e}")))?;
        let me = odata::parse_single(&body).map_err(|e| protocol(e.to_string()))?;
        return me
            .get("CurrentDivision")
            .and_then(odata::as_i64)
            .and_then(|d| i32::try_from(d).ok())
            .ok_or_else(|| protocol("current/Me has no CurrentDivision"));
    }
    Err(unavailable("current/Me could not be read"))
}
