//! Applying a compiled map to one record: what `exflow map`, `exflow test` and the engine's
//! transform step share.

use super::model::Pipeline;
use crate::lang::{Context, EvalError, Program, ScriptHost, Tables};
use serde_json::{Map, Value};

/// Everything an expression can see besides the record.
pub struct MapEnv<'a> {
    /// The pipeline's vars.
    pub vars: &'a Value,
    /// Mapping tables.
    pub tables: &'a Tables,
    /// rhai functions.
    pub scripts: Option<&'a ScriptHost>,
}

/// A field whose expression failed.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {error}")]
pub struct FieldError {
    /// The target field.
    pub field: String,
    /// Why.
    pub error: EvalError,
}

/// Evaluates one program.
pub fn eval(program: &Program, record: &Value, bindings: &[(&str, &Value)], env: &MapEnv) -> Result<Value, EvalError> {
    let ctx = Context { record, vars: env.vars, tables: env.tables, scripts: env.scripts, bindings };
    program.eval(&ctx)
}

/// Applies `map` (field -> program) to a record; null results are left out, so a field a
/// record has no value for is not sent.
pub fn apply_map(map: &[(String, Program)], record: &Value, bindings: &[(&str, &Value)], env: &MapEnv) -> Result<Map<String, Value>, FieldError> {
    let ctx = Context { record, vars: env.vars, tables: env.tables, scripts: env.scripts, bindings };
    let mut out = Map::with_capacity(map.len());
    for (field, program) in map {
        match program.eval(&ctx) {
            Ok(Value::Null) => {}
            Ok(v) => {
                out.insert(field.clone(), v);
            }
            Err(error) => return Err(FieldError { field: field.clone(), error }),
        }
    }
    Ok(out)
}

/// Whether the record passes the pipeline's `where` filter.
pub fn passes_where(p: &Pipeline, record: &Value, bindings: &[(&str, &Value)], env: &MapEnv) -> Result<bool, EvalError> {
    match &p.source.where_ {
        None => Ok(true),
        Some(w) => Ok(truthy(&eval(w, record, bindings, env)?)),
    }
}

/// The language's truthiness: null, false, 0, "" and [] are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}
