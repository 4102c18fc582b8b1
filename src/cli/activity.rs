//! `exflow activity [PIPELINE] [--run N] [--record KEY] [--outcome O] [--show]`: the
//! activity log, newest first, a page at a time: per record its business key (order number,
//! item code, e-mail), what happened and why; with `--show` what came from the source, what
//! was sent and what the target answered (redacted as the project says).

use super::load;
use super::output::{out, out_json, Format};
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::state::{ActivityQuery, ActivityRow, Outcome, StateStore};
use clap::Args;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// Show the activity log: per record what happened, and with `--show` what was sent.
#[derive(Debug, Args)]
pub struct ActivityArgs {
    /// Only this pipeline.
    pub pipeline: Option<String>,
    /// Only this run (`exflow runs` lists them).
    #[arg(long)]
    pub run: Option<i64>,
    /// Only this record: its business key (order number, item code, e-mail) or source key.
    #[arg(long)]
    pub record: Option<String>,
    /// Only this outcome: created, updated, skipped or failed.
    #[arg(long, value_parser = parse_outcome)]
    pub outcome: Option<Outcome>,
    /// Also show the source payload, what was sent and the target's answer.
    #[arg(long)]
    pub show: bool,
    /// Lines per page.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// The next page: lines older than this line id (`next_before` of the last page).
    #[arg(long)]
    pub before: Option<i64>,
    /// The project folder (holding exflow.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Output format (`json`: `{"activity":[...],"next_before":ID|null}`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    Outcome::from_name(s)
        .ok_or_else(|| format!("{s:?}: expected created, updated, skipped or failed"))
}

/// Runs the command.
pub fn run(args: ActivityArgs) -> ExitCode {
    let Some(project) = load::project_for_state(&args.project, args.format) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let store = match super::connect::state_store(&project) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let limit = args.limit.clamp(1, 10_000);
    let query = ActivityQuery {
        pipeline: args.pipeline.clone(),
        run: args.run,
        record: args.record.clone(),
        outcome: args.outcome,
        before: args.before,
        limit,
        payloads: args.show,
    };
    let rows = match store.activity_page(&query) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    // A full page may have more behind it; the next one starts below its last id.
    let next = (rows.len() == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    match args.format {
        Format::Json => {
            let list: Vec<Value> = rows.iter().map(|r| row_json(r, args.show)).collect();
            out_json(&json!({ "activity": list, "next_before": next }));
        }
        Format::Text => {
            if rows.is_empty() {
                out("no activity matches");
            }
            for r in &rows {
                if !out(&row_text(r, args.show)) {
                    return ExitCode::SUCCESS;
                }
            }
            if let Some(id) = next {
                out(&format!("... more: --before {id}"));
            }
        }
    }
    ExitCode::SUCCESS
}

/// The name people read for an outcome.
pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Create => "created",
        Outcome::Update => "updated",
        Outcome::Skip => "skipped",
        Outcome::Fail => "failed",
    }
}

/// One line for programs; payloads only with `--show`.
fn row_json(r: &ActivityRow, show: bool) -> Value {
    let a = &r.activity;
    let mut doc = json!({
        "id": r.id,
        "run": a.run,
        "pipeline": a.pipeline,
        "entity": a.entity,
        "business_key": a.business_key,
        "key_field": a.key_field,
        "source_key": a.source_key,
        "outcome": outcome_name(a.outcome),
        "reason": a.error,
        "at": a.at.to_rfc3339(),
    });
    if show {
        doc["source_payload"] = a.source_payload.clone().unwrap_or(Value::Null);
        doc["sent_payload"] = a.sent_payload.clone().unwrap_or(Value::Null);
        doc["target_response"] = a.target_response.clone().unwrap_or(Value::Null);
        doc["changes"] = a.changes.clone().unwrap_or(Value::Null);
    }
    doc
}

/// One line for people; payloads indented below it with `--show`.
fn row_text(r: &ActivityRow, show: bool) -> String {
    let a = &r.activity;
    let key = match (&a.key_field, &a.business_key) {
        (Some(f), Some(k)) => format!("{f} {k}"),
        (None, Some(k)) => k.clone(),
        _ => "-".to_string(),
    };
    let mut s = format!(
        "#{:<7} run {:<4} {} {:<10} {:<8} {} {key}",
        r.id,
        a.run,
        a.at.format("%Y-%m-%d %H:%M:%S"),
        a.pipeline,
        outcome_name(a.outcome),
        a.entity,
    );
    if let Some(sk) = &a.source_key {
        s.push_str(&format!(" (source {sk})"));
    }
    if let Some(e) = &a.error {
        s.push_str(&format!(": {e}"));
    }
    if show {
        for (label, v) in [
            ("source", &a.source_payload),
            ("sent", &a.sent_payload),
            ("answer", &a.target_response),
            ("changes", &a.changes),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("\n    {label}: {v}"));
            }
        }
    }
    s
}
