//! OData v2 as Exact Online speaks it: filter literals, `or` batches split under the URL
//! limit, query encoding, and reading responses (both collection shapes, `/Date(ms)/`,
//! Int64 as strings) into plain records.

use crate::connectors::Record;
use chrono::{DateTime, NaiveDateTime, Utc};
use percent_encoding::{AsciiSet, CONTROLS};
use serde_json::{Map, Value};

/// Exact Online refuses URLs longer than this (after encoding).
pub const MAX_URL_LEN: usize = 6000;

/// Width of an Account `Code`: right-aligned, padded with leading spaces.
pub const ACCOUNT_CODE_WIDTH: usize = 18;

/// Characters percent-encoded in query values. Spaces become `%20` (never `+`) and a
/// literal `+` is encoded, so every decoder reads the same text.
// `'` is in the set because reqwest (the url crate) sends it as `%27` in a query anyway:
// the 6,000-character limit counts the URL as sent.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'\'')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b'=')
    .add(b';');

/// The OData type of a property, as far as literals are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// `'text'` with `''` escaping.
    Text,
    /// `guid'…'`.
    Guid,
    /// `datetime'2024-01-01T00:00:00'`.
    DateTime,
    /// A plain number.
    Number,
    /// An `Edm.Int64`: `123L`.
    Int64,
    /// `true` / `false`.
    Bool,
}

/// Why a value cannot be written as a literal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot use {value} as an OData {kind:?} literal")]
pub struct LiteralError {
    /// The value, shown as JSON.
    pub value: String,
    /// The kind that was wanted.
    pub kind: LiteralKind,
}

/// `'text'`, doubling embedded quotes.
pub fn quote_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `guid'…'`, lower-cased; `None` when `s` is not a GUID.
pub fn guid_literal(s: &str) -> Option<String> {
    let id = uuid::Uuid::parse_str(s.trim()).ok()?;
    Some(format!("guid'{}'", id.hyphenated()))
}

/// `datetime'2024-01-01T00:00:00'` (Exact wants no offset and a time part).
pub fn datetime_literal(t: DateTime<Utc>) -> String {
    format!("datetime'{}'", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// `123L`.
pub fn int64_literal(n: i64) -> String {
    format!("{n}L")
}

/// An Account `Code` as Exact stores it: right-aligned in 18 characters. Longer codes and
/// codes that are already padded come back unchanged.
pub fn pad_account_code(code: &str) -> String {
    let trimmed = code.trim_start();
    if trimmed.chars().count() >= ACCOUNT_CODE_WIDTH {
        return trimmed.to_string();
    }
    format!("{trimmed:>width$}", width = ACCOUNT_CODE_WIDTH)
}

/// The literal for `value` as a property of `kind`.
pub fn literal(value: &Value, kind: LiteralKind) -> Result<String, LiteralError> {
    let fail = || LiteralError {
        value: value.to_string(),
        kind,
    };
    match (kind, value) {
        (LiteralKind::Text, Value::String(s)) => Ok(quote_string(s)),
        (LiteralKind::Text, Value::Number(n)) => Ok(quote_string(&n.to_string())),
        (LiteralKind::Guid, Value::String(s)) => guid_literal(s).ok_or_else(fail),
        (LiteralKind::DateTime, Value::String(s)) => parse_date(s)
            .map(|t| datetime_literal(t.and_utc()))
            .ok_or_else(fail),
        (LiteralKind::Number, Value::Number(n)) => Ok(n.to_string()),
        (LiteralKind::Number, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|_| s.trim().to_string())
            .ok_or_else(fail),
        (LiteralKind::Int64, v) => as_i64(v).map(int64_literal).ok_or_else(fail),
        (LiteralKind::Bool, Value::Bool(b)) => Ok(b.to_string()),
        _ => Err(fail()),
    }
}

/// `field eq lit1 or field eq lit2 ...`, split into as few filters as fit `budget`
/// characters each once percent-encoded. A single literal longer than the budget still gets
/// its own filter (the server will refuse it, which is the honest answer).
pub fn split_or_filters(field: &str, literals: &[String], budget: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    let sep_len = encoded_len(" or ");
    for lit in literals {
        let term = format!("{field} eq {lit}");
        let term_len = encoded_len(&term);
        if !current.is_empty() && current_len + sep_len + term_len > budget {
            out.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if !current.is_empty() {
            current.push_str(" or ");
            current_len += sep_len;
        }
        current.push_str(&term);
        current_len += term_len;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// Length of `value` once encoded.
pub fn encoded_len(value: &str) -> usize {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE)
        .map(str::len)
        .sum()
}

/// `?$filter=…&$select=…` from ordered pairs (values encoded, names kept as they are).
pub fn query_string(params: &[(&str, String)]) -> String {
    let mut q = String::new();
    for (name, value) in params {
        q.push(if q.is_empty() { '?' } else { '&' });
        q.push_str(name);
        q.push('=');
        q.push_str(&encode(value));
    }
    q
}

/// A parsed collection response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ODataPage {
    /// The rows, normalised (see [`normalize_record`]).
    pub records: Vec<Record>,
    /// The `__next` link, absolute or relative, when another page follows.
    pub next: Option<String>,
}

/// Why a body is not an OData answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an OData response: {0}")]
pub struct ShapeError(pub String);

/// Reads `{"d":{"results":[…],"__next":…}}`, `{"d":[…]}` or a single `{"d":{…}}`.
pub fn parse_collection(body: &Value) -> Result<ODataPage, ShapeError> {
    let d = body
        .get("d")
        .ok_or_else(|| ShapeError("no \"d\" property".into()))?;
    let (rows, next) = match d {
        Value::Array(rows) => (rows.as_slice(), None),
        Value::Object(obj) => match obj.get("results") {
            Some(Value::Array(rows)) => (
                rows.as_slice(),
                obj.get("__next")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            ),
            Some(_) => return Err(ShapeError("\"results\" is not a list".into())),
            None => (std::slice::from_ref(d), None),
        },
        _ => return Err(ShapeError("\"d\" is neither an object nor a list".into())),
    };
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        match row {
            Value::Object(map) => records.push(normalize_record(map)),
            _ => return Err(ShapeError("a row is not an object".into())),
        }
    }
    Ok(ODataPage { records, next })
}

/// Reads a single-entity answer `{"d":{…}}` (also accepts `{"d":{"results":[one]}}`).
pub fn parse_single(body: &Value) -> Result<Record, ShapeError> {
    let page = parse_collection(body)?;
    page.records
        .into_iter()
        .next()
        .ok_or_else(|| ShapeError("no record in the response".into()))
}

/// The `error.message.value` of an error body, if it has one.
pub fn error_message(body: &Value) -> Option<String> {
    let err = body.get("error")?;
    match err.get("message") {
        Some(Value::Object(m)) => m.get("value").and_then(Value::as_str).map(str::to_string),
        Some(Value::String(s)) => Some(s.clone()),
        _ => err
            .get("error_description")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// Drops `__metadata` and unexpanded `__deferred` links, turns expanded line collections
/// into plain lists, `/Date(ms)/` into ISO text (`2024-03-01T00:00:00`) and a string
/// `Timestamp` (Edm.Int64) into a number.
pub fn normalize_record(map: &Map<String, Value>) -> Record {
    let mut out = Map::with_capacity(map.len());
    for (name, value) in map {
        if name == "__metadata" {
            continue;
        }
        let value = match value {
            Value::Object(inner) if inner.contains_key("__deferred") => continue,
            Value::Object(inner) => match inner.get("results") {
                Some(Value::Array(rows)) => Value::Array(
                    rows.iter()
                        .map(|r| match r {
                            Value::Object(m) => Value::Object(normalize_record(m)),
                            other => other.clone(),
                        })
                        .collect(),
                ),
                _ => Value::Object(normalize_record(inner)),
            },
            Value::String(s) if s.starts_with("/Date(") => match parse_odata_date(s) {
                Some(t) => Value::String(iso(t)),
                None => value.clone(),
            },
            Value::String(s) if name == "Timestamp" => match s.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => value.clone(),
            },
            other => other.clone(),
        };
        out.insert(name.clone(), value);
    }
    out
}

/// `/Date(1709251200000)/` (optionally with a `+0100` offset suffix, which Exact's values
/// already include in the milliseconds) as a UTC time.
pub fn parse_odata_date(s: &str) -> Option<DateTime<Utc>> {
    let inner = s.strip_prefix("/Date(")?.strip_suffix(")/")?;
    // The sign of the offset suffix cannot be the first character (negative epochs).
    let end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let ms: i64 = inner[..end].parse().ok()?;
    DateTime::<Utc>::from_timestamp_millis(ms)
}

/// ISO text without offset, milliseconds only when present.
pub fn iso(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_millis() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
    }
}

/// An Int64 that may arrive as a JSON number or a string.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().trim_end_matches('L').parse().ok(),
        _ => None,
    }
}

/// ISO date or date-time text, `/Date(ms)/` included.
fn parse_date(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some(t) = parse_odata_date(s) {
        return Some(t.naive_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn literals() {
        assert_eq!(quote_string("O'Brien"), "'O''Brien'");
        assert_eq!(
            guid_literal("5B3DEBEF-0000-4000-8000-000000000001").as_deref(),
            Some("guid'5b3debef-0000-4000-8000-000000000001'")
        );
        assert_eq!(guid_literal("not a guid"), None);
        assert_eq!(int64_literal(123), "123L");
        assert_eq!(
            literal(&json!("2024-01-02"), LiteralKind::DateTime).unwrap(),
            "datetime'2024-01-02T00:00:00'"
        );
        assert_eq!(literal(&json!("77"), LiteralKind::Int64).unwrap(), "77L");
        assert!(literal(&json!(true), LiteralKind::Guid).is_err());
        assert!(literal(&json!("x"), LiteralKind::Number).is_err());
    }

    #[test]
    fn account_code_padding() {
        assert_eq!(pad_account_code("1234"), "              1234");
        assert_eq!(pad_account_code("              1234"), "              1234");
        assert_eq!(pad_account_code(&"9".repeat(20)), "9".repeat(20));
        assert_eq!(pad_account_code("1234").len(), ACCOUNT_CODE_WIDTH);
    }

    #[test]
    fn or_filters_split_under_the_budget() {
        let lits: Vec<String> = (0..500)
            .map(|i| guid_literal(&uuid::Uuid::from_u128(i).to_string()).unwrap_or_default())
            .collect();
        let parts = split_or_filters("ID", &lits, 2000);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(encoded_len(p) <= 2000, "{}", encoded_len(p));
        }
        let joined = parts.join(" or ");
        assert_eq!(joined.matches(" eq ").count(), 500);
        assert!(split_or_filters("ID", &[], 2000).is_empty());
    }

    #[test]
    fn both_collection_shapes_and_single() {
        let a = json!({"d":{"results":[{"ID":1,"__metadata":{"uri":"x"}}],"__next":"../next"}});
        let page = parse_collection(&a).unwrap();
        assert_eq!(
            page.records,
            vec![json!({"ID":1}).as_object().unwrap().clone()]
        );
        assert_eq!(page.next.as_deref(), Some("../next"));
        let b = json!({"d":[{"ID":2},{"ID":3}]});
        let page = parse_collection(&b).unwrap();
        assert_eq!(page.records.len(), 2);
        assert_eq!(page.next, None);
        let c = json!({"d":{"ID":4,"Modified":"/Date(1709251200000)/","Timestamp":"99"}});
        let rec = parse_single(&c).unwrap();
        assert_eq!(rec["Modified"], json!("2024-03-01T00:00:00"));
        assert_eq!(rec["Timestamp"], json!(99));
        assert!(parse_collection(&json!({"x":1})).is_err());
        assert!(parse_collection(&json!({"d":5})).is_err());
    }

    #[test]
    fn expanded_and_deferred_lines() {
        let body = json!({"d":{"OrderID":"a","SalesOrderLines":{"results":[{"ID":"l","__metadata":{}}]},
            "Other":{"__deferred":{"uri":"u"}}}});
        let rec = parse_single(&body).unwrap();
        assert_eq!(rec["SalesOrderLines"], json!([{"ID":"l"}]));
        assert!(!rec.contains_key("Other"));
    }

    #[test]
    fn odata_dates() {
        assert_eq!(
            parse_odata_date("/Date(1641034800000)/")
                .map(iso)
                .as_deref(),
            Some("2022-01-01T11:00:00")
        );
        assert_eq!(
            parse_odata_date("/Date(1641034800123+0100)/")
                .map(iso)
                .as_deref(),
            Some("2022-01-01T11:00:00.123")
        );
        assert!(parse_odata_date("/Date(-1000)/").is_some());
        assert!(parse_odata_date("/Date(x)/").is_none());
    }

    #[test]
    fn error_bodies() {
        let b = json!({"error":{"code":"","message":{"lang":"","value":"Bad thing"}}});
        assert_eq!(error_message(&b).as_deref(), Some("Bad thing"));
        let t =
            json!({"error":"unauthorized_client","error_description":"Old refresh token used."});
        assert_eq!(error_message(&t), None);
    }

    proptest! {
        #[test]
        fn quoted_strings_round_trip(s in ".*") {
            let q = quote_string(&s);
            prop_assert!(q.starts_with('\'') && q.ends_with('\''));
            let inner = &q[1..q.len() - 1];
            // Every quote inside comes in pairs, so the literal cannot end early.
            prop_assert!(!inner.replace("''", "").contains('\''));
            prop_assert_eq!(inner.replace("''", "'"), s);
        }

        #[test]
        fn encoding_is_reversible(s in ".*") {
            let e = encode(&s);
            prop_assert!(!e.contains(' ') && !e.contains('&') && !e.contains('+') && !e.contains('#'));
            let back = percent_encoding::percent_decode_str(&e).decode_utf8().map(|c| c.into_owned());
            prop_assert_eq!(back.ok(), Some(s));
        }

        #[test]
        fn split_keeps_every_term(n in 0usize..300, budget in 100usize..3000) {
            let lits: Vec<String> = (0..n).map(|i| quote_string(&format!("code {i}"))).collect();
            let parts = split_or_filters("Code", &lits, budget);
            let total: usize = parts.iter().map(|p| p.matches(" eq ").count()).sum();
            prop_assert_eq!(total, n);
            for p in &parts {
                prop_assert!(encoded_len(p) <= budget || !p.contains(" or "));
            }
        }
    }
}
