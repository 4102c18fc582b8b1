//! The command line: one file per command; this file only parses and dispatches.
//!
//! Exit codes: 0 ok, 1 the work failed (records failed, target refused), 2 the
//! configuration is invalid.

pub mod fetch;
pub mod sim;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code: the work failed (records failed, target refused).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the configuration is invalid.
pub const EXIT_INVALID: u8 = 2;

/// Keeps Exact Online and Exact Globe in step with declarative pipelines.
#[derive(Debug, Parser)]
#[command(name = "exflow", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read records straight from a system (`exflow fetch exact_globe Account --top 5`).
    Fetch(fetch::FetchArgs),
    /// Run the Exact Online (and Exact Globe) simulators until Ctrl-C.
    Sim(sim::SimArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Fetch(args) => fetch::run(args),
        Command::Sim(args) => sim::run(args),
    }
}
