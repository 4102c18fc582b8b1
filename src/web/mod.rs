//! The HTTP side of `exflow serve`: `/metrics` (Prometheus text format), `/healthz` (alive)
//! and `/readyz` (config valid, state store reachable, both systems answered their last
//! call). [`router`] builds the base routes; other parts (the webhook intake, a dashboard)
//! `.merge()` their own routers into it.
//! May use: `state` (read only), `connectors` (names). Never `serve` or `engine`.

pub mod dashboard;
pub mod health;
pub mod metrics;

pub use health::Health;
pub use metrics::Metrics;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// What the base routes read.
#[derive(Clone)]
pub struct WebState {
    /// The counters and gauges.
    pub metrics: Arc<Metrics>,
    /// Readiness facts.
    pub health: Arc<Health>,
}

/// The base router: `GET /metrics`, `GET /healthz`, `GET /readyz`. Every route here only
/// reads; nothing here accepts a POST.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(state)
}

async fn metrics_text(State(s): State<WebState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.encode(),
    )
}

async fn ready(State(s): State<WebState>) -> impl IntoResponse {
    let problems = s.health.problems();
    if problems.is_empty() {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", problems.join("; ")),
        )
    }
}
