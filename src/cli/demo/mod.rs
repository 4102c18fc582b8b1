//! `exflow demo`: the main job on the embedded default, on a fresh machine. Starts both
//! simulators in-process with seeded data, writes a project pointing at them (`project`),
//! runs the standard pipelines (products, customers, customer contacts, orders: items and
//! debtors first),
//! prints what each did and the API calls per order (`calls`), then runs them again to show
//! that nothing is duplicated. Uses the engine and the simulators through their public API.

pub mod calls;
pub mod project;

use super::connect::{connectors, state_store};
use super::output::Format;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::engine::{run_pipeline, Decision, RunOptions, RunReport};
use crate::sim::exact_globe::GlobeSimConfig;
use crate::sim::exact_online::OnlineSimConfig;
use crate::state::StateStore;
use calls::OrderCalls;
use clap::Args;
use project::{SetupError, Sims};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Prints a line on stdout; a closed pipe (`exflow demo | head`) is not an error worth a
/// panic.
macro_rules! say {
    () => {{
        let _ = writeln!(std::io::stdout());
    }};
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The standard pipelines in the order they must run: products and customers before the
/// orders that need them.
pub const PIPELINES: [&str; 4] = ["products", "customers", "customer_contacts", "orders"];

/// Run the standard pipelines between two simulators, twice.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the simulators' data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Sales orders to generate in Exact Online (about a quarter of them are open, and
    /// those are the ones the orders flow takes).
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..=20_000))]
    pub orders: u64,
    /// Write the project here (a new or empty folder) and keep it; default: a temporary
    /// folder, removed at the end.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Output format (`json`: `{"runs":[...]}`, the first pass's runs then the second's).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The simulator settings the demo uses for `orders` orders: realistic limits except the
/// minutely one (a demo should not wait out the 60-a-minute window between pipelines).
pub fn sim_configs(seed: u64, orders: usize) -> (OnlineSimConfig, GlobeSimConfig) {
    let online = OnlineSimConfig {
        seed,
        orders,
        customers: (orders / 5).clamp(12, 400),
        products: 60,
        minutely_limit: 10_000,
        ..OnlineSimConfig::default()
    };
    let globe = GlobeSimConfig {
        seed,
        ..GlobeSimConfig::default()
    };
    (online, globe)
}

/// One pipeline run of the demo.
struct DemoRun {
    pass: u8,
    name: String,
    report: Result<RunReport, String>,
    order_calls: Option<OrderCalls>,
}

impl DemoRun {
    fn created(&self) -> u64 {
        match &self.report {
            Ok(r) => r.entities.values().map(|c| c.created).sum(),
            Err(_) => 0,
        }
    }

    fn failed(&self) -> bool {
        match &self.report {
            Ok(r) => r.total_failed() > 0,
            Err(_) => true,
        }
    }

    /// The run's summary, and the records its `requires` made or found (accounts,
    /// assortments) under `required`, per entity.
    fn to_json(&self) -> Value {
        match &self.report {
            Ok(r) => {
                let mut doc = r.to_json();
                let required: serde_json::Map<String, Value> = r
                    .entities
                    .iter()
                    .filter(|(entity, _)| **entity != r.entity)
                    .map(|(entity, c)| (entity.clone(), json!(c)))
                    .collect();
                doc["required"] = Value::Object(required);
                doc
            }
            Err(e) => json!({"pipeline": self.name, "error": e}),
        }
    }
}

/// Runs the command.
pub fn run(args: DemoArgs) -> ExitCode {
    let orders = usize::try_from(args.orders).unwrap_or(usize::MAX);
    let (online, globe) = sim_configs(args.seed, orders);
    // Before any thread exists: the project reads the credentials from the environment.
    project::export_credentials(&online, &globe);
    let temp;
    let dir = match &args.dir {
        Some(d) => match prepare_dir(d) {
            Ok(()) => d.clone(),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(EXIT_INVALID);
            }
        },
        None => match tempfile::Builder::new().prefix("exflow-demo-").tempdir() {
            Ok(t) => {
                temp = t;
                temp.path().to_path_buf()
            }
            Err(e) => {
                eprintln!("error: cannot create a temporary folder: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        },
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let text = args.format == Format::Text;
    let result = runtime.block_on(async {
        let sims = Sims::start(online, globe).await?;
        let out = demo(&dir, &sims, text, args.dir.is_some()).await;
        sims.shutdown().await;
        out
    });
    let runs = match result {
        Ok(runs) => runs,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let ok = verdict(&runs, text);
    if text && args.dir.is_some() {
        print_continue(&dir, args.seed, orders);
    }
    if !text {
        let list: Vec<Value> = runs.iter().map(DemoRun::to_json).collect();
        let doc = json!({ "runs": list });
        say!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// A given folder must be new or empty: a state store left by an earlier demo would point
/// at records of simulators that no longer run.
fn prepare_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} is not empty: the demo writes a fresh project (choose a new or empty folder)",
                dir.display()
            ));
        }
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Sets up the project and runs the standard pipelines twice; the runs in order.
async fn demo(dir: &Path, sims: &Sims, text: bool, keep: bool) -> Result<Vec<DemoRun>, SetupError> {
    let project = project::write_project(dir, sims)?;
    if text {
        print_intro(dir, sims, keep);
    }
    let pipelines: Vec<_> = PIPELINES
        .iter()
        .filter_map(|name| project.pipeline(name))
        .collect();
    if pipelines.len() != PIPELINES.len() {
        return Err(SetupError::Project(format!(
            "expected the pipelines {}",
            PIPELINES.join(", ")
        )));
    }
    let conns = connectors(&project, &pipelines)
        .await
        .map_err(|e| SetupError::Project(e.to_string()))?;
    let store = state_store(&project).map_err(|e| SetupError::Project(e.to_string()))?;
    let mut runs = Vec::new();
    for pass in [1u8, 2] {
        if text {
            say!();
            say!("{}", pass_title(pass));
        }
        if pass == 2 {
            // Forget where the first pass stopped: every record is read and recognised again.
            for pipeline in &pipelines {
                store
                    .cursor_clear(&pipeline.name)
                    .map_err(|e| SetupError::Project(e.to_string()))?;
            }
        }
        for pipeline in &pipelines {
            let is_orders = pipeline.name == "orders";
            let options = RunOptions {
                keep_decisions: is_orders,
                ..RunOptions::default()
            };
            let before = (sims.online.stats(), sims.globe.stats());
            let report = run_pipeline(&project, pipeline, &conns, &store, options)
                .await
                .map_err(|e| e.to_string());
            let after = (sims.online.stats(), sims.globe.stats());
            let order_calls = match &report {
                Ok(r) if is_orders => Some(OrderCalls::measure(
                    orders_taken(r),
                    r.records_read,
                    &before.0,
                    &after.0,
                    &before.1,
                    &after.1,
                )),
                _ => None,
            };
            let run = DemoRun {
                pass,
                name: pipeline.name.clone(),
                report,
                order_calls,
            };
            if text {
                print_run(&run, pipeline);
            }
            runs.push(run);
        }
    }
    if keep {
        // The kept project outlives these simulators: a fresh `exflow sim` starts from its
        // seed data, so what this state knows of their records would only mislead a run.
        store
            .forget_systems()
            .map_err(|e| SetupError::Project(e.to_string()))?;
    }
    Ok(runs)
}

/// Orders the flow took (not left out by its `where`: open orders with lines).
fn orders_taken(report: &RunReport) -> u64 {
    report
        .decisions
        .iter()
        .filter(|d| d.entity == report.entity)
        .filter(|d| !matches!(&d.decision, Decision::Skip { reason } if reason.contains("filtered out")))
        .count() as u64
}

fn pass_title(pass: u8) -> &'static str {
    if pass == 1 {
        "First pass: products, then customers, then orders"
    } else {
        "Second pass: the same pipelines again, cursors forgotten so every record is read again \
         (nothing may be created twice)"
    }
}

fn text_of(v: &Value) -> &str {
    v.as_str().map(str::trim).unwrap_or("")
}

/// What the simulators were seeded with.
fn print_intro(dir: &Path, sims: &Sims, keep: bool) {
    let orders = sims.online.records("SalesOrders");
    let lines = sims.online.records("SalesOrderLines");
    let open: Vec<&Value> = orders
        .iter()
        .filter(|o| o["Status"] == 12)
        .filter(|o| lines.iter().any(|l| l["OrderID"] == o["OrderID"]))
        .collect();
    let accounts = sims.online.records("Accounts");
    let companies = accounts
        .iter()
        .filter(|a| {
            !text_of(&a["ChamberOfCommerce"]).is_empty() || !text_of(&a["VATNumber"]).is_empty()
        })
        .count();
    let items = sims.online.records("Items");
    let stock = items.iter().filter(|i| i["IsStockItem"] == true).count();
    let mut groups: std::collections::BTreeMap<String, usize> = Default::default();
    for item in &items {
        *groups
            .entry(text_of(&item["ItemGroupCode"]).to_string())
            .or_default() += 1;
    }
    let groups: Vec<String> = groups
        .iter()
        .map(|(g, n)| format!("{n} {}", if g.is_empty() { "-" } else { g }))
        .collect();
    say!("exflow demo: the standard pipelines between two simulators");
    say!(
        "  Exact Online simulator {} (division {}): {} sales orders ({} open with lines, {} lines in all), \
         {} accounts ({} companies, {} persons), {} items ({} stock, {} not stocked; by item group: {})",
        sims.online.base_url(),
        sims.online.division(),
        orders.len(),
        open.len(),
        lines.len(),
        accounts.len(),
        companies,
        accounts.len() - companies,
        items.len(),
        stock,
        items.len() - stock,
        groups.join(", ")
    );
    say!(
        "  Exact Globe simulator {}: {} debtors, {} items",
        sims.globe.base_url(),
        sims.globe.records("Account").len(),
        sims.globe.records("Item").len()
    );
    let fate = if keep {
        "kept"
    } else {
        "removed at the end; --dir DIR keeps it"
    };
    say!(
        "  project: {} (exflow.yaml, pipelines/, .exflow/state.db; {fate})",
        dir.display()
    );
}

fn print_run(run: &DemoRun, pipeline: &crate::pipeline::Pipeline) {
    let report = match &run.report {
        Ok(r) => r,
        Err(e) => {
            say!("run {} stopped: {e}", run.name);
            return;
        }
    };
    say!("{report}");
    for f in report.failures.iter().take(10) {
        if let Decision::Fail { reason } = &f.decision {
            say!("  failed {}: {reason}", f.describe(pipeline, false));
        }
    }
    if let Some(c) = &run.order_calls {
        say!("{c}");
    }
    let updated = report.main_counts().updated;
    if run.pass == 2 && run.name == "customers" && updated > 0 {
        say!(
            "  ({updated} updated: the debtors the orders flow created in Exact Globe go back to \
             Exact Online once, with their debtor number and revenue account)"
        );
    }
}

/// Exactly how to go on with the kept project: `exflow sim` on the addresses its
/// `exflow.yaml` names, logging the project in, with the simulators' credentials.
fn print_continue(dir: &Path, seed: u64, orders: usize) {
    let (online, _) = sim_configs(seed, orders);
    let shown = dir.display();
    say!();
    say!(
        "The project is kept in {shown}. The demo's simulators are gone; it forgot their cursors and id map (`exflow runs` still lists the demo's runs). To go on with it:"
    );
    say!(
        "  exflow sim --seed {seed} --orders {orders} --customers {} --online-minutely-limit {} --project {shown}   # in another terminal: the same simulators on {} and {}, and {shown} logged in",
        online.customers,
        online.minutely_limit,
        project::SIM_ONLINE_URL,
        project::SIM_GLOBE_URL
    );
    say!("  cd {shown}");
    say!(
        "  export EXACT_ONLINE_CLIENT_ID={} EXACT_ONLINE_CLIENT_SECRET={} EXACT_GLOBE_USER=exflow EXACT_GLOBE_PASSWORD=exflow   # the simulators' own credentials",
        online.client_id,
        online.client_secret
    );
    say!("  exflow plan products   # what a run would do: the items first, orders need them");
    say!("  exflow run             # every pipeline, items and debtors before the orders");
}

/// Prints (in text) what the demo showed; whether it did what it should: nothing failed,
/// and the second pass created nothing.
fn verdict(runs: &[DemoRun], text: bool) -> bool {
    let failed = runs.iter().filter(|r| r.failed()).count();
    let again: u64 = runs
        .iter()
        .filter(|r| r.pass == 2)
        .map(DemoRun::created)
        .sum();
    let first: u64 = runs
        .iter()
        .filter(|r| r.pass == 1)
        .map(DemoRun::created)
        .sum();
    let ok = failed == 0 && again == 0;
    if text {
        say!();
        if ok {
            say!(
                "Result: ok. The first pass created {first} records; the second created none \
                 (every record was found again through the id map and the match keys)."
            );
            say!(
                "The seeded data has no order with an item missing in Exact Globe: the products \
                 flow runs first, so no order fails on purpose."
            );
        } else {
            say!(
                "Result: NOT ok. {failed} runs had failures; the second pass created {again} records \
                 (it should create none)."
            );
        }
    }
    ok
}
