//! Exact Online webhook intake, `POST /webhooks/exact-online`: the empty validation POST is
//! answered 200; a notification must carry `HashCode`, the upper-case hex HMAC-SHA256 of the
//! raw `Content` JSON keyed with the app's webhook secret (checked in constant time), or it
//! is refused with 401 and logged. An accepted one asks for a debounced run of every
//! pipeline reading its topic; the run reads through the cursor (the key in the
//! notification is only a hint: polling stays the safety net).

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The path Exact Online posts to.
pub const PATH: &str = "/webhooks/exact-online";

/// The `Content` of a notification.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Content {
    /// `SalesOrders`, `Items`, `Accounts`, ...
    pub topic: String,
    /// `Create`, `Update` or `Delete`.
    #[serde(default)]
    pub action: String,
    /// The division the change happened in.
    #[serde(default)]
    pub division: Option<i64>,
    /// The changed record's key.
    #[serde(default)]
    pub key: String,
    /// When Exact made the event.
    #[serde(default)]
    pub event_created_on: Option<String>,
}

/// Why a notification was refused (a label of `exflow_webhooks_refused_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No webhook secret configured: nothing can be verified.
    NoSecret,
    /// The body is not `{"Content":{...},"HashCode":"..."}`.
    Malformed,
    /// The `HashCode` does not match.
    BadHash,
    /// A division this service does not serve.
    WrongDivision,
}

impl Refusal {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoSecret => "no_secret",
            Refusal::Malformed => "malformed",
            Refusal::BadHash => "bad_hash",
            Refusal::WrongDivision => "wrong_division",
        }
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Verifies a notification body and reads its content. The signed text is the raw bytes
/// between `{"Content":` and `,"HashCode":`, exactly as sent: re-serialising would change
/// them.
pub fn verify(body: &[u8], secret: Option<&str>) -> Result<Content, Refusal> {
    let secret = secret.filter(|s| !s.is_empty()).ok_or(Refusal::NoSecret)?;
    let text = std::str::from_utf8(body).map_err(|_| Refusal::Malformed)?;
    let text = text.trim();
    let rest = text
        .strip_prefix("{\"Content\":")
        .ok_or(Refusal::Malformed)?;
    let at = rest.rfind(",\"HashCode\":").ok_or(Refusal::Malformed)?;
    let (content, tail) = rest.split_at(at);
    #[derive(Deserialize)]
    struct Tail {
        #[serde(rename = "HashCode")]
        hash: String,
    }
    let tail: Tail =
        serde_json::from_str(&format!("{{{}", &tail[1..])).map_err(|_| Refusal::Malformed)?;
    // Upper-case hex only, as Exact sends it.
    if tail.hash.chars().any(|c| c.is_ascii_lowercase()) {
        return Err(Refusal::BadHash);
    }
    let given = hex_decode(&tail.hash).ok_or(Refusal::BadHash)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Refusal::NoSecret)?;
    mac.update(content.as_bytes());
    mac.verify_slice(&given).map_err(|_| Refusal::BadHash)?;
    serde_json::from_str(content).map_err(|_| Refusal::Malformed)
}

/// The Exact Online topic whose notifications mean that `entity` changed.
pub fn topic_of(entity: &str) -> &str {
    match entity {
        "SalesOrderLines" => "SalesOrders",
        "SalesInvoiceLines" => "SalesInvoices",
        "SalesEntryLines" => "SalesEntries",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(content: &str, secret: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(content.as_bytes());
        let hash: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        format!("{{\"Content\":{content},\"HashCode\":\"{hash}\"}}")
    }

    const CONTENT: &str = r#"{"Topic":"SalesOrders","ClientId":"x","Division":123456,"Action":"Create","Key":"5b1c","EventCreatedOn":"2026-01-01T10:00:00.000"}"#;

    #[test]
    fn a_signed_notification_is_read() {
        let c = verify(sign(CONTENT, "s3cret").as_bytes(), Some("s3cret")).unwrap();
        assert_eq!(c.topic, "SalesOrders");
        assert_eq!(c.division, Some(123456));
        assert_eq!(c.key, "5b1c");
    }

    #[test]
    fn forged_changed_or_unsigned_notifications_are_refused() {
        let body = sign(CONTENT, "other");
        assert_eq!(
            verify(body.as_bytes(), Some("s3cret")),
            Err(Refusal::BadHash)
        );
        let changed = sign(CONTENT, "s3cret").replace("Create", "Delete");
        assert_eq!(
            verify(changed.as_bytes(), Some("s3cret")),
            Err(Refusal::BadHash)
        );
        let lower = sign(CONTENT, "s3cret").to_lowercase();
        assert!(verify(lower.as_bytes(), Some("s3cret")).is_err());
        assert_eq!(verify(b"{}", Some("s3cret")), Err(Refusal::Malformed));
        assert_eq!(
            verify(sign(CONTENT, "s3cret").as_bytes(), None),
            Err(Refusal::NoSecret)
        );
        assert_eq!(
            verify(b"{\"Content\":{},\"HashCode\":\"ZZ\"}", Some("s")),
            Err(Refusal::BadHash)
        );
    }
}
