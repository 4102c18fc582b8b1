//! Evaluation of a parsed `$filter` against a stored record, with SQL Server string semantics.

use super::super::catalog::{Entity, PropType};
use super::super::value::parse_date;
use super::{CmpOp, Expr, Lit};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

fn to_v(value: Option<&Value>) -> V {
    match value {
        None | Some(Value::Null) => V::Null,
        Some(Value::Bool(b)) => V::Bool(*b),
        Some(Value::Number(n)) => V::Num(n.as_f64().unwrap_or(0.0)),
        Some(Value::String(s)) => V::Str(s.clone()),
        Some(other) => V::Str(other.to_string()),
    }
}

fn eval_v(e: &Expr, rec: &Map<String, Value>, entity: &Entity) -> V {
    match e {
        Expr::Prop(p) => {
            let v = to_v(rec.get(p));
            // Dates compare as instants.
            match (entity.property(p).map(|p| p.ty), &v) {
                (Some(PropType::Date), V::Str(s)) => {
                    parse_date(s).map(|ms| V::Num(ms as f64)).unwrap_or(V::Null)
                }
                _ => v,
            }
        }
        Expr::Lit(l) => match l {
            Lit::Str(s) => V::Str(s.clone()),
            Lit::Num(n) => V::Num(*n),
            Lit::Guid(g) => V::Str(g.clone()),
            Lit::Date(d) => V::Num(*d as f64),
            Lit::Bool(b) => V::Bool(*b),
            Lit::Null => V::Null,
        },
        Expr::Cmp(..) | Expr::And(..) | Expr::Or(..) | Expr::Not(..) => {
            V::Bool(matches(e, rec, entity))
        }
        Expr::Call(f, args) => {
            let a: Vec<V> = args.iter().map(|x| eval_v(x, rec, entity)).collect();
            let s = |v: &V| match v {
                V::Str(s) => Some(s.clone()),
                V::Num(n) => Some(n.to_string()),
                V::Bool(b) => Some(b.to_string()),
                V::Null => None,
            };
            match (f.as_str(), a.as_slice()) {
                ("substringof", [needle, hay]) => match (s(needle), s(hay)) {
                    (Some(n), Some(h)) => V::Bool(h.to_lowercase().contains(&n.to_lowercase())),
                    _ => V::Bool(false),
                },
                ("startswith", [hay, needle]) => match (s(hay), s(needle)) {
                    (Some(h), Some(n)) => V::Bool(h.to_lowercase().starts_with(&n.to_lowercase())),
                    _ => V::Bool(false),
                },
                ("endswith", [hay, needle]) => match (s(hay), s(needle)) {
                    (Some(h), Some(n)) => V::Bool(
                        h.trim_end()
                            .to_lowercase()
                            .ends_with(n.trim_end().to_lowercase().as_str()),
                    ),
                    _ => V::Bool(false),
                },
                ("tolower", [x]) => s(x).map(|x| V::Str(x.to_lowercase())).unwrap_or(V::Null),
                ("toupper", [x]) => s(x).map(|x| V::Str(x.to_uppercase())).unwrap_or(V::Null),
                ("trim", [x]) => s(x)
                    .map(|x| V::Str(x.trim().to_string()))
                    .unwrap_or(V::Null),
                ("length", [x]) => s(x)
                    .map(|x| V::Num(x.chars().count() as f64))
                    .unwrap_or(V::Null),
                _ => V::Null,
            }
        }
    }
}

/// SQL Server comparison: case-insensitive, trailing spaces ignored, leading spaces kept.
fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Str(x), V::Str(y)) => Some(
            x.trim_end()
                .to_lowercase()
                .cmp(&y.trim_end().to_lowercase()),
        ),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Num(y)) => (if *x { 1.0 } else { 0.0 }).partial_cmp(y),
        (V::Num(x), V::Bool(y)) => x.partial_cmp(&(if *y { 1.0 } else { 0.0 })),
        _ => None,
    }
}

/// True when `rec` satisfies the filter.
pub fn matches(e: &Expr, rec: &Map<String, Value>, entity: &Entity) -> bool {
    match e {
        Expr::And(all) => all.iter().all(|x| matches(x, rec, entity)),
        Expr::Or(any) => any.iter().any(|x| matches(x, rec, entity)),
        Expr::Not(a) => !matches(a, rec, entity),
        Expr::Cmp(op, a, b) => {
            let (x, y) = (eval_v(a, rec, entity), eval_v(b, rec, entity));
            match (op, &x, &y) {
                (CmpOp::Eq, V::Null, V::Null) => true,
                (CmpOp::Ne, V::Null, V::Null) => false,
                (CmpOp::Eq, V::Null, _) | (CmpOp::Eq, _, V::Null) => false,
                (CmpOp::Ne, V::Null, _) | (CmpOp::Ne, _, V::Null) => true,
                _ => match compare(&x, &y) {
                    None => false,
                    Some(o) => match op {
                        CmpOp::Eq => o == Ordering::Equal,
                        CmpOp::Ne => o != Ordering::Equal,
                        CmpOp::Gt => o == Ordering::Greater,
                        CmpOp::Ge => o != Ordering::Less,
                        CmpOp::Lt => o == Ordering::Less,
                        CmpOp::Le => o != Ordering::Greater,
                    },
                },
            }
        }
        other => eval_v(other, rec, entity) == V::Bool(true),
    }
}

/// Orders two stored values the way `$orderby` does (nulls first).
pub fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let (x, y) = (to_v(a), to_v(b));
    match (&x, &y) {
        (V::Null, V::Null) => Ordering::Equal,
        (V::Null, _) => Ordering::Less,
        (_, V::Null) => Ordering::Greater,
        _ => compare(&x, &y).unwrap_or(Ordering::Equal),
    }
}
