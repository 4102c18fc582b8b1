//! The OAuth2 token life cycle: authorization-code exchange, and the refresh protocol that
//! never loses the (rotating) refresh token.
//!
//! Refresh protocol: one refresh at a time in the process (a tokio mutex), and across
//! processes (the store's file lock); after taking the lock the store is read again, since
//! another process may have refreshed already; no refresh while the access token has more
//! than 30 s to live (so never within 570 s of the last one) unless the server said 401; the
//! new pair is stored before the new access token is used; and any refresh token in a token
//! response is stored, even when the rest of the answer is unusable.

use super::config::OnlineConfig;
use crate::connectors::{ConnectorError, System};
use crate::state::tokens::{StoredToken, TokenStore, TokenStoreError};
use serde_json::Value;

/// Refresh when the access token has less than this many seconds to live.
pub const REFRESH_MARGIN_S: i64 = 30;

/// Why the connection cannot authenticate.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Nothing stored for this app yet.
    #[error("no Exact Online token stored under `{0}`: run `exflow auth exact-online` first")]
    NoToken(String),
    /// The refresh token was already used (rotated away): the connection is lost.
    #[error("Exact Online answered \"Old refresh token used.\": the stored refresh token was already rotated; run `exflow auth exact-online` to connect again")]
    OldRefreshToken,
    /// The token endpoint refused for another reason.
    #[error("the token endpoint refused ({status}): {message}{hint}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// `error_description` or `error` from the body (never a token).
        message: String,
        /// A hint on what to do.
        hint: &'static str,
    },
    /// The token endpoint answered something that is not a token response.
    #[error("the token endpoint sent an unusable answer ({0})")]
    BadResponse(String),
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] TokenStoreError),
}

fn auth(e: AuthError) -> ConnectorError {
    ConnectorError::Auth {
        system: System::ExactOnline,
        reason: Box::new(e),
    }
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Holds the current pair and refreshes it by the protocol above.
pub struct TokenManager {
    http: reqwest::Client,
    config: OnlineConfig,
    store: TokenStore,
    current: tokio::sync::Mutex<Option<StoredToken>>,
    refreshes: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("token_key", &self.config.token_key)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager for `config.token_key` in `store`.
    pub fn new(http: reqwest::Client, config: OnlineConfig, store: TokenStore) -> TokenManager {
        TokenManager {
            http,
            config,
            store,
            current: tokio::sync::Mutex::new(None),
            refreshes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Token-endpoint calls made by this manager.
    pub fn refresh_calls(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// An access token that is valid for at least 30 more seconds (refreshing if needed).
    pub async fn access_token(&self) -> Result<String, ConnectorError> {
        let mut current = self.current.lock().await;
        if current.is_none() {
            *current = self.load()?;
        }
        match current.as_ref() {
            Some(t) if fresh(t) => Ok(t.access_token.clone()),
            Some(_) => self.refresh_locked(&mut current, None).await,
            None => Err(auth(AuthError::NoToken(self.config.token_key.clone()))),
        }
    }

    /// The server refused `rejected` with 401: refresh unless someone already did.
    pub async fn after_unauthorized(&self, rejected: &str) -> Result<String, ConnectorError> {
        let mut current = self.current.lock().await;
        match current.as_ref() {
            Some(t) if t.access_token != rejected && fresh(t) => Ok(t.access_token.clone()),
            _ => self.refresh_locked(&mut current, Some(rejected)).await,
        }
    }

    /// Whether a login is stored at all (no token call: a service starts without one).
    pub fn is_stored(&self) -> Result<bool, ConnectorError> {
        Ok(self.load()?.is_some())
    }

    fn load(&self) -> Result<Option<StoredToken>, ConnectorError> {
        self.store
            .load(&self.config.token_key)
            .map_err(|e| auth(AuthError::Store(e)))
    }

    /// Runs with the in-process mutex held: takes the file lock, re-reads, refreshes.
    async fn refresh_locked(
        &self,
        current: &mut Option<StoredToken>,
        rejected: Option<&str>,
    ) -> Result<String, ConnectorError> {
        let store = self.store.clone();
        let _lock = tokio::task::spawn_blocking(move || store.lock_refresh())
            .await
            .map_err(|e| auth(AuthError::BadResponse(format!("lock task failed: {e}"))))?
            .map_err(|e| auth(AuthError::Store(e)))?;
        // Another process may have refreshed while we waited for the lock.
        let stored = self
            .load()?
            .ok_or_else(|| auth(AuthError::NoToken(self.config.token_key.clone())))?;
        let usable = fresh(&stored) && rejected != Some(stored.access_token.as_str());
        if usable {
            let access = stored.access_token.clone();
            *current = Some(stored);
            return Ok(access);
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", stored.refresh_token.as_str()),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.as_str()),
        ];
        let token = self.token_call(&form, Some(&stored)).await?;
        let access = token.access_token.clone();
        *current = Some(token);
        Ok(access)
    }

    /// Exchanges an authorization code (already URL-decoded) and stores the pair.
    pub async fn exchange_code(&self, code: &str) -> Result<StoredToken, ConnectorError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.as_str()),
        ];
        let mut current = self.current.lock().await;
        let token = self.token_call(&form, None).await?;
        *current = Some(token.clone());
        Ok(token)
    }

    /// Stores a refresh token obtained elsewhere, then refreshes once to prove it works
    /// (the answer's rotated pair is stored before anything else).
    pub async fn import_refresh_token(
        &self,
        refresh_token: &str,
    ) -> Result<StoredToken, ConnectorError> {
        let imported = StoredToken {
            access_token: String::new(),
            refresh_token: refresh_token.trim().to_string(),
            access_expires_at: 0,
            refreshed_at: 0,
        };
        self.store
            .save(&self.config.token_key, &imported)
            .map_err(|e| auth(AuthError::Store(e)))?;
        let mut current = self.current.lock().await;
        *current = Some(imported);
        self.refresh_locked(&mut current, None).await?;
        current
            .clone()
            .ok_or_else(|| auth(AuthError::NoToken(self.config.token_key.clone())))
    }

    /// One call to the token endpoint; stores whatever refresh token comes back before
    /// looking at anything else.
    async fn token_call(
        &self,
        form: &[(&str, &str)],
        previous: Option<&StoredToken>,
    ) -> Result<StoredToken, ConnectorError> {
        let url = format!("{}/api/oauth2/token", self.config.base());
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let resp = self
            .http
            .post(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| ConnectorError::Unavailable {
                system: System::ExactOnline,
                message: format!("token endpoint: {}", e.without_url()),
            })?;
        let status = resp.status().as_u16();
        let reason = resp
            .headers()
            .get("Reason")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.map_err(|e| ConnectorError::Unavailable {
            system: System::ExactOnline,
            message: format!("token endpoint answer lost: {}", e.without_url()),
        })?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let now = now_s();
        let refresh = body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let expires_in = body.get("expires_in").and_then(super::odata::as_i64);
        if let Some(refresh) = refresh {
            let complete = (200..300).contains(&status) && access.is_some();
            let token = match (complete, access) {
                (true, Some(access)) => StoredToken {
                    access_token: access.to_string(),
                    refresh_token: refresh.to_string(),
                    access_expires_at: now + expires_in.unwrap_or(600),
                    refreshed_at: now,
                },
                // Keep the rotated refresh token even though the answer is unusable; the
                // access token is marked expired so the next call refreshes.
                _ => StoredToken {
                    access_token: String::new(),
                    refresh_token: refresh.to_string(),
                    access_expires_at: 0,
                    refreshed_at: now,
                },
            };
            self.store
                .save(&self.config.token_key, &token)
                .map_err(|e| auth(AuthError::Store(e)))?;
            if complete {
                tracing::info!(key = %self.config.token_key, "exact online: token pair refreshed and stored");
                return Ok(token);
            }
        }
        let description = body
            .get("error_description")
            .or_else(|| body.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if description.contains("Old refresh token used") {
            return Err(auth(AuthError::OldRefreshToken));
        }
        if (200..300).contains(&status) {
            return Err(auth(AuthError::BadResponse(format!(
                "status {status} without a complete token pair"
            ))));
        }
        if status >= 500 {
            return Err(ConnectorError::Unavailable {
                system: System::ExactOnline,
                message: format!("token endpoint answered {status}"),
            });
        }
        let too_early = reason.as_deref().is_some_and(|r| r.contains("TooEarly"));
        let hint = if too_early {
            " (a token was issued less than 570 s ago; wait and retry)"
        } else if previous.is_some() {
            "; run `exflow auth exact-online` to connect again"
        } else {
            " (codes are single-use and valid 3 minutes)"
        };
        Err(auth(AuthError::Refused {
            status,
            message: if description.is_empty() {
                reason.unwrap_or_default()
            } else {
                description
            },
            hint,
        }))
    }
}

/// Whether the access token lives long enough to use (more than the margin left).
fn fresh(t: &StoredToken) -> bool {
    !t.access_token.is_empty() && t.access_expires_at - REFRESH_MARGIN_S > now_s()
}
