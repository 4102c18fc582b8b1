//! Process-wide registries of what Exact Online counts per app + division (the rate limiter,
//! the error budget): every client of the same pair shares one instance.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

type Key = (String, String, i32);

/// One shared `T` per (base URL, client id, division), alive while a client holds it: a
/// server that is gone (and a later one on the same address) never hands its counters on.
pub struct PerDivision<T> {
    entries: OnceLock<parking_lot::Mutex<HashMap<Key, Weak<T>>>>,
}

impl<T> Default for PerDivision<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PerDivision<T> {
    /// An empty registry, for a `static`.
    pub const fn new() -> PerDivision<T> {
        PerDivision {
            entries: OnceLock::new(),
        }
    }

    /// The live instance for the pair, or a new one from `make`.
    pub fn get_or_make(
        &self,
        base_url: &str,
        client_id: &str,
        division: i32,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let mut entries = self.entries.get_or_init(Default::default).lock();
        entries.retain(|_, shared| shared.strong_count() > 0);
        let key = (base_url.to_string(), client_id.to_string(), division);
        if let Some(shared) = entries.get(&key).and_then(Weak::upgrade) {
            return shared;
        }
        let shared = Arc::new(make());
        entries.insert(key, Arc::downgrade(&shared));
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_while_held_and_fresh_once_dropped() {
        static REGISTRY: PerDivision<std::sync::atomic::AtomicU32> = PerDivision::new();
        let make = || std::sync::atomic::AtomicU32::new(0);
        let a = REGISTRY.get_or_make("http://x", "app", 1, make);
        a.store(7, std::sync::atomic::Ordering::Relaxed);
        let b = REGISTRY.get_or_make("http://x", "app", 1, make);
        assert!(Arc::ptr_eq(&a, &b));
        let other = REGISTRY.get_or_make("http://x", "app", 2, make);
        assert!(!Arc::ptr_eq(&a, &other));
        drop((a, b));
        let again = REGISTRY.get_or_make("http://x", "app", 1, make);
        assert_eq!(again.load(std::sync::atomic::Ordering::Relaxed), 0);
    }
}
