//! The mapping language: small, typed, total where it can be, and fast.
//!
//! Stages, one file each: `grammar/mapping.pest` -> [`parse`] -> [`ast`] -> [`check()`]
//! (static types, every problem with a code and span) -> [`compile()`] (paths and functions
//! resolved once) -> [`Program::eval`]. The standard library lives in `stdlib/`, rhai in
//! `script.rs`, mapping tables in `table.rs`. No I/O here: callers read files.
//!
//! ```
//! use exflow::lang::{check, compile, parse, CheckEnv, Context, Tables};
//! let expr = parse("upper(Name) + ' #' + text(Id)").unwrap();
//! assert!(check(&expr, &CheckEnv::default()).1.is_empty());
//! let program = compile(&expr).unwrap();
//! let record = serde_json::json!({ "Name": "acme", "Id": 7 });
//! let tables = Tables::new();
//! let vars = serde_json::json!({});
//! let ctx = Context { record: &record, vars: &vars, tables: &tables, scripts: None, bindings: &[] };
//! assert_eq!(program.eval(&ctx).unwrap(), serde_json::json!("ACME #7"));
//! ```

pub mod ast;
mod check;
mod compile;
pub mod error;
mod eval;
mod hoist;
mod jsonpath;
mod parse;
pub mod projected;
mod script;
mod stdlib;
mod syntax_error;
mod table;
mod types;
pub mod value;

#[cfg(test)]
mod tests;

pub use ast::{Expr, ExprKind, Span};
pub use check::{check, check_warn, CheckEnv};
pub use compile::{compile, Program};
pub use error::{ErrorCode, LangError};
pub use eval::{Context, EvalError, ViewContext};
pub use parse::parse;
pub use projected::{ProjectedValue, View};
pub use script::{ScriptError, ScriptHost};
pub use stdlib::{functions, FunctionInfo};
pub use table::Tables;
pub use types::{ObjectField, RecordShape, Type};
