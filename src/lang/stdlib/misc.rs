//! Objects, null handling, types, JSON and hashing; plus `table` and `jsonpath`, which the
//! evaluator runs itself (they need the context or a pre-compiled path).

use super::{arg, builtin, object as o, text as t, Builtin, Kind};
use crate::lang::value::{describe, type_name};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

type Args<'a, 'b> = &'a [Cow<'b, Value>];
type Res = Result<Value, String>;

pub(super) static MISC: &[Builtin] = &[
    builtin!("keys", "keys(object) -> list of text", "The keys of an object, in order.", "keys({ a: 1, b: 2 }) == ['a', 'b']", 1..=1, [Obj], List, Kind::Plain(keys)),
    builtin!("values", "values(object) -> list", "The values of an object, in order.", "values({ a: 1, b: 2 }) == [1, 2]", 1..=1, [Obj], List, Kind::Plain(values)),
    builtin!("get", "get(object|list, key, default?) -> value", "The value at a key (or list index); the default (or null) when absent.", "get({ a: 1 }, 'a') == 1 and get({}, 'x', 5) == 5", 2..=3, [Any, Any, Any], Any, Kind::Plain(get)),
    builtin!("merge", "merge(object, ...) -> object", "Merges objects; later keys win.", "merge({ a: 1, b: 1 }, { b: 2 }) == { a: 1, b: 2 }", 1..=usize::MAX, [Obj], Obj, Kind::Plain(merge)),
    builtin!("default", "default(value, fallback) -> value", "The fallback when the value is null or empty text.", "default('', 'x') == 'x' and default('a', 'x') == 'a'", 2..=2, [Any, Any], MergeArgs, Kind::Plain(default)),
    builtin!("coalesce", "coalesce(a, b, ...) -> value", "The first argument that is not null.", "coalesce(null, null, 3) == 3", 1..=usize::MAX, [Any], MergeArgs, Kind::Plain(coalesce)),
    builtin!("type_of", "type_of(value) -> text", "null, bool, number, text, list or object.", "type_of([1]) == 'list'", 1..=1, [Any], Text, Kind::Plain(type_of)),
    builtin!("to_json", "to_json(value) -> text", "The value as compact JSON text.", "to_json({ a: [1] }) == '{\"a\":[1]}'", 1..=1, [Any], Text, Kind::Plain(to_json)),
    builtin!("parse_json", "parse_json(text) -> value", "Reads JSON text into a value.", "parse_json('[1, 2]') == [1, 2]", 1..=1, [Text], Any, Kind::Plain(parse_json)),
    builtin!("sha256_hex", "sha256_hex(any) -> text", "The SHA-256 of the text form, as lowercase hex (for match keys).", "len(sha256_hex('a')) == 64", 1..=1, [Any], Text, Kind::Plain(sha256_hex)),
    builtin!("table", "table(name, key, default?) -> value", "Looks a key (as text) up in a mapping table; a miss gives the default, else the table's default, else null.", "table('none', 'x', 1) == 1", 2..=3, [Text, Any, Any], Any, Kind::Table),
    builtin!("jsonpath", "jsonpath(value, path) -> list", "All values an RFC 9535 JSONPath selects.", "jsonpath({ a: [{ b: 1 }, { b: 2 }] }, '$..b') == [1, 2]", 2..=2, [Any, Text], List, Kind::JsonPath),
];

fn keys(a: Args) -> Res {
    let Some(m) = o("keys", a, 0)? else { return Ok(Value::Null) };
    Ok(Value::Array(m.keys().map(|k| Value::String(k.clone())).collect()))
}
fn values(a: Args) -> Res {
    let Some(m) = o("values", a, 0)? else { return Ok(Value::Null) };
    Ok(Value::Array(m.values().cloned().collect()))
}
fn get(a: Args) -> Res {
    let found = match (arg(a, 0), arg(a, 1)) {
        (Value::Object(m), Value::String(k)) => m.get(k),
        (Value::Array(l), Value::Number(i)) => i.as_i64().and_then(|i| {
            let i = if i < 0 { l.len() as i64 + i } else { i };
            usize::try_from(i).ok().and_then(|i| l.get(i))
        }),
        (Value::Null, _) => None,
        (Value::Object(_), k) => return Err(format!("get() on an object expects a text key, got {}", describe(k))),
        (Value::Array(_), k) => return Err(format!("get() on a list expects a number index, got {}", describe(k))),
        (other, _) => return Err(format!("get() expects an object or a list, got {}", describe(other))),
    };
    Ok(found.filter(|v| !v.is_null()).cloned().unwrap_or_else(|| arg(a, 2).clone()))
}
fn merge(a: Args) -> Res {
    let mut out = serde_json::Map::new();
    for i in 0..a.len() {
        if let Some(m) = o("merge", a, i)? {
            for (k, v) in m {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Value::Object(out))
}
fn default(a: Args) -> Res {
    Ok(match arg(a, 0) {
        Value::Null => arg(a, 1).clone(),
        Value::String(s) if s.is_empty() => arg(a, 1).clone(),
        v => v.clone(),
    })
}
fn coalesce(a: Args) -> Res {
    Ok(a.iter().find(|v| !v.is_null()).map(|v| v.as_ref().clone()).unwrap_or(Value::Null))
}
fn type_of(a: Args) -> Res {
    Ok(Value::String(type_name(arg(a, 0)).to_string()))
}
fn to_json(a: Args) -> Res {
    Ok(Value::String(arg(a, 0).to_string()))
}
fn parse_json(a: Args) -> Res {
    let Some(s) = t("parse_json", a, 0)? else { return Ok(Value::Null) };
    serde_json::from_str(s).map_err(|e| format!("parse_json(): invalid JSON: {e}"))
}
fn sha256_hex(a: Args) -> Res {
    let text = crate::lang::value::to_text(arg(a, 0));
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    Ok(Value::String(out))
}
