//! Notifications: when a run fails, records fail (one message per run), the same record
//! fails run after run, the API budget runs low, or the Exact Online login is lost or about
//! to expire. Channels: a generic JSON webhook, Slack- and Teams-compatible incoming
//! webhooks, and e-mail over SMTP. A channel that fails is retried and logged; it never
//! stops a run (delivery happens in its own task).
//! May use: `pipeline` (the channel settings), `state` (redaction rules).

mod channels;
mod email;
pub mod message;

pub use message::{Event, FailedRecord, Message, Scrubber, Severity};

use crate::pipeline::service::Channel;
use crate::pipeline::Project;
use std::sync::Arc;
use std::time::Duration;

/// Attempts per channel and message.
const ATTEMPTS: u32 = 3;

/// Told when a delivery failed after every attempt (the service counts them).
pub type FailureHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Sends messages to every configured channel.
#[derive(Clone)]
pub struct Notifier {
    project: String,
    channels: Arc<Vec<Channel>>,
    scrubber: Arc<Scrubber>,
    http: reqwest::Client,
    on_failure: Option<FailureHook>,
    tasks: Arc<parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

/// The secrets of a project: never in a message.
fn secrets(project: &Project) -> Vec<String> {
    let mut out = Vec::new();
    let c = &project.config;
    if let Some(o) = &c.exact_online {
        out.push(o.client_secret.clone());
    }
    if let Some(g) = &c.exact_globe {
        out.push(g.password.clone());
    }
    if let Some(s) = &c.serve.webhook_secret {
        out.push(s.expose().to_string());
    }
    for ch in &c.notify.channels {
        match ch {
            Channel::Webhook { url } | Channel::Slack { url } | Channel::Teams { url } => {
                out.push(url.expose().to_string())
            }
            Channel::Email { password, .. } => {
                if let Some(p) = password {
                    out.push(p.expose().to_string());
                }
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// The project's name in messages: its folder's name.
pub fn project_name(project: &Project) -> String {
    std::fs::canonicalize(&project.root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".to_string())
}

impl Notifier {
    /// The notifier of `project`'s `notifications:`.
    pub fn new(project: &Project, on_failure: Option<FailureHook>) -> Notifier {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Notifier {
            project: project_name(project),
            channels: Arc::new(project.config.notify.channels.clone()),
            scrubber: Arc::new(Scrubber {
                secrets: secrets(project),
                redact: project.config.redact_payloads,
            }),
            http,
            on_failure,
            tasks: Arc::default(),
        }
    }

    /// How many channels are configured.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// The message `event` becomes.
    pub fn message(&self, event: &Event) -> Message {
        self.scrubber.message(&self.project, event)
    }

    /// Sends `event` in the background; returns at once.
    pub fn notify(&self, event: Event) {
        if self.channels.is_empty() {
            return;
        }
        let message = self.message(&event);
        tracing::info!(event = message.event, "notify: {}", message.title);
        let this = self.clone();
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let task = rt.spawn(async move {
            let _ = this.deliver(&message).await;
        });
        let mut tasks = self.tasks.lock();
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Waits (at most `limit`) for messages still being delivered, before the process ends.
    pub async fn flush(&self, limit: Duration) {
        let tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock());
        let _ = tokio::time::timeout(limit, futures::future::join_all(tasks)).await;
    }

    /// Delivers `message` to every channel, each with retries; returns the failures (one
    /// line per channel, without its URL or password).
    pub async fn deliver(&self, message: &Message) -> Vec<String> {
        let mut failures = Vec::new();
        for (i, channel) in self.channels.iter().enumerate() {
            let name = format!("channel {} ({})", i + 1, kind(channel));
            let mut last = String::new();
            let mut ok = false;
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(250 * 4u64.pow(attempt - 1))).await;
                }
                let result = match channel {
                    Channel::Email { .. } => email::send(channel, message).await,
                    _ => channels::post(&self.http, channel, message).await,
                };
                match result {
                    Ok(()) => {
                        ok = true;
                        break;
                    }
                    Err(e) => {
                        last = self.scrubber.clean(&e);
                        tracing::warn!(attempt = attempt + 1, "notify: {name} failed: {last}");
                    }
                }
            }
            if !ok {
                tracing::error!("notify: {name} gave up after {ATTEMPTS} attempts: {last}");
                if let Some(hook) = &self.on_failure {
                    hook(&name);
                }
                failures.push(format!("{name}: {last}"));
            }
        }
        failures
    }
}

fn kind(c: &Channel) -> &'static str {
    match c {
        Channel::Webhook { .. } => "webhook",
        Channel::Slack { .. } => "slack",
        Channel::Teams { .. } => "teams",
        Channel::Email { .. } => "email",
    }
}
