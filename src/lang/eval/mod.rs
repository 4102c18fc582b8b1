//! Runs a [`Program`] against one record. Values are borrowed from the record, bindings and
//! literals wherever possible, and only cloned where the output is built. A record can be a
//! `serde_json::Value` ([`Context`]) or a projected record ([`ViewContext`], what `exflow map`
//! parses): paths, `map`/`filter`/... and `count`/`first`/`last` walk a projected record
//! without turning it into a `Value`. [`Program::write_json`] writes a result as JSON text,
//! object literals and `map` results straight into the output.

use super::ast::Span;
use super::compile::{Cmp, Node, Part, PathArg, Program, Root, Seg};
use super::jsonpath::{compile_path, select};
use super::projected::{Items, View};
use super::script::ScriptHost;
use super::stdlib::Hof;
use super::table::Tables;
use super::value::{arith, compare, describe, equal, push_text, truthy, Arith};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

mod functions;
mod write;

use functions::{call, hof, hof_items};
use write::write;

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

/// [`Context`] over a record that may be projected (see `projected.rs`).
#[derive(Clone, Copy)]
pub struct ViewContext<'a> {
    /// The record bare field names read from.
    pub record: View<'a>,
    /// `vars.*` (an object).
    pub vars: &'a Value,
    /// Mapping tables for `table()`.
    pub tables: &'a Tables,
    /// rhai functions for `script.*`.
    pub scripts: Option<&'a ScriptHost>,
    /// Extra top-level names, looked up before record fields.
    pub bindings: &'a [(&'a str, View<'a>)],
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

/// The bindings of either kind of context.
#[derive(Clone, Copy)]
enum Names<'a> {
    Json(&'a [(&'a str, &'a Value)]),
    Views(&'a [(&'a str, View<'a>)]),
}

/// What the evaluator runs in.
#[derive(Clone, Copy)]
struct Env<'a> {
    record: View<'a>,
    vars: &'a Value,
    tables: &'a Tables,
    scripts: Option<&'a ScriptHost>,
    names: Names<'a>,
}

impl<'a> From<&Context<'a>> for Env<'a> {
    fn from(c: &Context<'a>) -> Env<'a> {
        Env {
            record: View::Json(c.record),
            vars: c.vars,
            tables: c.tables,
            scripts: c.scripts,
            names: Names::Json(c.bindings),
        }
    }
}

impl<'a> From<&ViewContext<'a>> for Env<'a> {
    fn from(c: &ViewContext<'a>) -> Env<'a> {
        Env {
            record: c.record,
            vars: c.vars,
            tables: c.tables,
            scripts: c.scripts,
            names: Names::Views(c.bindings),
        }
    }
}

/// A value during evaluation: a view into the inputs, or computed.
enum Ev<'v> {
    View(View<'v>),
    Owned(Value),
}

impl<'v> Ev<'v> {
    fn json(v: &'v Value) -> Ev<'v> {
        Ev::View(View::Json(v))
    }

    /// As a `Value`: a projected list or object is built here (rare: projection keeps
    /// values used whole as JSON).
    fn value(self) -> Cow<'v, Value> {
        match self {
            Ev::View(View::Json(v)) => Cow::Borrowed(v),
            Ev::View(View::Projected(p)) => Cow::Owned(p.to_value()),
            Ev::Owned(v) => Cow::Owned(v),
        }
    }

    fn is_null(&self) -> bool {
        match self {
            Ev::View(v) => v.is_null(),
            Ev::Owned(v) => v.is_null(),
        }
    }
}

type R<'v> = Result<Ev<'v>, EvalError>;
type RV<'v> = Result<Cow<'v, Value>, EvalError>;

static NULL: Value = Value::Null;

/// Lambda parameters in scope: a linked list on the stack, so entering a lambda allocates nothing.
struct Scope<'s> {
    value: View<'s>,
    parent: Option<&'s Scope<'s>>,
    /// Values of the lambda body's hoisted sub-expressions, kept for the whole call of the
    /// higher-order function.
    memo: &'s [Memo],
}

/// A hoisted sub-expression's value, computed on first use.
type Memo = std::cell::OnceCell<Result<Value, EvalError>>;

/// Empty slots for a higher-order function call.
fn memo_slots(slots: usize) -> Vec<Memo> {
    (0..slots).map(|_| Memo::new()).collect()
}

fn fail(message: String, span: Span) -> EvalError {
    EvalError { message, span }
}

impl Program {
    /// Evaluates the expression for one record.
    pub fn eval(&self, ctx: &Context) -> Result<Value, EvalError> {
        let env = Env::from(ctx);
        ev(&self.root, &env, None).map(|v| v.value().into_owned())
    }

    /// Evaluates the expression for one record that may be projected.
    pub fn eval_view(&self, ctx: &ViewContext) -> Result<Value, EvalError> {
        let env = Env::from(ctx);
        ev(&self.root, &env, None).map(|v| v.value().into_owned())
    }

    /// Appends the result as JSON text (what `serde_json::to_writer` gives for
    /// [`Program::eval_view`]) and says whether it was null. On an error `out` holds part of
    /// the text.
    pub fn write_json(&self, ctx: &ViewContext, out: &mut Vec<u8>) -> Result<bool, EvalError> {
        let env = Env::from(ctx);
        write(&self.root, &env, None, out)
    }
}

fn root_value<'v>(root: &'v Root, cx: &'v Env<'v>, sc: Option<&'v Scope<'v>>) -> View<'v> {
    match root {
        Root::Local(k) => {
            let mut s = sc;
            for _ in 0..*k {
                s = s.and_then(|x| x.parent);
            }
            s.map_or(View::Json(&NULL), |x| x.value)
        }
        Root::Vars => View::Json(cx.vars),
        Root::Name(n) => {
            let bound = match cx.names {
                Names::Json(b) => b
                    .iter()
                    .find(|(b, _)| *b == &**n)
                    .map(|(_, v)| View::Json(v)),
                Names::Views(b) => b.iter().find(|(b, _)| *b == &**n).map(|(_, v)| *v),
            };
            bound.unwrap_or_else(|| cx.record.field(n))
        }
    }
}

/// A field of an object. Records are small: comparing keys in order beats hashing them.
#[inline]
pub(crate) fn field<'v>(m: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    if m.len() <= 24 {
        m.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        m.get(key)
    }
}

fn step<'v>(cur: View<'v>, seg: &Seg, key: Option<&Value>) -> View<'v> {
    match seg {
        Seg::Key(k) => cur.field(k),
        Seg::Idx(i) => cur.index(*i),
        Seg::Dyn(_) => match key {
            Some(Value::String(k)) => cur.field(k),
            Some(Value::Number(n)) => n.as_i64().map_or(View::Json(&NULL), |i| cur.index(i)),
            _ => View::Json(&NULL),
        },
    }
}

/// Follows `segs` from `start`; dynamic segments are evaluated in the outer context.
fn walk<'v, 'x>(
    start: View<'x>,
    segs: &[Seg],
    cx: &'v Env<'v>,
    sc: Option<&'v Scope<'v>>,
) -> Result<View<'x>, EvalError> {
    let mut cur = start;
    for seg in segs {
        if cur.is_null() {
            return Ok(View::Json(&NULL));
        }
        cur = match seg {
            Seg::Dyn(n) => {
                let key = evv(n, cx, sc)?;
                step(cur, seg, Some(&key))
            }
            _ => step(cur, seg, None),
        };
    }
    Ok(cur)
}

/// Evaluates to a `Value`.
fn evv<'v>(n: &'v Node, cx: &'v Env<'v>, sc: Option<&'v Scope<'v>>) -> RV<'v> {
    ev(n, cx, sc).map(Ev::value)
}

fn ev<'v>(n: &'v Node, cx: &'v Env<'v>, sc: Option<&'v Scope<'v>>) -> R<'v> {
    let owned = |v: Value| Ok(Ev::Owned(v));
    match n {
        Node::Const(v) => Ok(Ev::json(v)),
        Node::Path(root, segs) => {
            let start = root_value(root, cx, sc);
            Ok(Ev::View(walk(start, segs, cx, sc)?))
        }
        Node::Get(base, segs) => match ev(base, cx, sc)? {
            Ev::View(b) => Ok(Ev::View(walk(b, segs, cx, sc)?)),
            Ev::Owned(o) => {
                let found = walk(View::Json(&o), segs, cx, sc)?;
                Ok(Ev::Owned(Ev::View(found).value().into_owned()))
            }
        },
        Node::Interp(parts) => {
            let mut out = String::new();
            for p in parts.iter() {
                match p {
                    Part::Text(t) => out.push_str(t),
                    Part::Expr(e) => push_text(&mut out, &*evv(e, cx, sc)?),
                }
            }
            owned(Value::String(out))
        }
        Node::Neg(x, span) => {
            let v = evv(x, cx, sc)?;
            arith(Arith::Sub, &Value::from(0), &v)
                .map(Ev::Owned)
                .map_err(|_| fail(format!("cannot negate {}", describe(&v)), *span))
        }
        Node::Not(x, span) => {
            let v = evv(x, cx, sc)?;
            let b = truthy(&v, "not").map_err(|m| fail(m, *span))?;
            owned(Value::Bool(!b))
        }
        Node::Arith(op, a, b, span) => {
            let (a, b) = (evv(a, cx, sc)?, evv(b, cx, sc)?);
            arith(*op, &a, &b)
                .map(Ev::Owned)
                .map_err(|m| fail(m, *span))
        }
        Node::Cmp(op, a, b, span) => {
            let (a, b) = (evv(a, cx, sc)?, evv(b, cx, sc)?);
            let r = match op {
                // Text "12" is never number 12: a comparison that could only be false (or
                // only true) says so, instead of silently filtering records out.
                Cmp::Eq | Cmp::Ne if !same_kind(&a, &b) => {
                    return Err(fail(
                        format!(
                            "cannot compare {} with {}: convert one side (number(x), text(x))",
                            describe(&a),
                            describe(&b)
                        ),
                        *span,
                    ));
                }
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
            owned(Value::Bool(r))
        }
        Node::And(a, b, span) => {
            let l = truthy(&*evv(a, cx, sc)?, "and").map_err(|m| fail(m, *span))?;
            let r = l && truthy(&*evv(b, cx, sc)?, "and").map_err(|m| fail(m, *span))?;
            owned(Value::Bool(r))
        }
        Node::Or(a, b, span) => {
            let l = truthy(&*evv(a, cx, sc)?, "or").map_err(|m| fail(m, *span))?;
            let r = l || truthy(&*evv(b, cx, sc)?, "or").map_err(|m| fail(m, *span))?;
            owned(Value::Bool(r))
        }
        Node::Coalesce(a, b) => match ev(a, cx, sc) {
            Ok(v) if !v.is_null() => Ok(v),
            _ => ev(b, cx, sc),
        },
        Node::If(c, a, b, span) => {
            let cond = truthy(&*evv(c, cx, sc)?, "if").map_err(|m| fail(m, *span))?;
            if cond {
                ev(a, cx, sc)
            } else {
                ev(b, cx, sc)
            }
        }
        Node::Match(x, arms) => {
            let v = evv(x, cx, sc)?;
            for (pats, body) in arms.iter() {
                if pats.iter().any(|p| p.as_ref().is_none_or(|p| equal(p, &v))) {
                    return ev(body, cx, sc);
                }
            }
            Ok(Ev::json(&NULL))
        }
        Node::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items.iter() {
                out.push(evv(i, cx, sc)?.into_owned());
            }
            owned(Value::Array(out))
        }
        Node::Object(entries, _) => {
            let mut out = serde_json::Map::with_capacity(entries.len());
            for e in entries.iter() {
                out.insert(String::from(&*e.key), evv(&e.value, cx, sc)?.into_owned());
            }
            owned(Value::Object(out))
        }
        Node::Call {
            name,
            imp,
            args,
            span,
        } => call(name, *imp, args, *span, cx, sc),
        Node::Hof {
            op,
            list,
            body,
            span,
            slots,
        } => hof(*op, list, body, *span, *slots, cx, sc),
        Node::Hoisted(slot, node) => {
            let Some(cell) = sc.and_then(|s| s.memo.get(*slot)) else {
                return ev(node, cx, sc);
            };
            if cell.get().is_none() {
                // Not `get_or_init`: nothing may panic, even on re-entry.
                let _ = cell.set(evv(node, cx, sc).map(Cow::into_owned));
            }
            match cell.get() {
                Some(Ok(v)) => Ok(Ev::json(v)),
                Some(Err(e)) => Err(e.clone()),
                None => ev(node, cx, sc),
            }
        }
        Node::Table { name, key, default } => {
            let k = evv(key, cx, sc)?;
            let found = match k.as_ref() {
                Value::Null => None,
                Value::String(s) => cx.tables.lookup(name, s),
                other => cx.tables.lookup(name, &super::value::to_text(other)),
            };
            match (found, default) {
                (Some(v), _) => Ok(Ev::json(v)),
                (None, Some(d)) => ev(d, cx, sc),
                (None, None) => Ok(Ev::json(&NULL)),
            }
        }
        Node::JsonPath { value, path, span } => {
            let v = evv(value, cx, sc)?;
            let r = match path {
                PathArg::Fixed(p) => select(&v, p),
                PathArg::Dynamic(p) => match evv(p, cx, sc)?.as_ref() {
                    Value::String(s) => compile_path(s).and_then(|p| select(&v, &p)),
                    other => Err(format!(
                        "jsonpath() expects a text path, got {}",
                        describe(other)
                    )),
                },
            };
            r.map(Ev::Owned).map_err(|m| fail(m, *span))
        }
        Node::Script { name, args, span } => {
            let Some(host) = cx.scripts else {
                return Err(fail(
                    format!("script.{name}(): no scripts are loaded"),
                    *span,
                ));
            };
            let mut values = Vec::with_capacity(args.len());
            for a in args.iter() {
                values.push(evv(a, cx, sc)?.into_owned());
            }
            host.call(name, &values)
                .map(Ev::Owned)
                .map_err(|m| fail(m, *span))
        }
    }
}

/// Whether `==` between `a` and `b` can mean anything: the same kind of value, or a null on
/// either side (testing for a missing value is always fine).
fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) || a.is_null() || b.is_null()
}
