//! What the dashboard asks of the service: the pipelines with their next runs, the API
//! budgets, a retry of failed records and a plan (a dry run), each on the project loaded now.

use super::Service;
use crate::cli::auth::{authorize_url, run_auth, AuthMode};
use crate::cli::connect::{globe_client, online_config};
use crate::connectors::exact_online::OnlineConfig;
use crate::engine::retry::retry_failed;
use crate::engine::{run_pipeline, Decision, Plan, RunOptions};
use crate::state::tokens::TokenStore;
use crate::web::dashboard::{
    callback_route, Actions, Budget, Connection, PipelineInfo, PlanLine, PlanView, RetryDone,
};
use std::net::SocketAddr;
use std::sync::Arc;

/// The service as the dashboard sees it.
pub struct ServiceActions {
    /// The service.
    pub service: Arc<Service>,
    /// Where it listens: a redirect URI on port 0 means this port.
    pub local: SocketAddr,
}

impl ServiceActions {
    /// The project's Exact Online settings, with the redirect URI's port 0 made ours.
    fn online_config(&self) -> Result<OnlineConfig, String> {
        let loaded = self.service.current();
        let mut config = online_config(&loaded.project)
            .ok_or("exflow.yaml has no `connections.exact_online`")?;
        if let Ok(mut u) = url::Url::parse(&config.redirect_uri) {
            if u.port() == Some(0) {
                let _ = u.set_port(Some(self.local.port()));
                config.redirect_uri = u.to_string();
            }
        }
        Ok(config)
    }

    fn online_connection(&self) -> Connection {
        let loaded = self.service.current();
        let Ok(config) = self.online_config() else {
            return Connection {
                system: "Exact Online".into(),
                configured: false,
                ok: false,
                status: "exflow.yaml has no `connections.exact_online`.".into(),
                details: Vec::new(),
                hint: None,
            };
        };
        let mut details = vec![
            ("Base URL".to_string(), config.base().to_string()),
            ("Client id".to_string(), config.client_id.clone()),
            ("Redirect URI".to_string(), config.redirect_uri.clone()),
        ];
        let stored = TokenStore::open(&loaded.project.state_path())
            .ok()
            .and_then(|t| t.load(&config.token_key).ok().flatten());
        let now = chrono::Utc::now().timestamp();
        let token = match &stored {
            None => "none stored".to_string(),
            Some(t) if t.refreshed_at > 0 => {
                format!("refreshed {} ago", ago(now - t.refreshed_at))
            }
            Some(_) => "imported, not refreshed yet".to_string(),
        };
        details.push(("Token".to_string(), token));
        let (ok, status) = match (&loaded.online, &loaded.online_problem) {
            (Some(c), _) => {
                details.push(("Division".to_string(), c.division().to_string()));
                (true, format!("Connected to division {}.", c.division()))
            }
            (None, Some(p)) => (false, p.clone()),
            (None, None) => (
                stored.is_some(),
                "No pipeline uses Exact Online.".to_string(),
            ),
        };
        Connection {
            system: "Exact Online".into(),
            configured: true,
            ok,
            status,
            details,
            hint: self.redirect_hint(&config.redirect_uri),
        }
    }

    /// Whether Exact's redirect can reach this service, said when it cannot.
    fn redirect_hint(&self, redirect_uri: &str) -> Option<String> {
        let u = url::Url::parse(redirect_uri).ok()?;
        let fix = format!(
            "set `connections.exact_online.redirect_uri` to http://127.0.0.1:{}/callback (and register it in the Exact App Center), or run `exflow auth exact-online`",
            self.local.port()
        );
        if callback_route(u.path()) != u.path() {
            return Some(format!(
                "The redirect URI's path {} is one of the dashboard's own pages: {fix}.",
                u.path()
            ));
        }
        let local_host = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if local_host && u.port_or_known_default() != Some(self.local.port()) {
            return Some(format!(
                "Exact Online sends the browser back to {redirect_uri}, where this service does not listen: {fix}."
            ));
        }
        None
    }

    fn globe_connection(&self) -> Connection {
        let loaded = self.service.current();
        let Some(c) = &loaded.project.config.exact_globe else {
            return Connection {
                system: "Exact Globe".into(),
                configured: false,
                ok: false,
                status: "exflow.yaml has no `connections.exact_globe`.".into(),
                details: Vec::new(),
                hint: None,
            };
        };
        let health = self.service.health.problems();
        let problem = health.iter().find(|p| p.contains("exact_globe"));
        Connection {
            system: "Exact Globe".into(),
            configured: true,
            ok: problem.is_none(),
            status: match problem {
                Some(p) => p.clone(),
                None => "No failure in the last calls; Test asks it for one record.".into(),
            },
            details: vec![
                ("Base URL".to_string(), c.base_url.clone()),
                ("Server".to_string(), c.server_name.clone()),
                ("Administration".to_string(), c.database_name.clone()),
                ("User".to_string(), c.user.clone()),
            ],
            hint: None,
        }
    }
}

/// `seconds` as a person says it.
fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        1 => "1 second".into(),
        s if s < 120 => format!("{s} seconds"),
        s if s < 7_200 => format!("{} minutes", s / 60),
        s if s < 172_800 => format!("{} hours", s / 3_600),
        s => format!("{} days", s / 86_400),
    }
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("{:?}", s.trim()),
        other => other.to_string(),
    }
}

#[async_trait::async_trait]
impl Actions for ServiceActions {
    fn pipelines(&self) -> Vec<PipelineInfo> {
        let loaded = self.service.current();
        let book = self.service.book.lock();
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
        let loaded = self.service.current();
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
        let loaded = self.service.current();
        let p = loaded
            .project
            .pipelines
            .iter()
            .find(|p| p.name == pipeline)
            .ok_or_else(|| format!("no pipeline `{pipeline}`"))?;
        let report = retry_failed(
            &loaded.project,
            p,
            &loaded.conns,
            &*self.service.store,
            &keys,
        )
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
        let loaded = self.service.current();
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
        let mut report = run_pipeline(project, p, &loaded.conns, &*self.service.store, options)
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

    fn connections(&self) -> Vec<Connection> {
        vec![self.online_connection(), self.globe_connection()]
    }

    fn online_authorize_url(&self, state: &str) -> Result<String, String> {
        Ok(authorize_url(&self.online_config()?, state))
    }

    fn online_callback_path(&self) -> String {
        self.online_config()
            .ok()
            .and_then(|c| url::Url::parse(&c.redirect_uri).ok())
            .map(|u| u.path().to_string())
            .unwrap_or_else(|| "/callback".into())
    }

    async fn online_connect(&self, code: &str) -> Result<String, String> {
        let config = self.online_config()?;
        let state = self.service.current().project.state_path();
        let out = run_auth(config, &state, AuthMode::Code(code.to_string()), &|_| {})
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            division = out.division,
            "Exact Online connected from the dashboard"
        );
        self.service
            .reopen()
            .await
            .map_err(|e| format!("the tokens are stored, but: {e}"))?;
        Ok(format!("division {}", out.division))
    }

    async fn globe_test(&self) -> Result<String, String> {
        let loaded = self.service.current();
        let c = loaded
            .project
            .config
            .exact_globe
            .as_ref()
            .ok_or("exflow.yaml has no `connections.exact_globe`")?;
        let client = globe_client(&loaded.project).map_err(|e| e.to_string())?;
        let result = client.query("Account", None, &[], None, Some(1)).await;
        let system = crate::connectors::System::ExactGlobe;
        match result {
            Ok(_) => {
                self.service.health.set_system(system, None);
                Ok(format!(
                    "administration {} on {} at {}",
                    c.database_name, c.server_name, c.base_url
                ))
            }
            Err(e) => {
                let text = format!("{e} ({})", c.base_url);
                self.service.health.set_system(system, Some(text.clone()));
                Err(text)
            }
        }
    }
}
