//! `exflow serve [--project DIR] [--listen ADDR]`: runs the project as a service (see
//! `crate::serve`). Binds 127.0.0.1 unless `--listen` says otherwise. Exit 0 after
//! SIGTERM/SIGINT, 2 when the configuration is invalid, 1 when the service cannot start.

use super::{EXIT_FAILED, EXIT_INVALID};
use crate::serve::{serve, ServeError, ServeOptions};
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

/// Run the pipelines as a service: schedules, webhooks, notifications, metrics.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The project folder (holding exflow.yaml).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Address to listen on; anything but 127.0.0.1 must be asked for (put a reverse proxy
    /// with HTTPS in front for Exact Online's webhooks). Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8790")]
    pub listen: SocketAddr,
    /// Ask for the dashboard login (`EXFLOW_DASHBOARD_PASSWORD`) even on 127.0.0.1; any
    /// other address always asks for it.
    #[arg(long)]
    pub dashboard_login: bool,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Runs the command.
pub fn run(args: ServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let opts = ServeOptions {
        project: args.project,
        listen: args.listen,
        dashboard_login: args.dashboard_login,
    };
    match runtime.block_on(serve(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::Invalid(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INVALID)
        }
        Err(ServeError::Failed(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}
