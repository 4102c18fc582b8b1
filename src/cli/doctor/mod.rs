//! `exflow doctor`: checks a project's set-up from end to end and says, for every problem,
//! what to do about it: the project file and its variables, the state files' permissions
//! and whether git ignores them (`files`), the Exact Online login, division, webhooks and
//! API budget (`online`), the Exact Globe connection (`globe`).
//!
//! It reads the project exactly as `run` does (`exflow.yaml` and the environment). The state
//! files are looked at before anything opens them, and nothing here creates or narrows them:
//! the doctor reports what it finds. No secret and no token is ever printed. Exit 0 when no
//! check failed (warnings allowed), 1 when one did, 2 when the project does not load at all.

mod files;
mod globe;
mod online;

use super::output::{print_diagnostics, Format};
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::pipeline::{self, Project, Severity};
use clap::Args;
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Check the project: connections, login, division, API budget, webhooks, state files.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The project folder (holding exflow.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Output format (`json`: `{"status","checks":[{"check","status","message","fix"}]}`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How one check came out, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As it should be.
    Ok,
    /// Not checked: it does not apply, or an earlier check failed first.
    Skip,
    /// Works now, but will not for long or is not as it should be.
    Warn,
    /// Broken: runs will fail until it is fixed.
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skip => "skip",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One check: what was looked at, what was found, and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable name, `area.what` (`exact_online.login`).
    pub check: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found.
    pub message: String,
    /// What to do (for a warning or a failure).
    pub fix: Option<String>,
}

impl Check {
    /// A check that passed.
    pub fn ok(check: &'static str, message: impl Into<String>) -> Check {
        Check {
            check,
            status: Status::Ok,
            message: message.into(),
            fix: None,
        }
    }

    /// A check that was not made, and why.
    pub fn skip(check: &'static str, message: impl Into<String>) -> Check {
        Check {
            status: Status::Skip,
            ..Check::ok(check, message)
        }
    }

    /// A warning with its remedy.
    pub fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            status: Status::Warn,
            fix: Some(fix.into()),
            ..Check::ok(check, message)
        }
    }

    /// A failure with its remedy.
    pub fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            status: Status::Fail,
            ..Check::warn(check, message, fix)
        }
    }
}

/// Runs the command.
pub fn run(args: DoctorArgs) -> ExitCode {
    let Some((project, first)) = project_check(&args.project, args.format) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let mut checks = vec![first];
    // Before the connections open the state (and SQLite adds its -wal and -shm files).
    checks.extend(files::checks(&project));
    checks.extend(runtime.block_on(online::checks(&project)));
    checks.push(runtime.block_on(globe::check(&project)));
    print(&checks, args.format);
    if checks.iter().any(|c| c.status == Status::Fail) {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Loads the project as `validate` does (an unset variable is a warning here, so that the
/// other checks still run) and reports the variables a run would miss.
fn project_check(dir: &Path, format: Format) -> Option<(Project, Check)> {
    if !dir.join("exflow.yaml").is_file() {
        eprintln!(
            "error: no exflow.yaml in {} (run exflow doctor in a project folder, or pass --project DIR)",
            dir.display()
        );
        return None;
    }
    let (project, diags) = pipeline::load(&[dir.to_path_buf()], false);
    let project = match project {
        Some(p) if !diags.has_errors() => p,
        _ => {
            print_diagnostics(&diags, format);
            return None;
        }
    };
    let unset: Vec<String> = diags
        .0
        .iter()
        .filter(|d| d.code == "E117" && d.severity == Severity::Warning)
        .filter_map(|d| d.message.split('`').nth(1).map(str::to_string))
        .collect();
    let check = if unset.is_empty() {
        Check::ok(
            "project",
            format!(
                "{} and {} pipeline(s) load; every variable it reads is set",
                dir.join("exflow.yaml").display(),
                project.pipelines.len()
            ),
        )
    } else {
        Check::fail(
            "project",
            format!(
                "exflow.yaml reads environment variables that are not set: {} (a run refuses to start)",
                unset.join(", ")
            ),
            format!(
                "export {} where exflow runs (secrets belong in the environment, never in exflow.yaml)",
                unset
                    .iter()
                    .map(|n| format!("{n}=..."))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        )
    };
    Some((project, check))
}

fn print(checks: &[Check], format: Format) {
    let worst = checks.iter().map(|c| c.status).max().unwrap_or(Status::Ok);
    let overall = if worst == Status::Skip {
        Status::Ok
    } else {
        worst
    };
    match format {
        Format::Json => {
            let doc = json!({ "status": overall, "checks": checks });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            for c in checks {
                println!("{:<4}  {}: {}", c.status.label(), c.check, c.message);
                if let Some(fix) = &c.fix {
                    println!("        fix: {fix}");
                }
            }
            let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
            println!(
                "\n{} check(s): {} ok, {} warning(s), {} failed, {} skipped",
                checks.len(),
                count(Status::Ok),
                count(Status::Warn),
                count(Status::Fail),
                count(Status::Skip)
            );
        }
    }
}
