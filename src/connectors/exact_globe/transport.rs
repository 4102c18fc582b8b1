//! One request on the wire and its bounded retries: the headers the Entity Services expect
//! (`ServerName`, `DatabaseName`, `Accept`), authentication (Basic, or an NTLM handshake per
//! connection), call counting, and what an answer means: done, retry (503, "needs a
//! restart", locked record, network failure on a safe request), lost (a create whose answer
//! did not come back), or a definite failure (a 4xx is never retried).

use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::client::ExactGlobeClient;
use super::config::GlobeAuth;
use super::ntlm;
use super::odata;
use crate::connectors::{ConnectorError, System};

const SYSTEM: System = System::ExactGlobe;

/// What a request carries to authenticate.
enum Credentials {
    Basic,
    /// Nothing: the connection is already authenticated (NTLM).
    Connection,
    /// An `Authorization` header value (an NTLM message).
    Token(String),
}

/// How a request may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Reads, MERGE and DELETE: repeating them changes nothing, so every transient failure
    /// is retried.
    Safe,
    /// Creates: only failures that prove nothing was written are retried (connection refused,
    /// 503, "needs a restart", locked record); a lost answer (or a 502/504 from a gateway)
    /// is reported as [`CallError::Lost`].
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
    // Whole phrases: "blocked" contains "locked", and a blocked debtor is the record's fault.
    [
        "must be restarted",
        "needs a restart",
        "restart the",
        "is locked",
        "locked by",
        "in use by another",
        // SQL Server rolls the victim's transaction back: nothing was written.
        "chosen as the deadlock victim",
    ]
    .iter()
    .any(|phrase| lower.contains(phrase))
}

/// A response that does not have the promised shape.
pub(crate) fn protocol(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Protocol {
        system: SYSTEM,
        message: message.into(),
    }
}

impl ExactGlobeClient {
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
    pub(crate) async fn send_tunnelled(
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
            let length = retry_after.unwrap_or(backoff).min(Duration::from_secs(60));
            let _shown = crate::connectors::wait::begin("a retry of Exact Globe", length);
            tokio::time::sleep(length).await;
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
                // The server root only: the full URL can carry filter values.
                return Attempt::NotSent(format!(
                    "cannot connect to {}: {}",
                    config.base_url,
                    e.without_url()
                ));
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
            // 503: the service (or HTTP.sys in front of it) did not take the request on.
            503 => Verdict::Retry(format!("{code} {message}")),
            502 | 504 if repeat == Repeat::Safe => Verdict::Retry(format!("{code} {message}")),
            // A create answered by a gateway error may or may not have reached the service.
            502 | 504 => Verdict::Lost(format!("{code} {message}")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_messages() {
        assert!(is_transient_message("The record is locked by another user"));
        assert!(is_transient_message("The Entity service needs a restart"));
        assert!(is_transient_message(
            "Transaction (Process ID 52) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction."
        ));
        assert!(!is_transient_message("No property 'X' exists"));
        assert!(!is_transient_message("Debtor 1234 is blocked."));
    }
}
