//! Pending runs. A pipeline is either pending or not: asking again while it is pending
//! changes nothing, so a burst of 500 webhook notifications is one run (or a few, when the
//! burst outlasts a run), and that run reads everything new through the cursor.
//! Webhook requests wait out a debounce window counted from the first one of a burst (not
//! extended by later ones, so a steady stream still runs every window).

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use tokio::sync::Notify;

/// Why a run happens (a label of `exflow_runs_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    /// Its `schedule:` fired (or was missed while the service was down).
    Schedule,
    /// An Exact Online webhook named a topic it reads.
    Webhook,
    /// Exact Online was just connected (from the dashboard): what waited for it runs.
    Connected,
}

impl Trigger {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Webhook => "webhook",
            Trigger::Connected => "connected",
        }
    }
}

/// The set of pending pipelines, each with the moment it may start.
#[derive(Default)]
pub struct Triggers {
    pending: Mutex<BTreeMap<String, (DateTime<Utc>, Trigger)>>,
    wake: Notify,
}

impl Triggers {
    /// Asks for a run of `pipeline` at `not_before` (now, or after a debounce window). A
    /// pipeline already pending keeps the earlier moment.
    pub fn request(&self, pipeline: &str, not_before: DateTime<Utc>, trigger: Trigger) {
        let mut p = self.pending.lock();
        let e = p
            .entry(pipeline.to_string())
            .or_insert((not_before, trigger));
        if not_before < e.0 {
            *e = (not_before, trigger);
        }
        drop(p);
        self.wake.notify_one();
    }

    /// Takes every pipeline whose moment has come.
    pub fn take_ready(&self, now: DateTime<Utc>) -> Vec<(String, Trigger)> {
        let mut p = self.pending.lock();
        let ready: Vec<String> = p
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        ready
            .into_iter()
            .filter_map(|n| p.remove(&n).map(|(_, t)| (n, t)))
            .collect()
    }

    /// The earliest moment a pending pipeline may start.
    pub fn earliest(&self) -> Option<DateTime<Utc>> {
        self.pending.lock().values().map(|(at, _)| *at).min()
    }

    /// How many pipelines are pending.
    pub fn len(&self) -> usize {
        self.pending.lock().len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes the worker (a new request, or a stop).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves at the next [`Triggers::request`] or [`Triggers::wake`].
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_burst_is_one_pending_run_released_after_its_window() {
        let t = Triggers::default();
        let now = Utc::now();
        for i in 0..500 {
            t.request(
                "orders",
                now + Duration::milliseconds(500 + i),
                Trigger::Webhook,
            );
        }
        assert_eq!(t.len(), 1);
        assert!(t.take_ready(now).is_empty());
        let ready = t.take_ready(now + Duration::milliseconds(500));
        assert_eq!(ready, vec![("orders".to_string(), Trigger::Webhook)]);
        assert!(t.is_empty());
    }

    #[test]
    fn a_schedule_overtakes_a_waiting_webhook() {
        let t = Triggers::default();
        let now = Utc::now();
        t.request("orders", now + Duration::seconds(5), Trigger::Webhook);
        t.request("orders", now, Trigger::Schedule);
        assert_eq!(
            t.take_ready(now),
            vec![("orders".into(), Trigger::Schedule)]
        );
    }
}
