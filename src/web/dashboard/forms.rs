//! The forms that act: **Retry** runs a failed record through its pipeline now (the
//! service does it, as `exflow failed retry`), **Skip** drops it from the retry list with a
//! note. Each carries the CSRF token; a POST without the right one gets 403.

use super::html::{esc, url};
use super::Dashboard;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

/// The Retry and Skip forms of one failed record.
pub fn buttons(d: &Dashboard, pipeline: &str, source_key: &str) -> String {
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"pipeline\" value=\"{}\">\
         <input type=\"hidden\" name=\"key\" value=\"{}\">",
        d.access.csrf(),
        esc(pipeline),
        esc(source_key)
    );
    format!(
        "<form class=\"retry\" method=\"post\" action=\"/failed/retry\">{hidden}\
         <button class=\"retry-button\">Retry</button></form>\
         <form class=\"skip\" method=\"post\" action=\"/failed/skip\">{hidden}\
         <input name=\"note\" placeholder=\"why skip\" required> <button class=\"skip-button\">Skip</button></form>"
    )
}

/// A posted Retry or Skip.
#[derive(Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pipeline: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    note: String,
}

fn refused() -> Response {
    (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response()
}

fn back(msg: &str) -> Response {
    Redirect::to(&format!("/failed?msg={}", url(msg))).into_response()
}

/// `POST /failed/retry`.
pub async fn retry(State(d): State<Dashboard>, Form(f): Form<RecordForm>) -> Response {
    if !d.access.csrf_ok(&f.csrf) {
        return refused();
    }
    match d.actions.retry(&f.pipeline, vec![f.key.clone()]).await {
        Ok(done) => {
            let [c, u, s, x] = done.counts;
            let run = done.run.map(|r| format!(" (run {r})")).unwrap_or_default();
            back(&format!(
                "Retried {} in {}{run}: {c} created, {u} updated, {s} skipped, {x} failed.",
                f.key, f.pipeline
            ))
        }
        Err(e) => back(&format!("Retry of {} in {} failed: {e}", f.key, f.pipeline)),
    }
}

/// `POST /failed/skip`.
pub async fn skip(State(d): State<Dashboard>, Form(f): Form<RecordForm>) -> Response {
    if !d.access.csrf_ok(&f.csrf) {
        return refused();
    }
    let note = match f.note.trim() {
        "" => "skipped from the dashboard",
        n => n,
    };
    match d.store.retry_skip(&f.pipeline, &f.key, note) {
        Ok(Some(_)) => back(&format!("Skipped {} in {}: {note}", f.key, f.pipeline)),
        Ok(None) => back(&format!("{} no longer waits in {}", f.key, f.pipeline)),
        Err(e) => back(&format!("Skip failed: {e}")),
    }
}
