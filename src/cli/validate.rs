//! `exflow validate [PATHS...]`: checks pipelines, tables, scripts and `exflow.yaml`.

use super::output::{print_diagnostics, Format};
use super::EXIT_INVALID;
use crate::pipeline;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Check pipeline files, mapping tables, scripts and exflow.yaml without running anything.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Pipeline files or folders (default: the current project).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also print each pipeline's next three scheduled runs.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs the command.
pub fn run(args: ValidateArgs) -> ExitCode {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    for p in &paths {
        if !p.exists() {
            eprintln!("error: {} does not exist", p.display());
            return ExitCode::from(EXIT_INVALID);
        }
    }
    let (project, diags) = pipeline::load(&paths, false);
    print_diagnostics(&diags, args.format);
    if project.as_ref().is_some_and(|p| p.pipelines.is_empty()) && !diags.has_errors() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "error: no pipeline files in {} (pipeline files are *.yaml with a `pipeline:` key; a project holds exflow.yaml and pipelines/)",
            shown.join(", ")
        );
        return ExitCode::from(EXIT_INVALID);
    }
    let ok = project.is_some() && !diags.has_errors();
    if args.format == Format::Text {
        match &project {
            Some(p) if ok => {
                let names: Vec<&str> = p.pipelines.iter().map(|p| p.name.as_str()).collect();
                println!(
                    "ok: {} pipeline(s) valid ({}), {} warning(s)",
                    names.len(),
                    names.join(", "),
                    diags.warning_count()
                );
                if args.verbose {
                    for pl in &p.pipelines {
                        let now = chrono::Utc::now();
                        if let Some(line) = pl
                            .schedule
                            .as_deref()
                            .and_then(|s| crate::pipeline::schedule::describe(s, now))
                        {
                            println!("  {}: {line}", pl.name);
                        }
                    }
                }
            }
            _ => eprintln!(
                "{} error(s), {} warning(s)",
                diags.error_count(),
                diags.warning_count()
            ),
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    }
}
