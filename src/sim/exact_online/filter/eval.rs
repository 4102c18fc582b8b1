//! Evaluation of a parsed `$filter` over one stored row (SQL Server comparison rules).

use super::{CmpOp, Expr, Lit};
use std::cmp::Ordering;

/// A runtime value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// No value.
    Null,
    /// Boolean.
    Bool(bool),
    /// Any number.
    Num(f64),
    /// Text (also GUIDs, lower-case).
    Str(String),
    /// Date-time in epoch ms.
    Date(i64),
}

impl From<&Lit> for Val {
    fn from(l: &Lit) -> Val {
        match l {
            Lit::Null => Val::Null,
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Num(n) => Val::Num(*n),
            Lit::Str(s) | Lit::Guid(s) => Val::Str(s.clone()),
            Lit::DateTime(ms) => Val::Date(*ms),
        }
    }
}

/// Converts a stored JSON value to a runtime value (dates are stored as `/Date(ms)/`).
pub fn val_of(v: &serde_json::Value) -> Val {
    match v {
        serde_json::Value::Null => Val::Null,
        serde_json::Value::Bool(b) => Val::Bool(*b),
        serde_json::Value::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => {
            match s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
                Some(ms) => ms.parse().map(Val::Date).unwrap_or(Val::Str(s.clone())),
                None => Val::Str(s.clone()),
            }
        }
        _ => Val::Null,
    }
}

/// Evaluates the expression on one row; `get` returns a property's stored value.
pub fn eval(e: &Expr, get: &dyn Fn(&str) -> Val) -> Val {
    match e {
        Expr::Prop(p) => get(p),
        Expr::Lit(l) => l.into(),
        Expr::Not(a) => Val::Bool(!truthy(&eval(a, get))),
        Expr::And(a, b) => Val::Bool(truthy(&eval(a, get)) && truthy(&eval(b, get))),
        Expr::Or(a, b) => Val::Bool(truthy(&eval(a, get)) || truthy(&eval(b, get))),
        Expr::Cmp(op, a, b) => Val::Bool(compare(*op, &eval(a, get), &eval(b, get))),
        Expr::Call(name, args) => {
            let a: Vec<Val> = args.iter().map(|x| eval(x, get)).collect();
            let text = |v: &Val| match v {
                Val::Str(s) => Some(s.to_lowercase()),
                _ => None,
            };
            match (name.as_str(), a.as_slice()) {
                ("substringof", [needle, hay]) => match (text(needle), text(hay)) {
                    (Some(n), Some(h)) => Val::Bool(h.contains(&n)),
                    _ => Val::Bool(false),
                },
                ("startswith", [hay, needle]) => match (text(hay), text(needle)) {
                    (Some(h), Some(n)) => Val::Bool(h.starts_with(&n)),
                    _ => Val::Bool(false),
                },
                ("endswith", [hay, needle]) => match (text(hay), text(needle)) {
                    (Some(h), Some(n)) => Val::Bool(h.ends_with(&n)),
                    _ => Val::Bool(false),
                },
                ("tolower", [Val::Str(s)]) => Val::Str(s.to_lowercase()),
                ("toupper", [Val::Str(s)]) => Val::Str(s.to_uppercase()),
                ("trim", [Val::Str(s)]) => Val::Str(s.trim().to_string()),
                ("length", [Val::Str(s)]) => Val::Num(s.chars().count() as f64),
                _ => Val::Null,
            }
        }
    }
}

fn truthy(v: &Val) -> bool {
    matches!(v, Val::Bool(true))
}

/// SQL Server semantics: text compares case-insensitively and ignores trailing spaces
/// (leading spaces count, which is why Account codes must be padded).
fn order(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Num(y)) | (Val::Num(y), Val::Str(x)) if x.parse::<f64>().is_ok() => {
            let xv: f64 = x.parse().ok()?;
            let o = xv.partial_cmp(y)?;
            Some(if matches!(a, Val::Str(_)) {
                o
            } else {
                o.reverse()
            })
        }
        (Val::Str(x), Val::Str(y)) => Some(
            x.trim_end()
                .to_lowercase()
                .cmp(&y.trim_end().to_lowercase()),
        ),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(op: CmpOp, a: &Val, b: &Val) -> bool {
    if matches!(a, Val::Null) || matches!(b, Val::Null) {
        let both = matches!(a, Val::Null) && matches!(b, Val::Null);
        return match op {
            CmpOp::Eq => both,
            CmpOp::Ne => !both,
            _ => false,
        };
    }
    match order(a, b) {
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
        },
        None => op == CmpOp::Ne,
    }
}
