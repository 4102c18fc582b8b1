//! The service's metrics, in Prometheus text format (the `prometheus-client` crate):
//! records by pipeline, entity and outcome; runs and their durations; API calls and the
//! rate-limit budget left per system and division; webhook notifications received and
//! refused; failures by reason class.

use crate::connectors::System;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    pipeline: String,
    entity: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    pipeline: String,
    status: String,
    trigger: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PipelineLabel {
    pipeline: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SystemLabel {
    system: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BudgetLabels {
    system: String,
    division: String,
    window: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabel {
    topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    pipeline: String,
    class: String,
}

/// Every metric of the service, registered once.
pub struct Metrics {
    registry: Registry,
    records: Family<RecordLabels, Counter>,
    runs: Family<RunLabels, Counter>,
    run_seconds: Family<PipelineLabel, Histogram>,
    running: Gauge,
    api_calls: Family<SystemLabel, Counter>,
    budget: Family<BudgetLabels, Gauge>,
    webhooks_received: Family<TopicLabel, Counter>,
    webhooks_refused: Family<ReasonLabel, Counter>,
    failures: Family<FailureLabels, Counter>,
    reload_failed: Gauge,
    notifications_failed: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn durations() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 14))
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let records = Family::<RecordLabels, Counter>::default();
        let runs = Family::<RunLabels, Counter>::default();
        let run_seconds =
            Family::<PipelineLabel, Histogram>::new_with_constructor(durations as fn() -> _);
        let running = Gauge::default();
        let api_calls = Family::<SystemLabel, Counter>::default();
        let budget = Family::<BudgetLabels, Gauge>::default();
        let webhooks_received = Family::<TopicLabel, Counter>::default();
        let webhooks_refused = Family::<ReasonLabel, Counter>::default();
        let failures = Family::<FailureLabels, Counter>::default();
        let reload_failed = Gauge::default();
        let notifications_failed = Counter::default();
        let r = &mut registry;
        r.register(
            "exflow_records",
            "Records handled, by pipeline, entity and outcome",
            records.clone(),
        );
        r.register(
            "exflow_runs",
            "Pipeline runs, by status and what triggered them",
            runs.clone(),
        );
        r.register(
            "exflow_run_duration_seconds",
            "Duration of pipeline runs",
            run_seconds.clone(),
        );
        r.register(
            "exflow_runs_in_progress",
            "Runs going on now",
            running.clone(),
        );
        r.register(
            "exflow_api_calls",
            "API calls spent, per system",
            api_calls.clone(),
        );
        r.register(
            "exflow_rate_limit_remaining",
            "Calls left in the rate-limit window, per system, division and window",
            budget.clone(),
        );
        r.register(
            "exflow_webhooks_received",
            "Exact Online webhook notifications accepted, by topic",
            webhooks_received.clone(),
        );
        r.register(
            "exflow_webhooks_refused",
            "Webhook notifications refused, by reason",
            webhooks_refused.clone(),
        );
        r.register(
            "exflow_failures",
            "Failed records and stopped runs, by pipeline and reason class",
            failures.clone(),
        );
        r.register(
            "exflow_config_reload_failed",
            "1 while the last edit of the project did not validate (the previous one runs)",
            reload_failed.clone(),
        );
        r.register(
            "exflow_notifications_failed",
            "Notification deliveries that failed after their retries",
            notifications_failed.clone(),
        );
        Metrics {
            registry,
            records,
            runs,
            run_seconds,
            running,
            api_calls,
            budget,
            webhooks_received,
            webhooks_refused,
            failures,
            reload_failed,
            notifications_failed,
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Adds `n` records of one outcome.
    pub fn records(&self, pipeline: &str, entity: &str, outcome: &str, n: u64) {
        let l = RecordLabels {
            pipeline: pipeline.into(),
            entity: entity.into(),
            outcome: outcome.into(),
        };
        self.records.get_or_create(&l).inc_by(n);
    }

    /// Counts one finished run and its duration.
    pub fn run(&self, pipeline: &str, status: &str, trigger: &str, seconds: f64) {
        let l = RunLabels {
            pipeline: pipeline.into(),
            status: status.into(),
            trigger: trigger.into(),
        };
        self.runs.get_or_create(&l).inc();
        let p = PipelineLabel {
            pipeline: pipeline.into(),
        };
        self.run_seconds.get_or_create(&p).observe(seconds);
    }

    /// One more (or one less) run in progress.
    pub fn running(&self, delta: i64) {
        self.running.inc_by(delta);
    }

    /// Adds API calls spent on `system`.
    pub fn api_calls(&self, system: System, n: u64) {
        let l = SystemLabel {
            system: system.as_str().into(),
        };
        self.api_calls.get_or_create(&l).inc_by(n);
    }

    /// Sets the calls left in a rate-limit window (`daily` or `minutely`).
    pub fn budget(&self, system: System, division: i32, window: &str, remaining: u64) {
        let l = BudgetLabels {
            system: system.as_str().into(),
            division: division.to_string(),
            window: window.into(),
        };
        self.budget
            .get_or_create(&l)
            .set(i64::try_from(remaining).unwrap_or(i64::MAX));
    }

    /// One accepted webhook notification.
    pub fn webhook_received(&self, topic: &str) {
        let l = TopicLabel {
            topic: topic.into(),
        };
        self.webhooks_received.get_or_create(&l).inc();
    }

    /// One refused webhook notification.
    pub fn webhook_refused(&self, reason: &str) {
        let l = ReasonLabel {
            reason: reason.into(),
        };
        self.webhooks_refused.get_or_create(&l).inc();
    }

    /// Adds failures of one reason class.
    pub fn failures(&self, pipeline: &str, class: &str, n: u64) {
        let l = FailureLabels {
            pipeline: pipeline.into(),
            class: class.into(),
        };
        self.failures.get_or_create(&l).inc_by(n);
    }

    /// Whether the last edit of the project failed to validate.
    pub fn reload_failed(&self, failed: bool) {
        self.reload_failed.set(i64::from(failed));
    }

    /// One notification that could not be delivered.
    pub fn notification_failed(&self) {
        self.notifications_failed.inc();
    }
}

/// The class of a failure reason, a small fixed set (label values must stay few).
pub fn reason_class(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    let has = |s: &str| r.contains(s);
    if has("refused the request") || has("refused") {
        "target_refused"
    } else if has("does not exist") || has("missing") || has("not found") {
        "missing_reference"
    } else if r.starts_with("map ") || r.starts_with("where") || r.starts_with("join") {
        "mapping"
    } else if has("authentication") || has("refresh token") {
        "auth"
    } else if has("budget") || has("rate limit") {
        "budget"
    } else if has("unavailable") || has("timed out") {
        "unavailable"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_holds_labelled_counters() {
        let m = Metrics::new();
        m.records("orders", "SalesOrderHeader", "create", 3);
        m.run("orders", "succeeded", "webhook", 0.2);
        let text = m.encode();
        assert!(
            text.contains(r#"exflow_records_total{pipeline="orders",entity="SalesOrderHeader",outcome="create"} 3"#),
            "{text}"
        );
        assert!(text.contains("exflow_run_duration_seconds_count"), "{text}");
    }

    #[test]
    fn reasons_fall_in_few_classes() {
        assert_eq!(
            reason_class("exact_globe refused the request (400): bad"),
            "target_refused"
        );
        assert_eq!(reason_class("map Lines: division by zero"), "mapping");
        assert_eq!(
            reason_class("item `X-1` does not exist"),
            "missing_reference"
        );
    }
}
