//! `exflow webhooks subscribe|list|unsubscribe`: Exact Online webhook subscriptions, through
//! the API (`webhooks/WebhookSubscriptions`). The callback URL is
//! `{serve.public_url}/webhooks/exact-online` (exflow usually runs behind a reverse proxy
//! with a public HTTPS name), or `--callback`. Exact validates a new subscription with an
//! empty POST to the callback, so `exflow serve` must be reachable there when subscribing.

use super::connect::online_client;
use super::load;
use super::output::Format;
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::connectors::exact_online::client::Outcome;
use crate::connectors::exact_online::ExactOnlineClient;
use crate::connectors::System;
use crate::pipeline::Project;
use crate::serve::webhook::{topic_of, PATH};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// Webhook subscription commands.
#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: WebhooksCommand,
    /// The project folder (holding exflow.yaml).
    #[arg(long, global = true, default_value = ".")]
    pub project: PathBuf,
    /// The callback URL (default: `serve.public_url` + /webhooks/exact-online).
    #[arg(long, global = true)]
    pub callback: Option<String>,
}

/// Webhook subscription commands.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Subscribe the topics the project's Exact Online pipelines read (or those given).
    Subscribe {
        /// Topics (default: the source entities of the Exact Online pipelines).
        topics: Vec<String>,
    },
    /// List the app's subscriptions in the division.
    List,
    /// Remove the subscriptions to this callback URL.
    Unsubscribe,
}

const ENTITY: &str = "webhooks/WebhookSubscriptions";

/// The callback URL: `given`, else `serve.public_url` + the webhook path.
pub(crate) fn callback(project: &Project, given: &Option<String>) -> Result<String, String> {
    if let Some(c) = given {
        return Ok(c.clone());
    }
    match &project.config.serve.public_url {
        Some(u) => Ok(format!("{}{PATH}", u.trim_end_matches('/'))),
        None => {
            Err("no callback URL: set `serve.public_url` in exflow.yaml or pass --callback".into())
        }
    }
}

/// Every subscription of the app in the client's division (all pages).
pub(crate) async fn subscriptions(client: &ExactOnlineClient) -> Result<Vec<Value>, String> {
    let mut url = Some(client.url(ENTITY, &[]));
    let mut out = Vec::new();
    while let Some(u) = url {
        let page = client.get_page(&u).await.map_err(|e| e.to_string())?;
        out.extend(page.records.into_iter().map(Value::Object));
        url = page.next;
    }
    Ok(out)
}

/// A text field of a subscription (empty when absent).
pub(crate) fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or_default()
}

async fn act(project: &Project, args: &WebhooksArgs) -> Result<(), String> {
    let client = online_client(project).await.map_err(|e| e.to_string())?;
    let existing = subscriptions(&client).await?;
    match &args.command {
        WebhooksCommand::List => {
            for s in &existing {
                println!(
                    "{}\t{}\t{}",
                    field(s, "ID"),
                    field(s, "Topic"),
                    field(s, "CallbackURL")
                );
            }
            println!("{} subscription(s)", existing.len());
        }
        WebhooksCommand::Subscribe { topics } => {
            let url = callback(project, &args.callback)?;
            let mut topics = topics.clone();
            if topics.is_empty() {
                for p in &project.pipelines {
                    let t = topic_of(&p.source.entity).to_string();
                    if p.source.system == System::ExactOnline && !topics.contains(&t) {
                        topics.push(t);
                    }
                }
            }
            for topic in topics {
                let known = existing
                    .iter()
                    .any(|s| field(s, "Topic") == topic && field(s, "CallbackURL") == url);
                if known {
                    println!("{topic}: already subscribed");
                    continue;
                }
                let body = json!({"CallbackURL": url, "Topic": topic});
                match client
                    .post_once(ENTITY, &body)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    Outcome::Answer { status, body, .. } => {
                        ExactOnlineClient::created(status, &body).map_err(|e| e.to_string())?;
                        println!("{topic}: subscribed");
                    }
                    Outcome::NotSent(e) | Outcome::Lost(e) => {
                        return Err(format!(
                            "{topic}: {e} (run `exflow webhooks list` to see whether it was made)"
                        ))
                    }
                }
            }
        }
        WebhooksCommand::Unsubscribe => {
            let url = callback(project, &args.callback)?;
            let mut n = 0;
            for s in existing.iter().filter(|s| field(s, "CallbackURL") == url) {
                let id = field(s, "ID");
                let target = client.url(&format!("{ENTITY}(guid'{id}')"), &[]);
                match client
                    .call(Method::DELETE, &target, None)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    Outcome::Answer { status, .. } if (200..300).contains(&status) => n += 1,
                    Outcome::Answer { status, body, .. } => {
                        return Err(format!("{}: HTTP {status}: {body}", field(s, "Topic")))
                    }
                    Outcome::NotSent(e) | Outcome::Lost(e) => return Err(e),
                }
            }
            println!("{n} subscription(s) removed");
        }
    }
    Ok(())
}

/// Runs the command.
pub fn run(args: WebhooksArgs) -> ExitCode {
    let Some(project) = load::project(&args.project, Format::Text) else {
        return ExitCode::from(EXIT_INVALID);
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        return ExitCode::from(EXIT_FAILED);
    };
    match runtime.block_on(act(&project, &args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}
