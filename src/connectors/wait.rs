//! What the connectors of this process are waiting for right now (a rate limit reset, a
//! retry of a failing system), so that a progress bar can say so while it lasts; the log
//! says it once, when the wait begins.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

struct Entry {
    id: u64,
    what: String,
    until: Instant,
}

static WAITS: Mutex<(u64, Vec<Entry>)> = Mutex::new((0, Vec::new()));

/// A wait in progress; it ends when dropped.
#[must_use = "the wait ends when the guard drops"]
pub struct Waiting(u64);

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITS.lock().1.retain(|e| e.id != self.0);
    }
}

/// Announces a wait of `length` for `what` ("the minutely limit of division 123").
pub fn begin(what: impl Into<String>, length: Duration) -> Waiting {
    let mut waits = WAITS.lock();
    waits.0 += 1;
    let id = waits.0;
    waits.1.push(Entry {
        id,
        what: what.into(),
        until: Instant::now() + length,
    });
    Waiting(id)
}

/// The longest wait in progress, as `waiting 42 s for <what>`; `None` when nothing waits.
pub fn current() -> Option<String> {
    let waits = WAITS.lock();
    let now = Instant::now();
    waits.1.iter().max_by_key(|e| e.until).map(|e| {
        let left = e.until.saturating_duration_since(now).as_secs_f64().ceil();
        format!("waiting {left:.0} s for {}", e.what)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_shows_while_its_guard_lives() {
        let what = "the test limit of division 77";
        let guard = begin(what, Duration::from_secs(30));
        let shown = current().expect("a wait");
        assert!(
            shown.contains(what) && shown.starts_with("waiting "),
            "{shown}"
        );
        drop(guard);
        assert!(current().is_none_or(|s| !s.contains(what)));
    }
}
