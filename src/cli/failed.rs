//! `exflow failed list|show|retry|skip`: the retry list. Each failed record with its reason,
//! attempts, first and last failure and when a run tries it again; `retry` runs just those
//! records now (after a mapping fix, or once what they missed exists); `skip` drops one,
//! keeping a note in the activity log.

use super::load;
use super::output::{out, out_json, Format};
use super::session::Session;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::engine::{run_pipeline, RunOptions};
use crate::pipeline::Project;
use crate::state::{FailedRecord, RetryPolicy, RetryState, SqliteStore, StateStore};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// The retry list: failed records, retried by the next runs until they go through.
#[derive(Debug, Args)]
pub struct FailedArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: FailedCommand,
    /// The project folder (holding exflow.yaml).
    #[arg(long, default_value = ".", global = true)]
    pub project: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
}

/// `exflow failed` subcommands.
#[derive(Debug, Subcommand)]
pub enum FailedCommand {
    /// The failed records with reason, attempts, first and last failure, next retry.
    List {
        /// Only this pipeline.
        pipeline: Option<String>,
    },
    /// One failed record in full, with the source record kept for its retry.
    Show {
        /// Its pipeline.
        pipeline: String,
        /// Its business key (order number, item code, e-mail) or source key.
        key: String,
    },
    /// Run failed records through their pipeline now, whatever their backoff or attempts.
    Retry {
        /// Only this pipeline's (default: every pipeline's).
        pipeline: Option<String>,
        /// Only these records (business or source keys; default: all of the pipeline's).
        keys: Vec<String>,
    },
    /// Drop a failed record from the retry list; the note is kept in the activity log.
    Skip {
        /// Its pipeline.
        pipeline: String,
        /// Its business key or source key.
        key: String,
        /// Why it is dropped.
        #[arg(long)]
        note: String,
    },
}

/// Runs the command.
pub fn run(args: FailedArgs) -> ExitCode {
    let format = args.format;
    // Only `retry` connects to the systems; the rest read the state without secrets.
    let project = match &args.command {
        FailedCommand::Retry { .. } => load::project(&args.project, format),
        _ => load::project_for_state(&args.project, format),
    };
    let Some(project) = project else {
        return ExitCode::from(EXIT_INVALID);
    };
    if let FailedCommand::Retry { pipeline, keys } = args.command {
        return retry(&project, pipeline, &keys, format);
    }
    let store = match super::connect::state_store(&project) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_INVALID, &e.to_string()),
    };
    let policy = project.config.retry;
    match args.command {
        FailedCommand::List { pipeline } => list(&store, policy, pipeline.as_deref(), format),
        FailedCommand::Show { pipeline, key } => show(&store, policy, &pipeline, &key, format),
        FailedCommand::Skip {
            pipeline,
            key,
            note,
        } => skip(&store, &pipeline, &key, &note, format),
        FailedCommand::Retry { .. } => ExitCode::SUCCESS,
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// One failed record for programs.
fn record_json(f: &FailedRecord, policy: RetryPolicy, with_payload: bool) -> Value {
    let e = &f.entry;
    let (state, next) = match policy.state(e, chrono::Utc::now()) {
        RetryState::Due => ("due", policy.next_attempt(e)),
        RetryState::Waiting(t) => ("waiting", Some(t)),
        RetryState::Exhausted => ("exhausted", None),
    };
    let mut doc = json!({
        "pipeline": f.pipeline,
        "business_key": e.business_key,
        "source_key": e.source_key,
        "reason": e.reason,
        "attempts": e.attempts,
        "first_failed": e.first_failed.to_rfc3339(),
        "last_failed": e.last_failed.to_rfc3339(),
        "last_run": e.last_run,
        "retry": state,
        "next_attempt": next.map(|t| t.to_rfc3339()),
    });
    if with_payload {
        doc["payload"] = e.payload.clone();
    }
    doc
}

/// One failed record for people.
fn record_text(f: &FailedRecord, policy: RetryPolicy) -> String {
    let e = &f.entry;
    let when = match policy.state(e, chrono::Utc::now()) {
        RetryState::Due => "retried by the next run".to_string(),
        RetryState::Waiting(t) => format!("next retry {}", t.format("%Y-%m-%d %H:%M")),
        RetryState::Exhausted => "no more automatic retries (`exflow failed retry`)".into(),
    };
    format!(
        "{:<10} {} (source {}): {}\n    {} attempts, first {}, last {}; {when}",
        f.pipeline,
        e.business_key.as_deref().unwrap_or("-"),
        e.source_key,
        e.reason,
        e.attempts,
        e.first_failed.format("%Y-%m-%d %H:%M:%S"),
        e.last_failed.format("%Y-%m-%d %H:%M:%S"),
    )
}

fn list(
    store: &SqliteStore,
    policy: RetryPolicy,
    pipeline: Option<&str>,
    format: Format,
) -> ExitCode {
    let records = match store.failed_records(pipeline, None, false) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_FAILED, &e.to_string()),
    };
    match format {
        Format::Json => {
            let list: Vec<Value> = records
                .iter()
                .map(|r| record_json(r, policy, false))
                .collect();
            out_json(&json!({ "failed": list }));
        }
        Format::Text => {
            if records.is_empty() {
                out("no failed records waiting");
            }
            for r in &records {
                if !out(&record_text(r, policy)) {
                    break;
                }
            }
        }
    }
    ExitCode::SUCCESS
}

fn show(
    store: &SqliteStore,
    policy: RetryPolicy,
    pipeline: &str,
    key: &str,
    format: Format,
) -> ExitCode {
    let records = match store.failed_records(Some(pipeline), Some(key), true) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_FAILED, &e.to_string()),
    };
    let Some(record) = records.first() else {
        return fail(
            EXIT_FAILED,
            &format!("no failed record {key:?} waits in pipeline `{pipeline}`"),
        );
    };
    match format {
        Format::Json => out_json(&record_json(record, policy, true)),
        Format::Text => out(&format!(
            "{}\n    source record: {}",
            record_text(record, policy),
            serde_json::to_string_pretty(&record.entry.payload).unwrap_or_default()
        )),
    };
    ExitCode::SUCCESS
}

fn skip(store: &SqliteStore, pipeline: &str, key: &str, note: &str, format: Format) -> ExitCode {
    match store.retry_skip(pipeline, key, note) {
        Ok(Some(entry)) => {
            match format {
                Format::Json => out_json(&json!({
                    "skipped": {
                        "pipeline": pipeline,
                        "business_key": entry.business_key,
                        "source_key": entry.source_key,
                        "note": note,
                    }
                })),
                Format::Text => out(&format!(
                    "skipped {pipeline} {} (source {}); the note is in the activity log",
                    entry.business_key.as_deref().unwrap_or("-"),
                    entry.source_key
                )),
            };
            ExitCode::SUCCESS
        }
        Ok(None) => fail(
            EXIT_FAILED,
            &format!("no failed record {key:?} waits in pipeline `{pipeline}`"),
        ),
        Err(e) => fail(EXIT_FAILED, &e.to_string()),
    }
}

/// Runs the chosen failed records of each pipeline through it, now.
fn retry(project: &Project, pipeline: Option<String>, keys: &[String], format: Format) -> ExitCode {
    if pipeline.is_none() && !keys.is_empty() {
        return fail(EXIT_INVALID, "name the pipeline of the records to retry");
    }
    let names: Vec<String> = pipeline.into_iter().collect();
    let pipelines = match load::pick(project, &names) {
        Ok(p) => p,
        Err(e) => return fail(EXIT_INVALID, &e),
    };
    let store = match super::connect::state_store(project) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_INVALID, &e.to_string()),
    };
    // The source keys to run, per pipeline; a key given by hand that waits nowhere is an
    // error rather than a run that does nothing.
    let mut work = Vec::new();
    for p in pipelines {
        let chosen = match crate::engine::retry::chosen_keys(&store, &p.name, keys) {
            Ok(c) => c,
            Err(e) => return fail(EXIT_FAILED, &e.to_string()),
        };
        if !chosen.is_empty() {
            work.push((p, chosen));
        }
    }
    drop(store);
    if work.is_empty() {
        match format {
            Format::Json => out_json(&json!({ "runs": [] })),
            Format::Text => out("no failed records waiting"),
        };
        return ExitCode::SUCCESS;
    }
    let pipelines: Vec<_> = work.iter().map(|(p, _)| *p).collect();
    let session = match Session::start(project, &pipelines) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut ok = true;
    let mut runs = Vec::new();
    for (p, chosen) in work {
        let options = RunOptions {
            retry_only: Some(chosen),
            ..RunOptions::default()
        };
        let result = session.runtime.block_on(run_pipeline(
            project,
            p,
            &session.conns,
            &session.store,
            options,
        ));
        match result {
            Ok(report) => {
                ok &= report.total_failed() == 0;
                let mut doc = report.to_json();
                doc["retried"] = json!(report.retried);
                doc["run_id"] = json!(report.run_id);
                match format {
                    Format::Json => runs.push(doc),
                    Format::Text => {
                        out(&report.to_string());
                    }
                }
            }
            Err(e) => {
                ok = false;
                eprintln!("error: retry of {} stopped: {e}", p.name);
                runs.push(json!({"pipeline": p.name, "error": e.to_string()}));
            }
        }
    }
    if format == Format::Json {
        out_json(&json!({ "runs": runs }));
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}
