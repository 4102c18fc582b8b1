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
    /// Exact Globe: Entity Services root, e.g. `http://server:8020`.
    #[arg(long, env = "EXFLOW_GLOBE_URL")]
    pub globe_url: Option<String>,
    /// Exact Globe: SQL Server instance (`ServerName` header).
    #[arg(long, env = "EXFLOW_GLOBE_SERVER", default_value = "localhost")]
    pub globe_server: String,
    /// Exact Globe: administration database (`DatabaseName` header).
    #[arg(long, env = "EXFLOW_GLOBE_DATABASE", default_value = "500")]
    pub globe_database: String,
    /// Exact Globe: user (an active Globe employee; `DOMAIN\user` for NTLM). The password
    /// is read from `EXFLOW_GLOBE_PASSWORD` only.
    #[arg(long, env = "EXFLOW_GLOBE_USER")]
    pub globe_user: Option<String>,
    /// Exact Globe: `basic` or `ntlm`.
    #[arg(long, env = "EXFLOW_GLOBE_AUTH", default_value = "basic")]
    pub globe_auth: String,
    /// Exact Online: host (per country) or the simulator's URL. Credentials come from
    /// `EXACT_ONLINE_CLIENT_ID` / `EXACT_ONLINE_CLIENT_SECRET`, tokens from `--state`.
    #[arg(
        long,
        env = "EXACT_ONLINE_BASE_URL",
        default_value = "https://start.exactonline.nl"
    )]
    pub online_url: String,
    /// Exact Online: division (default: the user's current division).
    #[arg(long, env = "EXACT_ONLINE_DIVISION")]
    pub online_division: Option<i32>,
    /// Exact Online: the state store holding the tokens of `exflow auth exact-online`.
    #[arg(long = "state", default_value = ".exflow/state.db")]
    pub state: std::path::PathBuf,
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

fn globe_client(args: &FetchArgs) -> Result<ExactGlobeClient, ConnectorError> {
    let missing = |what: &str| ConnectorError::Config(format!("exact_globe needs {what}"));
    let url = args
        .globe_url
        .clone()
        .ok_or_else(|| missing("--globe-url or EXFLOW_GLOBE_URL"))?;
    let user = args
        .globe_user
        .clone()
        .ok_or_else(|| missing("--globe-user or EXFLOW_GLOBE_USER"))?;
    let password = std::env::var("EXFLOW_GLOBE_PASSWORD")
        .map_err(|_| missing("the password in EXFLOW_GLOBE_PASSWORD"))?;
    let mut config = GlobeConfig::new(
        url,
        &args.globe_server,
        &args.globe_database,
        user,
        password,
    );
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
