//! `exflow fetch exact_online ENTITY`: the Exact Online half of `exflow fetch`, through the
//! production client (stored tokens, shared rate limiter, paging, padded codes). The app's
//! credentials come from `EXACT_ONLINE_CLIENT_ID` / `EXACT_ONLINE_CLIENT_SECRET`; run
//! `exflow auth exact-online` first.

use super::fetch::FetchArgs;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::connectors::exact_online::{ExactOnlineClient, OnlineConfig};
use crate::connectors::{Connector, ConnectorError, FetchQuery, Record, System};
use crate::state::tokens::TokenStore;
use serde_json::Value;
use std::process::ExitCode;

/// Runs `exflow fetch exact_online ...`.
pub fn run(args: &FetchArgs) -> ExitCode {
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
    match runtime.block_on(fetch(args)) {
        Ok((records, client)) => {
            super::fetch::print(args, System::ExactOnline, &records, client.calls());
            ExitCode::SUCCESS
        }
        Err(e @ ConnectorError::Config(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INVALID)
        }
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    if let Some(src) = e.source() {
        // Said once: many errors quote their source already.
        let t = src.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
    }
    s
}

async fn fetch(args: &FetchArgs) -> Result<(Vec<Record>, ExactOnlineClient), ConnectorError> {
    let settings = super::fetch::Settings::read(args);
    let project = settings.online();
    let given = |name: &str, from_project: Option<&String>| {
        super::fetch::given_or(&std::env::var(name).ok(), from_project).ok_or_else(|| {
            ConnectorError::Config(format!(
                "exact_online needs {name} (or its value in exflow.yaml)"
            ))
        })
    };
    let base_url = super::fetch::given_or(&args.online_url, project.map(|c| &c.base_url))
        .unwrap_or_else(|| "https://start.exactonline.nl".into());
    let mut config = OnlineConfig::new(
        &base_url,
        &given("EXACT_ONLINE_CLIENT_ID", project.map(|c| &c.client_id))?,
        &given(
            "EXACT_ONLINE_CLIENT_SECRET",
            project.map(|c| &c.client_secret),
        )?,
    );
    config.division = args.online_division.or(project.and_then(|c| c.division));
    let store = TokenStore::open(&settings.state(args))
        .map_err(|e| ConnectorError::Config(format!("state store: {e}")))?;
    let client = ExactOnlineClient::new(config, store).await?;
    let top = args.top.unwrap_or(usize::MAX);
    let mut out: Vec<Record> = Vec::new();
    if !args.keys.is_empty() {
        if args.filter.is_some() {
            return Err(ConnectorError::Config(
                "use either --filter or --key, not both".into(),
            ));
        }
        let mut by_field: Vec<(String, Vec<Value>)> = Vec::new();
        for pair in &args.keys {
            let (field, value) = pair.split_once('=').ok_or_else(|| {
                ConnectorError::Config(format!("--key {pair:?} is not FIELD=VALUE"))
            })?;
            let field = field.trim().to_string();
            match by_field.iter_mut().find(|(f, _)| *f == field) {
                Some((_, values)) => values.push(Value::from(value)),
                None => by_field.push((field, vec![Value::from(value)])),
            }
        }
        for (field, values) in by_field {
            out.extend(
                client
                    .lookup(&args.entity, &field, &values, &args.select)
                    .await?,
            );
        }
    } else {
        let mut q = FetchQuery {
            entity: args.entity.clone(),
            filter: args.filter.clone(),
            select: args.select.clone(),
            ..FetchQuery::default()
        };
        // Page after page until enough records are read.
        while out.len() < top {
            let page = client.fetch_page(&q).await?;
            out.extend(page.records);
            if !page.more {
                break;
            }
            q.cursor = page.cursor;
        }
    }
    out.truncate(top);
    Ok((out, client))
}
