//! The command line: one file per command; this file only parses and dispatches.
//!
//! Exit codes: 0 ok, 1 the work failed (records failed, target refused), 2 the
//! configuration is invalid.

pub mod activity;
pub mod auth;
pub mod completions;
pub mod connect;
pub mod demo;
pub mod doctor;
pub mod eval;
pub mod explain;
pub mod failed;
pub mod fetch;
pub mod fetch_online;
pub mod functions;
pub mod init;
pub mod load;
pub mod map;
pub mod notify;
pub mod output;
pub mod plan;
pub mod run;
pub mod runs;
pub mod schema;
pub mod serve;
pub mod session;
pub mod sim;
pub mod test;
pub mod validate;
pub mod webhooks;

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
    /// Set up a project: both connections, the Exact Online login, the flows and mapping.
    Init(init::InitArgs),
    /// Check pipelines, tables, scripts and exflow.yaml; exit 2 on any error.
    Validate(validate::ValidateArgs),
    /// Show the entity catalogue of a system.
    Schema(schema::SchemaArgs),
    /// Explain a diagnostic code.
    Explain(explain::ExplainArgs),
    /// Apply a pipeline's map to exported records (JSON or JSON lines).
    Map(map::MapArgs),
    /// Run the pipelines' unit tests (`*.test.yaml`): mapping and decision, no network.
    Test(test::TestArgs),
    /// Dry run: show per record what a run would create, update, skip or fail.
    Plan(plan::PlanArgs),
    /// Run pipelines: create and update records on the target.
    Run(run::RunArgs),
    /// Connect exflow to a system that needs a login (`exflow auth exact-online`).
    Auth(auth::AuthArgs),
    /// Run the Exact Online (and Exact Globe) simulators until Ctrl-C.
    Sim(sim::SimArgs),
    /// Read records straight from a system (`exflow fetch exact_globe Account --top 5`).
    Fetch(fetch::FetchArgs),
    /// Evaluate a mapping expression over JSON records.
    Eval(eval::EvalArgs),
    /// List the mapping language's functions with an example each.
    Functions(functions::FunctionsArgs),
    /// Run the standard pipelines between two in-process simulators, twice (try it first).
    Demo(demo::DemoArgs),
    /// The latest runs: start, duration, counts, API calls, outcome.
    Runs(runs::RunsArgs),
    /// The activity log: per record what came in, what was sent, the answer.
    Activity(activity::ActivityArgs),
    /// The retry list of failed records: list, show, retry now, or skip.
    Failed(failed::FailedArgs),
    /// Run the pipelines as a service: schedules, webhooks, notifications, metrics.
    Serve(serve::ServeArgs),
    /// Manage Exact Online webhook subscriptions (subscribe, list, unsubscribe).
    Webhooks(webhooks::WebhooksArgs),
    /// Notification channels (`exflow notify test`).
    Notify(notify::NotifyArgs),
    /// Print the shell completion script (`exflow completions bash|zsh|fish`).
    Completions(completions::CompletionsArgs),
    /// Check the project: connections, login and its expiry, division, API budget,
    /// webhooks, state file permissions; says what to do about each problem.
    Doctor(doctor::DoctorArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A service logs what it does by default; commands stay quiet.
    match &cli.command {
        Command::Serve(a) => init_tracing("info", a.log_format == serve::LogFormat::Json),
        _ => init_tracing("warn", false),
    }
    match cli.command {
        Command::Init(a) => init::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Schema(a) => schema::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Map(a) => map::run(a),
        Command::Test(a) => test::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Run(a) => run::run(a),
        Command::Auth(args) => auth::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Functions(a) => functions::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Runs(a) => runs::run(a),
        Command::Activity(a) => activity::run(a),
        Command::Failed(a) => failed::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Webhooks(a) => webhooks::run(a),
        Command::Notify(a) => notify::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Doctor(a) => doctor::run(a),
    }
}

/// Logs to stderr, `EXFLOW_LOG` (or `RUST_LOG`) picks the level (`default` otherwise);
/// `json`: one JSON object per line.
fn init_tracing(default: &str, json: bool) {
    let filter = std::env::var("EXFLOW_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default.to_string());
    // Colour only on a terminal: piped or redirected logs carry no ANSI escapes.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
