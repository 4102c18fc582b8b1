//! Runs a [`Program`] against one record. Values are borrowed from the record, bindings and
//! literals wherever possible (`Cow`), and only cloned where the output is built.

use super::ast::Span;
use super::compile::{Cmp, Node, Part, PathArg, Program, Root, Seg};
use super::jsonpath::{compile_path, select};
use super::script::ScriptHost;
use super::stdlib::Hof;
use super::table::Tables;
use super::value::{arith, compare, describe, equal, push_text, truthy, Arith};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

/// Everything an expression can read while it runs.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The record bare field names read from.
    pub record: &'a Value,
    /// `vars.*` (an object).
    pub vars: &'a Value,
    /// Mapping tables for `table()`.
    pub tables: &'a Tables,
    /// rhai functions for `script.*`.
    pub scripts: Option<&'a ScriptHost>,
    /// Extra top-level names (`customer`, `line`, ...), looked up before record fields.
    pub bindings: &'a [(&'a str, &'a Value)],
}

/// An expression failed on this record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// What went wrong, e.g. "upper() expects text, got number 12".
    pub message: String,
    /// The failing sub-expression.
    pub span: Span,
}

type R<'v> = Result<Cow<'v, Value>, EvalError>;

static NULL: Value = Value::Null;

/// Lambda parameters in scope: a linked list on the stack, so entering a lambda allocates nothing.
struct Scope<'s> {
    value: &'s Value,
    parent: Option<&'s Scope<'s>>,
}

fn fail(message: String, span: Span) -> EvalError {
    EvalError { message, span }
}

impl Program {
    /// Evaluates the expression for one record.
    pub fn eval(&self, ctx: &Context) -> Result<Value, EvalError> {
        ev(&self.root, ctx, None).map(Cow::into_owned)
    }
}

fn root_value<'v>(root: &'v Root, cx: &'v Context<'v>, sc: Option<&'v Scope<'v>>) -> &'v Value {
    match root {
        Root::Local(k) => {
            let mut s = sc;
            for _ in 0..*k {
                s = s.and_then(|x| x.parent);
            }
            s.map(|x| x.value).unwrap_or(&NULL)
        }
        Root::Vars => cx.vars,
        Root::Name(n) => match cx.bindings.iter().find(|(b, _)| *b == &**n) {
            Some((_, v)) => v,
            None => cx.record.get(&**n).unwrap_or(&NULL),
        },
    }
}

fn step<'v>(cur: &'v Value, seg: &Seg, key: Option<&Value>) -> &'v Value {
    let found = match (seg, cur) {
        (Seg::Key(k), Value::Object(m)) => m.get(&**k),
        (Seg::Idx(i), Value::Array(a)) => index(a, *i),
        (Seg::Dyn(_), _) => match (key, cur) {
            (Some(Value::String(k)), Value::Object(m)) => m.get(k),
            (Some(Value::Number(n)), Value::Array(a)) => n.as_i64().and_then(|i| index(a, i)),
            _ => None,
        },
        _ => None,
    };
    found.unwrap_or(&NULL)
}

fn index(a: &[Value], i: i64) -> Option<&Value> {
    let i = if i < 0 { a.len() as i64 + i } else { i };
    usize::try_from(i).ok().and_then(|i| a.get(i))
}

/// Follows `segs` from `start`; dynamic segments are evaluated in the outer context.
fn walk<'v, 'x>(
    start: &'x Value,
    segs: &[Seg],
    cx: &'v Context<'v>,
    sc: Option<&'v Scope<'v>>,
) -> Result<&'x Value, EvalError> {
    let mut cur = start;
    for seg in segs {
        if cur.is_null() {
            return Ok(&NULL);
        }
        cur = match seg {
            Seg::Dyn(n) => {
                let key = ev(n, cx, sc)?;
                step(cur, seg, Some(&key))
            }
            _ => step(cur, seg, None),
        };
    }
    Ok(cur)
}

fn ev<'v>(n: &'v Node, cx: &'v Context<'v>, sc: Option<&'v Scope<'v>>) -> R<'v> {
    match n {
        Node::Const(v) => Ok(Cow::Borrowed(v)),
        Node::Path(root, segs) => {
            let start = root_value(root, cx, sc);
            Ok(Cow::Borrowed(walk(start, segs, cx, sc)?))
        }
        Node::Get(base, segs) => match ev(base, cx, sc)? {
            Cow::Borrowed(b) => Ok(Cow::Borrowed(walk(b, segs, cx, sc)?)),
            Cow::Owned(o) => Ok(Cow::Owned(walk(&o, segs, cx, sc)?.clone())),
        },
        Node::Interp(parts) => {
            let mut out = String::new();
            for p in parts.iter() {
                match p {
                    Part::Text(t) => out.push_str(t),
                    Part::Expr(e) => push_text(&mut out, &*ev(e, cx, sc)?),
                }
            }
            Ok(Cow::Owned(Value::String(out)))
        }
        Node::Neg(x, span) => {
            let v = ev(x, cx, sc)?;
            arith(Arith::Sub, &Value::from(0), &v)
                .map(Cow::Owned)
                .map_err(|_| fail(format!("cannot negate {}", describe(&v)), *span))
        }
        Node::Not(x, span) => {
            let v = ev(x, cx, sc)?;
            let b = truthy(&v, "not").map_err(|m| fail(m, *span))?;
            Ok(Cow::Owned(Value::Bool(!b)))
        }
        Node::Arith(op, a, b, span) => {
            let (a, b) = (ev(a, cx, sc)?, ev(b, cx, sc)?);
            arith(*op, &a, &b).map(Cow::Owned).map_err(|m| fail(m, *span))
        }
        Node::Cmp(op, a, b, span) => {
            let (a, b) = (ev(a, cx, sc)?, ev(b, cx, sc)?);
            let r = match op {
                Cmp::Eq => equal(&a, &b),
                Cmp::Ne => !equal(&a, &b),
                _ => {
                    let Some(o) = compare(&a, &b) else {
                        return Err(fail(
                            format!("cannot compare {} with {}", describe(&a), describe(&b)),
                            *span,
                        ));
                    };
                    match op {
                        Cmp::Lt => o == Ordering::Less,
                        Cmp::Le => o != Ordering::Greater,
                        Cmp::Gt => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    }
                }
            };
            Ok(Cow::Owned(Value::Bool(r)))
        }
        Node::And(a, b, span) => {
            let l = truthy(&*ev(a, cx, sc)?, "and").map_err(|m| fail(m, *span))?;
            let r = l && truthy(&*ev(b, cx, sc)?, "and").map_err(|m| fail(m, *span))?;
            Ok(Cow::Owned(Value::Bool(r)))
        }
        Node::Or(a, b, span) => {
            let l = truthy(&*ev(a, cx, sc)?, "or").map_err(|m| fail(m, *span))?;
            let r = l || truthy(&*ev(b, cx, sc)?, "or").map_err(|m| fail(m, *span))?;
            Ok(Cow::Owned(Value::Bool(r)))
        }
        Node::Coalesce(a, b) => match ev(a, cx, sc) {
            Ok(v) if !v.is_null() => Ok(v),
            _ => ev(b, cx, sc),
        },
        Node::If(c, a, b, span) => {
            let cond = truthy(&*ev(c, cx, sc)?, "if").map_err(|m| fail(m, *span))?;
            if cond {
                ev(a, cx, sc)
            } else {
                ev(b, cx, sc)
            }
        }
        Node::Match(x, arms) => {
            let v = ev(x, cx, sc)?;
            for (pats, body) in arms.iter() {
                if pats.iter().any(|p| p.as_ref().is_none_or(|p| equal(p, &v))) {
                    return ev(body, cx, sc);
                }
            }
            Ok(Cow::Borrowed(&NULL))
        }
        Node::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items.iter() {
                out.push(ev(i, cx, sc)?.into_owned());
            }
            Ok(Cow::Owned(Value::Array(out)))
        }
        Node::Object(entries) => {
            let mut out = serde_json::Map::with_capacity(entries.len());
            for (k, v) in entries.iter() {
                out.insert(k.to_string(), ev(v, cx, sc)?.into_owned());
            }
            Ok(Cow::Owned(Value::Object(out)))
        }
        Node::Call { imp, args, span, .. } => call(*imp, args, *span, cx, sc),
        Node::Hof { op, list, body, span } => hof(*op, list, body, *span, cx, sc),
        Node::Table { name, key, default } => {
            let k = ev(key, cx, sc)?;
            let found = match k.as_ref() {
                Value::Null => None,
                Value::String(s) => cx.tables.lookup(name, s),
                other => cx.tables.lookup(name, &super::value::to_text(other)),
            };
            match (found, default) {
                (Some(v), _) => Ok(Cow::Borrowed(v)),
                (None, Some(d)) => ev(d, cx, sc),
                (None, None) => Ok(Cow::Borrowed(&NULL)),
            }
        }
        Node::JsonPath { value, path, span } => {
            let v = ev(value, cx, sc)?;
            let r = match path {
                PathArg::Fixed(p) => select(&v, p),
                PathArg::Dynamic(p) => match ev(p, cx, sc)?.as_ref() {
                    Value::String(s) => compile_path(s).and_then(|p| select(&v, &p)),
                    other => Err(format!("jsonpath() expects a text path, got {}", describe(other))),
                },
            };
            r.map(Cow::Owned).map_err(|m| fail(m, *span))
        }
        Node::Script { name, args, span } => {
            let Some(host) = cx.scripts else {
                return Err(fail(format!("script.{name}(): no scripts are loaded"), *span));
            };
            let mut values = Vec::with_capacity(args.len());
            for a in args.iter() {
                values.push(ev(a, cx, sc)?.into_owned());
            }
            host.call(name, &values).map(Cow::Owned).map_err(|m| fail(m, *span))
        }
    }
}

/// Calls a plain built-in; arguments live on the stack for up to three of them.
fn call<'v>(
    imp: super::stdlib::Imp,
    args: &'v [Node],
    span: Span,
    cx: &'v Context<'v>,
    sc: Option<&'v Scope<'v>>,
) -> R<'v> {
    let e = |m: String| fail(m, span);
    let r = match args {
        [] => imp(&[]),
        [a] => imp(&[ev(a, cx, sc)?]),
        [a, b] => imp(&[ev(a, cx, sc)?, ev(b, cx, sc)?]),
        [a, b, c] => imp(&[ev(a, cx, sc)?, ev(b, cx, sc)?, ev(c, cx, sc)?]),
        many => {
            let mut vals = Vec::with_capacity(many.len());
            for a in many {
                vals.push(ev(a, cx, sc)?);
            }
            imp(&vals)
        }
    };
    r.map(Cow::Owned).map_err(e)
}

fn hof<'v>(op: Hof, list: &'v Node, body: &'v Node, span: Span, cx: &'v Context<'v>, sc: Option<&'v Scope<'v>>) -> R<'v> {
    let name = match op {
        Hof::Map => "map",
        Hof::Filter => "filter",
        Hof::Any => "any",
        Hof::All => "all",
        Hof::Find => "find",
    };
    let lv = ev(list, cx, sc)?;
    let items = match lv.as_ref() {
        Value::Array(a) => a,
        Value::Null => {
            return Ok(Cow::Owned(match op {
                Hof::Any => Value::Bool(false),
                Hof::All => Value::Bool(true),
                _ => Value::Null,
            }))
        }
        other => return Err(fail(format!("{name}() expects a list, got {}", describe(other)), span)),
    };
    let cond = |item: &Value| -> Result<bool, EvalError> {
        let s = Scope { value: item, parent: sc };
        let v = ev(body, cx, Some(&s))?;
        truthy(&v, name).map_err(|m| fail(m, span))
    };
    let out = match op {
        Hof::Map => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let s = Scope { value: item, parent: sc };
                out.push(ev(body, cx, Some(&s))?.into_owned());
            }
            Value::Array(out)
        }
        Hof::Filter => {
            let mut out = Vec::new();
            for item in items {
                if cond(item)? {
                    out.push(item.clone());
                }
            }
            Value::Array(out)
        }
        Hof::Any => {
            let mut r = false;
            for item in items {
                if cond(item)? {
                    r = true;
                    break;
                }
            }
            Value::Bool(r)
        }
        Hof::All => {
            let mut r = true;
            for item in items {
                if !cond(item)? {
                    r = false;
                    break;
                }
            }
            Value::Bool(r)
        }
        Hof::Find => {
            let mut r = Value::Null;
            for item in items {
                if cond(item)? {
                    r = item.clone();
                    break;
                }
            }
            r
        }
    };
    Ok(Cow::Owned(out))
}
