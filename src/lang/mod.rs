//! lang: STAND-IN for the mapping language (branch `lang`), following the agreed API
//! (`Program::eval(&Context)`); replaced wholesale when `lang` is merged. It evaluates only
//! what the engine's unit tests need: paths, literals, `text(x)`, `a ?? b`, `a == b`.

use serde_json::Value;

/// Mapping tables of a project (stand-in).
#[derive(Debug, Clone, Default)]
pub struct Tables;

/// The rhai script host of a project (stand-in).
#[derive(Debug, Clone, Default)]
pub struct ScriptHost;

/// What an expression sees.
pub struct Context<'a> {
    /// The source record.
    pub record: &'a Value,
    /// The project's `vars`.
    pub vars: &'a Value,
    /// Mapping tables.
    pub tables: &'a Tables,
    /// rhai functions.
    pub scripts: Option<&'a ScriptHost>,
    /// Named values: joins, requires, lambda parameters.
    pub bindings: &'a [(&'a str, &'a Value)],
}

/// An evaluation failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// A compiled expression (stand-in: kept as source).
#[derive(Debug, Clone)]
pub struct Program {
    src: String,
}

impl Program {
    /// Compiles an expression.
    pub fn parse(src: &str) -> Result<Program, EvalError> {
        Ok(Program {
            src: src.trim().to_string(),
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.src
    }

    /// Evaluates the expression.
    pub fn eval(&self, ctx: &Context<'_>) -> Result<Value, EvalError> {
        eval_str(&self.src, ctx)
    }
}

fn eval_str(s: &str, ctx: &Context<'_>) -> Result<Value, EvalError> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once("??") {
        let v = eval_str(a, ctx)?;
        return if v.is_null() { eval_str(b, ctx) } else { Ok(v) };
    }
    if let Some((a, b)) = s.split_once("==") {
        return Ok(Value::Bool(eval_str(a, ctx)? == eval_str(b, ctx)?));
    }
    if let Some(inner) = s.strip_prefix("text(").and_then(|r| r.strip_suffix(')')) {
        return Ok(match eval_str(inner, ctx)? {
            Value::Null => Value::Null,
            Value::String(s) => Value::String(s),
            other => Value::String(other.to_string()),
        });
    }
    if let Some(lit) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return Ok(Value::String(lit.to_string()));
    }
    match s {
        "null" => return Ok(Value::Null),
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    if let Ok(n) = s.parse::<i64>() {
        return Ok(Value::from(n));
    }
    let mut parts = s.split('.');
    let first = parts.next().unwrap_or_default();
    let mut cur = if let Some((_, v)) = ctx.bindings.iter().rev().find(|(n, _)| *n == first) {
        (*v).clone()
    } else if first == "vars" {
        ctx.vars.clone()
    } else {
        ctx.record.get(first).cloned().unwrap_or(Value::Null)
    };
    for p in parts {
        cur = cur.get(p).cloned().unwrap_or(Value::Null);
    }
    Ok(cur)
}
