//! What the dashboard asks of the service: the pipelines with their next runs, the API
//! budgets, a retry of failed records and a plan (a dry run), each on the project loaded now.

use super::Service;
use crate::engine::retry::retry_failed;
use crate::engine::{run_pipeline, Decision, Plan, RunOptions};
use crate::web::dashboard::{Actions, Budget, PipelineInfo, PlanLine, PlanView, RetryDone};
use std::sync::Arc;

/// The service as the dashboard sees it.
pub struct ServiceActions(pub Arc<Service>);

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("{:?}", s.trim()),
        other => other.to_string(),
    }
}

#[async_trait::async_trait]
impl Actions for ServiceActions {
    fn pipelines(&self) -> Vec<PipelineInfo> {
        let loaded = self.0.current();
        let book = self.0.book.lock();
        loaded
            .project
            .pipelines
            .iter()
            .map(|p| PipelineInfo {
                name: p.name.clone(),
                description: Some(p.description.clone()).filter(|d| !d.is_empty()),
                schedule: p.schedule.clone(),
                next_run: book.next_of(&p.name),
            })
            .collect()
    }

    fn budgets(&self) -> Vec<Budget> {
        let loaded = self.0.current();
        let Some(online) = &loaded.online else {
            return Vec::new();
        };
        let l = online.limiter().limits();
        vec![Budget {
            system: "Exact Online".into(),
            division: online.division().to_string(),
            daily_limit: l.daily_limit,
            daily_remaining: l.daily_remaining,
        }]
    }

    async fn retry(&self, pipeline: &str, keys: Vec<String>) -> Result<RetryDone, String> {
        let loaded = self.0.current();
        let p = loaded
            .project
            .pipelines
            .iter()
            .find(|p| p.name == pipeline)
            .ok_or_else(|| format!("no pipeline `{pipeline}`"))?;
        let report = retry_failed(&loaded.project, p, &loaded.conns, &*self.0.store, &keys)
            .await
            .map_err(|e| e.to_string())?;
        Ok(match report {
            None => RetryDone {
                run: None,
                counts: [0; 4],
            },
            Some(r) => {
                let c = r.main_counts();
                RetryDone {
                    run: r.run_id,
                    counts: [c.created, c.updated, c.skipped, c.failed],
                }
            }
        })
    }

    async fn plan(&self, pipeline: &str) -> Result<PlanView, String> {
        let loaded = self.0.current();
        let project = &loaded.project;
        let p = project
            .pipelines
            .iter()
            .find(|p| p.name == pipeline)
            .ok_or_else(|| format!("no pipeline `{pipeline}`"))?;
        let options = RunOptions {
            dry_run: true,
            ..RunOptions::default()
        };
        let mut report = run_pipeline(project, p, &loaded.conns, &*self.0.store, options)
            .await
            .map_err(|e| e.to_string())?;
        if project.config.redact_payloads {
            report.decisions = crate::cli::plan::redacted(p, &report.decisions);
        }
        let lines = report
            .decisions
            .iter()
            .map(|r| {
                let (action, note, diff) = match &r.decision {
                    Decision::Create { payload } => {
                        ("create", format!("{} fields", payload.len()), Vec::new())
                    }
                    Decision::Update { diff, .. } => (
                        "update",
                        String::new(),
                        diff.iter()
                            .map(|c| (c.field.clone(), show(&c.old), show(&c.new)))
                            .collect(),
                    ),
                    Decision::Skip { reason } => ("skip", reason.clone(), Vec::new()),
                    Decision::Fail { reason } => ("fail", reason.clone(), Vec::new()),
                };
                PlanLine {
                    action: action.into(),
                    what: format!("{} {}", r.entity, show(&r.match_value)),
                    source: r.source_key.clone(),
                    note,
                    diff,
                }
            })
            .collect();
        Ok(PlanView {
            steps: Plan::compile(p).to_string(),
            lines,
            summary: report.to_string(),
        })
    }
}
