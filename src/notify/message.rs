//! What happened, as a message people can act on: the pipeline, the records by their
//! business key (order number, item code, e-mail), never a GUID alone, and never a secret.
//! With `redact_payloads: true` personal data (e-mail addresses, personal match values) is
//! taken out before any channel sees the text.

use crate::state::{is_personal, REDACTED};
use serde::Serialize;
use std::sync::OnceLock;

/// How urgent a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something needs a person now.
    Error,
    /// Something will need a person soon.
    Warning,
    /// For information (tests).
    Info,
}

/// One failed record, as a message shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedRecord {
    /// The entity that failed.
    pub entity: String,
    /// The field the business key is in (`YourReference`, `ItemCode`, `EmailAddress`).
    pub key_field: String,
    /// The business key.
    pub key: String,
    /// Why it failed.
    pub reason: String,
}

/// Something to tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A run stopped before its end (a system down, the budget spent).
    RunFailed {
        /// The pipeline.
        pipeline: String,
        /// Why.
        error: String,
    },
    /// Records of one run failed: one message per run.
    RecordsFailed {
        /// The pipeline.
        pipeline: String,
        /// How many failed in the run.
        count: u64,
        /// The first few.
        first: Vec<FailedRecord>,
    },
    /// The same record failed in this many runs in a row.
    RepeatedFailure {
        /// The pipeline.
        pipeline: String,
        /// The record.
        record: FailedRecord,
        /// Runs it failed in.
        runs: u32,
    },
    /// Little of the daily API budget is left.
    BudgetLow {
        /// The system.
        system: String,
        /// The division.
        division: i32,
        /// Calls left today.
        remaining: u64,
        /// Calls a day.
        limit: u64,
    },
    /// The Exact Online login is lost: only a person can connect again.
    LoginLost {
        /// What the system said (no token in it).
        error: String,
        /// The command that repairs it.
        command: String,
    },
    /// The refresh token has not been used for a while and dies after 30 idle days.
    TokenIdle {
        /// Days since its last use.
        idle_days: i64,
        /// The command that renews it.
        command: String,
    },
    /// An edit of the project does not validate; the previous configuration keeps running.
    ConfigInvalid {
        /// The diagnostics, one a line.
        diagnostics: String,
    },
    /// `exflow notify test`.
    Test,
}

/// A message ready for any channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// A stable name of the kind of event (`records_failed`, `login_lost`, ...).
    pub event: &'static str,
    /// How urgent.
    pub severity: Severity,
    /// The project (`project:` in exflow.yaml, or its folder name).
    pub project: String,
    /// The pipeline, when the event has one.
    pub pipeline: Option<String>,
    /// One line.
    pub title: String,
    /// Details, one item a line.
    pub lines: Vec<String>,
    /// The failed records (business keys), when the event has them.
    pub records: Vec<FailedRecord>,
    /// When (RFC 3339, UTC).
    pub at: String,
}

impl Message {
    /// Title and lines as plain text (e-mail, Slack, Teams).
    pub fn text(&self) -> String {
        let mut out = self.title.clone();
        for l in &self.lines {
            out.push_str("\n- ");
            out.push_str(l);
        }
        out
    }
}

fn email_pattern() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}").expect("regex")
    })
}

/// Removes what a message must never carry: the secrets of the project (always) and, when
/// `redact`, e-mail addresses.
pub struct Scrubber {
    /// Values never to show (client secret, passwords, webhook secret and URLs).
    pub secrets: Vec<String>,
    /// `redact_payloads: true`.
    pub redact: bool,
}

impl Scrubber {
    /// `text` with secrets (and, when redacting, e-mail addresses) replaced.
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            // Short values would blank out ordinary words; secrets are long.
            if s.len() >= 6 {
                out = out.replace(s.as_str(), "[secret]");
            }
        }
        if self.redact {
            out = email_pattern().replace_all(&out, REDACTED).into_owned();
        }
        out
    }

    fn record(&self, r: &FailedRecord) -> FailedRecord {
        let key = if self.redact && is_personal(&r.key_field) {
            REDACTED.to_string()
        } else {
            self.clean(&r.key)
        };
        FailedRecord {
            entity: r.entity.clone(),
            key_field: r.key_field.clone(),
            key,
            reason: self.clean(&r.reason),
        }
    }

    /// Builds the message of `event`.
    pub fn message(&self, project: &str, event: &Event) -> Message {
        let mut m = Message {
            event: "test",
            severity: Severity::Error,
            project: project.to_string(),
            pipeline: None,
            title: String::new(),
            lines: Vec::new(),
            records: Vec::new(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let show =
            |r: &FailedRecord| format!("{} {} {}: {}", r.entity, r.key_field, r.key, r.reason);
        match event {
            Event::RunFailed { pipeline, error } => {
                m.event = "run_failed";
                m.pipeline = Some(pipeline.clone());
                m.title = format!("exflow {project}: run of `{pipeline}` stopped");
                m.lines.push(self.clean(error));
                m.lines.push(
                    "the cursor stands at the last page handled; the next run goes on from there"
                        .into(),
                );
            }
            Event::RecordsFailed {
                pipeline,
                count,
                first,
            } => {
                m.event = "records_failed";
                m.pipeline = Some(pipeline.clone());
                m.title = format!("exflow {project}: {count} record(s) failed in `{pipeline}`");
                m.records = first.iter().map(|r| self.record(r)).collect();
                m.lines = m.records.iter().map(show).collect();
                if *count > first.len() as u64 {
                    m.lines.push(format!(
                        "... and {} more (`exflow` activity log of the run)",
                        count - first.len() as u64
                    ));
                }
                m.lines
                    .push("failed records are retried at the next run".into());
            }
            Event::RepeatedFailure {
                pipeline,
                record,
                runs,
            } => {
                m.event = "repeated_failure";
                m.pipeline = Some(pipeline.clone());
                let r = self.record(record);
                m.title = format!(
                    "exflow {project}: {} {} failed {runs} runs in a row in `{pipeline}`",
                    r.key_field, r.key
                );
                m.lines.push(show(&r));
                m.records.push(r);
            }
            Event::BudgetLow {
                system,
                division,
                remaining,
                limit,
            } => {
                m.event = "budget_low";
                m.severity = Severity::Warning;
                m.title = format!(
                    "exflow {project}: {system} division {division}: {remaining} of {limit} API calls left today"
                );
                m.lines
                    .push("runs stop at the reserve and go on after the daily reset".into());
            }
            Event::LoginLost { error, command } => {
                m.event = "login_lost";
                m.title = format!("exflow {project}: the Exact Online login is lost");
                m.lines.push(self.clean(error));
                m.lines
                    .push(format!("a person must connect again: run `{command}`"));
            }
            Event::TokenIdle { idle_days, command } => {
                m.event = "token_idle";
                m.severity = Severity::Warning;
                m.title = format!(
                    "exflow {project}: the Exact Online refresh token was last used {idle_days} days ago"
                );
                m.lines.push(format!(
                    "it expires after 30 idle days; run any Exact Online pipeline, or `{command}`"
                ));
            }
            Event::ConfigInvalid { diagnostics } => {
                m.event = "config_invalid";
                m.title = format!(
                    "exflow {project}: the edited configuration does not validate; the previous one keeps running"
                );
                m.lines = diagnostics.lines().map(|l| self.clean(l)).collect();
            }
            Event::Test => {
                m.event = "test";
                m.severity = Severity::Info;
                m.title = format!("exflow {project}: test message");
                m.lines.push("notifications reach this channel".into());
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(key_field: &str, key: &str, reason: &str) -> FailedRecord {
        FailedRecord {
            entity: "SalesOrderHeader".into(),
            key_field: key_field.into(),
            key: key.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn records_are_named_by_business_key_and_counted() {
        let s = Scrubber {
            secrets: vec![],
            redact: false,
        };
        let e = Event::RecordsFailed {
            pipeline: "orders".into(),
            count: 7,
            first: vec![failed(
                "YourReference",
                "10042",
                "item `KOF-9` does not exist",
            )],
        };
        let m = s.message("shop", &e);
        assert!(m.title.contains("7 record(s)"), "{m:?}");
        let text = m.text();
        assert!(text.contains("YourReference 10042"), "{text}");
        assert!(text.contains("6 more"), "{text}");
    }

    #[test]
    fn redaction_hides_emails_and_personal_keys_and_secrets_always_go() {
        let s = Scrubber {
            secrets: vec!["hunter2-secret".into()],
            redact: true,
        };
        let e = Event::RecordsFailed {
            pipeline: "customers".into(),
            count: 1,
            first: vec![failed(
                "EmailAddress",
                "jan@example.nl",
                "refused for jan@example.nl with hunter2-secret",
            )],
        };
        let text = s.message("shop", &e).text();
        assert!(!text.contains("jan@example.nl"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("EmailAddress [redacted]"), "{text}");
    }

    #[test]
    fn a_lost_login_says_what_to_run() {
        let s = Scrubber {
            secrets: vec![],
            redact: false,
        };
        let e = Event::LoginLost {
            error: "Old refresh token used.".into(),
            command: "exflow auth exact-online --project /srv/exflow".into(),
        };
        let text = s.message("shop", &e).text();
        assert!(
            text.contains("run `exflow auth exact-online --project /srv/exflow`"),
            "{text}"
        );
    }
}
