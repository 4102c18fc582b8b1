//! `exflow init [DIR]`: the set-up wizard. Asks for both connections (`prompt`, or the
//! flags with `--yes`: `answers`), runs the Exact Online authorization and tests Exact Globe,
//! reads both systems' payment conditions and VAT codes (`live`) to propose their mapping
//! (`tables`), writes the project (`write`), then validates and plans it.
//! Uses the auth, validate and plan commands' own code; writes no secret anywhere.

pub mod answers;
pub mod live;
pub mod prompt;
pub mod tables;
pub mod write;

use super::output::{render, Format};
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::engine::{run_pipeline, RunOptions};
use answers::{parse_country, parse_flows, parse_pairs, Answers, MatchBy};
use clap::Args;
use live::{LiveError, Lookups};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tables::{propose, Table};

/// Set up a project: connections, the Exact Online login, the flows and their mapping.
///
/// In a terminal it asks; `--yes` takes the flags (and the standard answers) instead.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project folder (created when missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Ask nothing: take the flags, and the standard answers for the rest.
    #[arg(long, short)]
    pub yes: bool,
    /// Replace an existing exflow.yaml (and the standard files beside it).
    #[arg(long)]
    pub force: bool,
    /// Exact Online host (per country), or the simulator's URL.
    #[arg(long, env = "EXACT_ONLINE_BASE_URL")]
    pub online_url: Option<String>,
    /// The app's client id.
    #[arg(long, env = "EXACT_ONLINE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The environment variable that holds the client secret (its name is written, never
    /// its value).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "EXACT_ONLINE_CLIENT_SECRET"
    )]
    pub client_secret_env: String,
    /// The redirect URI registered for the app (`exflow init` listens on it for the login).
    #[arg(long, env = "EXACT_ONLINE_REDIRECT_URI")]
    pub redirect_uri: Option<String>,
    /// Exact Globe: the Entity Services root, e.g. `http://server:8020`.
    #[arg(long, env = "EXACT_GLOBE_BASE_URL")]
    pub globe_url: Option<String>,
    /// Exact Globe: the SQL Server instance (`ServerName`).
    #[arg(long, env = "EXACT_GLOBE_SERVER")]
    pub globe_server: Option<String>,
    /// Exact Globe: the administration (`DatabaseName`, e.g. `500`).
    #[arg(long, env = "EXACT_GLOBE_DATABASE")]
    pub administration: Option<String>,
    /// Exact Globe: the integration user.
    #[arg(long, env = "EXACT_GLOBE_USER")]
    pub globe_user: Option<String>,
    /// The environment variable that holds the Globe password.
    #[arg(long, value_name = "NAME", default_value = "EXACT_GLOBE_PASSWORD")]
    pub globe_password_env: String,
    /// The flows to enable, comma-separated (default: all of products, customers,
    /// customer_contacts, orders).
    #[arg(long, value_delimiter = ',')]
    pub flows: Vec<String>,
    /// How customers are recognised in the other system.
    #[arg(long, value_enum)]
    pub match_customers_by: Option<MatchBy>,
    /// Exact Online's prices include VAT.
    #[arg(long)]
    pub prices_incl_vat: bool,
    /// The home country (ISO code; default NL).
    #[arg(long)]
    pub home_country: Option<String>,
    /// Put every order on this Globe debtor number.
    #[arg(long, value_name = "DEBTOR")]
    pub default_debtor: Option<String>,
    /// An Exact Online payment condition and the Globe one it becomes; repeatable.
    #[arg(long = "payment-condition", value_name = "ONLINE=GLOBE")]
    pub payment_conditions: Vec<String>,
    /// An Exact Online VAT code and the Globe one it becomes; repeatable.
    #[arg(long = "vat-code", value_name = "ONLINE=GLOBE")]
    pub vat_codes: Vec<String>,
    /// Do not run the Exact Online authorization now (`exflow auth exact-online` later).
    #[arg(long)]
    pub skip_auth: bool,
    /// Do not contact Exact Globe now.
    #[arg(long)]
    pub skip_globe_test: bool,
    /// Seconds to wait for the browser's redirect after the Exact Online login.
    #[arg(long, default_value_t = 300)]
    pub auth_timeout: u64,
}

/// Why `init` stopped.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InitError {
    /// A project is there already.
    #[error("{} exists already", .0.display())]
    #[diagnostic(
        code(init::exists),
        help(
            "pass --force to replace it (the state in .exflow/ is kept), or choose another folder"
        )
    )]
    Exists(PathBuf),
    /// No terminal to ask in.
    #[error("standard input is not a terminal, so exflow init cannot ask its questions")]
    #[diagnostic(
        code(init::no_terminal),
        help("pass --yes to take the flags and the standard answers: exflow init DIR --yes --online-url URL --client-id ID --globe-url URL --globe-user USER (see exflow init --help)")
    )]
    NoTerminal,
    /// A flag's value is wrong.
    #[error("{0}")]
    #[diagnostic(code(init::invalid))]
    Invalid(String),
    /// A secret the next step needs is not in the environment.
    #[error("environment variable `{0}` is not set")]
    #[diagnostic(
        code(init::secret),
        help("export it (exflow reads secrets only from the environment), or pass --skip-auth / --skip-globe-test")
    )]
    MissingSecret(String),
    /// A question could not be asked.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Prompt(#[from] prompt::PromptError),
    /// A system did not answer.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Live(#[from] LiveError),
    /// A file could not be written.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Write(#[from] write::WriteError),
}

impl InitError {
    fn exit_code(&self) -> u8 {
        match self {
            InitError::Live(_) | InitError::Write(_) => EXIT_FAILED,
            _ => EXIT_INVALID,
        }
    }
}

/// Runs the command.
pub fn run(args: InitArgs) -> ExitCode {
    match init(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", render(&e, std::io::stderr().is_terminal()));
            ExitCode::from(e.exit_code())
        }
    }
}

/// The answers the flags give, over the standard ones.
fn from_flags(args: &InitArgs, project: &str) -> Result<Answers, InitError> {
    let mut a = Answers::defaults(project);
    let set = |target: &mut String, given: &Option<String>| {
        if let Some(v) = given.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            *target = v.to_string();
        }
    };
    set(&mut a.online_url, &args.online_url);
    set(&mut a.client_id, &args.client_id);
    set(&mut a.redirect_uri, &args.redirect_uri);
    set(&mut a.globe_url, &args.globe_url);
    set(&mut a.globe_server, &args.globe_server);
    set(&mut a.administration, &args.administration);
    set(&mut a.globe_user, &args.globe_user);
    a.client_secret_env = args.client_secret_env.trim().to_string();
    a.globe_password_env = args.globe_password_env.trim().to_string();
    if !args.flows.is_empty() {
        a.flows = parse_flows(&args.flows).map_err(InitError::Invalid)?;
    }
    if let Some(m) = args.match_customers_by {
        a.match_by = m;
    }
    a.prices_incl_vat = args.prices_incl_vat;
    if let Some(c) = &args.home_country {
        a.home_country = parse_country(c).map_err(InitError::Invalid)?;
    }
    a.default_debtor = args
        .default_debtor
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty() && *d != "null")
        .map(str::to_string);
    Ok(a)
}

/// What the run learnt from the systems.
#[derive(Default)]
struct Reached {
    online: bool,
    globe: bool,
    lookups: Lookups,
}

fn init(args: &InitArgs) -> Result<ExitCode, InitError> {
    let dir = &args.dir;
    if dir.join("exflow.yaml").exists() && !args.force {
        return Err(InitError::Exists(dir.join("exflow.yaml")));
    }
    let ask = !args.yes;
    if ask && !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(InitError::NoTerminal);
    }
    let name = project_name(dir);
    let mut a = from_flags(args, &name)?;
    let state = dir.join(".exflow/state.db");
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| InitError::Invalid(format!("cannot start the runtime: {e}")))?;
    let mut reached = Reached::default();
    let mut secrets: Vec<(String, String)> = Vec::new();

    // Exact Online: the login, then what it holds.
    if ask {
        prompt::online(&mut a)?;
    }
    let login = !args.skip_auth && (!ask || prompt::confirm("Log in to Exact Online now?", true)?);
    if login {
        let secret = secret_of(&a.client_secret_env, ask, "Client secret")?;
        if a.client_id.is_empty() {
            return Err(InitError::Invalid(
                "the Exact Online login needs a client id: --client-id (or --skip-auth)".into(),
            ));
        }
        let show = |url: &str| {
            println!("Open this URL in a browser and log in to Exact Online:\n\n  {url}\n");
            println!("Waiting for the redirect...");
        };
        let timeout = Duration::from_secs(args.auth_timeout);
        match runtime.block_on(live::authorize(&a, &secret, &state, timeout, &show)) {
            Ok(division) => {
                println!("Connected to Exact Online division {division}.");
                a.division = Some(division);
                reached.online = true;
                match runtime.block_on(live::online_codes(&a, &secret, &state)) {
                    Ok((payment, vat)) => {
                        reached.lookups.online_payment = Some(payment);
                        reached.lookups.online_vat = Some(vat);
                    }
                    Err(e) => println!("warning: {e}; the standard tables are kept"),
                }
            }
            Err(e) if ask => {
                eprintln!("{}", render(&e, true));
                if !prompt::confirm("Go on without the Exact Online login?", true)? {
                    return Err(e.into());
                }
            }
            Err(e) => return Err(e.into()),
        }
        secrets.push((a.client_secret_env.clone(), secret));
    }

    // Exact Globe: one Account, then its codes.
    if ask {
        prompt::globe(&mut a)?;
    }
    if !args.skip_globe_test {
        let password = secret_of(&a.globe_password_env, ask, "Globe password")?;
        match runtime.block_on(live::globe_codes(&a, &password)) {
            Ok((payment, vat)) => {
                println!(
                    "Exact Globe answered: administration {} on {} at {}.",
                    a.administration, a.globe_server, a.globe_url
                );
                reached.globe = true;
                reached.lookups.globe_payment = Some(payment);
                reached.lookups.globe_vat = Some(vat);
            }
            Err(e) if ask => {
                eprintln!("{}", render(&e, true));
                if !prompt::confirm("Go on without testing Exact Globe?", true)? {
                    return Err(e.into());
                }
            }
            Err(e) => return Err(e.into()),
        }
        secrets.push((a.globe_password_env.clone(), password));
    }
    drop(runtime);

    if ask {
        prompt::flows(&mut a)?;
        prompt::mapping(&mut a)?;
    }
    map_codes(&mut a, args, &reached.lookups, ask)?;

    let files = write::files(&a, &reached.lookups).map_err(InitError::Invalid)?;
    write::write_all(dir, &files)?;
    println!("Wrote {} files into {}:", files.len() + 1, dir.display());
    for (name, _) in &files {
        println!("  {name}");
    }
    println!("  .gitignore (keeps .exflow/ and secret files out of git)");

    // The checks run as `exflow validate` and `exflow plan` would, with the secrets given
    // now. No other thread runs at this point (the runtime is gone), so the environment
    // can be changed safely.
    for (name, value) in &secrets {
        if std::env::var(name).map(|v| v.is_empty()).unwrap_or(true) {
            std::env::set_var(name, value);
        }
    }
    println!("\nexflow validate {}", dir.display());
    let valid = super::validate::run(super::validate::ValidateArgs {
        paths: vec![dir.clone()],
        format: Format::Text,
        verbose: false,
    });
    if valid != ExitCode::SUCCESS {
        return Ok(valid);
    }
    if reached.online && reached.globe {
        plan(dir, &a.flows);
    } else {
        println!("\nexflow plan: not run, as the wizard did not reach both systems; once it can:");
        println!("  exflow auth exact-online --project {}", dir.display());
    }
    println!(
        "\nNext: export {} and {} where exflow runs, then:",
        a.client_secret_env, a.globe_password_env
    );
    println!(
        "  cd {} && exflow plan {} && exflow run",
        dir.display(),
        a.flows[0]
    );
    Ok(ExitCode::SUCCESS)
}

/// The folder's name: `project:` in exflow.yaml.
fn project_name(dir: &Path) -> String {
    std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "exflow".into())
}

/// A secret from the environment variable `name`, or asked (hidden) in a terminal.
fn secret_of(name: &str, ask: bool, what: &str) -> Result<String, InitError> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ if ask => Ok(prompt::secret(&format!(
            "{what} (`{name}` is not set; used now, never written)"
        ))?),
        _ => Err(InitError::MissingSecret(name.to_string())),
    }
}

/// Payment conditions and VAT codes: proposed from both systems, then the flags, then asked.
fn map_codes(a: &mut Answers, args: &InitArgs, l: &Lookups, ask: bool) -> Result<(), InitError> {
    let flags = [
        ("--payment-condition", &args.payment_conditions),
        ("--vat-code", &args.vat_codes),
    ];
    for (i, (flag, given)) in flags.into_iter().enumerate() {
        let (table, what, online, globe) = if i == 0 {
            (
                "payment_conditions",
                "payment conditions",
                &l.online_payment,
                &l.globe_payment,
            )
        } else {
            ("vat_codes", "VAT codes", &l.online_vat, &l.globe_vat)
        };
        let mut map = propose(&Table::standard(table), online.as_deref(), globe.as_deref());
        for (from, to) in parse_pairs(given, flag).map_err(InitError::Invalid)? {
            map.insert(from, to);
        }
        if ask {
            prompt::codes(what, &mut map, online.as_deref(), globe.as_deref())?;
        }
        if i == 0 {
            a.payment_conditions = map;
        } else {
            a.vat_codes = map;
        }
    }
    Ok(())
}

/// Plans each flow as `exflow plan` does and prints its summary.
fn plan(dir: &Path, flows: &[String]) {
    let Some(project) = super::load::project(dir, Format::Text) else {
        return;
    };
    let Ok(pipelines) = super::load::pick(&project, &[]) else {
        return;
    };
    let pipelines: Vec<_> = pipelines
        .into_iter()
        .filter(|p| flows.contains(&p.name))
        .collect();
    let Ok(session) = super::session::Session::start(&project, &pipelines) else {
        return;
    };
    for p in pipelines {
        println!("\nexflow plan {}", p.name);
        let options = RunOptions {
            dry_run: true,
            ..RunOptions::default()
        };
        match session.runtime.block_on(run_pipeline(
            &project,
            p,
            &session.conns,
            &session.store,
            options,
        )) {
            Ok(report) => println!("{report}"),
            Err(e) => println!("plan {} stopped: {e}", p.name),
        }
    }
    println!("\n(a plan writes nothing: orders that need products or customers a run would create first may show as failing here)");
}
