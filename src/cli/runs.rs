//! `exflow runs [PIPELINE] [--last N]`: the latest runs from the state store, newest first,
//! with start, duration, counts, API calls and outcome.

use super::load;
use super::output::{out, out_json, Format};
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::state::{RunRecord, StateStore};
use clap::Args;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// List the latest runs with their counts and API calls.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only this pipeline's runs.
    pub pipeline: Option<String>,
    /// How many runs (newest first).
    #[arg(long, default_value_t = 20)]
    pub last: usize,
    /// The project folder (holding exflow.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Output format (`json`: `{"runs":[{"id","pipeline","started","finished",
    /// "duration_seconds","status","created","updated","skipped","failed","api_calls"}]}`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the command.
pub fn run(args: RunsArgs) -> ExitCode {
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
    let runs = match store.runs(args.pipeline.as_deref(), args.last) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match args.format {
        Format::Json => {
            let list: Vec<Value> = runs.iter().map(run_json).collect();
            out_json(&json!({ "runs": list }));
        }
        Format::Text => {
            if runs.is_empty() {
                out("no runs recorded yet");
            }
            for r in &runs {
                if !out(&run_line(r)) {
                    break;
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// Seconds from start to finish (none while running or when killed).
fn duration(r: &RunRecord) -> Option<f64> {
    r.finished
        .map(|f| (f - r.started).num_milliseconds() as f64 / 1000.0)
}

/// A count of the stored report, 0 when the run never finished.
fn count(r: &RunRecord, key: &str) -> u64 {
    r.counts.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// One run for programs.
pub fn run_json(r: &RunRecord) -> Value {
    let calls = r.counts.get("api_calls").cloned().unwrap_or(json!({}));
    json!({
        "id": r.id,
        "pipeline": r.pipeline,
        "started": r.started.to_rfc3339(),
        "finished": r.finished.map(|f| f.to_rfc3339()),
        "duration_seconds": duration(r),
        "status": r.status.as_str(),
        "created": count(r, "created"),
        "updated": count(r, "updated"),
        "skipped": count(r, "skipped"),
        "failed": count(r, "failed"),
        "api_calls": {
            "exact_online": calls.get("exact_online").and_then(Value::as_u64).unwrap_or(0),
            "exact_globe": calls.get("exact_globe").and_then(Value::as_u64).unwrap_or(0),
        },
    })
}

/// One run for people.
fn run_line(r: &RunRecord) -> String {
    let took = duration(r)
        .map(|d| format!("{d:.1}s"))
        .unwrap_or_else(|| "-".into());
    let calls = &r.counts["api_calls"];
    format!(
        "run {:<5} {:<12} {}  {took:>7}  {:<9} created {} updated {} skipped {} failed {}  calls online {} globe {}",
        r.id,
        r.pipeline,
        r.started.format("%Y-%m-%d %H:%M:%S"),
        r.status.as_str(),
        count(r, "created"),
        count(r, "updated"),
        count(r, "skipped"),
        count(r, "failed"),
        calls.get("exact_online").and_then(Value::as_u64).unwrap_or(0),
        calls.get("exact_globe").and_then(Value::as_u64).unwrap_or(0),
    )
}
