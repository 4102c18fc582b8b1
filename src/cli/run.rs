//! `exflow run [PIPELINE...]`: runs pipelines in order, with a progress line on a terminal
//! and a summary per pipeline (created/updated/skipped/failed per entity, API calls per
//! system, time). Exit 1 if any record failed or a run stopped; 2 on invalid configuration.

use super::load;
use super::output::Format;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::engine::{run_pipeline, RunOptions, RunReport};
use crate::state::StateStore;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Run pipelines: create and update records on the target.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipelines to run, in this order (default: every pipeline of the project).
    pub pipelines: Vec<String>,
    /// The project folder (holding exflow.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Output format (`json`: `{"runs":[...]}`, one summary per pipeline run).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Read source records modified on or after this date (2026-01-31), instead of
    /// continuing from the stored cursor.
    #[arg(long)]
    pub since: Option<String>,
}

/// A progress spinner on stderr, only on a terminal.
fn progress(name: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix}: {msg}{wait} [{elapsed}]") {
        // Read on every tick: a rate limit or a retry shows while it lasts.
        let wait = |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            if let Some(text) = crate::connectors::wait::current() {
                let _ = write!(w, "; {text}");
            }
        };
        bar.set_style(style.with_key("wait", wait));
    }
    bar.set_prefix(name.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn progress_message(r: &RunReport) -> String {
    let c = r.main_counts();
    format!(
        "{} read, {} created, {} updated, {} skipped, {} failed",
        r.records_read, c.created, c.updated, c.skipped, c.failed
    )
}

/// Runs the command.
pub fn run(args: RunArgs) -> ExitCode {
    let Some(project) = load::project(&args.project, args.format) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let since = match args.since.as_deref().map(load::since).transpose() {
        Ok(s) => s,
        Err(e) => return invalid(&e),
    };
    let pipelines = match load::pick(&project, &args.pipelines) {
        Ok(p) => p,
        Err(e) => return invalid(&e),
    };
    let super::session::Session {
        runtime,
        conns,
        store,
    } = match super::session::Session::start(&project, &pipelines) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut ok = true;
    let mut runs = Vec::new();
    for pipeline in pipelines {
        let bar = if args.format == Format::Text {
            progress(&pipeline.name)
        } else {
            None
        };
        let options = RunOptions {
            since,
            progress: bar.clone().map(|b| {
                Arc::new(move |r: &RunReport| b.set_message(progress_message(r)))
                    as crate::engine::ProgressFn
            }),
            ..RunOptions::default()
        };
        let last_run = latest_run(&store, &pipeline.name).map(|r| r.id);
        let result = runtime.block_on(run_pipeline(&project, pipeline, &conns, &store, options));
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        match result {
            Ok(report) => {
                ok &= report.total_failed() == 0;
                match args.format {
                    Format::Text => {
                        println!("{report}");
                        print_failures(pipeline, project.config.redact_payloads, &report);
                    }
                    Format::Json => runs.push(report.to_json()),
                }
            }
            Err(e) => {
                ok = false;
                eprintln!("error: run {} stopped: {e}", pipeline.name);
                if args.format == Format::Json {
                    // What the run did before it stopped is in the runs table.
                    let mut doc = latest_run(&store, &pipeline.name)
                        .filter(|r| Some(r.id) != last_run)
                        .map(|r| r.counts)
                        .filter(Value::is_object)
                        .unwrap_or_else(|| json!({}));
                    doc["pipeline"] = json!(pipeline.name);
                    doc["status"] = json!("aborted");
                    doc["error"] = json!(e.to_string());
                    runs.push(doc);
                }
            }
        }
    }
    if args.format == Format::Json {
        let doc = json!({ "runs": runs });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// The newest stored run of `pipeline`, if any.
fn latest_run(store: &dyn StateStore, pipeline: &str) -> Option<crate::state::RunRecord> {
    store.runs(Some(pipeline), 1).ok()?.into_iter().next()
}

/// The failed records, each with its reason (the activity log keeps them all).
fn print_failures(pipeline: &crate::pipeline::Pipeline, redact: bool, report: &RunReport) {
    for f in &report.failures {
        if let crate::engine::Decision::Fail { reason } = &f.decision {
            eprintln!("  failed {}: {reason}", f.describe(pipeline, redact));
        }
    }
    let total = report.total_failed();
    if total > report.failures.len() as u64 {
        eprintln!(
            "  ... {} more failures in the activity log (run {})",
            total - report.failures.len() as u64,
            report.run_id.unwrap_or_default()
        );
    }
}

fn invalid(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID)
}
