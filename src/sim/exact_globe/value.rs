//! Values on the wire and in the store: dates (`/Date(ms)/` out; that, `YYYY-MM-DD` or ISO in),
//! GUIDs (braces optional), right-aligned space-padded codes, lengths and types per property.

use super::catalog::{PropType, Property};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// A date as the service writes it: `/Date(1581465600000)/`.
pub fn date_out(ms: i64) -> String {
    format!("/Date({ms})/")
}

/// Milliseconds since the epoch from `/Date(ms)/`, `YYYY-MM-DD` or an ISO date-time
/// (with or without offset; without one it is taken as UTC).
pub fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // `/Date(ms+0100)/` carries an offset that does not change the instant.
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map(|(i, _)| i)
            .unwrap_or(inner.len());
        return inner[..digits_end].parse().ok();
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|dt| dt.and_utc().timestamp_millis());
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Some(Utc.from_utc_datetime(&dt).timestamp_millis());
        }
    }
    None
}

/// A GUID in the store's form (lower case, no braces), or None when it is not one.
pub fn normalize_guid(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(t);
    uuid::Uuid::parse_str(t).ok().map(|u| u.to_string())
}

/// Left-pads a right-aligned code with spaces to its length.
pub fn pad(code: &str, length: usize) -> String {
    let trimmed = code.trim();
    let n = trimmed.chars().count();
    if n >= length {
        trimmed.to_string()
    } else {
        format!("{}{}", " ".repeat(length - n), trimmed)
    }
}

/// Converts an incoming JSON value to the stored form of `prop`: the type checked, dates and
/// GUIDs normalised, strings upper-cased, padded and length-checked as the catalogue says.
pub fn coerce(entity: &str, prop: &Property, value: &Value) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let bad = |expected: &str| {
        format!(
            "Error processing request stream. The value '{}' of property '{}' in type 'Exact.Metadata.Entity.{}' cannot be converted to type '{}'.",
            short(value),
            prop.name,
            entity,
            expected
        )
    };
    match prop.ty {
        PropType::String => {
            let mut s = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad("Edm.String")),
            };
            if prop.upper_case {
                s = s.to_uppercase();
            }
            if prop.numeric_string && prop.right_aligned {
                let t = s.trim();
                if !t.is_empty() && !t.chars().all(|c| c.is_ascii_digit()) {
                    return Err(format!(
                        "Property '{}' only accepts digits; '{}' is not a valid value.",
                        prop.name,
                        s.trim()
                    ));
                }
            }
            if prop.right_aligned && prop.length > 0 && !s.trim().is_empty() {
                s = pad(&s, prop.length);
            }
            if prop.length > 0 && s.chars().count() > prop.length {
                return Err(format!(
                    "String or binary data would be truncated: property '{}' allows {} characters, got {}.",
                    prop.name,
                    prop.length,
                    s.chars().count()
                ));
            }
            if !prop.values.is_empty() && !s.is_empty() && !prop.values.iter().any(|v| v == &s) {
                return Err(format!(
                    "Invalid value '{}' for property '{}'. Allowed values: {}.",
                    s,
                    prop.name,
                    prop.values.join(", ")
                ));
            }
            Ok(Value::String(s))
        }
        PropType::Number | PropType::Double | PropType::Integer => {
            let n = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                _ => None,
            };
            let Some(n) = n.filter(|n| n.is_finite()) else {
                return Err(bad("Edm.Decimal"));
            };
            Ok(number(n))
        }
        PropType::Boolean => match value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Number(n) => Ok(Value::Bool(n.as_f64() != Some(0.0))),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" => Ok(Value::Bool(true)),
                "0" | "false" => Ok(Value::Bool(false)),
                _ => Err(bad("Edm.Boolean")),
            },
            _ => Err(bad("Edm.Boolean")),
        },
        PropType::Date => match value {
            Value::String(s) => parse_date(s)
                .map(|ms| Value::String(date_out(ms)))
                .ok_or_else(|| bad("Edm.DateTime")),
            _ => Err(bad("Edm.DateTime")),
        },
        PropType::Guid => match value {
            Value::String(s) => normalize_guid(s)
                .map(Value::String)
                .ok_or_else(|| bad("Edm.Guid")),
            _ => Err(bad("Edm.Guid")),
        },
    }
}

/// A JSON number, integral when it is one.
pub fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_three_forms() {
        assert_eq!(parse_date("/Date(1581465600000)/"), Some(1581465600000));
        assert_eq!(parse_date("2020-02-12"), Some(1581465600000));
        assert_eq!(parse_date("2020-02-12T00:00:00"), Some(1581465600000));
        assert_eq!(parse_date("2020-02-12T01:00:00+01:00"), Some(1581465600000));
        assert_eq!(parse_date("12-02-2020"), None);
    }

    #[test]
    fn guids_and_padding() {
        let g = "E4E1B2C3-0000-4000-8000-000000000001";
        assert_eq!(normalize_guid(&format!("{{{g}}}")), normalize_guid(g));
        assert_eq!(pad("80004153", 20), "            80004153");
        assert_eq!(pad("  42", 6), "    42");
    }
}
