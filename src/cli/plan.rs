//! `exflow plan PIPELINE`: the dry run. Reads both systems, writes to neither (nor to the
//! state store), and prints per record create / update (field diff) / skip / fail with the
//! API calls a real run would spend.

use super::load;
use super::output::Format;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::engine::{run_pipeline, Decision, Plan, RecordPlan, RunOptions, RunReport};
use crate::pipeline::Pipeline;
use crate::state::{is_personal, redact, REDACTED};
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

/// Show what a run would do, writing nothing.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The pipeline to plan.
    pub pipeline: String,
    /// The project folder (holding exflow.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Read source records modified on or after this date (2026-01-31), instead of
    /// continuing from the stored cursor.
    #[arg(long)]
    pub since: Option<String>,
}

/// Runs the command.
pub fn run(args: PlanArgs) -> ExitCode {
    let Some(project) = load::project(&args.project, args.format) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let since = match args.since.as_deref().map(load::since).transpose() {
        Ok(s) => s,
        Err(e) => return invalid(&e),
    };
    let pipeline = match load::pick(&project, std::slice::from_ref(&args.pipeline)) {
        Ok(p) => p[0],
        Err(e) => return invalid(&e),
    };
    let super::session::Session {
        runtime,
        conns,
        store,
    } = match super::session::Session::start(&project, &[pipeline]) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let options = RunOptions {
        dry_run: true,
        since,
        ..RunOptions::default()
    };
    let report = match runtime.block_on(run_pipeline(&project, pipeline, &conns, &store, options)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: plan {} stopped: {e}", pipeline.name);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let plan = Plan::compile(pipeline);
    let mut report = report;
    if project.config.redact_payloads {
        // The plan shows what a run would write; with `redact_payloads` personal values stay
        // off the screen and out of CI logs as they stay out of the state store.
        report.decisions = redacted(pipeline, &report.decisions);
    }
    match args.format {
        Format::Json => {
            let mut doc = report.to_json();
            if let Some(s) = &pipeline.schedule {
                let next = crate::pipeline::schedule::Schedule::parse(s)
                    .map(|s| s.upcoming(chrono::Utc::now(), 3))
                    .unwrap_or_default();
                doc["next_runs"] = serde_json::to_value(next).unwrap_or(Value::Null);
            }
            doc["steps"] = serde_json::to_value(&plan.steps).unwrap_or(Value::Null);
            doc["records"] = serde_json::to_value(&report.decisions).unwrap_or(Value::Null);
            doc["defaults"] = serde_json::to_value(&report.defaults).unwrap_or(Value::Null);
            doc["complement_calls"] = report.complement_calls.into();
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            print_text(&plan, &report);
            if let Some(s) = pipeline.schedule.as_deref() {
                if let Some(line) = crate::pipeline::schedule::describe(s, chrono::Utc::now()) {
                    println!("{line}");
                }
            }
        }
    }
    if report.total_failed() > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// `decisions` with personal values (by field name, as the state store redacts them)
/// replaced: match values of a personal match field, created payloads, changed fields.
/// `decisions` with personal values hidden, as `redact_payloads` asks.
pub(crate) fn redacted(pipeline: &Pipeline, decisions: &[RecordPlan]) -> Vec<RecordPlan> {
    let hide = |v: &Value| {
        if v.is_null() {
            Value::Null
        } else {
            Value::String(REDACTED.into())
        }
    };
    decisions
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if pipeline.match_field(&r.entity).is_none_or(is_personal) {
                r.match_value = hide(&r.match_value);
            }
            match &mut r.decision {
                Decision::Create { payload } => {
                    if let Value::Object(m) = redact(&Value::Object(std::mem::take(payload))) {
                        *payload = m;
                    }
                }
                Decision::Update { diff, .. } => {
                    for c in diff.iter_mut().filter(|c| is_personal(&c.field)) {
                        c.old = hide(&c.old);
                        c.new = hide(&c.new);
                    }
                }
                Decision::Skip { .. } | Decision::Fail { .. } => {}
            }
            r
        })
        .collect()
}

fn invalid(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", s.trim()),
        other => other.to_string(),
    }
}

fn line(r: &RecordPlan) -> String {
    let mut s = decision_line(r);
    // A value from a `??` default: the user sees it before a run writes it.
    for d in &r.defaulted {
        let why = if d.absent {
            "not delivered by the source endpoint"
        } else {
            "empty in the source"
        };
        s.push_str(&format!(
            "\n            {}: default used, {} {why}",
            d.field, d.source
        ));
    }
    s
}

fn decision_line(r: &RecordPlan) -> String {
    let what = format!("{} {}", r.entity, show(&r.match_value));
    let from = r
        .source_key
        .as_deref()
        .map(|k| format!(" (source {k})"))
        .unwrap_or_default();
    match &r.decision {
        Decision::Create { payload } => {
            format!("  create  {what}{from}: {} fields", payload.len())
        }
        Decision::Update { diff, .. } => {
            let mut s = format!("  update  {what}{from}");
            for c in diff {
                s.push_str(&format!(
                    "\n            {}: {} -> {}",
                    c.field,
                    show(&c.old),
                    show(&c.new)
                ));
            }
            s
        }
        Decision::Skip { reason } => format!("  skip    {what}{from}: {reason}"),
        Decision::Fail { reason } => format!("  FAIL    {what}{from}: {reason}"),
    }
}

fn print_text(plan: &Plan, report: &RunReport) {
    println!("{plan}");
    for r in &report.decisions {
        println!("{}", line(r));
    }
    if !report.decisions.is_empty() {
        println!();
    }
    println!("{report}");
}
