//! Number functions. Integers stay integers where the result is whole.

use super::{arg, builtin, int, number as n, Builtin, Kind};
use crate::lang::value::{arith, compare, describe, float, num, Arith};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

type Args<'a, 'b> = &'a [Cow<'b, Value>];
type Res = Result<Value, String>;

pub(super) static NUMBER: &[Builtin] = &[
    builtin!("number", "number(text|number) -> number", "Reads a number from text ('12.50', ' 3 '); numbers pass through; null stays null.", "number(' 12.50 ') == 12.5", 1..=1, [TextNum], Num, Kind::Plain(number)),
    builtin!("int", "int(text|number) -> number", "A whole number, cutting off any fraction (toward zero).", "int('7.9') == 7 and int(-2.5) == -2", 1..=1, [TextNum], Num, Kind::Plain(int_fn)),
    builtin!("round", "round(number, decimals?) -> number", "Rounds half away from zero to `decimals` places (default 0).", "round(2.345, 2) == 2.35 and round(2.5) == 3", 1..=2, [Num, Num], Num, Kind::Plain(round)),
    builtin!("floor", "floor(number) -> number", "The largest whole number not above.", "floor(2.7) == 2 and floor(-2.1) == -3", 1..=1, [Num], Num, Kind::Plain(floor)),
    builtin!("ceil", "ceil(number) -> number", "The smallest whole number not below.", "ceil(2.1) == 3", 1..=1, [Num], Num, Kind::Plain(ceil)),
    builtin!("abs", "abs(number) -> number", "The absolute value.", "abs(-3) == 3", 1..=1, [Num], Num, Kind::Plain(abs)),
    builtin!("min", "min(list) or min(a, b, ...) -> value", "The smallest of the values (nulls skipped).", "min(3, 1, 2) == 1 and min([4, null, 5]) == 4", 1..=usize::MAX, [Any], MergeArgs, Kind::Plain(min)),
    builtin!("max", "max(list) or max(a, b, ...) -> value", "The largest of the values (nulls skipped).", "max(3, 1, 2) == 3 and max(['a', 'c', 'b']) == 'c'", 1..=usize::MAX, [Any], MergeArgs, Kind::Plain(max)),
    builtin!("sum", "sum(list) -> number", "The sum of a list of numbers (nulls skipped; 0 for an empty list or null).", "sum([1, 2.5, null]) == 3.5", 1..=1, [List], Num, Kind::Plain(sum)),
    builtin!("avg", "avg(list) -> number", "The mean of a list of numbers (nulls skipped; null when there are none).", "avg([1, 2, 6]) == 3", 1..=1, [List], Num, Kind::Plain(avg)),
];

fn parse_num(f: &str, v: &Value) -> Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(x) => Ok(x.as_f64()),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| format!("{f}() cannot read {} as a number", describe(v))),
        other => Err(format!("{f}() expects text or a number, got {}", describe(other))),
    }
}

fn number(a: Args) -> Res {
    match arg(a, 0) {
        v @ Value::Number(_) => Ok(v.clone()),
        v => Ok(parse_num("number", v)?.and_then(num).unwrap_or(Value::Null)),
    }
}
fn int_fn(a: Args) -> Res {
    Ok(parse_num("int", arg(a, 0))?.and_then(|x| num(x.trunc())).unwrap_or(Value::Null))
}

fn map_num(f: &str, a: Args, g: impl FnOnce(f64) -> f64) -> Res {
    if let Value::Number(x) = arg(a, 0) {
        if x.is_i64() || x.is_u64() {
            return Ok(arg(a, 0).clone());
        }
    }
    match n(f, a, 0)? {
        None => Ok(Value::Null),
        Some(x) => float(g(x)),
    }
}
fn round(a: Args) -> Res {
    let places = int("round", a, 1)?.unwrap_or(0).clamp(-15, 15) as i32;
    let Some(x) = n("round", a, 0)? else { return Ok(Value::Null) };
    let factor = 10f64.powi(places);
    float((x * factor).round() / factor)
}
fn floor(a: Args) -> Res {
    map_num("floor", a, f64::floor)
}
fn ceil(a: Args) -> Res {
    map_num("ceil", a, f64::ceil)
}
fn abs(a: Args) -> Res {
    match arg(a, 0) {
        Value::Number(x) if x.as_i64().is_some_and(|i| i != i64::MIN) => {
            Ok(Value::from(x.as_i64().unwrap_or(0).abs()))
        }
        _ => map_num("abs", a, f64::abs),
    }
}

fn extreme(f: &str, a: Args, want: Ordering) -> Res {
    let items: Vec<&Value> = match a {
        [one] => match one.as_ref() {
            Value::Array(l) => l.iter().collect(),
            v => vec![v],
        },
        many => many.iter().map(|c| c.as_ref()).collect(),
    };
    let mut best: Option<&Value> = None;
    for v in items.into_iter().filter(|v| !v.is_null()) {
        best = match best {
            None => Some(v),
            Some(b) => match compare(v, b) {
                Some(o) if o == want => Some(v),
                Some(_) => Some(b),
                None => return Err(format!("{f}() cannot compare {} with {}", describe(v), describe(b))),
            },
        };
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}
fn min(a: Args) -> Res {
    extreme("min", a, Ordering::Less)
}
fn max(a: Args) -> Res {
    extreme("max", a, Ordering::Greater)
}

fn total(f: &str, a: Args) -> Result<(Value, usize), String> {
    let Some(items) = super::list(f, a, 0)? else { return Ok((Value::from(0), 0)) };
    let mut acc = Value::from(0);
    let mut count = 0;
    for v in items.iter().filter(|v| !v.is_null()) {
        if !v.is_number() {
            return Err(format!("{f}() expects a list of numbers, found {}", describe(v)));
        }
        acc = arith(Arith::Add, &acc, v)?;
        count += 1;
    }
    Ok((acc, count))
}
fn sum(a: Args) -> Res {
    Ok(total("sum", a)?.0)
}
fn avg(a: Args) -> Res {
    match total("avg", a)? {
        (_, 0) => Ok(Value::Null),
        (s, c) => float(s.as_f64().unwrap_or(0.0) / c as f64),
    }
}
