//! List functions, including the ones taking a lambda (run by the evaluator).

use super::{arg, builtin, list as l, Builtin, Hof, Kind};
use crate::lang::value::{describe, equal, total_cmp};
use serde_json::Value;
use std::borrow::Cow;

type Args<'a, 'b> = &'a [Cow<'b, Value>];
type Res = Result<Value, String>;

pub(super) static LIST: &[Builtin] = &[
    builtin!("first", "first(list) -> value", "The first item, or null for an empty list.", "first([1, 2]) == 1 and first([]) == null", 1..=1, [List], Elem0, Kind::Plain(first)),
    builtin!("last", "last(list) -> value", "The last item, or null for an empty list.", "last([1, 2]) == 2", 1..=1, [List], Elem0, Kind::Plain(last)),
    builtin!("count", "count(list) -> number", "The number of items (0 for null).", "count([1, null, 3]) == 3", 1..=1, [List], Num, Kind::Plain(count)),
    builtin!("distinct", "distinct(list) -> list", "The items without repeats, first occurrence kept.", "distinct([1, 2, 1, 1.0]) == [1, 2]", 1..=1, [List], Arg0, Kind::Plain(distinct)),
    builtin!("sort", "sort(list) -> list", "The items in ascending order (null < bool < number < text).", "sort([3, 1, 2]) == [1, 2, 3]", 1..=1, [List], Arg0, Kind::Plain(sort)),
    builtin!("reverse", "reverse(list|text) -> list|text", "The items (or characters) in reverse order.", "reverse([1, 2]) == [2, 1] and reverse('ab') == 'ba'", 1..=1, [Any], Arg0, Kind::Plain(reverse)),
    builtin!("flatten", "flatten(list) -> list", "Splices nested lists one level deep.", "flatten([[1], [2, [3]], 4]) == [1, 2, [3], 4]", 1..=1, [List], List, Kind::Plain(flatten)),
    builtin!("map", "map(list, x => expr) -> list", "The lambda's result for every item.", "map([1, 2], x => x * 10) == [10, 20]", 2..=2, [List, Lambda], ListOfLambda, Kind::Hof(Hof::Map)),
    builtin!("filter", "filter(list, x => condition) -> list", "The items for which the condition is true.", "filter([1, 2, 3], x => x > 1) == [2, 3]", 2..=2, [List, Lambda], Arg0, Kind::Hof(Hof::Filter)),
    builtin!("any", "any(list, x => condition) -> bool", "Whether the condition holds for some item (false for an empty list).", "any([1, 2], x => x > 1)", 2..=2, [List, Lambda], Bool, Kind::Hof(Hof::Any)),
    builtin!("all", "all(list, x => condition) -> bool", "Whether the condition holds for every item (true for an empty list).", "all([1, 2], x => x > 0)", 2..=2, [List, Lambda], Bool, Kind::Hof(Hof::All)),
    builtin!("find", "find(list, x => condition) -> value", "The first item for which the condition is true, else null.", "find([1, 2, 3], x => x > 1) == 2", 2..=2, [List, Lambda], Elem0, Kind::Hof(Hof::Find)),
];

fn first(a: Args) -> Res {
    Ok(l("first", a, 0)?.and_then(|v| v.first()).cloned().unwrap_or(Value::Null))
}
fn last(a: Args) -> Res {
    Ok(l("last", a, 0)?.and_then(|v| v.last()).cloned().unwrap_or(Value::Null))
}
fn count(a: Args) -> Res {
    Ok(Value::from(l("count", a, 0)?.map(Vec::len).unwrap_or(0)))
}
fn distinct(a: Args) -> Res {
    let Some(items) = l("distinct", a, 0)? else { return Ok(Value::Null) };
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !out.iter().any(|o| equal(o, v)) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}
fn sort(a: Args) -> Res {
    let Some(items) = l("sort", a, 0)? else { return Ok(Value::Null) };
    let mut out = items.clone();
    out.sort_by(total_cmp);
    Ok(Value::Array(out))
}
fn reverse(a: Args) -> Res {
    match arg(a, 0) {
        Value::Null => Ok(Value::Null),
        Value::Array(items) => Ok(Value::Array(items.iter().rev().cloned().collect())),
        Value::String(s) => Ok(Value::String(s.chars().rev().collect())),
        other => Err(format!("reverse() expects a list or text, got {}", describe(other))),
    }
}
fn flatten(a: Args) -> Res {
    let Some(items) = l("flatten", a, 0)? else { return Ok(Value::Null) };
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        match v {
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::Array(out))
}
