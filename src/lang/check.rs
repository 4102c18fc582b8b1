//! The static check: walks a parsed expression with what is known of the record, the
//! bindings, variables, tables and scripts, and reports every problem it can prove
//! (not just the first). `Type::Any` anywhere means "unknown" and never causes an error.

use super::ast::{BinOp, Expr, ExprKind, Ident, InterpPart, Span, UnOp};
use super::error::{did_you_mean, ErrorCode, LangError};
use super::stdlib::{self, Builtin, Kind, P};
use super::types::{ObjectField, Type};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the checker knows about the names an expression may use.
#[derive(Debug, Clone)]
pub struct CheckEnv {
    /// The record bare field names read from; usually `Type::Record(..)`; `Type::Any` = unchecked.
    pub root: Type,
    /// Extra top-level names, e.g. `("customer", Record(..))`, `("line", ..)`.
    pub bindings: Vec<(String, Type)>,
    /// Known variables; `None` = any.
    pub vars: Option<BTreeSet<String>>,
    /// Known table names; `None` = any.
    pub tables: Option<BTreeSet<String>>,
    /// rhai function name -> number of parameters.
    pub scripts: BTreeMap<String, usize>,
}

impl Default for CheckEnv {
    /// Everything unknown (nothing can be proved wrong) and no scripts.
    fn default() -> Self {
        CheckEnv {
            root: Type::Any,
            bindings: Vec::new(),
            vars: None,
            tables: None,
            scripts: BTreeMap::new(),
        }
    }
}

/// Checks an expression; returns its type and every problem found.
pub fn check(expr: &Expr, env: &CheckEnv) -> (Type, Vec<LangError>) {
    let (ty, errors, _) = check_warn(expr, env);
    (ty, errors)
}

/// [`check`], plus warnings: what can run but cannot be meant (`==` between a number field
/// and text, always false).
pub fn check_warn(expr: &Expr, env: &CheckEnv) -> (Type, Vec<LangError>, Vec<LangError>) {
    let mut c = Checker {
        env,
        scopes: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let ty = c.ty(expr);
    (ty, c.errors, c.warnings)
}

struct Checker<'e> {
    env: &'e CheckEnv,
    /// Lambda parameters in scope, innermost last.
    scopes: Vec<(String, Type)>,
    errors: Vec<LangError>,
    warnings: Vec<LangError>,
}

fn literal_type(v: &Value) -> Type {
    match v {
        Value::Null => Type::Null,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::Text,
        Value::Array(_) => Type::List(Box::new(Type::Any)),
        Value::Object(_) => Type::Any,
    }
}

fn is_number_like(t: &Type) -> bool {
    t.is_open() || matches!(t, Type::Number)
}

fn text_literal(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Literal(Value::String(s)) => Some(s),
        _ => None,
    }
}

impl Checker<'_> {
    fn err(&mut self, code: ErrorCode, span: Span, msg: impl Into<String>, help: Option<String>) {
        self.errors
            .push(LangError::new(code, span, msg).with_help_opt(help));
    }

    fn ty(&mut self, e: &Expr) -> Type {
        match &e.kind {
            ExprKind::Literal(v) => literal_type(v),
            ExprKind::Interp(parts) => {
                for p in parts {
                    if let InterpPart::Expr(x) = p {
                        self.value(x);
                    }
                }
                Type::Text
            }
            ExprKind::Name(n) => self.name(n, e.span),
            ExprKind::Field(base, id) => {
                if matches!(&base.kind, ExprKind::Name(n) if n == "vars") && !self.shadowed("vars")
                {
                    self.var(id);
                    return Type::Any;
                }
                let bt = self.value(base);
                self.field(&bt, &id.name, id.span)
            }
            ExprKind::Index(base, idx) => {
                let bt = self.value(base);
                let it = self.value(idx);
                if let Some(key) = text_literal(idx) {
                    return self.field(&bt, key, idx.span);
                }
                match &bt {
                    Type::List(t) => {
                        if !is_number_like(&it) {
                            self.err(
                                ErrorCode::TypeMismatch,
                                idx.span,
                                format!("a list index must be a number, got {}", it.describe()),
                                None,
                            );
                        }
                        (**t).clone()
                    }
                    Type::Text | Type::Date | Type::Number | Type::Bool => {
                        self.err(
                            ErrorCode::TypeMismatch,
                            e.span,
                            format!("cannot index into {}", bt.describe()),
                            Some("use substr(..) for parts of text".into()),
                        );
                        Type::Any
                    }
                    _ => Type::Any,
                }
            }
            ExprKind::Unary(op, x) => {
                let t = self.value(x);
                match op {
                    UnOp::Neg => {
                        if !is_number_like(&t) {
                            self.err(
                                ErrorCode::TypeMismatch,
                                e.span,
                                format!("cannot negate {}", t.describe()),
                                None,
                            );
                        }
                        Type::Number
                    }
                    UnOp::Not => {
                        self.want_bool(&t, x.span, "not");
                        Type::Bool
                    }
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span),
            ExprKind::If(c, a, b) => {
                let ct = self.value(c);
                self.want_bool(&ct, c.span, "if");
                let at = self.value(a);
                let bt = self.value(b);
                at.merge(&bt)
            }
            ExprKind::Match(x, arms) => {
                let xt = self.value(x);
                let mut out: Option<Type> = None;
                for arm in arms {
                    for (pattern, span) in &arm.patterns {
                        let Some(p) = pattern.as_ref().filter(|p| !p.is_null()) else {
                            continue;
                        };
                        let pt = literal_type(p);
                        let fits = xt.is_open()
                            || (pt.is_textual() && xt.is_textual())
                            || std::mem::discriminant(&pt) == std::mem::discriminant(&xt);
                        if !fits {
                            self.err(
                                ErrorCode::TypeMismatch,
                                *span,
                                format!("this pattern is {} but the value matched is {}; it never matches", pt.describe(), xt.describe()),
                                Some("write the pattern as the same type, e.g. 12 instead of '12'".into()),
                            );
                        }
                    }
                    let t = self.value(&arm.body);
                    out = Some(match out {
                        None => t,
                        Some(o) => o.merge(&t),
                    });
                }
                out.unwrap_or(Type::Null)
            }
            ExprKind::List(items) => {
                let mut out: Option<Type> = None;
                for i in items {
                    let t = self.value(i);
                    out = Some(match out {
                        None => t,
                        Some(o) => o.merge(&t),
                    });
                }
                Type::List(Box::new(out.unwrap_or(Type::Any)))
            }
            ExprKind::Object(entries) => {
                let mut fields: Vec<ObjectField> = Vec::new();
                for (key, v) in entries {
                    let ty = self.value(v);
                    if fields.iter().any(|f| f.name == key.name) {
                        self.err(
                            ErrorCode::DuplicateKey,
                            key.span,
                            format!("the key `{}` appears twice", key.name),
                            Some("remove one of them".into()),
                        );
                        continue;
                    }
                    fields.push(ObjectField {
                        name: key.name.clone(),
                        span: key.span,
                        ty,
                    });
                }
                Type::Object(fields)
            }
            ExprKind::Call(name, args) => self.call(name, args, e.span),
            ExprKind::ScriptCall(name, args) => {
                for a in args {
                    self.value(a);
                }
                match self.env.scripts.get(&name.name) {
                    None => {
                        let known: Vec<&String> = self.env.scripts.keys().collect();
                        let help = did_you_mean(&name.name, &known).or_else(|| {
                            Some(if known.is_empty() {
                                "no scripts are loaded; rhai files go in pipelines/scripts/"
                                    .to_string()
                            } else {
                                format!(
                                    "script functions: {}",
                                    known
                                        .iter()
                                        .map(|s| s.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            })
                        });
                        self.err(
                            ErrorCode::UnknownScriptFunction,
                            name.span,
                            format!("no script defines `{}`", name.name),
                            help,
                        );
                    }
                    Some(&arity) if arity != args.len() => {
                        self.err(
                            ErrorCode::WrongArity,
                            e.span,
                            format!(
                                "script.{}() takes {arity} argument(s), got {}",
                                name.name,
                                args.len()
                            ),
                            None,
                        );
                    }
                    Some(_) => {}
                }
                Type::Any
            }
            ExprKind::Lambda(param, body) => {
                self.err(
                    ErrorCode::LambdaMisuse,
                    e.span,
                    "a lambda is only allowed as the argument of map, filter, any, all or find",
                    None,
                );
                self.scopes.push((param.name.clone(), Type::Any));
                self.value(body);
                self.scopes.pop();
                Type::Any
            }
        }
    }

    /// The type of an expression in a value position (a lambda there is an error).
    fn value(&mut self, e: &Expr) -> Type {
        self.ty(e)
    }

    fn shadowed(&self, name: &str) -> bool {
        self.scopes.iter().any(|(n, _)| n == name)
            || self.env.bindings.iter().any(|(n, _)| n == name)
    }

    fn name(&mut self, n: &str, span: Span) -> Type {
        if let Some((_, t)) = self.scopes.iter().rev().find(|(s, _)| s == n) {
            return t.clone();
        }
        if let Some((_, t)) = self.env.bindings.iter().find(|(s, _)| s == n) {
            return t.clone();
        }
        if n == "vars" {
            return Type::Any;
        }
        let root = self.env.root.clone();
        self.field(&root, n, span)
    }

    fn var(&mut self, id: &Ident) {
        if let Some(vars) = &self.env.vars {
            if !vars.contains(&id.name) {
                let known: Vec<&String> = vars.iter().collect();
                let help = did_you_mean(&id.name, &known)
                    .or_else(|| Some("variables are defined under `vars:` in exflow.yaml".into()));
                self.err(
                    ErrorCode::UnknownVar,
                    id.span,
                    format!("unknown variable `vars.{}`", id.name),
                    help,
                );
            }
        }
    }

    fn field(&mut self, t: &Type, name: &str, span: Span) -> Type {
        match t {
            Type::Any | Type::Null => Type::Any,
            Type::Record(shape) => match shape.field(name) {
                Some(ft) => ft,
                None => {
                    let mut candidates = shape.field_names();
                    candidates.extend(self.env.bindings.iter().map(|(n, _)| n.clone()));
                    let help = did_you_mean(name, &candidates);
                    self.err(
                        ErrorCode::UnknownField,
                        span,
                        format!("`{name}` is not a field of {}", t.describe()),
                        help,
                    );
                    Type::Any
                }
            },
            Type::Object(fields) => match fields.iter().find(|f| f.name == name) {
                Some(f) => f.ty.clone(),
                None => {
                    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    self.err(
                        ErrorCode::UnknownField,
                        span,
                        format!("the object has no key `{name}`"),
                        did_you_mean(name, &names),
                    );
                    Type::Any
                }
            },
            Type::List(_) => {
                self.err(
                    ErrorCode::TypeMismatch,
                    span,
                    format!("cannot read field `{name}` of a list"),
                    Some(format!(
                        "use `map(list, x => x.{name})` or `list[0].{name}`"
                    )),
                );
                Type::Any
            }
            other => {
                self.err(
                    ErrorCode::TypeMismatch,
                    span,
                    format!("cannot read field `{name}` of {}", other.describe()),
                    None,
                );
                Type::Any
            }
        }
    }

    fn want_bool(&mut self, t: &Type, span: Span, what: &str) {
        if !t.is_open() && !matches!(t, Type::Bool) {
            self.err(
                ErrorCode::TypeMismatch,
                span,
                format!("`{what}` expects a bool, got {}", t.describe()),
                Some("compare explicitly, e.g. `x != null` or `len(x) > 0`".into()),
            );
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> Type {
        let at = self.value(a);
        let bt = self.value(b);
        let solid = |t: &Type| {
            matches!(
                t,
                Type::Bool | Type::List(_) | Type::Object(_) | Type::Record(_)
            )
        };
        match op {
            BinOp::Add => {
                if at.is_textual() || bt.is_textual() {
                    if solid(&at) || solid(&bt) {
                        self.err(
                            ErrorCode::TypeMismatch,
                            span,
                            format!("cannot add {} and {}", at.describe(), bt.describe()),
                            Some("join text with concat(..) or interpolation".into()),
                        );
                    }
                    Type::Text
                } else if solid(&at) || solid(&bt) {
                    self.err(
                        ErrorCode::TypeMismatch,
                        span,
                        format!("cannot add {} and {}", at.describe(), bt.describe()),
                        None,
                    );
                    Type::Any
                } else if at.is_open() || bt.is_open() {
                    Type::Any
                } else {
                    Type::Number
                }
            }
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                for (t, e) in [(&at, a), (&bt, b)] {
                    if !t.is_open() && !matches!(t, Type::Number) {
                        self.err(
                            ErrorCode::TypeMismatch,
                            e.span,
                            format!("`{}` needs numbers, got {}", op.symbol(), t.describe()),
                            Some("convert text with number(..)".into()),
                        );
                    }
                }
                if matches!(op, BinOp::Div | BinOp::Rem)
                    && matches!(&b.kind, ExprKind::Literal(Value::Number(n)) if n.as_f64() == Some(0.0))
                {
                    self.err(ErrorCode::TypeMismatch, b.span, "division by zero", None);
                }
                Type::Number
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let orderable = |t: &Type| {
                    t.is_open() || t.is_textual() || matches!(t, Type::Number | Type::Bool)
                };
                let clash = !at.is_open()
                    && !bt.is_open()
                    && (at.is_textual() != bt.is_textual()
                        || matches!(at, Type::Number) != matches!(bt, Type::Number));
                if !orderable(&at) || !orderable(&bt) || clash {
                    self.err(
                        ErrorCode::TypeMismatch,
                        span,
                        format!("cannot order {} against {}", at.describe(), bt.describe()),
                        Some("compare numbers with numbers and text with text".into()),
                    );
                }
                Type::Bool
            }
            BinOp::Eq | BinOp::Ne => {
                // 0: could be anything (or null, which compares with everything).
                let kind = |t: &Type| match t {
                    Type::Number => 1,
                    Type::Bool => 2,
                    t if t.is_textual() => 3,
                    Type::List(_) => 4,
                    Type::Object(_) | Type::Record(_) => 5,
                    _ => 0,
                };
                let (ka, kb) = (kind(&at), kind(&bt));
                if ka != 0 && kb != 0 && ka != kb {
                    let always = if op == BinOp::Eq { "false" } else { "true" };
                    self.warnings.push(
                        LangError::new(
                            ErrorCode::TypeMismatch,
                            span,
                            format!(
                                "`{}` compares {} with {}: always {always} (a run fails such records)",
                                op.symbol(),
                                at.describe(),
                                bt.describe()
                            ),
                        )
                        .with_help_opt(Some(
                            "compare like with like: number(x) == 12 or text(x) == \"12\"".into(),
                        )),
                    );
                }
                Type::Bool
            }
            BinOp::And | BinOp::Or => {
                self.want_bool(&at, a.span, op.symbol());
                self.want_bool(&bt, b.span, op.symbol());
                Type::Bool
            }
            BinOp::Coalesce => match at {
                Type::Null => bt,
                _ => at.merge(&bt),
            },
        }
    }

    fn call(&mut self, name: &Ident, args: &[Expr], span: Span) -> Type {
        let Some(b) = stdlib::lookup(&name.name) else {
            let mut help = did_you_mean(&name.name, &stdlib::names());
            if self.env.scripts.contains_key(&name.name) {
                help = Some(format!(
                    "a rhai function is called as `script.{}(..)`",
                    name.name
                ));
            }
            self.err(
                ErrorCode::UnknownFunction,
                name.span,
                format!("unknown function `{}`", name.name),
                help,
            );
            for a in args {
                if let ExprKind::Lambda(p, body) = &a.kind {
                    self.scopes.push((p.name.clone(), Type::Any));
                    self.value(body);
                    self.scopes.pop();
                } else {
                    self.value(a);
                }
            }
            return Type::Any;
        };
        if args.len() < b.min || args.len() > b.max {
            let takes = if b.min == b.max {
                format!("{}", b.min)
            } else if b.max == usize::MAX {
                format!("at least {}", b.min)
            } else {
                format!("{} to {}", b.min, b.max)
            };
            self.err(
                ErrorCode::WrongArity,
                span,
                format!(
                    "{}() takes {takes} argument(s), got {}",
                    b.info.name,
                    args.len()
                ),
                Some(format!("usage: {}", b.info.signature)),
            );
        }
        let mut arg_types = Vec::with_capacity(args.len());
        let mut lambda_type = Type::Any;
        for (i, a) in args.iter().enumerate() {
            let p = b.param(i);
            match (&a.kind, p) {
                (ExprKind::Lambda(param, body), P::Lambda) => {
                    let el = stdlib::elem(arg_types.first().unwrap_or(&Type::Any));
                    self.scopes.push((param.name.clone(), el));
                    let bt = self.value(body);
                    self.scopes.pop();
                    if b.info.name != "map" {
                        self.want_bool(&bt, body.span, b.info.name);
                    }
                    lambda_type = bt;
                    arg_types.push(Type::Any);
                }
                (_, P::Lambda) => {
                    self.value(a);
                    self.err(
                        ErrorCode::LambdaMisuse,
                        a.span,
                        format!("{}() needs a lambda here, like `x => x.Field`", b.info.name),
                        Some(format!("usage: {}", b.info.signature)),
                    );
                    arg_types.push(Type::Any);
                }
                _ => {
                    let t = self.ty(a);
                    if !p.accepts(&t) {
                        let help = match p {
                            P::Text => Some("convert with text(..)".to_string()),
                            P::Num => Some("convert with number(..)".to_string()),
                            _ => Some(format!("usage: {}", b.info.signature)),
                        };
                        self.err(
                            ErrorCode::TypeMismatch,
                            a.span,
                            format!(
                                "{}() expects {}, got {}",
                                b.info.name,
                                p.describe(),
                                t.describe()
                            ),
                            help,
                        );
                    }
                    arg_types.push(t);
                }
            }
        }
        self.special(b, args);
        b.ret.result(&arg_types, lambda_type)
    }

    /// Checks of literal arguments that some functions need.
    fn special(&mut self, b: &Builtin, args: &[Expr]) {
        match (b.kind, b.info.name) {
            (Kind::Table, _) => {
                let Some(first) = args.first() else { return };
                match text_literal(first) {
                    None => self.err(
                        ErrorCode::InvalidArgument,
                        first.span,
                        "the table name must be a literal text",
                        Some("write table('name', key)".into()),
                    ),
                    Some(t) => {
                        if let Some(tables) = &self.env.tables {
                            if !tables.contains(t) {
                                let known: Vec<&String> = tables.iter().collect();
                                let help = did_you_mean(t, &known).or_else(|| {
                                    Some(format!(
                                        "known tables: {}",
                                        known
                                            .iter()
                                            .map(|s| s.as_str())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ))
                                });
                                self.err(
                                    ErrorCode::UnknownTable,
                                    first.span,
                                    format!("unknown table `{t}`"),
                                    help,
                                );
                            }
                        }
                    }
                }
            }
            (Kind::JsonPath, _) => {
                if let Some(Err(e)) = args
                    .get(1)
                    .and_then(text_literal)
                    .map(super::jsonpath::compile_path)
                {
                    let span = args.get(1).map(|a| a.span).unwrap_or_default();
                    self.err(ErrorCode::InvalidArgument, span, e, None);
                }
            }
            (_, "regex_replace" | "regex_match") => {
                if let Some(arg) = args.get(1) {
                    if let Some(Err(e)) =
                        text_literal(arg).map(|p| stdlib::regex_check(b.info.name, p))
                    {
                        self.err(ErrorCode::InvalidArgument, arg.span, e, None);
                    }
                }
            }
            _ => {}
        }
    }
}
