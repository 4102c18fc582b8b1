//! `exflow fetch SYSTEM ENTITY`: reads records straight from a system, through the same
//! client the pipelines use (paging, padding, casing, retries), to look at data while writing
//! a pipeline. Exit 2 on bad options or settings, 1 when the system refused or failed.

use std::process::ExitCode;

use serde_json::Value;

use super::{EXIT_FAILED, EXIT_INVALID};
use crate::connectors::exact_globe::{ExactGlobeClient, GlobeAuth, GlobeConfig};
use crate::connectors::{CallCount, ConnectorError, Record, System};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One compact JSON record per line, a summary on stderr.
    Text,
    /// One JSON document: `{"entity", "records", "calls"}`.
    Json,
}

/// Arguments of `exflow fetch`.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// `exact_globe` (or `exact_online`).
    pub system: String,
    /// Entity as the system names it, any casing (`Account`, `salesorderline`).
    pub entity: String,
    /// A native OData `$filter`, passed as written (codes must be padded by hand; prefer
    /// `--key`).
    #[arg(long)]
    pub filter: Option<String>,
    /// `FIELD=VALUE`: records whose FIELD equals VALUE, codes padded for you; repeatable
    /// (all values of one field in one batched lookup).
    #[arg(long = "key", value_name = "FIELD=VALUE")]
    pub keys: Vec<String>,
    /// At most this many records.
    #[arg(long)]
    pub top: Option<usize>,
    /// Properties to read, comma-separated, any casing.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The project whose `exflow.yaml` gives the connections (flags and the environment
    /// override it); without a project file only flags and the environment count.
    #[arg(long, default_value = ".")]
    pub project: std::path::PathBuf,
    /// Exact Globe: Entity Services root, e.g. `http://server:8020` (default: the project's
    /// `connections.exact_globe.base_url`).
    #[arg(long, env = "EXACT_GLOBE_BASE_URL")]
    pub globe_url: Option<String>,
    /// Exact Globe: SQL Server instance (`ServerName` header; default `localhost`).
    #[arg(long, env = "EXACT_GLOBE_SERVER")]
    pub globe_server: Option<String>,
    /// Exact Globe: administration database (`DatabaseName` header; default `500`).
    #[arg(long, env = "EXACT_GLOBE_DATABASE")]
    pub globe_database: Option<String>,
    /// Exact Globe: user (an active Globe employee; `DOMAIN\user` for NTLM). The password
    /// comes from `EXACT_GLOBE_PASSWORD` or the project file, never from a flag.
    #[arg(long, env = "EXACT_GLOBE_USER")]
    pub globe_user: Option<String>,
    /// Exact Globe: `basic` or `ntlm`.
    #[arg(long, env = "EXACT_GLOBE_AUTH", default_value = "basic")]
    pub globe_auth: String,
    /// Exact Online: host (per country) or the simulator's URL (default: the project's
    /// `base_url`, else `https://start.exactonline.nl`). Credentials come from
    /// `EXACT_ONLINE_CLIENT_ID` / `EXACT_ONLINE_CLIENT_SECRET` or the project file.
    #[arg(long, env = "EXACT_ONLINE_BASE_URL")]
    pub online_url: Option<String>,
    /// Exact Online: division (default: the project's, else the user's current division).
    #[arg(long, env = "EXACT_ONLINE_DIVISION")]
    pub online_division: Option<i32>,
    /// Exact Online: the state store holding the tokens of `exflow auth exact-online`
    /// (default: the project's `state`, else `.exflow/state.db`).
    #[arg(long = "state")]
    pub state: Option<std::path::PathBuf>,
}

/// Runs `exflow fetch`.
pub fn run(args: FetchArgs) -> ExitCode {
    let system = match System::parse(&args.system) {
        Some(s) => s,
        None => {
            eprintln!(
                "error: unknown system {:?} (exact_globe or exact_online)",
                args.system
            );
            return ExitCode::from(EXIT_INVALID);
        }
    };
    if system == System::ExactOnline {
        return super::fetch_online::run(&args);
    }
    let client = match globe_client(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match runtime.block_on(fetch_globe(&client, &args)) {
        Ok(records) => {
            print(&args, System::ExactGlobe, &records, client.calls());
            ExitCode::SUCCESS
        }
        Err(e @ ConnectorError::Config(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INVALID)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// The connection settings `fetch` uses: flags and the environment first, then the
/// project file, then the defaults. Both systems' commands read the same names.
pub(crate) struct Settings {
    /// The project's connections, when there is a project file.
    pub project: Option<crate::pipeline::ProjectConfig>,
    /// The project root (for a relative `state:`).
    pub root: std::path::PathBuf,
}

impl Settings {
    /// Reads the project file of `--project`, if there is one.
    pub fn read(args: &FetchArgs) -> Settings {
        match crate::pipeline::read_connections(&args.project) {
            Some((root, config)) => Settings {
                project: Some(config),
                root,
            },
            None => Settings {
                project: None,
                root: args.project.clone(),
            },
        }
    }

    /// The project's Globe connection.
    pub fn globe(&self) -> Option<&crate::pipeline::GlobeConnection> {
        self.project.as_ref().and_then(|c| c.exact_globe.as_ref())
    }

    /// The project's Exact Online connection.
    pub fn online(&self) -> Option<&crate::pipeline::OnlineConnection> {
        self.project.as_ref().and_then(|c| c.exact_online.as_ref())
    }

    /// The state store: `--state`, else the project's, else `.exflow/state.db`.
    pub fn state(&self, args: &FetchArgs) -> std::path::PathBuf {
        if let Some(s) = &args.state {
            return s.clone();
        }
        match &self.project {
            Some(c) if c.state.is_absolute() => c.state.clone(),
            Some(c) => self.root.join(&c.state),
            None => std::path::PathBuf::from(".exflow/state.db"),
        }
    }
}

/// A value given (flag or environment), or the project's; empty text counts as not given.
/// The one precedence rule of `fetch` and `auth`.
pub(crate) fn given_or(flag: &Option<String>, project: Option<&String>) -> Option<String> {
    flag.clone()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| project.filter(|v| !v.trim().is_empty()).cloned())
}

fn globe_client(args: &FetchArgs) -> Result<ExactGlobeClient, ConnectorError> {
    let settings = Settings::read(args);
    let project = settings.globe();
    let missing = |what: &str| ConnectorError::Config(format!("exact_globe needs {what}"));
    let url = given_or(&args.globe_url, project.map(|c| &c.base_url)).ok_or_else(|| {
        missing("a base URL: --globe-url, EXACT_GLOBE_BASE_URL or connections.exact_globe.base_url in exflow.yaml")
    })?;
    let user = given_or(&args.globe_user, project.map(|c| &c.user)).ok_or_else(|| {
        missing("a user: --globe-user, EXACT_GLOBE_USER or connections.exact_globe.user")
    })?;
    let password = given_or(
        &std::env::var("EXACT_GLOBE_PASSWORD").ok(),
        project.map(|c| &c.password),
    )
    .ok_or_else(|| missing("a password: EXACT_GLOBE_PASSWORD"))?;
    let server = given_or(&args.globe_server, project.map(|c| &c.server_name))
        .unwrap_or_else(|| "localhost".into());
    let database = given_or(&args.globe_database, project.map(|c| &c.database_name))
        .unwrap_or_else(|| "500".into());
    let mut config = GlobeConfig::new(url, server, database, user, password);
    config.auth = GlobeAuth::parse(&args.globe_auth).ok_or_else(|| {
        ConnectorError::Config(format!(
            "--globe-auth must be basic or ntlm, not {:?}",
            args.globe_auth
        ))
    })?;
    ExactGlobeClient::new(config)
}

async fn fetch_globe(
    client: &ExactGlobeClient,
    args: &FetchArgs,
) -> Result<Vec<Record>, ConnectorError> {
    if args.keys.is_empty() {
        return client
            .query(
                &args.entity,
                args.filter.as_deref(),
                &args.select,
                None,
                args.top,
            )
            .await;
    }
    if args.filter.is_some() {
        return Err(ConnectorError::Config(
            "use either --filter or --key, not both".into(),
        ));
    }
    // Group the values by field: one batched lookup per field.
    let mut by_field: Vec<(String, Vec<Value>)> = Vec::new();
    for pair in &args.keys {
        let (field, value) = pair
            .split_once('=')
            .ok_or_else(|| ConnectorError::Config(format!("--key {pair:?} is not FIELD=VALUE")))?;
        let field = field.trim();
        match by_field
            .iter_mut()
            .find(|(f, _)| f.eq_ignore_ascii_case(field))
        {
            Some((_, values)) => values.push(Value::from(value)),
            None => by_field.push((field.to_string(), vec![Value::from(value)])),
        }
    }
    let mut out = Vec::new();
    for (field, values) in by_field {
        out.extend(
            client
                .lookup_records(&args.entity, &field, &values, &args.select)
                .await?,
        );
    }
    if let Some(top) = args.top {
        out.truncate(top);
    }
    Ok(out)
}

/// Prints fetched records (both systems): JSON with the calls spent, or one record a line.
pub(crate) fn print(args: &FetchArgs, system: System, records: &[Record], calls: CallCount) {
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "system": system.as_str(),
                "entity": args.entity,
                "records": records,
                "calls": calls,
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            for r in records {
                println!("{}", Value::Object(r.clone()));
            }
            eprintln!("{} records, {} calls", records.len(), calls.total());
        }
    }
}
