//! One rate limiter per app + division, shared by every task of the process and driven by
//! the six `X-RateLimit-*` headers (epoch milliseconds). The server counts per app +
//! division, so two limiters for the same pair would only race each other into 429s.

use super::per_division::PerDivision;
use reqwest::header::HeaderMap;
use std::sync::Arc;
use std::time::Duration;

/// What the limiter knows of the server's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `X-RateLimit-Limit`: calls a day.
    pub daily_limit: Option<u64>,
    /// `X-RateLimit-Remaining`: calls left today.
    pub daily_remaining: Option<u64>,
    /// `X-RateLimit-Reset`: when the day resets (epoch ms).
    pub daily_reset_ms: Option<i64>,
    /// `X-RateLimit-Minutely-Limit`.
    pub minutely_limit: Option<u64>,
    /// `X-RateLimit-Minutely-Remaining`.
    pub minutely_remaining: Option<u64>,
    /// `X-RateLimit-Minutely-Reset` (epoch ms).
    pub minutely_reset_ms: Option<i64>,
}

impl Limits {
    /// Reads the headers present (a 429 may carry only the minutely or only the daily ones).
    pub fn from_headers(h: &HeaderMap) -> Limits {
        let num =
            |name: &str| -> Option<i64> { h.get(name)?.to_str().ok()?.trim().parse::<i64>().ok() };
        let count = |name: &str| num(name).and_then(|n| u64::try_from(n).ok());
        Limits {
            daily_limit: count("X-RateLimit-Limit"),
            daily_remaining: count("X-RateLimit-Remaining"),
            daily_reset_ms: num("X-RateLimit-Reset"),
            minutely_limit: count("X-RateLimit-Minutely-Limit"),
            minutely_remaining: count("X-RateLimit-Minutely-Remaining"),
            minutely_reset_ms: num("X-RateLimit-Minutely-Reset"),
        }
    }

    fn any(&self) -> bool {
        *self != Limits::default()
    }
}

/// Why no call may be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Only the reserve is left for today.
    Budget {
        /// The reserve kept.
        reserve: u32,
    },
}

/// The shared limiter of one app + division.
#[derive(Debug)]
pub struct RateLimiter {
    reserve: u32,
    state: parking_lot::Mutex<Limits>,
    /// The division counted, for saying which one a wait is for.
    division: Option<i32>,
}

/// Extra wait after a reset moment, so a slightly slow server clock is past it too.
const RESET_MARGIN_MS: i64 = 250;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The next whole minute (the minutely window is clock-aligned).
fn next_minute_ms(now: i64) -> i64 {
    (now.div_euclid(60_000) + 1) * 60_000
}

impl RateLimiter {
    /// A limiter keeping `reserve` daily calls unused.
    pub fn new(reserve: u32) -> RateLimiter {
        RateLimiter {
            reserve,
            state: parking_lot::Mutex::new(Limits::default()),
            division: None,
        }
    }

    /// The shared limiter for `base_url` + `client_id` + `division`, made on first use.
    pub fn shared(
        base_url: &str,
        client_id: &str,
        division: i32,
        reserve: u32,
    ) -> Arc<RateLimiter> {
        static REGISTRY: PerDivision<RateLimiter> = PerDivision::new();
        REGISTRY.get_or_make(base_url, client_id, division, || RateLimiter {
            division: Some(division),
            ..RateLimiter::new(reserve)
        })
    }

    /// What the limiter currently believes.
    pub fn limits(&self) -> Limits {
        *self.state.lock()
    }

    /// Waits until a call may be made and reserves it, or says the daily budget is spent.
    pub async fn acquire(&self) -> Result<(), Denied> {
        loop {
            let wait_ms = {
                let mut s = self.state.lock();
                let now = now_ms();
                if s.daily_reset_ms.is_some_and(|r| now >= r) {
                    s.daily_remaining = None;
                    s.daily_reset_ms = None;
                }
                if s.minutely_reset_ms.is_some_and(|r| now >= r) {
                    s.minutely_remaining = None;
                    s.minutely_reset_ms = None;
                }
                if s.daily_remaining
                    .is_some_and(|left| left <= u64::from(self.reserve))
                {
                    return Err(Denied::Budget {
                        reserve: self.reserve,
                    });
                }
                match s.minutely_remaining {
                    Some(0) => {
                        let reset = s.minutely_reset_ms.unwrap_or_else(|| next_minute_ms(now));
                        (reset - now).max(0) + RESET_MARGIN_MS
                    }
                    _ => {
                        // Count the call locally until the response brings the real numbers.
                        s.minutely_remaining = s.minutely_remaining.map(|n| n - 1);
                        s.daily_remaining = s.daily_remaining.map(|n| n.saturating_sub(1));
                        return Ok(());
                    }
                }
            };
            // At the default level: a run that waits up to a minute must say why.
            let division = self
                .division
                .map_or_else(|| "?".to_string(), |d| d.to_string());
            tracing::warn!(
                wait_ms,
                division = %division,
                "exact online: minutely rate limit of division {division} reached; waiting {:.1} s for it to reset",
                wait_ms as f64 / 1000.0
            );
            let length = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
            let _shown = crate::connectors::wait::begin(
                format!("the Exact Online minutely limit of division {division}"),
                length,
            );
            tokio::time::sleep(length).await;
        }
    }

    /// Takes in the headers of an answered call.
    pub fn observe(&self, headers: &HeaderMap) {
        let l = Limits::from_headers(headers);
        if !l.any() {
            return;
        }
        let mut s = self.state.lock();
        merge(&mut s, &l);
    }

    /// Takes in a 429: afterwards `acquire` waits until the window it names resets. A 429
    /// without headers is taken as the minutely limit, reset at the next whole minute.
    pub fn throttled(&self, headers: &HeaderMap) {
        let l = Limits::from_headers(headers);
        let mut s = self.state.lock();
        merge(&mut s, &l);
        let daily_hit = l.daily_remaining == Some(0);
        if daily_hit {
            s.daily_remaining = Some(0);
        }
        if !daily_hit || l.minutely_remaining.is_some() {
            s.minutely_remaining = Some(0);
            if l.minutely_reset_ms.is_none() {
                s.minutely_reset_ms = Some(next_minute_ms(now_ms()));
            }
        }
    }
}

fn merge(s: &mut Limits, l: &Limits) {
    macro_rules! take {
        ($($f:ident),*) => { $( if l.$f.is_some() { s.$f = l.$f; } )* };
    }
    take!(
        daily_limit,
        daily_remaining,
        daily_reset_ms,
        minutely_limit,
        minutely_remaining,
        minutely_reset_ms
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, i64)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from(*v));
        }
        h
    }

    #[tokio::test]
    async fn reserve_stops_calls() {
        let l = RateLimiter::new(10);
        let later = now_ms() + 3_600_000;
        l.observe(&headers(&[
            ("X-RateLimit-Limit", 5000),
            ("X-RateLimit-Remaining", 11),
            ("X-RateLimit-Reset", later),
        ]));
        assert_eq!(l.acquire().await, Ok(()));
        assert_eq!(l.acquire().await, Err(Denied::Budget { reserve: 10 }));
    }

    /// Everything logged while `f` runs, as the default `warn` level prints it.
    async fn logged<F: std::future::Future<Output = ()>>(f: F) -> String {
        #[derive(Clone, Default)]
        struct Sink(Arc<parking_lot::Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        f.await;
        let out = String::from_utf8_lossy(&sink.0.lock()).into_owned();
        out
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_minutely_wait_is_announced_with_its_division_and_length() {
        let l = RateLimiter::shared("http://announce.test", "app", 4242, 0);
        l.throttled(&headers(&[
            ("X-RateLimit-Minutely-Limit", 60),
            ("X-RateLimit-Minutely-Remaining", 0),
            ("X-RateLimit-Minutely-Reset", now_ms() + 300),
        ]));
        let out = logged(async {
            assert_eq!(l.acquire().await, Ok(()));
        })
        .await;
        assert!(out.contains("WARN"), "{out}");
        assert!(out.contains("division 4242"), "{out}");
        assert!(out.contains("waiting") && out.contains(" s "), "{out}");
    }

    #[tokio::test]
    async fn minutely_wait_ends_at_reset() {
        let l = RateLimiter::new(0);
        l.throttled(&headers(&[
            ("X-RateLimit-Minutely-Limit", 60),
            ("X-RateLimit-Minutely-Remaining", 0),
            ("X-RateLimit-Minutely-Reset", now_ms() + 50),
        ]));
        assert_eq!(l.limits().minutely_remaining, Some(0));
        assert_eq!(l.acquire().await, Ok(()));
        assert_eq!(l.limits().minutely_remaining, None);
    }

    #[test]
    fn shared_per_app_and_division() {
        let a = RateLimiter::shared("http://x", "app", 1, 5);
        let b = RateLimiter::shared("http://x", "app", 1, 5);
        let c = RateLimiter::shared("http://x", "app", 2, 5);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(next_minute_ms(60_001), 120_000);
    }
}
