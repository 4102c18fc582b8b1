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
        } => hof(*op, list, body, *span, cx, sc),
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

/// Calls a plain built-in; arguments live on the stack for up to three of them.
/// `count`, `first` and `last` of a projected list read it in place.
fn call<'v>(
    name: &str,
    imp: super::stdlib::Imp,
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
fn hof_items<'x>(op: Hof, lv: &'x Ev<'x>, span: Span) -> Result<Option<Items<'x>>, EvalError> {
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

fn hof<'v>(
    op: Hof,
    list: &'v Node,
    body: &'v Node,
    span: Span,
    cx: &'v Env<'v>,
    sc: Option<&'v Scope<'v>>,
) -> R<'v> {
    let name = hof_name(op);
    let lv = ev(list, cx, sc)?;
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

/// Writes the JSON text of `n`'s value; `Ok(true)` when it was null. Object literals with
/// distinct keys, `map` and the branches of `if` are written as they are evaluated, so no
/// `serde_json::Map` is built for them.
fn write<'v>(
    n: &'v Node,
    cx: &'v Env<'v>,
    sc: Option<&'v Scope<'v>>,
    out: &mut Vec<u8>,
) -> Result<bool, EvalError> {
    match n {
        Node::Object(entries, true) => {
            out.push(b'{');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&e.json_key);
                write(&e.value, cx, sc, out)?;
            }
            out.push(b'}');
            Ok(false)
        }
        Node::Hof {
            op: Hof::Map,
            list,
            body,
            span,
        } => {
            let lv = ev(list, cx, sc)?;
            let Some(items) = hof_items(Hof::Map, &lv, *span)? else {
                out.extend_from_slice(b"null");
                return Ok(true);
            };
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let s = Scope {
                    value: item,
                    parent: sc,
                };
                write(body, cx, Some(&s), out)?;
            }
            out.push(b']');
            Ok(false)
        }
        Node::If(c, a, b, span) => {
            let cond = truthy(&*evv(c, cx, sc)?, "if").map_err(|m| fail(m, *span))?;
            write(if cond { a } else { b }, cx, sc, out)
        }
        _ => {
            let v = ev(n, cx, sc)?;
            let written = match &v {
                Ev::View(View::Json(j)) => serde_json::to_writer(&mut *out, j),
                Ev::View(View::Projected(p)) => p.write_json(out),
                Ev::Owned(j) => serde_json::to_writer(&mut *out, j),
            };
            written.map_err(|e| fail(e.to_string(), Span::default()))?;
            Ok(v.is_null())
        }
    }
}
