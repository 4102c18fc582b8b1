//! Rate limits per app + division: a clock-aligned minute window and a day window that resets
//! at 00:00 UTC, with the six `X-RateLimit-*` headers in epoch milliseconds; and the error
//! budget (more than 10 errors per endpoint per hour blocks the endpoint).

use std::collections::HashMap;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Header name/value pairs for one response.
pub type Headers = Vec<(&'static str, String)>;

/// The two windows of one app + division.
pub struct Limiter {
    /// Calls per minute.
    pub minutely_limit: u32,
    /// Calls per day.
    pub daily_limit: u32,
    minute_start: i64,
    minute_used: u32,
    day_start: i64,
    day_used: u32,
}

/// Outcome of one call against the limiter.
pub enum Admit {
    /// Allowed; add these headers.
    Ok(Headers),
    /// Refused with 429; only the headers of the window that ran out.
    Throttled(Headers),
}

impl Limiter {
    /// A limiter with both windows empty.
    pub fn new(minutely_limit: u32, daily_limit: u32) -> Limiter {
        Limiter { minutely_limit, daily_limit, minute_start: 0, minute_used: 0, day_start: 0, day_used: 0 }
    }

    fn roll(&mut self, now: i64) {
        let m = now - now.rem_euclid(MINUTE_MS);
        if m != self.minute_start {
            self.minute_start = m;
            self.minute_used = 0;
        }
        let d = now - now.rem_euclid(DAY_MS);
        if d != self.day_start {
            self.day_start = d;
            self.day_used = 0;
        }
    }

    fn daily(&self) -> Headers {
        vec![
            ("X-RateLimit-Limit", self.daily_limit.to_string()),
            ("X-RateLimit-Remaining", self.daily_limit.saturating_sub(self.day_used).to_string()),
            ("X-RateLimit-Reset", (self.day_start + DAY_MS).to_string()),
        ]
    }

    fn minutely(&self) -> Headers {
        vec![
            ("X-RateLimit-Minutely-Limit", self.minutely_limit.to_string()),
            ("X-RateLimit-Minutely-Remaining", self.minutely_limit.saturating_sub(self.minute_used).to_string()),
            ("X-RateLimit-Minutely-Reset", (self.minute_start + MINUTE_MS).to_string()),
        ]
    }

    /// Counts one call at `now` (epoch ms), or refuses it.
    pub fn admit(&mut self, now: i64) -> Admit {
        self.roll(now);
        if self.day_used >= self.daily_limit {
            return Admit::Throttled(self.daily());
        }
        if self.minute_used >= self.minutely_limit {
            return Admit::Throttled(self.minutely());
        }
        self.day_used += 1;
        self.minute_used += 1;
        let mut h = self.daily();
        h.extend(self.minutely());
        Admit::Ok(h)
    }

    /// Headers of a throttled minute, for injected 429 bursts.
    pub fn minutely_exhausted(&mut self, now: i64) -> Headers {
        self.roll(now);
        vec![
            ("X-RateLimit-Minutely-Limit", self.minutely_limit.to_string()),
            ("X-RateLimit-Minutely-Remaining", "0".to_string()),
            ("X-RateLimit-Minutely-Reset", (self.minute_start + MINUTE_MS).to_string()),
        ]
    }
}

/// Errors per endpoint pattern in the last hour.
#[derive(Default)]
pub struct ErrorBudget {
    errors: HashMap<String, Vec<i64>>,
}

impl ErrorBudget {
    /// Records a 400/401/403/404 answer.
    pub fn record(&mut self, endpoint: &str, now: i64) {
        self.errors.entry(endpoint.to_string()).or_default().push(now);
    }

    /// Whether the endpoint is blocked (more than 10 errors in the last hour).
    pub fn blocked(&mut self, endpoint: &str, now: i64) -> bool {
        let list = self.errors.entry(endpoint.to_string()).or_default();
        list.retain(|t| now - t < HOUR_MS);
        list.len() > 10
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_window_is_clock_aligned() {
        let mut l = Limiter::new(2, 100);
        let t = 1_700_000_010_000; // 10 s into a minute
        assert!(matches!(l.admit(t), Admit::Ok(_)));
        assert!(matches!(l.admit(t + 1), Admit::Ok(_)));
        match l.admit(t + 2) {
            Admit::Throttled(h) => {
                assert_eq!(h.len(), 3);
                assert!(h.iter().any(|(k, v)| *k == "X-RateLimit-Minutely-Reset" && v == "1700000040000"));
            }
            Admit::Ok(_) => panic!("should throttle"),
        }
        assert!(matches!(l.admit(1_700_000_040_000), Admit::Ok(_)));
    }
}
