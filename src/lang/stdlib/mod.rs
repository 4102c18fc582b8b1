//! The built-in functions: one static table (name, signature, doc, example, arity, types,
//! implementation), split by subject. Implementations take evaluated arguments and return
//! a value or an error message; the evaluator adds the span.

use super::value::describe;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

mod date;
mod list;
mod misc;
mod number;
mod text;

/// Documentation of one built-in function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionInfo {
    /// Name as called.
    pub name: &'static str,
    /// e.g. `pad_left(text, width, fill?) -> text`.
    pub signature: &'static str,
    /// One line saying what it does.
    pub doc: &'static str,
    /// An expression using it that evaluates to `true` (tested).
    pub example: &'static str,
}

/// An implementation over evaluated arguments.
pub(crate) type Imp = for<'a, 'b> fn(&'a [Cow<'b, Value>]) -> Result<Value, String>;

/// Functions that take a lambda, evaluated by the evaluator itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hof {
    Map,
    Filter,
    Any,
    All,
    Find,
}

/// How a built-in runs.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A plain function over values.
    Plain(Imp),
    /// map / filter / any / all / find.
    Hof(Hof),
    /// `table(name, key, default?)`.
    Table,
    /// `jsonpath(value, path)`.
    JsonPath,
}

/// What the checker knows of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    Any,
    Text,
    Num,
    List,
    Obj,
    /// Text or number (converted to text).
    TextNum,
    /// A lambda `x => ..`.
    Lambda,
}

/// What the checker knows of the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum R {
    Any,
    Text,
    Num,
    Bool,
    Date,
    List,
    Obj,
    /// The type of the first argument.
    Arg0,
    /// The element type of the first argument (a list).
    Elem0,
    /// A list of the lambda's result type.
    ListOfLambda,
    /// The merged type of all arguments.
    MergeArgs,
}

/// One built-in function.
pub(crate) struct Builtin {
    pub info: FunctionInfo,
    pub min: usize,
    pub max: usize,
    /// Parameter kinds; the last one repeats for variadic functions.
    pub params: &'static [P],
    pub ret: R,
    pub kind: Kind,
}

impl Builtin {
    /// The kind of parameter `i`.
    pub fn param(&self, i: usize) -> P {
        self.params
            .get(i)
            .or(self.params.last())
            .copied()
            .unwrap_or(P::Any)
    }
}

/// Declares a built-in in the tables below.
macro_rules! builtin {
    ($name:literal, $sig:literal, $doc:literal, $ex:literal, $min:literal ..= $max:expr, [$($p:ident),*], $ret:ident, $kind:expr) => {
        $crate::lang::stdlib::Builtin {
            info: $crate::lang::stdlib::FunctionInfo { name: $name, signature: $sig, doc: $doc, example: $ex },
            min: $min,
            max: $max,
            params: &[$($crate::lang::stdlib::P::$p),*],
            ret: $crate::lang::stdlib::R::$ret,
            kind: $kind,
        }
    };
}
pub(crate) use builtin;

fn all_tables() -> [&'static [Builtin]; 5] {
    [text::TEXT, number::NUMBER, date::DATE, list::LIST, misc::MISC]
}

struct Registry {
    infos: Vec<FunctionInfo>,
    by_name: HashMap<&'static str, &'static Builtin>,
}

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let mut infos = Vec::new();
        let mut by_name = HashMap::new();
        for table in all_tables() {
            for b in table {
                infos.push(b.info);
                by_name.insert(b.info.name, b);
            }
        }
        Registry { infos, by_name }
    })
}

/// Every built-in function with its documentation.
pub fn functions() -> &'static [FunctionInfo] {
    &registry().infos
}

/// The built-in called `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Builtin> {
    registry().by_name.get(name).copied()
}

/// All built-in names (for "did you mean").
pub(crate) fn names() -> Vec<&'static str> {
    registry().infos.iter().map(|i| i.name).collect()
}

// Argument helpers shared by the implementations. `None` means the argument was null.

pub(crate) fn arg<'a>(args: &'a [Cow<'_, Value>], i: usize) -> &'a Value {
    static NULL: Value = Value::Null;
    args.get(i).map(|c| c.as_ref()).unwrap_or(&NULL)
}

pub(crate) fn text<'a>(f: &str, args: &'a [Cow<'_, Value>], i: usize) -> Result<Option<&'a str>, String> {
    match arg(args, i) {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(format!("{f}() expects text, got {}", describe(other))),
    }
}

pub(crate) fn text_or_num(f: &str, args: &[Cow<'_, Value>], i: usize) -> Result<Option<String>, String> {
    match arg(args, i) {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Null => Ok(None),
        v @ Value::Number(_) => Ok(Some(super::value::to_text(v))),
        other => Err(format!("{f}() expects text or a number, got {}", describe(other))),
    }
}

pub(crate) fn number(f: &str, args: &[Cow<'_, Value>], i: usize) -> Result<Option<f64>, String> {
    match arg(args, i) {
        Value::Number(n) => Ok(n.as_f64()),
        Value::Null => Ok(None),
        other => Err(format!("{f}() expects a number, got {}", describe(other))),
    }
}

/// An integer argument (e.g. a width or a count); must be whole.
pub(crate) fn int(f: &str, args: &[Cow<'_, Value>], i: usize) -> Result<Option<i64>, String> {
    match number(f, args, i)? {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Some(x as i64)),
        Some(x) => Err(format!("{f}() expects a whole number, got {x}")),
    }
}

pub(crate) fn list<'a>(f: &str, args: &'a [Cow<'_, Value>], i: usize) -> Result<Option<&'a Vec<Value>>, String> {
    match arg(args, i) {
        Value::Array(a) => Ok(Some(a)),
        Value::Null => Ok(None),
        other => Err(format!("{f}() expects a list, got {}", describe(other))),
    }
}

pub(crate) fn object<'a>(
    f: &str,
    args: &'a [Cow<'_, Value>],
    i: usize,
) -> Result<Option<&'a serde_json::Map<String, Value>>, String> {
    match arg(args, i) {
        Value::Object(o) => Ok(Some(o)),
        Value::Null => Ok(None),
        other => Err(format!("{f}() expects an object, got {}", describe(other))),
    }
}

/// Limits a count the user controls so one expression cannot allocate without bound.
pub(crate) fn bounded(f: &str, n: i64) -> Result<usize, String> {
    const MAX: i64 = 1_000_000;
    if n > MAX {
        Err(format!("{f}(): {n} is larger than the limit {MAX}"))
    } else {
        Ok(n.max(0) as usize)
    }
}

/// Whether a regular expression compiles (for the checker).
pub(crate) fn regex_check(f: &str, pattern: &str) -> Result<(), String> {
    text::regex(f, pattern).map(|_| ())
}
