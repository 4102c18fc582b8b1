//! `exflow explain CODE`: the long form of a diagnostic code.

use super::EXIT_INVALID;
use crate::pipeline::diagnostic;
use clap::Args;
use std::process::ExitCode;

/// Explain a diagnostic code such as E106.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code, e.g. E106.
    pub code: String,
}

/// Runs the command.
pub fn run(args: ExplainArgs) -> ExitCode {
    if let Some((title, text)) = diagnostic::explain(&args.code) {
        println!("{}: {title}\n\n{text}", args.code.to_uppercase());
        return ExitCode::SUCCESS;
    }
    if let Some(code) = crate::lang::ErrorCode::parse(&args.code) {
        println!("{}: {}", code.as_str(), code.explain());
        return ExitCode::SUCCESS;
    }
    eprintln!("error: unknown code `{}`", args.code);
    ExitCode::from(EXIT_INVALID)
}
