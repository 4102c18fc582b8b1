//! Redaction of personal data in stored payloads (GDPR: data passes through, logs stay
//! clean). Works on field names, so it needs no schema and errs on the side of hiding.

use serde_json::Value;

/// What a personal value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Parts of a property name that mark personal data (compared in lower case).
const PERSONAL: &[&str] = &[
    "name",
    "email",
    "e_mail",
    "mail",
    "phone",
    "mobile",
    "fax",
    "address",
    "street",
    "housenumber",
    "postcode",
    "postalcode",
    "zip",
    "city",
    "birth",
    "iban",
    "bankaccount",
    "initials",
    "contact",
    "website",
    "socialsecurity",
    "vatnumber",
    "cocnumber",
];

/// Whether a property of this name holds personal data.
pub fn is_personal(field: &str) -> bool {
    let lower = field.to_ascii_lowercase();
    PERSONAL.iter().any(|p| lower.contains(p))
}

/// A copy of `value` with every personal field (at any depth) replaced by `"[redacted]"`.
/// Nested objects under a personal name are redacted whole; nulls stay null.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_personal(k) && !v.is_null() {
                        Value::String(REDACTED.to_string())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// `text` (a failure reason) with every e-mail address in it replaced by `"[redacted]"`:
/// reasons name the record they are about, and with `redact_payloads` the log keeps no
/// e-mail address, in a payload or in a sentence.
pub fn scrub(text: &str) -> std::borrow::Cow<'_, str> {
    static EMAIL: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[^\s@'\x22`(),;:<>\[\]]+@[^\s@'\x22`(),;:<>\[\]]+").ok()
    });
    match EMAIL.as_ref() {
        Some(re) => re.replace_all(text, REDACTED),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// What a stored hashed business key starts with.
pub const HASHED_PREFIX: &str = "hmac:";

/// A personal business key (an e-mail) as it is stored when payloads are redacted: a hash
/// keyed with the state database's own secret, so equal keys can still be searched for
/// (`exflow activity --record jan@example.nl` hashes what it is given) but the stored value
/// says nothing without the secret. Compared trimmed and case-insensitively, as the systems
/// compare e-mail addresses.
pub fn hashed_key(secret: &[u8], key: &str) -> String {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length; the error branch cannot happen but is not a panic.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return format!("{HASHED_PREFIX}?");
    };
    mac.update(key.trim().to_lowercase().as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("{HASHED_PREFIX}{}", super::payload::hex(&digest[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn e_mail_addresses_are_scrubbed_from_reasons() {
        assert_eq!(
            scrub("creating Account `Jan@Example.nl` refused: (x@y.be) blocked"),
            "creating Account `[redacted]` refused: ([redacted]) blocked"
        );
        assert_eq!(scrub("item A-1 missing"), "item A-1 missing");
    }

    #[test]
    fn hashed_keys_are_stable_keyed_and_say_nothing() {
        let a = hashed_key(b"secret-1", "Jan@Example.nl ");
        assert_eq!(a, hashed_key(b"secret-1", "jan@example.nl"));
        assert_ne!(a, hashed_key(b"secret-2", "jan@example.nl"));
        assert_ne!(a, hashed_key(b"secret-1", "piet@example.nl"));
        assert!(a.starts_with(HASHED_PREFIX) && !a.contains("jan"), "{a}");
    }

    #[test]
    fn personal_fields_are_redacted_at_any_depth() {
        let v = json!({
            "OrderNumber": 12,
            "Email": "jan@example.nl",
            "DeliveryAddress": {"Street": "Dorpsstraat"},
            "Contact": null,
            "Lines": [{"ItemCode": "A1", "Quantity": 2, "ContactPhone": "0612345678"}]
        });
        let r = redact(&v);
        assert_eq!(r["OrderNumber"], 12);
        assert_eq!(r["Email"], REDACTED);
        assert_eq!(r["DeliveryAddress"], REDACTED);
        assert_eq!(r["Contact"], Value::Null);
        assert_eq!(r["Lines"][0]["ItemCode"], "A1");
        assert_eq!(r["Lines"][0]["ContactPhone"], REDACTED);
    }
}
