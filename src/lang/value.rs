//! What the language does with a `serde_json::Value`: type names, text form, arithmetic,
//! comparison. Shared by the evaluator and the standard library.

use serde_json::{Number, Value};
use std::cmp::Ordering;

/// The language's name for the type of a value.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "text",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// "number 12" / "text 'abc'" for error messages (shortened).
pub fn describe(v: &Value) -> String {
    let shown = match v {
        Value::String(s) => {
            let short: String = s.chars().take(30).collect();
            if short.len() < s.len() {
                format!("'{short}...'")
            } else {
                format!("'{short}'")
            }
        }
        Value::Array(a) => format!("of {} items", a.len()),
        Value::Object(o) => format!("with {} keys", o.len()),
        Value::Null => return "null".into(),
        other => other.to_string(),
    };
    format!("{} {}", type_name(v), shown)
}

/// Appends the text form of a value: text as is, null as nothing, numbers plainly,
/// lists and objects as JSON.
pub fn push_text(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => push_number(out, n),
        other => out.push_str(&other.to_string()),
    }
}

fn push_number(out: &mut String, n: &Number) {
    use std::fmt::Write;
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            let _ = write!(out, "{}", f as i64);
            return;
        }
    }
    let _ = write!(out, "{n}");
}

/// The text form of a value (see [`push_text`]).
pub fn to_text(v: &Value) -> String {
    let mut s = String::new();
    push_text(&mut s, v);
    s
}

/// A number value from an f64; integral values within i64 range become integers.
pub fn num(f: f64) -> Option<Value> {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Some(Value::from(f as i64))
    } else {
        Number::from_f64(f).map(Value::Number)
    }
}

/// A float result that is always kept as a float when not integral.
pub fn float(f: f64) -> Result<Value, String> {
    num(f).ok_or_else(|| "the result is not a finite number".to_string())
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    /// +
    Add,
    /// -
    Sub,
    /// *
    Mul,
    /// /
    Div,
    /// %
    Rem,
}

impl Arith {
    fn symbol(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
            Arith::Rem => "%",
        }
    }
}

/// `a op b`. Integers stay integers where exact; `+` with text on either side concatenates.
pub fn arith(op: Arith, a: &Value, b: &Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                let r = match op {
                    Arith::Add => i.checked_add(j),
                    Arith::Sub => i.checked_sub(j),
                    Arith::Mul => i.checked_mul(j),
                    Arith::Div if j == 0 => return Err("division by zero".into()),
                    Arith::Rem if j == 0 => return Err("remainder of division by zero".into()),
                    Arith::Div if i % j == 0 => i.checked_div(j),
                    Arith::Div => None,
                    Arith::Rem => i.checked_rem(j),
                };
                if let Some(r) = r {
                    return Ok(Value::from(r));
                }
            }
            let (f, g) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            let r = match op {
                Arith::Add => f + g,
                Arith::Sub => f - g,
                Arith::Mul => f * g,
                Arith::Div | Arith::Rem if g == 0.0 => return Err("division by zero".into()),
                Arith::Div => f / g,
                Arith::Rem => f % g,
            };
            Number::from_f64(r)
                .map(Value::Number)
                .ok_or_else(|| "the result is not a finite number".into())
        }
        (Value::String(x), other) | (other, Value::String(x)) if op == Arith::Add && !other.is_null() => {
            let mut s = String::new();
            if a.is_string() {
                s.push_str(x);
                push_text(&mut s, other);
            } else {
                push_text(&mut s, other);
                s.push_str(x);
            }
            Ok(Value::String(s))
        }
        _ => {
            let hint = if a.is_null() || b.is_null() {
                " (use `?? default` for a value that may be missing)"
            } else {
                ""
            };
            Err(format!(
                "cannot compute {} {} {}{hint}",
                describe(a),
                op.symbol(),
                describe(b)
            ))
        }
    }
}

/// Equality as the language sees it: numbers compare by value (1 == 1.0).
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// Ordering of two values of the same kind (numbers, text, bools); `None` otherwise.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => Some(i.cmp(&j)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// A total order for sorting: null < bool < number < text < list < object.
pub fn total_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    compare(a, b).unwrap_or_else(|| rank(a).cmp(&rank(b)).then_with(|| a.to_string().cmp(&b.to_string())))
}

/// A condition: true, false, or null (counted as false); anything else is an error.
pub fn truthy(v: &Value, what: &str) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(format!("{what} expects a bool, got {}", describe(other))),
    }
}
