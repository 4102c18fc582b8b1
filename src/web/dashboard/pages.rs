//! The pages that only read: the overview, a search, a run, a record, the failed records
//! and the plan preview. Activity is read a page at a time (keyset on the line id).

use super::html::{changes_table, chart, daily_calls_chart, esc, json_block, page, url, Bar};
use super::Dashboard;
use crate::state::{ActivityQuery, ActivityRow, Outcome, RunRecord};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::fmt::Write;

/// Lines on one page of activity.
const PAGE: usize = 50;
/// Runs in a pipeline's chart.
const CHART_RUNS: usize = 30;
/// Days of API calls in the overview's budget chart.
const BUDGET_DAYS: u32 = 14;

pub(super) fn problem(status: StatusCode, text: &str) -> Response {
    (
        status,
        page(
            "Problem",
            false,
            &format!("<p class=\"reason\">{}</p>", esc(text)),
        ),
    )
        .into_response()
}

pub(super) fn shown(d: &Dashboard, title: &str, body: &str) -> Html<String> {
    page(title, d.access.login_required(), body)
}

fn number(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn counts(r: &RunRecord) -> String {
    let c = &r.counts;
    format!(
        "<span class=\"created\">{} created</span>, <span class=\"updated\">{} updated</span>, \
         {} skipped, <span class=\"failed\">{} failed</span>",
        number(&c["created"]),
        number(&c["updated"]),
        number(&c["skipped"]),
        number(&c["failed"])
    )
}

fn calls(r: &RunRecord) -> u64 {
    number(&r.counts["api_calls"]["exact_online"]) + number(&r.counts["api_calls"]["exact_globe"])
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `GET /`: every pipeline, its last run, next run, chart; the API budgets.
pub async fn overview(State(d): State<Dashboard>) -> Response {
    let mut body = String::from("<div class=\"cards\">");
    for p in d.actions.pipelines() {
        let runs = d.store.runs(Some(&p.name), CHART_RUNS).unwrap_or_default();
        let last = match runs.first() {
            Some(r) => format!(
                "<a href=\"/runs/{id}\">run {id}</a> at {} ({}): {}, {} calls",
                time(r.started),
                r.status.as_str(),
                counts(r),
                calls(r),
                id = r.id
            ),
            None => "never".into(),
        };
        let next = match (&p.schedule, p.next_run) {
            (Some(s), Some(t)) => format!("{} (<code>{}</code>)", time(t), esc(s)),
            (Some(s), None) => format!("<code>{}</code>", esc(s)),
            _ => "no schedule".into(),
        };
        let bars: Vec<Bar> = runs
            .iter()
            .rev()
            .map(|r| Bar {
                run: r.id,
                records: ["created", "updated", "skipped", "failed"]
                    .iter()
                    .map(|k| number(&r.counts[k]))
                    .sum(),
                calls: calls(r),
            })
            .collect();
        let _ = write!(
            body,
            "<section class=\"card\" id=\"pipeline-{n}\"><h2>{name}</h2><p>{desc}</p>\
             <p>Last run: {last}</p><p>Next run: {next}</p>{chart}\
             <p><a href=\"/plan/{u}\">Plan preview</a></p></section>",
            n = esc(&p.name),
            name = esc(&p.name),
            desc = esc(p.description.as_deref().unwrap_or("")),
            chart = chart(&bars),
            u = url(&p.name),
        );
    }
    body.push_str("</div><section id=\"budget\"><h2>API budget</h2>");
    let budgets = d.actions.budgets();
    let days = d.store.usage_per_day(BUDGET_DAYS).unwrap_or_default();
    // Until this process has an answer of Exact Online's, what the runs logged today says
    // how much of the day is spent (every process on this state logs its runs here).
    let logged_today = days.last().map_or(0, |t| t.exact_online_calls);
    if budgets.is_empty() {
        body.push_str("<p>No calls made yet.</p>");
    } else {
        body.push_str("<table><tr><th>System</th><th>Division</th><th>Used today</th><th>Left today</th><th>Daily limit</th></tr>");
        for b in &budgets {
            let used = match (b.daily_limit, b.daily_remaining) {
                (Some(l), Some(r)) => l.saturating_sub(r).to_string(),
                _ => format!("{logged_today} (by the runs logged today)"),
            };
            let show = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{used}</td><td>{}</td><td>{}</td></tr>",
                esc(&b.system),
                esc(&b.division),
                show(b.daily_remaining),
                show(b.daily_limit)
            );
        }
        body.push_str("</table>");
    }
    let online_limit = budgets
        .iter()
        .filter(|b| b.system == "Exact Online")
        .find_map(|b| b.daily_limit);
    let _ = write!(
        body,
        "<h3>The last {BUDGET_DAYS} days</h3>{}</section>",
        daily_calls_chart(&days, online_limit)
    );
    shown(&d, "Overview", &body).into_response()
}

fn rows_table(rows: &[ActivityRow]) -> String {
    let mut s = String::from(
        "<table id=\"records\"><tr><th>Line</th><th>Run</th><th>Pipeline</th><th>Entity</th>\
         <th>Business key</th><th>Outcome</th><th>Reason</th><th>At</th></tr>",
    );
    for r in rows {
        let a = &r.activity;
        let key = a
            .business_key
            .as_deref()
            .or(a.source_key.as_deref())
            .unwrap_or("-");
        let _ = write!(
            s,
            "<tr><td>{id}</td><td><a href=\"/runs/{run}\">{run}</a></td><td>{p}</td><td>{e}</td>\
             <td><a class=\"record\" href=\"/records/{id}\">{k}</a></td><td class=\"{o}\">{o}</td>\
             <td>{why}</td><td>{at}</td></tr>",
            id = r.id,
            run = a.run,
            p = esc(&a.pipeline),
            e = esc(&a.entity),
            k = esc(key),
            o = a.outcome.as_str(),
            why = esc(a.error.as_deref().unwrap_or("")),
            at = time(a.at),
        );
    }
    s.push_str("</table>");
    if rows.is_empty() {
        s.push_str("<p>No records.</p>");
    }
    s
}

/// The query of a search or a run page.
#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    before: Option<i64>,
}

impl Filter {
    fn query(&self, run: Option<i64>) -> ActivityQuery {
        ActivityQuery {
            run,
            record: self.q.clone().filter(|q| !q.trim().is_empty()),
            outcome: self.outcome.as_deref().and_then(Outcome::from_name),
            before: self.before,
            limit: PAGE,
            ..ActivityQuery::default()
        }
    }

    fn older(&self, path: &str, rows: &[ActivityRow]) -> String {
        match rows.last() {
            Some(last) if rows.len() == PAGE => format!(
                "<p><a id=\"older\" href=\"{path}?q={}&amp;outcome={}&amp;before={}\">Older records</a></p>",
                url(self.q.as_deref().unwrap_or("")),
                url(self.outcome.as_deref().unwrap_or("")),
                last.id
            ),
            _ => String::new(),
        }
    }
}

/// `GET /search?q=KEY`: every line about a business key, newest first.
pub async fn search(State(d): State<Dashboard>, Query(f): Query<Filter>) -> Response {
    if f.q.as_deref().is_none_or(|q| q.trim().is_empty()) {
        return shown(
            &d,
            "Search",
            "<p>Type an order number, item code or e-mail.</p>",
        )
        .into_response();
    }
    let rows = match d.store.activity_page(&f.query(None)) {
        Ok(r) => r,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let title = format!("Records for {}", f.q.as_deref().unwrap_or(""));
    let body = format!("{}{}", rows_table(&rows), f.older("/search", &rows));
    shown(&d, &title, &body).into_response()
}

/// `GET /runs/{id}?outcome=..&q=..&before=..`: a run's records, filtered and paged.
pub async fn run(
    State(d): State<Dashboard>,
    Path(id): Path<i64>,
    Query(f): Query<Filter>,
) -> Response {
    let rows = match d.store.activity_page(&f.query(Some(id))) {
        Ok(r) => r,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let selected = |o: &str| match f.outcome.as_deref() == Some(o) {
        true => " selected",
        false => "",
    };
    let mut options = String::from("<option value=\"\">any outcome</option>");
    for o in ["created", "updated", "skipped", "failed"] {
        let _ = write!(options, "<option value=\"{o}\"{}>{o}</option>", selected(o));
    }
    let body = format!(
        "<form method=\"get\" action=\"/runs/{id}\"><select id=\"outcome\" name=\"outcome\">{options}</select> \
         <input id=\"q\" name=\"q\" value=\"{q}\" placeholder=\"business key\"> <button id=\"filter\">Filter</button></form>\
         {table}{older}",
        q = esc(f.q.as_deref().unwrap_or("")),
        table = rows_table(&rows),
        older = f.older(&format!("/runs/{id}"), &rows),
    );
    shown(&d, &format!("Run {id}"), &body).into_response()
}

/// `GET /records/{id}`: one line of the log with its payloads side by side.
pub async fn record(State(d): State<Dashboard>, Path(id): Path<i64>) -> Response {
    let q = ActivityQuery {
        before: id.checked_add(1),
        limit: 1,
        payloads: true,
        ..ActivityQuery::default()
    };
    let row = match d.store.activity_page(&q) {
        Ok(rows) => rows.into_iter().find(|r| r.id == id),
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let Some(row) = row else {
        return problem(StatusCode::NOT_FOUND, &format!("no record line {id}"));
    };
    let a = &row.activity;
    let key = a
        .business_key
        .as_deref()
        .or(a.source_key.as_deref())
        .unwrap_or("-");
    let mut body = format!(
        "<p>Pipeline <strong>{p}</strong>, {e} <strong id=\"key\">{k}</strong> ({kf}), source key {sk}, \
         run <a href=\"/runs/{run}\">{run}</a>, {at}: <span id=\"outcome\" class=\"{o}\">{o}</span></p>",
        p = esc(&a.pipeline),
        e = esc(&a.entity),
        k = esc(key),
        kf = esc(a.key_field.as_deref().unwrap_or("key")),
        sk = esc(a.source_key.as_deref().unwrap_or("-")),
        run = a.run,
        at = time(a.at),
        o = a.outcome.as_str(),
    );
    if let Some(reason) = &a.error {
        let _ = write!(
            body,
            "<p class=\"reason\" id=\"reason\">{}</p>",
            esc(reason)
        );
    }
    let waiting = a.source_key.as_deref().is_some_and(|k| {
        d.store
            .failed_records(Some(&a.pipeline), Some(k), false)
            .is_ok_and(|f| !f.is_empty())
    });
    if waiting {
        body.push_str(&super::forms::buttons(
            &d,
            &a.pipeline,
            a.source_key.as_deref().unwrap_or_default(),
        ));
    }
    body.push_str(&changes_table(a.changes.as_ref()));
    let _ = write!(
        body,
        "<div class=\"side\"><div><h2>From the source</h2>{}</div><div><h2>Sent</h2>{}</div>\
         <div><h2>Target answer</h2>{}</div></div>",
        json_block("source", a.source_payload.as_ref()),
        json_block("sent", a.sent_payload.as_ref()),
        json_block("answer", a.target_response.as_ref()),
    );
    shown(&d, &format!("{} {key}", a.entity), &body).into_response()
}

/// The message a form sends back with its redirect.
#[derive(Deserialize, Default)]
pub struct Message {
    #[serde(default)]
    msg: Option<String>,
}

/// `GET /failed`: the retry list with Retry and Skip.
pub async fn failed(State(d): State<Dashboard>, Query(m): Query<Message>) -> Response {
    let records = match d.store.failed_records(None, None, false) {
        Ok(r) => r,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let mut body = String::new();
    if let Some(msg) = m.msg.filter(|m| !m.is_empty()) {
        let _ = write!(body, "<p class=\"msg\" id=\"message\">{}</p>", esc(&msg));
    }
    body.push_str(
        "<table id=\"failed\"><tr><th>Pipeline</th><th>Business key</th><th>Reason</th>\
         <th>Attempts</th><th>First failed</th><th>Last failed</th><th></th></tr>",
    );
    for f in &records {
        let e = &f.entry;
        let key = e.business_key.as_deref().unwrap_or(&e.source_key);
        let _ = write!(
            body,
            "<tr><td>{p}</td><td><a href=\"/search?q={u}\">{k}</a></td><td>{r}</td><td>{n}</td>\
             <td>{a}</td><td>{b}</td><td>{buttons}</td></tr>",
            p = esc(&f.pipeline),
            u = url(key),
            k = esc(key),
            r = esc(&e.reason),
            n = e.attempts,
            a = time(e.first_failed),
            b = time(e.last_failed),
            buttons = super::forms::buttons(&d, &f.pipeline, &e.source_key),
        );
    }
    body.push_str("</table>");
    if records.is_empty() {
        body.push_str("<p>No failed records waiting.</p>");
    }
    shown(&d, "Failed records", &body).into_response()
}

/// `GET /plan/{pipeline}`: what a run would do now, with the field diffs.
pub async fn plan(State(d): State<Dashboard>, Path(name): Path<String>) -> Response {
    if !d.actions.pipelines().iter().any(|p| p.name == name) {
        return problem(StatusCode::NOT_FOUND, &format!("no pipeline `{name}`"));
    }
    let view = match d.actions.plan(&name).await {
        Ok(v) => v,
        Err(e) => return problem(StatusCode::BAD_GATEWAY, &e),
    };
    let mut body = format!(
        "<pre id=\"steps\">{}</pre><pre id=\"summary\">{}</pre>\
         <table id=\"plan\"><tr><th>Action</th><th>Record</th><th>Source</th><th>Details</th></tr>",
        esc(&view.steps),
        esc(&view.summary)
    );
    for l in &view.lines {
        let mut details = esc(&l.note);
        for (field, old, new) in &l.diff {
            let _ = write!(
                details,
                "<div><code>{}</code>: {} &rarr; {}</div>",
                esc(field),
                esc(old),
                esc(new)
            );
        }
        let _ = write!(
            body,
            "<tr><td class=\"{a}\">{a}</td><td>{w}</td><td>{s}</td><td>{details}</td></tr>",
            a = esc(&l.action),
            w = esc(&l.what),
            s = esc(l.source.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</table>");
    shown(&d, &format!("Plan of {name}"), &body).into_response()
}
