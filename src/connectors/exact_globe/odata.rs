//! OData v2 as the Globe Entity Services speak it: literals and filters (quoting, `guid'…'`,
//! `datetime'…'`, padded codes), query strings, `or` filters split under a URL length,
//! `/Date(ms)/` values, the `{"d": …}` response shapes and the error body.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::catalogue::{PropertyDef, PropertyType};
use super::padding::pad_value;
use crate::connectors::Record;

/// Characters left as they are in a query value: unreserved ones plus the OData punctuation
/// that servers accept raw. Spaces become `%20`, never `+` (padding spaces are significant);
/// `'` becomes `%27` as the HTTP stack would make it anyway, so URL lengths are known exactly.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b':')
    .remove(b'$');

/// Percent-encodes one query value.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// Percent-encodes a key literal for the URL path, where `'` stays as it is (`Account(guid'…')`).
pub fn encode_path(value: &str) -> String {
    encode(value).replace("%27", "'")
}

/// `name=value&…` with every value encoded.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A string literal: `'O''Brien'`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A GUID literal `guid'…'` from a GUID with or without braces.
pub fn guid_literal(s: &str) -> Result<String, String> {
    let bare = s.trim().trim_start_matches('{').trim_end_matches('}');
    let id = uuid::Uuid::parse_str(bare).map_err(|_| format!("{s:?} is not a GUID"))?;
    Ok(format!("guid'{}'", id.hyphenated()))
}

/// A date-time literal `datetime'2024-03-01T10:00:00.000'` (Globe works in local server time
/// without an offset; exflow passes UTC values through unchanged).
pub fn datetime_literal(at: DateTime<Utc>) -> String {
    format!("datetime'{}'", at.format("%Y-%m-%dT%H:%M:%S%.3f"))
}

/// The literal for `value` compared with `prop` (padded when it is a code). Without a
/// definition the JSON type decides.
pub fn literal(prop: Option<&PropertyDef>, value: &Value) -> Result<String, String> {
    let Some(prop) = prop else {
        return untyped_literal(value);
    };
    if value.is_null() {
        return Ok("null".into());
    }
    match prop.kind {
        PropertyType::String => match pad_value(prop, value) {
            Value::String(s) => Ok(quote(&s)),
            Value::Number(n) => Ok(quote(&n.to_string())),
            Value::Bool(b) => Ok(quote(&b.to_string())),
            other => Err(format!("{}: cannot compare text with {other}", prop.name)),
        },
        PropertyType::Guid => match value {
            Value::String(s) => guid_literal(s),
            other => Err(format!("{}: {other} is not a GUID", prop.name)),
        },
        PropertyType::Number | PropertyType::Double | PropertyType::Integer => match value {
            Value::Number(n) => Ok(n.to_string()),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(s.trim().to_string()),
            other => Err(format!("{}: {other} is not a number", prop.name)),
        },
        PropertyType::Boolean => match value {
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok((n.as_f64() != Some(0.0)).to_string()),
            Value::String(s) if s == "true" || s == "false" => Ok(s.clone()),
            other => Err(format!("{}: {other} is not a boolean", prop.name)),
        },
        PropertyType::Date => match value.as_str().and_then(parse_date) {
            Some(at) => Ok(datetime_literal(at)),
            None => Err(format!("{}: {value} is not a date", prop.name)),
        },
    }
}

fn untyped_literal(value: &Value) -> Result<String, String> {
    match value {
        Value::Null => Ok("null".into()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(quote(s)),
        other => Err(format!("cannot compare with {other}")),
    }
}

/// `field eq a or field eq b …` for each chunk of `literals` whose encoded form stays within
/// `budget` bytes. A single literal longer than the budget still gets a chunk of its own.
pub fn split_or_filters(field: &str, literals: &[String], budget: usize) -> Vec<String> {
    let sep = encode(" or ").len();
    let mut chunks = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut used = 0usize;
    for lit in literals {
        let term = format!("{field} eq {lit}");
        let cost = encode(&term).len();
        let extra = if current.is_empty() { cost } else { cost + sep };
        if !current.is_empty() && used + extra > budget {
            chunks.push(current.join(" or "));
            current.clear();
            used = 0;
        }
        used += if current.is_empty() { cost } else { cost + sep };
        current.push(term);
    }
    if !current.is_empty() {
        chunks.push(current.join(" or "));
    }
    chunks
}

/// Parses `/Date(1581465600000)/` (optionally with a `+0100` offset, which only annotates
/// the value), an ISO date-time, or a plain `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map(|(i, _)| i)
            .unwrap_or(inner.len());
        let ms: i64 = inner[..digits_end].parse().ok()?;
        return Utc.timestamp_millis_opt(ms).single();
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(Utc.from_utc_datetime(&at));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|at| Utc.from_utc_datetime(&at))
}

/// `/Date(ms)/` for `at`.
pub fn format_date(at: DateTime<Utc>) -> String {
    format!("/Date({})/", at.timestamp_millis())
}

/// One page of an entity set.
#[derive(Debug, Default)]
pub struct Collection {
    /// The records, `__metadata` removed.
    pub records: Vec<Record>,
    /// The `__next` link, when the server has more.
    pub next: Option<String>,
}

/// Reads `{"d":{"results":[…],"__next":"…"}}` or the older `{"d":[…]}`.
pub fn parse_collection(body: Value) -> Result<Collection, String> {
    let Value::Object(mut outer) = body else {
        return Err("the body is not a JSON object".into());
    };
    let d = outer.remove("d").ok_or("the body has no \"d\"")?;
    let (results, next) = match d {
        Value::Array(items) => (items, None),
        Value::Object(mut d) => {
            let next = match d.remove("__next") {
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                _ => None,
            };
            match d.remove("results") {
                Some(Value::Array(items)) => (items, next),
                _ => return Err("\"d\" has no \"results\" array".into()),
            }
        }
        _ => return Err("\"d\" is neither an object nor an array".into()),
    };
    let records = results
        .into_iter()
        .map(|item| match item {
            Value::Object(record) => Ok(clean(record)),
            _ => Err("a result is not an object".to_string()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Collection { records, next })
}

/// Reads one entity `{"d":{…}}`.
pub fn parse_entity(body: Value) -> Result<Record, String> {
    match body {
        Value::Object(mut outer) => match outer.remove("d") {
            Some(Value::Object(record)) => Ok(clean(record)),
            _ => Err("the body has no \"d\" object".into()),
        },
        _ => Err("the body is not a JSON object".into()),
    }
}

/// Drops the OData bookkeeping (`__metadata`, deferred navigation links) from a record.
fn clean(mut record: Record) -> Record {
    record.remove("__metadata");
    record.retain(|_, v| !matches!(v, Value::Object(o) if o.contains_key("__deferred")));
    record
}

/// The message of an OData error body: `error.message.value`, followed by the inner
/// exception's message when it adds something. Falls back to the start of a non-JSON body.
pub fn error_message(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        let trimmed = text.trim();
        return (!trimmed.is_empty()).then(|| trimmed.chars().take(300).collect());
    };
    let error = json.get("error")?;
    let message = match error.get("message") {
        Some(Value::Object(m)) => m.get("value").and_then(Value::as_str).map(str::to_string),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let inner = error.get("innererror");
    let inner_message = inner
        .and_then(|i| i.get("internalexception"))
        .and_then(|e| e.get("message"))
        .or_else(|| inner.and_then(|i| i.get("message")))
        .and_then(Value::as_str)
        .map(str::to_string);
    match (message, inner_message) {
        (Some(m), Some(i)) if !i.is_empty() && i != m && !m.contains(&i) => {
            Some(format!("{m} ({i})"))
        }
        (Some(m), _) if !m.is_empty() => Some(m),
        (_, Some(i)) => Some(i),
        (Some(m), None) => Some(m),
        (None, None) => error
            .get("code")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::exact_globe::catalogue::Catalogue;
    use serde_json::json;

    #[test]
    fn quotes_and_guids() {
        assert_eq!(quote("O'Brien"), "'O''Brien'");
        let g = "E4E1B5D3-0C2A-4F5E-9B6A-1234567890AB";
        assert_eq!(
            guid_literal(&format!("{{{g}}}")).unwrap(),
            "guid'e4e1b5d3-0c2a-4f5e-9b6a-1234567890ab'"
        );
        assert_eq!(
            guid_literal(g).unwrap(),
            "guid'e4e1b5d3-0c2a-4f5e-9b6a-1234567890ab'"
        );
        assert!(guid_literal("not-a-guid").is_err());
    }

    #[test]
    fn typed_literals_pad_codes() {
        let cat = Catalogue::get().unwrap();
        let account = cat.entity("Account").unwrap();
        let code = account.property("AccountCode").unwrap();
        assert_eq!(
            literal(Some(code), &json!("80004153")).unwrap(),
            "'            80004153'"
        );
        let id = account.property("ID").unwrap();
        assert!(literal(Some(id), &json!("x")).is_err());
        let modified = account.property("ModifiedDate").unwrap();
        assert_eq!(
            literal(Some(modified), &json!("/Date(1581465600000)/")).unwrap(),
            "datetime'2020-02-12T00:00:00.000'"
        );
        assert_eq!(literal(None, &json!("a'b")).unwrap(), "'a''b'");
        assert_eq!(literal(None, &json!(5)).unwrap(), "5");
    }

    #[test]
    fn encoding_keeps_spaces_significant() {
        assert_eq!(encode("Code eq '  12'"), "Code%20eq%20%27%20%2012%27");
        assert_eq!(query_string(&[("$top", "5".into())]), "$top=5");
        assert_eq!(encode("a+b&c=d"), "a%2Bb%26c%3Dd");
    }

    #[test]
    fn or_filters_split_under_the_budget() {
        let literals: Vec<String> = (0..50).map(|i| quote(&format!("CODE{i:04}"))).collect();
        let chunks = split_or_filters("ItemCode", &literals, 300);
        assert!(chunks.len() > 1);
        for chunk in &chunks {
            assert!(encode(chunk).len() <= 300, "{}", encode(chunk).len());
        }
        let joined: usize = chunks.iter().map(|c| c.matches(" eq ").count()).sum();
        assert_eq!(joined, 50);
        assert_eq!(
            split_or_filters("X", &["'a'".into()], 1),
            vec!["X eq 'a'".to_string()]
        );
        assert!(split_or_filters("X", &[], 100).is_empty());
    }

    #[test]
    fn dates_in_every_shape() {
        let at = parse_date("/Date(1581465600000)/").unwrap();
        assert_eq!(at.to_rfc3339(), "2020-02-12T00:00:00+00:00");
        assert_eq!(parse_date("/Date(1581465600000+0100)/"), Some(at));
        assert_eq!(
            parse_date("/Date(-86400000)/").unwrap().to_rfc3339(),
            "1969-12-31T00:00:00+00:00"
        );
        assert_eq!(parse_date("2020-02-12"), Some(at));
        assert_eq!(parse_date("2020-02-12T00:00:00Z"), Some(at));
        assert_eq!(parse_date("2020-02-12T00:00:00"), Some(at));
        assert_eq!(parse_date("/Date(abc)/"), None);
        assert_eq!(format_date(at), "/Date(1581465600000)/");
    }

    #[test]
    fn response_shapes() {
        let page = parse_collection(json!({"d": {"results": [
            {"__metadata": {"type": "Exact.Metadata.Entity.Account"}, "AccountName": "A",
             "Contacts": {"__deferred": {"uri": "x"}}}
        ], "__next": "http://h/next"}}))
        .unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.records[0].len(), 1);
        assert_eq!(page.next.as_deref(), Some("http://h/next"));
        let old = parse_collection(json!({"d": [{"A": 1}]})).unwrap();
        assert_eq!(old.records.len(), 1);
        assert!(old.next.is_none());
        assert!(parse_collection(json!({"value": []})).is_err());
        let one = parse_entity(json!({"d": {"__metadata": {}, "ID": "x"}})).unwrap();
        assert_eq!(one.len(), 1);
        assert!(parse_entity(json!([1])).is_err());
    }

    #[test]
    fn error_bodies() {
        let body = json!({"error": {"code": "", "message": {"lang": "en-US", "value": "No property 'X' exists"},
            "innererror": {"message": "detail", "type": "T"}}});
        assert_eq!(
            error_message(body.to_string().as_bytes()).unwrap(),
            "No property 'X' exists (detail)"
        );
        let same = json!({"error": {"message": {"value": "m"}, "innererror": {"internalexception": {"message": "m"}}}});
        assert_eq!(error_message(same.to_string().as_bytes()).unwrap(), "m");
        assert_eq!(
            error_message(b"Service Unavailable").unwrap(),
            "Service Unavailable"
        );
        assert_eq!(error_message(b""), None);
    }
}
