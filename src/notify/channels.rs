//! The HTTP channels. Generic webhook body (stable, documented in the README):
//! `{"event","severity","project","pipeline","title","text","lines":[...],"records":[{"entity","key_field","key","reason"}],"at"}`.
//! Slack incoming webhooks take `{"text"}`; Teams incoming webhooks a MessageCard.

use super::message::Message;
use crate::pipeline::service::Channel;
use serde_json::{json, Value};

/// The body for `channel`.
pub fn body(channel: &Channel, m: &Message) -> Value {
    match channel {
        Channel::Slack { .. } => json!({ "text": m.text() }),
        Channel::Teams { .. } => json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": m.title,
            "themeColor": match m.severity {
                super::Severity::Error => "C0392B",
                super::Severity::Warning => "E67E22",
                super::Severity::Info => "2E86C1",
            },
            "title": m.title,
            "text": m.lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n\n"),
        }),
        _ => {
            let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut v {
                o.insert("text".into(), Value::String(m.text()));
            }
            v
        }
    }
}

/// POSTs the message; the error never holds the URL (it embeds the channel's token).
pub async fn post(http: &reqwest::Client, channel: &Channel, m: &Message) -> Result<(), String> {
    let url = match channel {
        Channel::Webhook { url } | Channel::Slack { url } | Channel::Teams { url } => url,
        Channel::Email { .. } => return Err("not an HTTP channel".into()),
    };
    let r = http
        .post(url.expose())
        .json(&body(channel, m))
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", r.status().as_u16()))
    }
}
