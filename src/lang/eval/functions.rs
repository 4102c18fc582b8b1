//! Calls of built-ins and of the higher-order functions (`map`, `filter`, ...), over JSON
//! and projected values alike.

use super::{
    ev, evv, fail, memo_slots, truthy, Env, Ev, EvalError, Hof, Items, Node, Scope, Span, View, R,
};
use crate::lang::stdlib;
use crate::lang::value::describe;
use serde_json::Value;

/// Calls a plain built-in; arguments live on the stack for up to three of them.
/// `count`, `first` and `last` of a projected list read it in place.
pub(super) fn call<'v>(
    name: &str,
    imp: stdlib::Imp,
    args: &'v [Node],
    span: Span,
    cx: &'v Env<'v>,
    sc: Option<&'v Scope<'v>>,
) -> R<'v> {
    let e = |m: String| fail(m, span);
    let r = match args {
        [] => imp(&[]),
        [a] => {
            let v = ev(a, cx, sc)?;
            if let Ev::View(view @ View::Projected(_)) = v {
                if let Some(items) = view.items() {
                    match name {
                        "count" => return Ok(Ev::Owned(Value::from(items.len()))),
                        "first" => return Ok(Ev::View(view.index(0))),
                        "last" => return Ok(Ev::View(view.index(-1))),
                        _ => {}
                    }
                }
            }
            imp(&[v.value()])
        }
        [a, b] => imp(&[evv(a, cx, sc)?, evv(b, cx, sc)?]),
        [a, b, c] => imp(&[evv(a, cx, sc)?, evv(b, cx, sc)?, evv(c, cx, sc)?]),
        many => {
            let mut vals = Vec::with_capacity(many.len());
            for a in many {
                vals.push(evv(a, cx, sc)?);
            }
            imp(&vals)
        }
    };
    r.map(Ev::Owned).map_err(e)
}

fn hof_name(op: Hof) -> &'static str {
    match op {
        Hof::Map => "map",
        Hof::Filter => "filter",
        Hof::Any => "any",
        Hof::All => "all",
        Hof::Find => "find",
    }
}

/// The list a higher-order function runs over: `Ok(None)` for null.
pub(super) fn hof_items<'x>(
    op: Hof,
    lv: &'x Ev<'x>,
    span: Span,
) -> Result<Option<Items<'x>>, EvalError> {
    let view = match lv {
        Ev::View(v) => *v,
        Ev::Owned(v) => View::Json(v),
    };
    if view.is_null() {
        return Ok(None);
    }
    match view.items() {
        Some(items) => Ok(Some(items)),
        None => {
            let shown = match view {
                View::Json(v) => describe(v),
                View::Projected(p) => describe(&p.to_value()),
            };
            Err(fail(
                format!("{}() expects a list, got {shown}", hof_name(op)),
                span,
            ))
        }
    }
}

pub(super) fn hof<'v>(
    op: Hof,
    list: &'v Node,
    body: &'v Node,
    span: Span,
    slots: usize,
    cx: &'v Env<'v>,
    sc: Option<&'v Scope<'v>>,
) -> R<'v> {
    let name = hof_name(op);
    let lv = ev(list, cx, sc)?;
    let memo = memo_slots(slots);
    let Some(items) = hof_items(op, &lv, span)? else {
        return Ok(Ev::Owned(match op {
            Hof::Any => Value::Bool(false),
            Hof::All => Value::Bool(true),
            _ => Value::Null,
        }));
    };
    let cond = |item: View| -> Result<bool, EvalError> {
        let s = Scope {
            value: item,
            parent: sc,
            memo: &memo,
        };
        let v = evv(body, cx, Some(&s))?;
        truthy(&v, name).map_err(|m| fail(m, span))
    };
    let whole = |item: View| Ev::View(item).value().into_owned();
    let out = match op {
        Hof::Map => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                let s = Scope {
                    value: item,
                    parent: sc,
                    memo: &memo,
                };
                out.push(evv(body, cx, Some(&s))?.into_owned());
            }
            Value::Array(out)
        }
        Hof::Filter => {
            let mut out = Vec::new();
            for item in items.iter() {
                if cond(item)? {
                    out.push(whole(item));
                }
            }
            Value::Array(out)
        }
        Hof::Any => {
            let mut r = false;
            for item in items.iter() {
                if cond(item)? {
                    r = true;
                    break;
                }
            }
            Value::Bool(r)
        }
        Hof::All => {
            let mut r = true;
            for item in items.iter() {
                if !cond(item)? {
                    r = false;
                    break;
                }
            }
            Value::Bool(r)
        }
        Hof::Find => {
            let mut r = Value::Null;
            for item in items.iter() {
                if cond(item)? {
                    r = whole(item);
                    break;
                }
            }
            r
        }
    };
    Ok(Ev::Owned(out))
}
