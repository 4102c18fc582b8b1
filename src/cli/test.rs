//! `exflow test`: runs the pipeline unit tests (`*.test.yaml` beside the pipelines).

use super::output::Format;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::engine::spec;
use crate::pipeline;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run the pipelines' unit tests: input records, expected mapping and decision, no network.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test files (default: every `*.test.yaml` beside the project's pipelines).
    pub files: Vec<PathBuf>,
    /// Project folder.
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the command.
pub fn run(args: TestArgs) -> ExitCode {
    let (project, diags) = pipeline::load(std::slice::from_ref(&args.project), false);
    let Some(project) = project else {
        super::output::print_diagnostics(&diags, Format::Text);
        return ExitCode::from(EXIT_INVALID);
    };
    let files = if args.files.is_empty() {
        spec::find_spec_files(&project)
    } else {
        args.files
    };
    if files.is_empty() {
        eprintln!("no test files (*.test.yaml) beside the pipelines");
        return ExitCode::from(EXIT_INVALID);
    }
    let mut results = Vec::new();
    for f in &files {
        match spec::run_file(&project, f) {
            Ok(r) => results.extend(r),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_INVALID);
            }
        }
    }
    let failed = results.iter().filter(|r| !r.problems.is_empty()).count();
    let passed = results.len() - failed;
    match args.format {
        Format::Json => {
            let list: Vec<serde_json::Value> = results
                .iter()
                .map(|r| serde_json::json!({"file": r.file.display().to_string(), "name": r.name, "passed": r.problems.is_empty(), "problems": r.problems}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"passed": passed, "failed": failed, "tests": list})
                )
                .unwrap_or_default()
            );
        }
        Format::Text => {
            for r in &results {
                if r.problems.is_empty() {
                    println!("ok     {} :: {}", r.file.display(), r.name);
                } else {
                    println!("FAILED {} :: {}", r.file.display(), r.name);
                    for p in &r.problems {
                        println!("         {p}");
                    }
                }
            }
            println!("{passed} passed, {failed} failed");
        }
    }
    if failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
