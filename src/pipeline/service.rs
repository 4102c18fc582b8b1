//! The `serve:` and `notifications:` sections of `exflow.yaml`: how `exflow serve` listens,
//! verifies webhooks and tells people when something breaks. Read as YAML, `${ENV}` filled
//! in, then checked by serde so that a typo is a diagnostic (E122) at its line.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::project::interpolate;
use super::schedule::Schedule;
use super::source::Loc;
use serde::Deserialize;
use serde_json::Value;

/// A value that must never be printed (webhook URLs embed their token, passwords).
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[secret]")
    }
}

impl Secret {
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `serve:` in `exflow.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// The public HTTPS base URL of this service (behind the reverse proxy); webhooks are
    /// subscribed with `{public_url}/webhooks/exact-online`.
    pub public_url: Option<String>,
    /// The Exact Online app's webhook secret (keys the `HashCode`), from the environment.
    pub webhook_secret: Option<Secret>,
    /// Notifications arriving within this many milliseconds become one run.
    pub debounce_ms: u64,
    /// How often the project files are checked for changes.
    pub reload_seconds: u64,
    /// When the activity log is purged (cron); `retention_days` says what goes.
    pub purge_schedule: String,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            public_url: None,
            webhook_secret: None,
            debounce_ms: 500,
            reload_seconds: 2,
            purge_schedule: "0 3 * * *".to_string(),
        }
    }
}

/// One notification channel.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Channel {
    /// A generic webhook: a JSON body (documented in the README) POSTed to `url`.
    Webhook {
        /// Where to POST.
        url: Secret,
    },
    /// A Slack incoming webhook (`{"text": ...}`).
    Slack {
        /// The incoming webhook URL.
        url: Secret,
    },
    /// A Microsoft Teams incoming webhook (a MessageCard).
    Teams {
        /// The incoming webhook URL.
        url: Secret,
    },
    /// E-mail over SMTP.
    Email {
        /// The relay.
        smtp_host: String,
        /// Its port (587 for STARTTLS, 465 for TLS).
        #[serde(default = "default_smtp_port")]
        smtp_port: u16,
        /// `starttls` (default), `tls`, or `none` (only for a relay on this machine).
        #[serde(default)]
        tls: SmtpTls,
        /// Login, from the environment.
        #[serde(default)]
        username: Option<Secret>,
        /// Password, from the environment.
        #[serde(default)]
        password: Option<Secret>,
        /// Sender address.
        from: String,
        /// Recipients.
        to: Vec<String>,
    },
}

fn default_smtp_port() -> u16 {
    587
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the first byte.
    Tls,
    /// No encryption: only for a relay on localhost.
    None,
}

/// `notifications:` in `exflow.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Where messages go.
    pub channels: Vec<Channel>,
    /// Tell when the same record failed this many runs in a row.
    pub repeated_failures: u32,
    /// Tell when less than this share (percent) of the daily API budget is left.
    pub budget_warning_percent: u32,
    /// Tell when the Exact Online refresh token has not been used for this many days (it
    /// dies after 30).
    pub token_idle_warning_days: u32,
    /// How many failed records a message lists (the count is always complete).
    pub max_listed: usize,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            channels: Vec::new(),
            repeated_failures: 3,
            budget_warning_percent: 10,
            token_idle_warning_days: 25,
            max_listed: 5,
        }
    }
}

/// Fills `${ENV}` into every text of a JSON tree.
fn interpolate_all(v: Value, loc: &Loc, strict: bool, diags: &mut Diagnostics) -> Value {
    match v {
        Value::String(s) => Value::String(interpolate(&s, loc, strict, diags)),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| interpolate_all(x, loc, strict, diags))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, interpolate_all(x, loc, strict, diags)))
                .collect(),
        ),
        other => other,
    }
}

/// Reads one section (`serve` or `notifications`) from its YAML value.
pub fn read_section<T: serde::de::DeserializeOwned + Default>(
    value: Value,
    what: &str,
    loc: &Loc,
    strict: bool,
    diags: &mut Diagnostics,
) -> T {
    let value = interpolate_all(value, loc, strict, diags);
    let value = match value {
        // An empty section means the defaults.
        Value::Null => return T::default(),
        v => v,
    };
    match serde_json::from_value::<T>(value) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error("E122", loc.clone(), format!("`{what}`: {e}"))
                    .with_help("see README, \"Running as a service\", for every key of `serve:` and `notifications:`"),
            );
            T::default()
        }
    }
}

/// Checks what serde cannot in `serve:`: the purge schedule parses, the URL is one.
pub fn check_serve(serve: &ServeConfig, loc: &Loc, diags: &mut Diagnostics) {
    if let Err(e) = Schedule::parse(&serve.purge_schedule) {
        diags.push(Diagnostic::error(
            "E121",
            loc.clone(),
            format!("`serve.purge_schedule`: {e}"),
        ));
    }
    if let Some(u) = &serve.public_url {
        if url::Url::parse(u).is_err() {
            diags.push(Diagnostic::error(
                "E122",
                loc.clone(),
                format!("`serve.public_url` `{u}` is not a URL"),
            ));
        }
    }
}

/// Checks what serde cannot in `notifications:`: URLs are URLs.
pub fn check_notify(notify: &NotifyConfig, loc: &Loc, diags: &mut Diagnostics) {
    for c in &notify.channels {
        if let Channel::Webhook { url } | Channel::Slack { url } | Channel::Teams { url } = c {
            // Empty when `${VAR}` is unset during validation: only a run insists.
            if !url.0.is_empty() && url::Url::parse(&url.0).is_err() {
                diags.push(Diagnostic::error(
                    "E122",
                    loc.clone(),
                    "a notification channel's `url` is not a URL",
                ));
            }
        }
    }
}
