//! `exflow sim`: starts the simulators, prints one line per server and runs until Ctrl-C.

use crate::sim::exact_globe::{self, GlobeSim, GlobeSimConfig};
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
    /// Log this project in to the simulator: a fresh token pair is stored in its state, as
    /// `exflow auth exact-online` would (a kept `exflow demo --dir` project works at once).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The Exact Globe simulator's options.
    #[command(flatten)]
    pub globe: GlobeArgs,
}

/// Options of the Exact Globe simulator (`--globe-...` where a name is taken by Exact Online).
#[derive(Args)]
pub struct GlobeArgs {
    /// Address of the Exact Globe simulator (the Entity Services' usual REST port is 8020).
    #[arg(
        long = "globe",
        id = "globe",
        value_name = "ADDR",
        default_value = "127.0.0.1:8020"
    )]
    pub addr: SocketAddr,
    /// Seed of the Exact Globe data and faults (default: --seed).
    #[arg(long = "globe-seed", id = "globe_seed", value_name = "SEED")]
    pub seed: Option<u64>,
    /// Folder of `<Entity>.json` arrays (Globe entity names) loaded after the generated data.
    #[arg(long = "globe-fixtures", id = "globe_fixtures", value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Items to generate per administration.
    #[arg(
        long = "globe-items",
        id = "globe_items",
        value_name = "N",
        default_value_t = 20
    )]
    pub items: usize,
    /// Debtors to generate per administration.
    #[arg(
        long = "globe-debtors",
        id = "globe_debtors",
        value_name = "N",
        default_value_t = 12
    )]
    pub debtors: usize,
    /// User for NTLM and Basic authentication.
    #[arg(
        long = "globe-user",
        id = "globe_user",
        value_name = "USER",
        default_value = "exflow"
    )]
    pub user: String,
    /// Its password (read from EXACT_GLOBE_PASSWORD when set).
    #[arg(
        long = "globe-password",
        id = "globe_password",
        value_name = "PASSWORD",
        env = "EXACT_GLOBE_PASSWORD",
        default_value = "exflow",
        hide_env_values = true
    )]
    pub password: String,
    /// An administration as `SERVER/DATABASE` (repeatable; the first is the default one).
    #[arg(
        long = "globe-admin",
        id = "globe_admin",
        value_name = "SERVER/DATABASE",
        default_value = "localhost/500"
    )]
    pub admins: Vec<String>,
    /// Fault injection, e.g. `latency=50ms,status503=0.1,restart=0.01,locked=0.05,drop=0.05,lost_post=0.1`.
    #[arg(
        long = "globe-faults",
        id = "globe_faults",
        value_name = "SPEC",
        default_value = ""
    )]
    pub faults: String,
}

impl std::fmt::Debug for GlobeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password stays out of logs.
        f.debug_struct("GlobeArgs")
            .field("addr", &self.addr)
            .field("seed", &self.seed)
            .field("fixtures", &self.fixtures)
            .field("items", &self.items)
            .field("debtors", &self.debtors)
            .field("user", &self.user)
            .field("password", &"***")
            .field("admins", &self.admins)
            .field("faults", &self.faults)
            .finish()
    }
}

impl GlobeArgs {
    /// The simulator configuration these options describe.
    pub fn config(&self, default_seed: u64) -> Result<GlobeSimConfig, String> {
        let faults: exact_globe::Faults = self
            .faults
            .parse()
            .map_err(|e| format!("--globe-faults: {e}"))?;
        let mut administrations = Vec::new();
        for a in &self.admins {
            let (server, database) = a
                .rsplit_once('/')
                .filter(|(s, d)| !s.is_empty() && !d.is_empty())
                .ok_or_else(|| format!("--globe-admin '{a}' is not SERVER/DATABASE"))?;
            administrations.push((server.to_string(), database.to_string()));
        }
        Ok(GlobeSimConfig {
            seed: self.seed.unwrap_or(default_seed),
            fixtures: self.fixtures.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
            administrations,
            faults,
            items: self.items,
            debtors: self.debtors,
        })
    }
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
    let globe_config = match args.globe.config(args.seed) {
        Ok(c) => c,
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
        if let Some(dir) = &args.project {
            if let Err(e) = log_in(dir, &online) {
                eprintln!("error: {e}");
                online.shutdown().await;
                return ExitCode::from(super::EXIT_INVALID);
            }
            eprintln!("{}: logged in to this simulator", dir.display());
        }
        println!("exact_online {}", online.base_url());
        let globe = match GlobeSim::start(globe_config, args.globe.addr).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot start the Exact Globe simulator on {}: {e}", args.globe.addr);
                online.shutdown().await;
                return ExitCode::from(super::EXIT_FAILED);
            }
        };
        println!("exact_globe {}", globe.base_url());
        eprintln!(
            "exact_globe: administrations {}; user {} (NTLM or Basic); test hooks /_sim/stats, /_sim/reset, /_sim/restart",
            args.globe.admins.join(", "),
            args.globe.user
        );
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
        globe.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Stores a token pair of `online` in the state of the project in `dir`.
fn log_in(dir: &std::path::Path, online: &OnlineSim) -> Result<(), String> {
    // Not strict: the credentials may be exported only where the pipelines run.
    let (project, diags) = crate::pipeline::load(&[dir.to_path_buf()], false);
    let project = match project {
        Some(p) if !diags.has_errors() => p,
        _ => {
            return Err(format!(
                "--project {}: the project does not load:\n{diags}",
                dir.display()
            ))
        }
    };
    super::demo::project::log_in(
        online,
        &project.state_path(),
        &OnlineSimConfig::default().client_id,
    )
    .map_err(|e| e.to_string())
}
