//! `exflow notify test [--project DIR]`: sends a test message to every channel of
//! `notifications:` and says which ones failed (exit 1 if any).

use super::load;
use super::output::Format;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::notify::{Event, Notifier};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Notification commands.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: NotifyCommand,
}

/// Notification commands.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test message to every channel.
    Test {
        /// The project folder (holding exflow.yaml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
    },
}

/// Runs the command.
pub fn run(args: NotifyArgs) -> ExitCode {
    let NotifyCommand::Test { project } = args.command;
    let Some(project) = load::project(&project, Format::Text) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let notifier = Notifier::new(&project, None);
    if notifier.channel_count() == 0 {
        eprintln!("error: exflow.yaml has no `notifications.channels`");
        return ExitCode::from(EXIT_INVALID);
    }
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        return ExitCode::from(EXIT_FAILED);
    };
    let message = notifier.message(&Event::Test);
    let failures = runtime.block_on(notifier.deliver(&message));
    let total = notifier.channel_count();
    println!("sent to {} of {total} channel(s)", total - failures.len());
    for f in &failures {
        eprintln!("  failed {f}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}
