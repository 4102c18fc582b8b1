//! Syntax tree to [`Program`]: a tree of compact nodes with field paths resolved into
//! segments, lambda parameters into scope slots, functions into fn pointers and literal
//! JSONPaths parsed once. Evaluation (`eval/`) never looks at names of built-ins again.

use super::ast::{BinOp, Expr, ExprKind, InterpPart, Span, UnOp};
use super::error::{did_you_mean, ErrorCode, LangError};
use super::jsonpath::{compile_path, CompiledPath};
use super::stdlib::{self, Hof, Imp, Kind};
use super::value::Arith;
use serde_json::Value;
use std::sync::Arc;

/// A compiled expression; cheap to clone and share between threads.
#[derive(Debug, Clone)]
pub struct Program {
    pub(crate) root: Arc<Node>,
}

/// Where a path starts.
#[derive(Debug)]
pub(crate) enum Root {
    /// A lambda parameter, counted from the innermost lambda.
    Local(usize),
    /// `vars`.
    Vars,
    /// A binding of that name if the context has one, else the record's field.
    Name(Box<str>),
}

/// One step of a path.
#[derive(Debug)]
pub(crate) enum Seg {
    Key(Box<str>),
    Idx(i64),
    Dyn(Node),
}

/// A piece of an interpolated string.
#[derive(Debug)]
pub(crate) enum Part {
    Text(Box<str>),
    Expr(Node),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A JSONPath known at compile time or computed per record.
#[derive(Debug)]
pub(crate) enum PathArg {
    Fixed(CompiledPath),
    Dynamic(Box<Node>),
}

/// One `key: value` of an object literal.
#[derive(Debug)]
pub(crate) struct ObjectEntry {
    pub(crate) key: Box<str>,
    /// `"key":` as JSON text, for writing the object without building it.
    pub(crate) json_key: Box<[u8]>,
    pub(crate) value: Node,
}

/// A match arm: its patterns (`None` is `_`) and its result.
pub(crate) type Arm = (Box<[Option<Value>]>, Node);

/// One node of a compiled expression.
pub(crate) enum Node {
    Const(Value),
    Path(Root, Box<[Seg]>),
    Get(Box<Node>, Box<[Seg]>),
    Interp(Box<[Part]>),
    Neg(Box<Node>, Span),
    Not(Box<Node>, Span),
    Arith(Arith, Box<Node>, Box<Node>, Span),
    Cmp(Cmp, Box<Node>, Box<Node>, Span),
    And(Box<Node>, Box<Node>, Span),
    Or(Box<Node>, Box<Node>, Span),
    Coalesce(Box<Node>, Box<Node>),
    If(Box<Node>, Box<Node>, Box<Node>, Span),
    Match(Box<Node>, Box<[Arm]>),
    List(Box<[Node]>),
    /// Entries, and whether their keys are distinct.
    Object(Box<[ObjectEntry]>, bool),
    Call {
        name: &'static str,
        imp: Imp,
        args: Box<[Node]>,
        span: Span,
    },
    Hof {
        op: Hof,
        list: Box<Node>,
        body: Box<Node>,
        span: Span,
        /// Values of the body's hoisted sub-expressions (see `hoist.rs`).
        slots: usize,
    },
    /// A lambda body's sub-expression that does not read the parameter: evaluated once per
    /// call of the higher-order function, into this slot.
    Hoisted(usize, Box<Node>),
    Table {
        name: Box<str>,
        key: Box<Node>,
        default: Option<Box<Node>>,
    },
    JsonPath {
        value: Box<Node>,
        path: PathArg,
        span: Span,
    },
    Script {
        name: Box<str>,
        args: Box<[Node]>,
        span: Span,
    },
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Const(v) => write!(f, "Const({v})"),
            Node::Path(r, s) => write!(f, "Path({r:?}, {s:?})"),
            Node::Call { name, args, .. } => write!(f, "Call({name}, {args:?})"),
            _ => f.write_str("Node(..)"),
        }
    }
}

/// Compiles a parsed expression. Fails only on what would make it unrunnable (unknown
/// function, wrong arity, misplaced lambda, bad literal arguments); run [`check`](super::check)
/// for everything else.
pub fn compile(expr: &Expr) -> Result<Program, Vec<LangError>> {
    compile_with(expr, true)
}

/// [`compile`], choosing whether invariant sub-expressions of lambdas are hoisted (tests
/// compare both).
pub(crate) fn compile_with(expr: &Expr, hoist: bool) -> Result<Program, Vec<LangError>> {
    let mut c = Compiler {
        scopes: Vec::new(),
        errors: Vec::new(),
        hoist,
    };
    let root = c.node(expr);
    if c.errors.is_empty() {
        Ok(Program {
            root: Arc::new(root),
        })
    } else {
        Err(c.errors)
    }
}

struct Compiler {
    /// Whether lambda bodies get their invariant parts hoisted.
    hoist: bool,
    scopes: Vec<String>,
    errors: Vec<LangError>,
}

fn boxed(n: Node) -> Box<Node> {
    Box::new(n)
}

impl Compiler {
    fn err(&mut self, code: ErrorCode, span: Span, msg: impl Into<String>) -> Node {
        self.errors.push(LangError::new(code, span, msg));
        Node::Const(Value::Null)
    }

    fn node(&mut self, e: &Expr) -> Node {
        match &e.kind {
            ExprKind::Literal(v) => Node::Const(v.clone()),
            ExprKind::Interp(parts) => Node::Interp(
                parts
                    .iter()
                    .map(|p| match p {
                        InterpPart::Text(t) => Part::Text(t.as_str().into()),
                        InterpPart::Expr(x) => Part::Expr(self.node(x)),
                    })
                    .collect(),
            ),
            ExprKind::Name(_) | ExprKind::Field(..) | ExprKind::Index(..) => self.path(e),
            ExprKind::Unary(UnOp::Neg, x) => Node::Neg(boxed(self.node(x)), e.span),
            ExprKind::Unary(UnOp::Not, x) => Node::Not(boxed(self.node(x)), e.span),
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (boxed(self.node(a)), boxed(self.node(b)));
                let s = e.span;
                match op {
                    BinOp::Add => Node::Arith(Arith::Add, a, b, s),
                    BinOp::Sub => Node::Arith(Arith::Sub, a, b, s),
                    BinOp::Mul => Node::Arith(Arith::Mul, a, b, s),
                    BinOp::Div => Node::Arith(Arith::Div, a, b, s),
                    BinOp::Rem => Node::Arith(Arith::Rem, a, b, s),
                    BinOp::Eq => Node::Cmp(Cmp::Eq, a, b, s),
                    BinOp::Ne => Node::Cmp(Cmp::Ne, a, b, s),
                    BinOp::Lt => Node::Cmp(Cmp::Lt, a, b, s),
                    BinOp::Le => Node::Cmp(Cmp::Le, a, b, s),
                    BinOp::Gt => Node::Cmp(Cmp::Gt, a, b, s),
                    BinOp::Ge => Node::Cmp(Cmp::Ge, a, b, s),
                    BinOp::And => Node::And(a, b, s),
                    BinOp::Or => Node::Or(a, b, s),
                    BinOp::Coalesce => Node::Coalesce(a, b),
                }
            }
            ExprKind::If(c, a, b) => Node::If(
                boxed(self.node(c)),
                boxed(self.node(a)),
                boxed(self.node(b)),
                c.span,
            ),
            ExprKind::Match(x, arms) => {
                let x = boxed(self.node(x));
                let arms = arms
                    .iter()
                    .map(|arm| {
                        let pats: Box<[Option<Value>]> =
                            arm.patterns.iter().map(|(p, _)| p.clone()).collect();
                        (pats, self.node(&arm.body))
                    })
                    .collect();
                Node::Match(x, arms)
            }
            ExprKind::List(items) => {
                let nodes: Vec<Node> = items.iter().map(|i| self.node(i)).collect();
                if nodes.iter().all(|n| matches!(n, Node::Const(_))) {
                    let values = nodes
                        .into_iter()
                        .map(|n| match n {
                            Node::Const(v) => v,
                            _ => Value::Null,
                        })
                        .collect();
                    return Node::Const(Value::Array(values));
                }
                Node::List(nodes.into_boxed_slice())
            }
            ExprKind::Object(entries) => {
                let mut seen = std::collections::HashSet::new();
                let distinct = entries.iter().all(|(k, _)| seen.insert(k.name.as_str()));
                Node::Object(
                    entries
                        .iter()
                        .map(|(k, v)| ObjectEntry {
                            key: k.name.as_str().into(),
                            json_key: json_key(&k.name),
                            value: self.node(v),
                        })
                        .collect(),
                    distinct,
                )
            }
            ExprKind::Call(name, args) => self.call(&name.name, name.span, args, e.span),
            ExprKind::ScriptCall(name, args) => {
                let args = self.plain_args(args);
                Node::Script {
                    name: name.name.as_str().into(),
                    args,
                    span: e.span,
                }
            }
            ExprKind::Lambda(..) => self.err(
                ErrorCode::LambdaMisuse,
                e.span,
                "a lambda is only allowed as the argument of map, filter, any, all or find",
            ),
        }
    }

    fn plain_args(&mut self, args: &[Expr]) -> Box<[Node]> {
        args.iter()
            .map(|a| match a.kind {
                ExprKind::Lambda(..) => self.err(
                    ErrorCode::LambdaMisuse,
                    a.span,
                    "a lambda is not allowed here",
                ),
                _ => self.node(a),
            })
            .collect()
    }

    /// Flattens `a.b[0]["c"]` into a root and segments.
    fn path(&mut self, e: &Expr) -> Node {
        let mut segs = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Field(b, id) => {
                    segs.push(Seg::Key(id.name.as_str().into()));
                    cur = b;
                }
                ExprKind::Index(b, i) => {
                    segs.push(match &i.kind {
                        ExprKind::Literal(Value::String(s)) => Seg::Key(s.as_str().into()),
                        ExprKind::Literal(Value::Number(n)) if n.as_i64().is_some() => {
                            Seg::Idx(n.as_i64().unwrap_or(0))
                        }
                        _ => Seg::Dyn(self.node(i)),
                    });
                    cur = b;
                }
                ExprKind::Name(n) => {
                    segs.reverse();
                    let root = match self.scopes.iter().rev().position(|s| s == n) {
                        Some(k) => Root::Local(k),
                        None if n == "vars" => Root::Vars,
                        None => Root::Name(n.as_str().into()),
                    };
                    return Node::Path(root, segs.into_boxed_slice());
                }
                _ => {
                    segs.reverse();
                    let base = self.node(cur);
                    return Node::Get(boxed(base), segs.into_boxed_slice());
                }
            }
        }
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) -> Node {
        let Some(b) = stdlib::lookup(name) else {
            let msg = match did_you_mean(name, &stdlib::names()) {
                Some(h) => format!("unknown function `{name}`; {h}"),
                None => format!("unknown function `{name}`"),
            };
            return self.err(ErrorCode::UnknownFunction, name_span, msg);
        };
        if args.len() < b.min || args.len() > b.max {
            return self.err(
                ErrorCode::WrongArity,
                span,
                format!(
                    "{name}() got {} argument(s); usage: {}",
                    args.len(),
                    b.info.signature
                ),
            );
        }
        match b.kind {
            Kind::Plain(imp) => {
                let args = self.plain_args(args);
                if b.min == 0
                    || args.iter().any(|a| !matches!(a, Node::Const(_)))
                    || name == "now"
                    || name == "today"
                {
                    return Node::Call {
                        name: b.info.name,
                        imp,
                        args,
                        span,
                    };
                }
                // All arguments are literals: fold now, but keep a failing call for run time
                // so the error surfaces with its span when evaluated.
                let values: Vec<std::borrow::Cow<Value>> = args
                    .iter()
                    .map(|a| match a {
                        Node::Const(v) => std::borrow::Cow::Borrowed(v),
                        _ => std::borrow::Cow::Owned(Value::Null),
                    })
                    .collect();
                match imp(&values) {
                    Ok(v) => Node::Const(v),
                    Err(_) => Node::Call {
                        name: b.info.name,
                        imp,
                        args,
                        span,
                    },
                }
            }
            Kind::Hof(op) => {
                let list = boxed(self.node(&args[0]));
                let ExprKind::Lambda(param, body) = &args[1].kind else {
                    return self.err(
                        ErrorCode::LambdaMisuse,
                        args[1].span,
                        format!(
                            "{name}() needs a lambda like `x => x.Field` as its second argument"
                        ),
                    );
                };
                self.scopes.push(param.name.clone());
                let mut body = boxed(self.node(body));
                self.scopes.pop();
                let slots = if self.hoist {
                    super::hoist::hoist(&mut body)
                } else {
                    0
                };
                Node::Hof {
                    op,
                    list,
                    body,
                    span,
                    slots,
                }
            }
            Kind::Table => {
                let ExprKind::Literal(Value::String(t)) = &args[0].kind else {
                    return self.err(
                        ErrorCode::InvalidArgument,
                        args[0].span,
                        "the table name must be a literal text",
                    );
                };
                let key = boxed(self.node(&args[1]));
                let default = args.get(2).map(|d| boxed(self.node(d)));
                Node::Table {
                    name: t.as_str().into(),
                    key,
                    default,
                }
            }
            Kind::JsonPath => {
                let value = boxed(self.node(&args[0]));
                let path = match &args[1].kind {
                    ExprKind::Literal(Value::String(p)) => match compile_path(p) {
                        Ok(cp) => PathArg::Fixed(cp),
                        Err(e) => return self.err(ErrorCode::InvalidArgument, args[1].span, e),
                    },
                    _ => PathArg::Dynamic(boxed(self.node(&args[1]))),
                };
                Node::JsonPath { value, path, span }
            }
        }
    }
}

/// `"key":` as JSON text.
pub(crate) fn json_key(key: &str) -> Box<[u8]> {
    let mut out = Vec::with_capacity(key.len() + 3);
    // Writing a string into a Vec cannot fail.
    let _ = super::projected::write_key(&mut out, key);
    out.into_boxed_slice()
}
