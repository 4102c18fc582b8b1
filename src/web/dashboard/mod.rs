//! The dashboard served by `exflow serve`: every pipeline with its runs and budgets, a run's
//! records (filtered, searched, paged), one record's payloads side by side, the failed
//! records with **Retry** and **Skip**, and the plan of a pipeline. HTML is rendered here,
//! the stylesheet is in the binary; no front-end build.
//! Parts: `html` (escaping, layout, charts), `access` (login, sessions, CSRF), `pages`
//! (what is read), `forms` (what is posted).
//! May use: `state` (through its trait). What acts (a retry, a plan) is asked of
//! [`Actions`], which `serve` implements: `web` never calls `engine` itself.

mod access;
mod connections;
mod forms;
mod html;
mod pages;

pub use access::Access;
pub use connections::{Connection, PendingLogins};

use crate::state::StateStore;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A pipeline as the overview lists it.
#[derive(Debug, Clone)]
pub struct PipelineInfo {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its `schedule:` expression.
    pub schedule: Option<String>,
    /// When the schedule runs it next.
    pub next_run: Option<DateTime<Utc>>,
}

/// What one system's API budget stands at.
#[derive(Debug, Clone)]
pub struct Budget {
    /// The system's name.
    pub system: String,
    /// The division (Exact Online) or database it applies to.
    pub division: String,
    /// Calls allowed a day.
    pub daily_limit: Option<u64>,
    /// Calls left today.
    pub daily_remaining: Option<u64>,
}

/// One line of a plan preview.
#[derive(Debug, Clone)]
pub struct PlanLine {
    /// `create`, `update`, `skip` or `fail`.
    pub action: String,
    /// The entity and match value.
    pub what: String,
    /// The source record's key.
    pub source: Option<String>,
    /// A skip's or failure's reason, or the number of fields of a create.
    pub note: String,
    /// An update's changed fields: field, old, new.
    pub diff: Vec<(String, String, String)>,
}

/// The plan of a pipeline: its steps as text and what a run would do.
#[derive(Debug, Clone)]
pub struct PlanView {
    /// The compiled steps, as `exflow plan` prints them.
    pub steps: String,
    /// The decisions.
    pub lines: Vec<PlanLine>,
    /// The summary line(s).
    pub summary: String,
}

/// What a retry did.
#[derive(Debug, Clone)]
pub struct RetryDone {
    /// The run it made (none: nothing waited).
    pub run: Option<i64>,
    /// Records created, updated, skipped, failed.
    pub counts: [u64; 4],
}

/// What the dashboard asks of the service.
#[async_trait::async_trait]
pub trait Actions: Send + Sync {
    /// The project's pipelines.
    fn pipelines(&self) -> Vec<PipelineInfo>;
    /// The API budgets known from the last calls.
    fn budgets(&self) -> Vec<Budget>;
    /// Runs the failed records `keys` of `pipeline` now.
    async fn retry(&self, pipeline: &str, keys: Vec<String>) -> Result<RetryDone, String>;
    /// What a run of `pipeline` would do now (a dry run).
    async fn plan(&self, pipeline: &str) -> Result<PlanView, String>;
    /// Both systems' connections, as the Connections page shows them.
    fn connections(&self) -> Vec<Connection>;
    /// Exact Online's authorize page for the app, carrying `state` to the redirect.
    fn online_authorize_url(&self, state: &str) -> Result<String, String>;
    /// The path of the redirect URI, where Exact Online sends the browser back.
    fn online_callback_path(&self) -> String;
    /// Exchanges an authorization code, stores the tokens and reconnects; Ok: what it
    /// connected to (the division).
    async fn online_connect(&self, code: &str) -> Result<String, String>;
    /// Asks Exact Globe for one record; Ok: what answered.
    async fn globe_test(&self) -> Result<String, String>;
}

/// What the dashboard's handlers share.
#[derive(Clone)]
pub struct Dashboard {
    /// The state store (read, and the retry list's skip).
    pub store: Arc<dyn StateStore>,
    /// The service.
    pub actions: Arc<dyn Actions>,
    /// Login and CSRF.
    pub access: Arc<Access>,
    /// Exact Online authorizations in progress.
    pub logins: Arc<PendingLogins>,
}

/// Where Exact Online's redirect is answered when the redirect URI's own path cannot be:
/// it is a page of ours, or not a plain path.
pub const FALLBACK_CALLBACK: &str = "/oauth/exact-online/callback";

/// The redirect URI's path as a route of its own, or [`FALLBACK_CALLBACK`].
pub fn callback_route(path: &str) -> String {
    const OURS: [&str; 12] = [
        "/runs",
        "/records",
        "/failed",
        "/plan",
        "/search",
        "/connections",
        "/login",
        "/dashboard.css",
        "/metrics",
        "/healthz",
        "/readyz",
        "/webhooks",
    ];
    let plain = path.len() > 1
        && path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
        && !path.contains("//");
    let taken = OURS
        .iter()
        .any(|o| path == *o || path.starts_with(&format!("{o}/")));
    if plain && !taken {
        path.to_string()
    } else {
        FALLBACK_CALLBACK.to_string()
    }
}

/// The dashboard's routes, to `.merge()` into the base router.
pub fn router(d: Dashboard) -> Router {
    let access = d.access.clone();
    let callback = callback_route(&d.actions.online_callback_path());
    Router::new()
        .route("/", get(pages::overview))
        .route("/search", get(pages::search))
        .route("/runs/{id}", get(pages::run))
        .route("/records/{id}", get(pages::record))
        .route("/failed", get(pages::failed))
        .route("/failed/retry", post(forms::retry))
        .route("/failed/skip", post(forms::skip))
        .route("/plan/{pipeline}", get(pages::plan))
        .route("/connections", get(connections::page))
        .route(
            "/connections/exact-online",
            post(connections::connect_online),
        )
        .route(
            "/connections/exact-globe/test",
            post(connections::test_globe),
        )
        .route("/dashboard.css", get(html::stylesheet))
        .layer(axum::middleware::from_fn_with_state(
            access.clone(),
            access::guard,
        ))
        .route("/login", get(access::login_page).post(access::login))
        // Exact's redirect carries no session cookie; the one-time state guards it.
        .route(&callback, get(connections::callback))
        .with_state(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_never_takes_a_page_of_ours() {
        assert_eq!(callback_route("/callback"), "/callback");
        assert_eq!(callback_route("/exflow/oauth/"), "/exflow/oauth/");
        for taken in [
            "/",
            "",
            "/login",
            "/runs/1",
            "/metrics",
            "/a/{x}",
            "/a//b",
            "/webhooks/exact-online",
        ] {
            assert_eq!(callback_route(taken), FALLBACK_CALLBACK, "{taken}");
        }
    }
}
