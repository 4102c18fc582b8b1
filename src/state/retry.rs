//! When a failed record is tried again by itself: the next run retries it at once (a
//! mapping fix or a missing item made since is the common cause); after that each further
//! failure doubles the wait, and after `max_attempts` failures it stays listed but only
//! `exflow failed retry` runs it again. Decided when the list is read, from the attempts
//! and the last failure, so a changed setting applies to records already waiting.

use super::RetryEntry;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The longest wait between two automatic retries.
const MAX_BACKOFF: Duration = Duration::hours(24);

/// The project's `retry:` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failed runs after which a record is no longer retried automatically (0: never
    /// retried automatically).
    pub max_attempts: u32,
    /// The wait after the second failure; it doubles after each further one (at most a day).
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            backoff: Duration::minutes(15),
        }
    }
}

/// Where a failed record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "at")]
pub enum RetryState {
    /// A run now retries it.
    Due,
    /// Runs before this moment leave it alone.
    Waiting(DateTime<Utc>),
    /// Failed `max_attempts` times: only `exflow failed retry` runs it again.
    Exhausted,
}

impl RetryPolicy {
    /// When `entry` is tried again by a run (none: only by hand).
    pub fn next_attempt(&self, entry: &RetryEntry) -> Option<DateTime<Utc>> {
        if entry.attempts >= self.max_attempts {
            return None;
        }
        // attempts 1 -> no wait, 2 -> backoff, 3 -> 2 x backoff, ...
        let doublings = entry.attempts.saturating_sub(2).min(30);
        let wait = match entry.attempts {
            0 | 1 => Duration::zero(),
            _ => self
                .backoff
                .checked_mul(1 << doublings)
                .unwrap_or(MAX_BACKOFF)
                .min(MAX_BACKOFF),
        };
        Some(entry.last_failed + wait)
    }

    /// Where `entry` stands at `now`.
    pub fn state(&self, entry: &RetryEntry, now: DateTime<Utc>) -> RetryState {
        match self.next_attempt(entry) {
            None => RetryState::Exhausted,
            Some(t) if t <= now => RetryState::Due,
            Some(t) => RetryState::Waiting(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(attempts: u32, last_failed: DateTime<Utc>) -> RetryEntry {
        RetryEntry {
            source_key: "o1".into(),
            payload: json!({}),
            reason: "item A missing".into(),
            attempts,
            business_key: Some("1001".into()),
            first_failed: last_failed,
            last_failed,
            last_run: Some(1),
        }
    }

    #[test]
    fn the_first_retry_is_at_once_then_the_wait_doubles_up_to_a_day() {
        let p = RetryPolicy {
            max_attempts: 20,
            backoff: Duration::minutes(10),
        };
        let t = Utc::now();
        assert_eq!(p.state(&entry(1, t), t), RetryState::Due);
        assert_eq!(
            p.state(&entry(2, t), t),
            RetryState::Waiting(t + Duration::minutes(10))
        );
        assert_eq!(
            p.next_attempt(&entry(4, t)),
            Some(t + Duration::minutes(40))
        );
        assert_eq!(p.next_attempt(&entry(19, t)), Some(t + MAX_BACKOFF));
        assert_eq!(
            p.state(&entry(3, t), t + Duration::minutes(20)),
            RetryState::Due
        );
    }

    #[test]
    fn after_max_attempts_a_record_waits_for_a_hand() {
        let p = RetryPolicy {
            max_attempts: 3,
            backoff: Duration::zero(),
        };
        let t = Utc::now();
        assert_eq!(p.state(&entry(2, t), t), RetryState::Due);
        assert_eq!(p.state(&entry(3, t), t), RetryState::Exhausted);
        assert_eq!(p.next_attempt(&entry(3, t)), None);
    }
}
