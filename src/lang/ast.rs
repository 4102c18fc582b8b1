//! The syntax tree of a mapping expression; every node carries the byte span it came from.

use serde_json::Value;

/// A byte range `start..end` into the expression's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// One expression with the span of its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// A name together with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A literal value: null, a boolean, a number or a plain string.
    Literal(Value),
    /// A double-quoted string with `{expr}` parts.
    Interp(Vec<InterpPart>),
    /// A bare name: a lambda parameter, a binding, `vars`, or a field of the record.
    Name(String),
    /// `base.name`.
    Field(Box<Expr>, Ident),
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `-x` or `not x`.
    Unary(UnOp, Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `match x { p | q => e, _ => f }`.
    Match(Box<Expr>, Vec<MatchArm>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{ key: value, "odd key": value }`.
    Object(Vec<(Ident, Expr)>),
    /// `f(a, b)` or `a | f(b)` (the pipe passes its left side as the first argument).
    Call(Ident, Vec<Expr>),
    /// `script.f(a, b)`: a rhai function.
    ScriptCall(Ident, Vec<Expr>),
    /// `x => body`, only valid as an argument of `map`, `filter`, `any`, `all`, `find`.
    Lambda(Ident, Box<Expr>),
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum InterpPart {
    /// Literal text.
    Text(String),
    /// An embedded `{expr}`.
    Expr(Expr),
}

/// One arm of a `match`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchArm {
    /// The alternatives; `None` is the wildcard `_`.
    pub patterns: Vec<(Option<Value>, Span)>,
    /// The result when a pattern matches.
    pub body: Expr,
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+` (numbers add, text concatenates)
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
    /// `??`: the right side when the left is null or fails
    Coalesce,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Coalesce => "??",
        }
    }
}

impl Expr {
    /// The direct sub-expressions.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Name(_) => Vec::new(),
            ExprKind::Interp(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    InterpPart::Text(_) => None,
                    InterpPart::Expr(e) => Some(e),
                })
                .collect(),
            ExprKind::Field(b, _) | ExprKind::Unary(_, b) | ExprKind::Lambda(_, b) => vec![b],
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::If(a, b, c) => vec![a, b, c],
            ExprKind::Match(x, arms) => std::iter::once(&**x)
                .chain(arms.iter().map(|a| &a.body))
                .collect(),
            ExprKind::List(items) | ExprKind::Call(_, items) | ExprKind::ScriptCall(_, items) => {
                items.iter().collect()
            }
            ExprKind::Object(entries) => entries.iter().map(|(_, e)| e).collect(),
        }
    }

    /// How deeply the tree nests; computed without recursion, as a guard against stack
    /// exhaustion in the recursive stages on hostile input.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            max = max.max(d);
            stack.extend(e.children().into_iter().map(|c| (c, d + 1)));
        }
        max
    }
}
