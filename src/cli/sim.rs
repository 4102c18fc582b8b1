//! `exflow sim`: starts the simulators, prints one line per server and runs until Ctrl-C.

use crate::sim::exact_online::{Faults, OnlineSim, OnlineSimConfig};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `exflow sim` (one group per simulator).
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address of the Exact Online simulator.
    #[arg(long, default_value = "127.0.0.1:8900")]
    pub online: SocketAddr,
    /// Seed of the generated data (same seed, same data).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Sales orders to generate.
    #[arg(long, default_value_t = 200)]
    pub orders: usize,
    /// Customers to generate.
    #[arg(long, default_value_t = 80)]
    pub customers: usize,
    /// Products to generate.
    #[arg(long, default_value_t = 60)]
    pub products: usize,
    /// Folder of `<Entity>.json` arrays to load instead of generated data.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Exact Online calls per minute per app + division.
    #[arg(long, default_value_t = 60)]
    pub online_minutely_limit: u32,
    /// Exact Online calls per day per app + division.
    #[arg(long, default_value_t = 5000)]
    pub online_daily_limit: u32,
    /// Fault injection, e.g. `latency=50ms,status503=0.1,drop=0.05,lost_post=0.1,burst429=5`.
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Block an endpoint after more than 10 errors in an hour, as Exact Online does.
    #[arg(long)]
    pub error_budget: bool,
    /// Print a ready access and refresh token on stderr (they are secrets: not on stdout).
    #[arg(long)]
    pub print_tokens: bool,
}

/// Runs the command.
pub fn run(args: SimArgs) -> ExitCode {
    let faults: Faults = match args.faults.parse() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_INVALID);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(super::EXIT_FAILED);
        }
    };
    runtime.block_on(async move {
        let config = OnlineSimConfig {
            seed: args.seed,
            orders: args.orders,
            customers: args.customers,
            products: args.products,
            fixtures: args.fixtures.clone(),
            minutely_limit: args.online_minutely_limit,
            daily_limit: args.online_daily_limit,
            faults,
            error_budget: args.error_budget,
            ..OnlineSimConfig::default()
        };
        let client_id = config.client_id.clone();
        let online = match OnlineSim::start(config, args.online).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot start the Exact Online simulator on {}: {e}", args.online);
                return ExitCode::from(super::EXIT_FAILED);
            }
        };
        println!("exact_online {}", online.base_url());
        eprintln!(
            "exact_online: division {}, client id {client_id}; authorize at {}/api/oauth2/auth?client_id={client_id}&redirect_uri=...&response_type=code",
            online.division(),
            online.base_url()
        );
        if args.print_tokens {
            let (access, refresh) = online.issue_tokens();
            eprintln!("exact_online access_token {access}");
            eprintln!("exact_online refresh_token {refresh}");
        }
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("error: cannot wait for Ctrl-C: {e}");
        }
        online.shutdown().await;
        ExitCode::SUCCESS
    })
}
