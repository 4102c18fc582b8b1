//! The worker: one task that runs pipelines one at a time (dependency order within a
//! batch), fires schedules, purges the activity log on its own schedule and reloads the
//! project between runs, so a swap never happens under a running pipeline.

use super::triggers::Trigger;
use super::{open, reload, Loaded, Service};
use crate::cli::load::pick;
use crate::connectors::{ConnectorError, System};
use crate::engine::{run_pipeline, Decision, EngineError, RunOptions, RunReport};
use crate::notify::{Event, FailedRecord};
use crate::pipeline::Pipeline;
use crate::state::StateStore;

use crate::web::metrics::reason_class;
use chrono::Utc;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Longest sleep: a clock jump or a pause is noticed within this.
const MAX_SLEEP: Duration = Duration::from_secs(5);

/// Runs until the stop flag is set.
pub async fn run(s: &Arc<Service>) {
    let reload_every = Duration::from_secs(s.current().project.config.serve.reload_seconds.max(1));
    let mut fingerprint = reload::fingerprint(&s.root);
    let mut next_reload = tokio::time::Instant::now() + reload_every;
    while !s.stop.load(Ordering::SeqCst) {
        let now = Utc::now();
        for name in s.book.lock().due(now) {
            s.triggers.request(&name, now, Trigger::Schedule);
        }
        purge_if_due(s, now);
        if tokio::time::Instant::now() >= next_reload {
            next_reload = tokio::time::Instant::now() + reload_every;
            let f = reload::fingerprint(&s.root);
            if f != fingerprint {
                fingerprint = f;
                try_reload(s).await;
            }
        }
        let ready = s.triggers.take_ready(Utc::now());
        if ready.is_empty() {
            let mut wait = MAX_SLEEP;
            let now = Utc::now();
            for at in [s.triggers.earliest(), s.book.lock().earliest()]
                .into_iter()
                .flatten()
            {
                wait = wait.min((at - now).to_std().unwrap_or(Duration::ZERO));
            }
            wait = wait.min(next_reload.saturating_duration_since(tokio::time::Instant::now()));
            tokio::select! {
                _ = s.triggers.woken() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        }
        let loaded = s.current();
        let wanted: BTreeMap<String, Trigger> = ready.into_iter().collect();
        let order = pick(&loaded.project, &[]).unwrap_or_default();
        for p in order {
            if s.stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(t) = wanted.get(&p.name) {
                run_one(s, &loaded, p, *t).await;
            }
        }
    }
}

fn purge_if_due(s: &Service, now: chrono::DateTime<Utc>) {
    let mut purge = s.purge.lock();
    let Some((schedule, next)) = purge.as_mut() else {
        return;
    };
    if *next > now {
        return;
    }
    *next = schedule
        .next_after(now)
        .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC);
    let days = s.current().project.config.retention_days;
    if days > 0 {
        match s.store.purge_activity(days) {
            Ok(n) => tracing::info!(purged = n, days, "activity log purged"),
            Err(e) => tracing::error!("activity log purge failed: {e}"),
        }
    }
}

async fn try_reload(s: &Arc<Service>) {
    match reload::load(&s.root) {
        Ok(project) => match open(project).await {
            Ok(loaded) => {
                s.install(loaded);
                s.metrics.reload_failed(false);
                tracing::info!("configuration reloaded");
            }
            Err(e) => reload_failed(s, &e.to_string()),
        },
        Err(diagnostics) => reload_failed(s, &diagnostics),
    }
}

fn reload_failed(s: &Service, diagnostics: &str) {
    tracing::error!("the edited configuration does not validate; the previous one keeps running:\n{diagnostics}");
    s.metrics.reload_failed(true);
    s.notifier().notify(Event::ConfigInvalid {
        diagnostics: diagnostics.to_string(),
    });
}

/// The business key field of failures of `entity` in `p`.
fn key_field(p: &Pipeline, entity: &str) -> String {
    p.match_field(entity).unwrap_or("key").to_string()
}

fn key_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn failed_records(p: &Pipeline, report: &RunReport, max: usize) -> Vec<FailedRecord> {
    report
        .failures
        .iter()
        .take(max)
        .map(|f| {
            let reason = match &f.decision {
                Decision::Fail { reason } => reason.clone(),
                _ => String::new(),
            };
            match key_text(&f.match_value) {
                Some(key) => FailedRecord {
                    entity: f.entity.clone(),
                    key_field: key_field(p, &f.entity),
                    key,
                    reason,
                },
                // Failed before its business key was known: the source key is all there is.
                None => FailedRecord {
                    entity: f.entity.clone(),
                    key_field: "source key".into(),
                    key: f.source_key.clone().unwrap_or_else(|| "-".into()),
                    reason,
                },
            }
        })
        .collect()
}

async fn run_one(s: &Arc<Service>, l: &Loaded, p: &Pipeline, trigger: Trigger) {
    if l.waits_for_online(p) {
        let problem = l.online_problem.as_deref().unwrap_or_default();
        tracing::warn!(pipeline = %p.name, "not run: Exact Online is not connected ({problem}); connect it on the dashboard or with `exflow auth exact-online`");
        if once(s, format!("offline:{}", Utc::now().date_naive())) {
            s.notifier().notify(Event::LoginLost {
                error: problem.to_string(),
                command: format!(
                    "exflow auth exact-online --project {}",
                    l.project.root.display()
                ),
            });
        }
        return;
    }
    let started = std::time::Instant::now();
    let options = RunOptions {
        stop: Some(s.stop.clone()),
        ..RunOptions::default()
    };
    s.metrics.running(1);
    tracing::info!(pipeline = %p.name, trigger = trigger.as_str(), "run started");
    let result = run_pipeline(&l.project, p, &l.conns, s.store.as_ref(), options).await;
    s.metrics.running(-1);
    let seconds = started.elapsed().as_secs_f64();
    let notifier = s.notifier();
    let notify_cfg = &l.project.config.notify;
    match result {
        Ok(report) => {
            for (entity, c) in &report.entities {
                for (outcome, n) in [
                    ("create", c.created),
                    ("update", c.updated),
                    ("skip", c.skipped),
                    ("fail", c.failed),
                ] {
                    if n > 0 {
                        s.metrics.records(&p.name, entity, outcome, n);
                    }
                }
            }
            for (system, n) in &report.api_calls {
                s.metrics.api_calls(*system, *n);
            }
            let failed = report.total_failed();
            let status = if failed == 0 { "succeeded" } else { "failed" };
            s.metrics.run(&p.name, status, trigger.as_str(), seconds);
            for system in [p.source.system, p.target.system] {
                s.health.set_system(system, None);
            }
            tracing::info!(pipeline = %p.name, read = report.records_read, failed, seconds, "run finished");
            if failed > 0 {
                let mut classes: BTreeMap<&str, u64> = BTreeMap::new();
                for f in &report.failures {
                    if let Decision::Fail { reason } = &f.decision {
                        *classes.entry(reason_class(reason)).or_default() += 1;
                    }
                }
                // Failures beyond those the report keeps are counted as `other`.
                let listed: u64 = classes.values().sum();
                if failed > listed {
                    *classes.entry("other").or_default() += failed - listed;
                }
                for (class, n) in classes {
                    s.metrics.failures(&p.name, class, n);
                }
                notifier.notify(Event::RecordsFailed {
                    pipeline: p.name.clone(),
                    count: failed,
                    first: failed_records(p, &report, notify_cfg.max_listed),
                });
                repeated(s, p, &report, notify_cfg.repeated_failures);
            }
        }
        Err(e) => {
            let text = e.to_string();
            s.metrics.run(&p.name, "aborted", trigger.as_str(), seconds);
            s.metrics.failures(&p.name, reason_class(&text), 1);
            tracing::error!(pipeline = %p.name, "run stopped: {text}");
            if let EngineError::Connector(ce) = &e {
                if let Some(system) = system_of(ce) {
                    s.health.set_system(system, Some(text.clone()));
                }
            }
            if login_lost(&e) {
                notifier.notify(Event::LoginLost {
                    error: text,
                    command: format!(
                        "exflow auth exact-online --project {}",
                        l.project.root.display()
                    ),
                });
            } else {
                notifier.notify(Event::RunFailed {
                    pipeline: p.name.clone(),
                    error: text,
                });
            }
        }
    }
    budget(s, l);
    token_idle(s, l);
}

fn system_of(e: &ConnectorError) -> Option<System> {
    match e {
        ConnectorError::Unavailable { system, .. }
        | ConnectorError::Auth { system, .. }
        | ConnectorError::Protocol { system, .. } => Some(*system),
        _ => None,
    }
}

/// "Old refresh token used", an expired refresh token, or no token at all: only a person
/// can log in again.
fn login_lost(e: &EngineError) -> bool {
    match e {
        EngineError::Connector(ConnectorError::Auth { system, reason }) => {
            let r = reason.to_string().to_ascii_lowercase();
            *system == System::ExactOnline
                && (r.contains("old refresh token")
                    || r.contains("refresh token expired")
                    || r.contains("no exact online token")
                    || r.contains("invalid_grant")
                    || r.contains("exflow auth"))
        }
        _ => false,
    }
}

/// Records that failed `n` runs in a row (the retry list counts them), told once.
fn repeated(s: &Service, p: &Pipeline, report: &RunReport, n: u32) {
    if n == 0 {
        return;
    }
    let Ok(list) = s.store.retry_list(&p.name) else {
        return;
    };
    // `attempts` counts the runs the record failed in; exactly `n` tells once.
    for r in list.into_iter().filter(|r| r.attempts == n) {
        let known = report
            .failures
            .iter()
            .find(|f| f.source_key.as_deref() == Some(r.source_key.as_str()));
        let record = match known.and_then(|f| key_text(&f.match_value).map(|k| (f, k))) {
            Some((f, key)) => FailedRecord {
                entity: f.entity.clone(),
                key_field: key_field(p, &f.entity),
                key,
                reason: r.reason.clone(),
            },
            None => FailedRecord {
                entity: p.target.entity.clone(),
                key_field: "source key".into(),
                key: r.source_key.clone(),
                reason: r.reason.clone(),
            },
        };
        s.notifier().notify(Event::RepeatedFailure {
            pipeline: p.name.clone(),
            record,
            runs: n,
        });
    }
}

fn once(s: &Service, key: String) -> bool {
    s.warned.lock().insert(key)
}

fn budget(s: &Service, l: &Loaded) {
    let Some(online) = &l.online else { return };
    let limits = online.limiter().limits();
    let division = online.division();
    if let Some(r) = limits.daily_remaining {
        s.metrics.budget(System::ExactOnline, division, "daily", r);
    }
    if let Some(r) = limits.minutely_remaining {
        s.metrics
            .budget(System::ExactOnline, division, "minutely", r);
    }
    let percent = u64::from(l.project.config.notify.budget_warning_percent);
    if let (Some(left), Some(limit)) = (limits.daily_remaining, limits.daily_limit) {
        if limit > 0 && left * 100 < limit * percent {
            let day = limits.daily_reset_ms.unwrap_or_default();
            if once(s, format!("budget:{division}:{day}")) {
                s.notifier().notify(Event::BudgetLow {
                    system: System::ExactOnline.to_string(),
                    division,
                    remaining: left,
                    limit,
                });
            }
        }
    }
}

fn token_idle(s: &Service, l: &Loaded) {
    let Some(c) = &l.project.config.exact_online else {
        return;
    };
    let warn_days = i64::from(l.project.config.notify.token_idle_warning_days);
    let Ok(tokens) = crate::state::tokens::TokenStore::open(&l.project.state_path()) else {
        return;
    };
    let Ok(Some(t)) = tokens.load(&format!("exact_online:{}", c.client_id)) else {
        return;
    };
    let idle_days = (Utc::now().timestamp() - t.refreshed_at) / 86_400;
    if warn_days > 0
        && idle_days >= warn_days
        && once(s, format!("token:{}", Utc::now().date_naive()))
    {
        s.notifier().notify(Event::TokenIdle {
            idle_days,
            command: format!(
                "exflow auth exact-online --project {}",
                l.project.root.display()
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::exact_online::AuthError;

    #[test]
    fn a_rotated_refresh_token_is_a_lost_login_and_a_refusal_is_not() {
        let auth = EngineError::Connector(ConnectorError::Auth {
            system: System::ExactOnline,
            reason: Box::new(AuthError::OldRefreshToken),
        });
        assert!(login_lost(&auth));
        let refused = EngineError::Connector(ConnectorError::Refused {
            system: System::ExactOnline,
            status: 400,
            message: "bad".into(),
        });
        assert!(!login_lost(&refused));
    }
}
