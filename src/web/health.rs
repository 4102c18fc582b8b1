//! Readiness: what `/readyz` checks. The service sets the facts; the state store is asked
//! at every request, since a locked or vanished file is exactly what readiness must catch.

use crate::connectors::System;
use crate::state::StateStore;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Facts about the service's health.
pub struct Health {
    config_valid: AtomicBool,
    store: Arc<dyn StateStore>,
    /// Per system: `Some(reason)` when its last call failed. A system not called yet counts
    /// as answering (nothing says otherwise).
    systems: Mutex<BTreeMap<&'static str, Option<String>>>,
}

impl Health {
    /// Healthy facts about a service with this state store.
    pub fn new(store: Arc<dyn StateStore>) -> Health {
        Health {
            config_valid: AtomicBool::new(true),
            store,
            systems: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether the running configuration validated.
    pub fn set_config_valid(&self, ok: bool) {
        self.config_valid.store(ok, Ordering::SeqCst);
    }

    /// The outcome of the last call to `system` (`None`: it answered).
    pub fn set_system(&self, system: System, failure: Option<String>) {
        self.systems.lock().insert(system.as_str(), failure);
    }

    /// Why the service is not ready; empty when it is.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.config_valid.load(Ordering::SeqCst) {
            out.push("configuration invalid".to_string());
        }
        if let Err(e) = self.store.runs(None, 1) {
            out.push(format!("state store unreachable: {e}"));
        }
        for (system, failure) in self.systems.lock().iter() {
            if let Some(f) = failure {
                out.push(format!("{system} did not answer its last call: {f}"));
            }
        }
        out
    }
}
