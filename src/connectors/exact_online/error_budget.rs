//! Exact Online blocks an app for about an hour (escalating) after more than 10 errors
//! (400/401/403/404) per endpoint per hour. This guard counts them per app + division +
//! endpoint, shared like the rate limiter, and stops calling an endpoint one error short of
//! the block, so a run with many bad records pauses instead of locking the integration out.

use super::per_division::PerDivision;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Errors allowed per endpoint per window before the guard stops calls (Exact blocks at 11).
pub const ALLOWED_ERRORS: usize = 9;
/// The window Exact counts errors in.
pub const WINDOW: Duration = Duration::from_secs(3600);

/// Error counts per endpoint of one app + division.
#[derive(Debug, Default)]
pub struct ErrorBudget {
    hits: parking_lot::Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// The endpoint part of a URL: the path below the division, without keys or query
/// (`crm/Accounts` for `…/api/v1/1/crm/Accounts(guid'…')?$select=…`).
pub fn endpoint_of(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    let below = path
        .split_once("/api/v1/")
        .map(|(_, rest)| rest.split_once('/').map_or(rest, |(_, r)| r))
        .unwrap_or(path);
    below.split('(').next().unwrap_or(below).to_string()
}

/// Whether a status counts toward Exact's error budget.
pub fn counts(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404)
}

impl ErrorBudget {
    /// The shared budget of `base_url` + `client_id` + `division`.
    pub fn shared(base_url: &str, client_id: &str, division: i32) -> Arc<ErrorBudget> {
        static REGISTRY: PerDivision<ErrorBudget> = PerDivision::new();
        REGISTRY.get_or_make(base_url, client_id, division, ErrorBudget::default)
    }

    /// `Err(errors)` when `endpoint` already had the allowed errors in the last hour.
    pub fn check(&self, endpoint: &str) -> Result<(), usize> {
        let mut hits = self.hits.lock();
        let Some(q) = hits.get_mut(endpoint) else {
            return Ok(());
        };
        let now = Instant::now();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() >= ALLOWED_ERRORS {
            Err(q.len())
        } else {
            Ok(())
        }
    }

    /// Counts one error on `endpoint`.
    pub fn record(&self, endpoint: &str) {
        self.hits
            .lock()
            .entry(endpoint.to_string())
            .or_default()
            .push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_limits() {
        assert_eq!(
            endpoint_of("https://h/api/v1/12/crm/Accounts(guid'x')?$select=ID"),
            "crm/Accounts"
        );
        assert_eq!(
            endpoint_of("https://h/api/v1/12/sync/CRM/Accounts?a=b"),
            "sync/CRM/Accounts"
        );
        let b = ErrorBudget::default();
        for _ in 0..ALLOWED_ERRORS {
            assert!(b.check("crm/Accounts").is_ok());
            b.record("crm/Accounts");
        }
        assert_eq!(b.check("crm/Accounts"), Err(ALLOWED_ERRORS));
        assert!(b.check("logistics/Items").is_ok());
        assert!(counts(404) && !counts(429) && !counts(500));
    }
}
