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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
