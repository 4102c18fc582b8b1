//! Text functions. Null in the first argument gives null (so `??` can supply a default).

use super::{arg, builtin, bounded, int, text as t, text_or_num, Builtin, Kind};
use crate::lang::value::{describe, push_text, to_text};
use parking_lot::Mutex;
use regex::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

type Args<'a, 'b> = &'a [Cow<'b, Value>];
type Res = Result<Value, String>;

pub(super) static TEXT: &[Builtin] = &[
    builtin!("text", "text(any) -> text", "The text form of a value (numbers plainly, lists/objects as JSON); null stays null.", "text(12) == '12'", 1..=1, [Any], Text, Kind::Plain(text)),
    builtin!("upper", "upper(text) -> text", "Upper-cases text.", "upper('abc') == 'ABC'", 1..=1, [Text], Text, Kind::Plain(upper)),
    builtin!("lower", "lower(text) -> text", "Lower-cases text.", "lower('AbC') == 'abc'", 1..=1, [Text], Text, Kind::Plain(lower)),
    builtin!("trim", "trim(text) -> text", "Removes white space at both ends.", "trim('  a ') == 'a'", 1..=1, [Text], Text, Kind::Plain(trim)),
    builtin!("trim_start", "trim_start(text) -> text", "Removes white space at the start.", "trim_start('  a ') == 'a '", 1..=1, [Text], Text, Kind::Plain(trim_start)),
    builtin!("trim_end", "trim_end(text) -> text", "Removes white space at the end.", "trim_end('  a ') == '  a'", 1..=1, [Text], Text, Kind::Plain(trim_end)),
    builtin!("split", "split(text, separator) -> list of text", "Splits text at every separator.", "split('a,b', ',') == ['a', 'b']", 2..=2, [Text, Text], List, Kind::Plain(split)),
    builtin!("join", "join(list, separator?) -> text", "Joins the text forms of a list's items (nulls skipped).", "join(['a', 1, null], '-') == 'a-1'", 1..=2, [List, Text], Text, Kind::Plain(join)),
    builtin!("replace", "replace(text, from, to) -> text", "Replaces every occurrence of `from` with `to`.", "replace('a-b-c', '-', '') == 'abc'", 3..=3, [Text, Text, Text], Text, Kind::Plain(replace)),
    builtin!("substr", "substr(text, start, length?) -> text", "Characters from `start` (0-based; negative counts from the end), at most `length` of them.", "substr('abcdef', 1, 3) == 'bcd'", 2..=3, [Text, Num, Num], Text, Kind::Plain(substr)),
    builtin!("left", "left(text, n) -> text", "The first n characters.", "left('abcdef', 2) == 'ab'", 2..=2, [Text, Num], Text, Kind::Plain(left)),
    builtin!("right", "right(text, n) -> text", "The last n characters.", "right('abcdef', 2) == 'ef'", 2..=2, [Text, Num], Text, Kind::Plain(right)),
    builtin!("pad_left", "pad_left(text|number, width, fill?) -> text", "Pads on the left to `width` characters with `fill` (default space).", "pad_left(42, 5, '0') == '00042'", 2..=3, [TextNum, Num, Text], Text, Kind::Plain(pad_left)),
    builtin!("pad_right", "pad_right(text|number, width, fill?) -> text", "Pads on the right to `width` characters with `fill` (default space).", "pad_right('ab', 4, '.') == 'ab..'", 2..=3, [TextNum, Num, Text], Text, Kind::Plain(pad_right)),
    builtin!("len", "len(text|list|object) -> number", "Characters of a text, items of a list, keys of an object; 0 for null.", "len('héllo') == 5 and len([1, 2]) == 2", 1..=1, [Any], Num, Kind::Plain(len)),
    builtin!("contains", "contains(text|list, needle) -> bool", "Whether text contains a substring, or a list contains a value.", "contains('abc', 'b') and contains([1, 2], 2)", 2..=2, [Any, Any], Bool, Kind::Plain(contains)),
    builtin!("starts_with", "starts_with(text, prefix) -> bool", "Whether text starts with `prefix`.", "starts_with('abc', 'ab')", 2..=2, [Text, Text], Bool, Kind::Plain(starts_with)),
    builtin!("ends_with", "ends_with(text, suffix) -> bool", "Whether text ends with `suffix`.", "ends_with('abc', 'bc')", 2..=2, [Text, Text], Bool, Kind::Plain(ends_with)),
    builtin!("concat", "concat(any, ...) -> text", "Joins the text forms of all arguments (null adds nothing).", "concat('a', 1, null, 'b') == 'a1b'", 1..=usize::MAX, [Any], Text, Kind::Plain(concat)),
    builtin!("is_empty", "is_empty(any) -> bool", "True for null, empty or blank text, an empty list or object.", "is_empty('  ') and is_empty([]) and not is_empty('a')", 1..=1, [Any], Bool, Kind::Plain(is_empty)),
    builtin!("regex_replace", "regex_replace(text, pattern, replacement) -> text", "Replaces every match of a regular expression (`$1` refers to groups).", "regex_replace('a1b22', '[0-9]+', '#') == 'a#b#'", 3..=3, [Text, Text, Text], Text, Kind::Plain(regex_replace)),
    builtin!("regex_match", "regex_match(text, pattern) -> bool", "Whether a regular expression matches somewhere in the text.", "regex_match('NL01', '^[A-Z]{2}[0-9]+$')", 2..=2, [Text, Text], Bool, Kind::Plain(regex_match)),
];

fn map_text(f: &str, a: Args, g: impl FnOnce(&str) -> String) -> Res {
    Ok(t(f, a, 0)?.map(|s| Value::String(g(s))).unwrap_or(Value::Null))
}

fn text(a: Args) -> Res {
    Ok(match arg(a, 0) {
        Value::Null => Value::Null,
        v => Value::String(to_text(v)),
    })
}
fn upper(a: Args) -> Res {
    map_text("upper", a, str::to_uppercase)
}
fn lower(a: Args) -> Res {
    map_text("lower", a, str::to_lowercase)
}
fn trim(a: Args) -> Res {
    map_text("trim", a, |s| s.trim().to_string())
}
fn trim_start(a: Args) -> Res {
    map_text("trim_start", a, |s| s.trim_start().to_string())
}
fn trim_end(a: Args) -> Res {
    map_text("trim_end", a, |s| s.trim_end().to_string())
}

fn split(a: Args) -> Res {
    let Some(s) = t("split", a, 0)? else { return Ok(Value::Null) };
    let sep = t("split", a, 1)?.unwrap_or("");
    if sep.is_empty() {
        return Ok(Value::Array(s.chars().map(|c| Value::String(c.to_string())).collect()));
    }
    Ok(Value::Array(s.split(sep).map(|p| Value::String(p.to_string())).collect()))
}

fn join(a: Args) -> Res {
    let Some(items) = super::list("join", a, 0)? else { return Ok(Value::Null) };
    let sep = t("join", a, 1)?.unwrap_or("");
    let mut out = String::new();
    let mut first = true;
    for v in items.iter().filter(|v| !v.is_null()) {
        if !first {
            out.push_str(sep);
        }
        first = false;
        push_text(&mut out, v);
    }
    Ok(Value::String(out))
}

fn replace(a: Args) -> Res {
    let Some(s) = t("replace", a, 0)? else { return Ok(Value::Null) };
    let from = t("replace", a, 1)?.unwrap_or("");
    let to = t("replace", a, 2)?.unwrap_or("");
    if from.is_empty() {
        return Ok(Value::String(s.to_string()));
    }
    Ok(Value::String(s.replace(from, to)))
}

fn char_slice(s: &str, start: i64, len: Option<i64>) -> String {
    let count = s.chars().count() as i64;
    let start = if start < 0 { (count + start).max(0) } else { start.min(count) };
    let len = len.unwrap_or(count).max(0);
    s.chars().skip(start as usize).take(len as usize).collect()
}

fn substr(a: Args) -> Res {
    let Some(s) = t("substr", a, 0)? else { return Ok(Value::Null) };
    let start = int("substr", a, 1)?.unwrap_or(0);
    let len = int("substr", a, 2)?;
    Ok(Value::String(char_slice(s, start, len)))
}
fn left(a: Args) -> Res {
    let Some(s) = t("left", a, 0)? else { return Ok(Value::Null) };
    let n = int("left", a, 1)?.unwrap_or(0);
    Ok(Value::String(char_slice(s, 0, Some(n))))
}
fn right(a: Args) -> Res {
    let Some(s) = t("right", a, 0)? else { return Ok(Value::Null) };
    let n = int("right", a, 1)?.unwrap_or(0).max(0);
    let count = s.chars().count() as i64;
    Ok(Value::String(char_slice(s, (count - n).max(0), None)))
}

fn pad(f: &str, a: Args, at_left: bool) -> Res {
    let Some(s) = text_or_num(f, a, 0)? else { return Ok(Value::Null) };
    let width = bounded(f, int(f, a, 1)?.unwrap_or(0))?;
    let fill = t(f, a, 2)?.unwrap_or(" ");
    let Some(fill) = fill.chars().next() else {
        return Err(format!("{f}() needs a non-empty fill character"));
    };
    let count = s.chars().count();
    if count >= width {
        return Ok(Value::String(s));
    }
    let padding: String = std::iter::repeat_n(fill, width - count).collect();
    Ok(Value::String(if at_left { padding + s.as_str() } else { s + padding.as_str() }))
}
fn pad_left(a: Args) -> Res {
    pad("pad_left", a, true)
}
fn pad_right(a: Args) -> Res {
    pad("pad_right", a, false)
}

fn len(a: Args) -> Res {
    Ok(Value::from(match arg(a, 0) {
        Value::Null => 0,
        Value::String(s) => s.chars().count(),
        Value::Array(l) => l.len(),
        Value::Object(o) => o.len(),
        other => return Err(format!("len() expects text, a list or an object, got {}", describe(other))),
    }))
}

fn contains(a: Args) -> Res {
    Ok(Value::Bool(match (arg(a, 0), arg(a, 1)) {
        (Value::Null, _) => false,
        (Value::String(s), Value::String(n)) => s.contains(n.as_str()),
        (Value::String(_), other) => {
            return Err(format!("contains() on text expects a text needle, got {}", describe(other)))
        }
        (Value::Array(l), n) => l.iter().any(|x| crate::lang::value::equal(x, n)),
        (other, _) => return Err(format!("contains() expects text or a list, got {}", describe(other))),
    }))
}
fn starts_with(a: Args) -> Res {
    let Some(s) = t("starts_with", a, 0)? else { return Ok(Value::Bool(false)) };
    Ok(Value::Bool(s.starts_with(t("starts_with", a, 1)?.unwrap_or(""))))
}
fn ends_with(a: Args) -> Res {
    let Some(s) = t("ends_with", a, 0)? else { return Ok(Value::Bool(false)) };
    Ok(Value::Bool(s.ends_with(t("ends_with", a, 1)?.unwrap_or(""))))
}
fn concat(a: Args) -> Res {
    let mut out = String::new();
    for v in a {
        push_text(&mut out, v);
    }
    Ok(Value::String(out))
}
fn is_empty(a: Args) -> Res {
    Ok(Value::Bool(match arg(a, 0) {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(l) => l.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }))
}

/// Compiled regular expressions, by pattern: expressions run per record, patterns are few.
pub(crate) fn regex(f: &str, pattern: &str) -> Result<Arc<Regex>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().get(pattern) {
        return Ok(r.clone());
    }
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("{f}(): invalid regular expression: {e}"))?;
    let re = Arc::new(re);
    let mut guard = cache.lock();
    if guard.len() > 1000 {
        guard.clear();
    }
    guard.insert(pattern.to_string(), re.clone());
    Ok(re)
}

fn regex_replace(a: Args) -> Res {
    let Some(s) = t("regex_replace", a, 0)? else { return Ok(Value::Null) };
    let re = regex("regex_replace", t("regex_replace", a, 1)?.unwrap_or(""))?;
    let to = t("regex_replace", a, 2)?.unwrap_or("");
    Ok(Value::String(re.replace_all(s, to).into_owned()))
}
fn regex_match(a: Args) -> Res {
    let Some(s) = t("regex_match", a, 0)? else { return Ok(Value::Bool(false)) };
    let re = regex("regex_match", t("regex_match", a, 1)?.unwrap_or(""))?;
    Ok(Value::Bool(re.is_match(s)))
}
