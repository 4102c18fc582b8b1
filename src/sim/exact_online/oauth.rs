//! OAuth2 as Exact Online does it: single-use codes with `!` (3 minutes), access tokens of
//! 600 s, refresh tokens that rotate on every use ("Old refresh token used."), no refresh
//! within 570 s of the previous token (400 + `Reason`), 30 days idle expiry.

use rand::distributions::Alphanumeric;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Access token lifetime (s).
pub const ACCESS_TTL_S: i64 = 600;
/// No new token within this many seconds of the previous one (s).
pub const MIN_REFRESH_S: i64 = 570;
/// An authorization code lives this long (s).
pub const CODE_TTL_S: i64 = 180;
/// An unused refresh token dies after this long (s).
pub const REFRESH_IDLE_S: i64 = 30 * 24 * 3600;

/// A token endpoint answer: status, JSON body, optional `Reason` header.
pub struct TokenAnswer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
    /// `Reason` header.
    pub reason: Option<String>,
}

struct Refresh {
    chain: usize,
    issued_ms: i64,
}

struct Code {
    issued_ms: i64,
    redirect_uri: String,
    used: bool,
}

/// Token bookkeeping.
#[derive(Default)]
pub struct OAuth {
    codes: HashMap<String, Code>,
    access: HashMap<String, i64>,
    refresh: HashMap<String, Refresh>,
    /// Per chain (one consent): the current refresh token and when a token was last issued.
    chains: Vec<(String, i64)>,
}

fn token(rng: &mut ChaCha8Rng, prefix: &str, len: usize) -> String {
    let tail: String = (0..len).map(|_| rng.sample(Alphanumeric) as char).collect();
    format!("{prefix}{tail}")
}

fn err(status: u16, error: &str, description: &str) -> TokenAnswer {
    TokenAnswer { status, body: json!({"error": error, "error_description": description}), reason: None }
}

impl OAuth {
    /// Issues an authorization code for the redirect.
    pub fn code(&mut self, rng: &mut ChaCha8Rng, redirect_uri: &str, now_ms: i64) -> String {
        let c = token(rng, "XTzM!IAAAA", 100);
        self.codes.insert(c.clone(), Code { issued_ms: now_ms, redirect_uri: redirect_uri.to_string(), used: false });
        c
    }

    /// Starts a new chain and returns a fresh (access, refresh) pair.
    pub fn issue(&mut self, rng: &mut ChaCha8Rng, now_ms: i64) -> (String, String) {
        self.chains.push((String::new(), now_ms));
        let chain = self.chains.len() - 1;
        self.rotate(rng, chain, now_ms)
    }

    fn rotate(&mut self, rng: &mut ChaCha8Rng, chain: usize, now_ms: i64) -> (String, String) {
        let a = token(rng, "AAEAA", 300);
        let r = token(rng, "Gcp7!IAAAA", 120);
        self.access.insert(a.clone(), now_ms + ACCESS_TTL_S * 1000);
        self.refresh.insert(r.clone(), Refresh { chain, issued_ms: now_ms });
        self.chains[chain] = (r.clone(), now_ms);
        (a, r)
    }

    fn success(a: String, r: String) -> TokenAnswer {
        TokenAnswer {
            status: 200,
            body: json!({"access_token": a, "token_type": "bearer", "expires_in": ACCESS_TTL_S.to_string(), "refresh_token": r}),
            reason: None,
        }
    }

    /// Whether a bearer token is valid now.
    pub fn valid(&self, access: &str, now_ms: i64) -> bool {
        self.access.get(access).is_some_and(|exp| *exp > now_ms)
    }

    /// The `authorization_code` grant.
    pub fn exchange_code(&mut self, rng: &mut ChaCha8Rng, code: &str, redirect_uri: &str, now_ms: i64) -> TokenAnswer {
        let ok = match self.codes.get_mut(code) {
            Some(c) if !c.used && now_ms - c.issued_ms <= CODE_TTL_S * 1000 && c.redirect_uri == redirect_uri => {
                c.used = true;
                true
            }
            Some(c) => {
                c.used = true;
                false
            }
            None => false,
        };
        if !ok {
            return err(400, "invalid_grant", "Bad Request");
        }
        let (a, r) = self.issue(rng, now_ms);
        Self::success(a, r)
    }

    /// The `refresh_token` grant.
    pub fn refresh(&mut self, rng: &mut ChaCha8Rng, refresh: &str, now_ms: i64) -> TokenAnswer {
        let Some(state) = self.refresh.get(refresh) else {
            return err(400, "invalid_grant", "Bad Request");
        };
        let chain = state.chain;
        if self.chains[chain].0 != refresh {
            return err(401, "unauthorized_client", "Old refresh token used.");
        }
        let expires = state.issued_ms + REFRESH_IDLE_S * 1000;
        if now_ms > expires {
            let fmt = |ms: i64| {
                chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string()).unwrap_or_default()
            };
            return err(400, "invalid_request", &format!("The refresh token expired at {} and it is now {}.", fmt(expires), fmt(now_ms)));
        }
        if now_ms - self.chains[chain].1 < MIN_REFRESH_S * 1000 {
            let mut a = err(400, "access_denied", "Rate limit exceeded: access_token not expired");
            a.reason = Some("TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired".into());
            return a;
        }
        let (a, r) = self.rotate(rng, chain, now_ms);
        Self::success(a, r)
    }
}
