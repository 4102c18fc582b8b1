//! Applying a compiled map to one record: what `exflow map`, `exflow test` and the engine's
//! transform step share.

use super::model::Pipeline;
use crate::lang::{Context, EvalError, Program, ScriptHost, Tables, View, ViewContext};
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

impl<'a> MapEnv<'a> {
    /// The evaluation context for one record and its bindings.
    pub fn context<'c>(
        &self,
        record: &'c Value,
        bindings: &'c [(&'c str, &'c Value)],
    ) -> Context<'c>
    where
        'a: 'c,
    {
        Context {
            record,
            vars: self.vars,
            tables: self.tables,
            scripts: self.scripts,
            bindings,
        }
    }
}

impl<'a> MapEnv<'a> {
    /// The evaluation context for a record that may be projected.
    pub fn view_context<'c>(
        &self,
        record: View<'c>,
        bindings: &'c [(&'c str, View<'c>)],
    ) -> ViewContext<'c>
    where
        'a: 'c,
    {
        ViewContext {
            record,
            vars: self.vars,
            tables: self.tables,
            scripts: self.scripts,
            bindings,
        }
    }
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
pub fn eval(
    program: &Program,
    record: &Value,
    bindings: &[(&str, &Value)],
    env: &MapEnv,
) -> Result<Value, EvalError> {
    let ctx = env.context(record, bindings);
    program.eval(&ctx)
}

/// Applies `map` (field -> program) to a record; null results are left out, so a field a
/// record has no value for is not sent.
pub fn apply_map(
    map: &[(String, Program)],
    record: &Value,
    bindings: &[(&str, &Value)],
    env: &MapEnv,
) -> Result<Map<String, Value>, FieldError> {
    let ctx = env.context(record, bindings);
    let mut out = Map::with_capacity(map.len());
    for (field, program) in map {
        match program.eval(&ctx) {
            Ok(Value::Null) => {}
            Ok(v) => {
                out.insert(field.clone(), v);
            }
            Err(error) => {
                return Err(FieldError {
                    field: field.clone(),
                    error,
                })
            }
        }
    }
    Ok(out)
}

/// A map prepared for writing many records that may be projected (what `exflow map`
/// parses) as JSON lines: object literals and `map` results are written as they are
/// evaluated. Gives the same text as `serde_json::to_writer` of [`apply_map`] over the
/// record the projection stands for. Fields must be distinct (see [`distinct_fields`]).
pub struct MapWriter<'p> {
    fields: Vec<(&'p str, Box<[u8]>, &'p Program)>,
}

impl<'p> MapWriter<'p> {
    /// Prepares `map`.
    pub fn new(map: &'p [(String, Program)]) -> MapWriter<'p> {
        let fields = map
            .iter()
            .map(|(field, program)| {
                let mut key = Vec::with_capacity(field.len() + 3);
                // Writing into a Vec cannot fail.
                let _ = crate::lang::projected::write_key(&mut key, field);
                (field.as_str(), key.into_boxed_slice(), program)
            })
            .collect();
        MapWriter { fields }
    }

    /// Writes one record's mapped object. On an error `out` holds part of it.
    pub fn write(&self, ctx: &ViewContext, out: &mut Vec<u8>) -> Result<(), FieldError> {
        out.push(b'{');
        let mut first = true;
        for (field, key, program) in &self.fields {
            let start = out.len();
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(key);
            let null = program.write_json(ctx, out).map_err(|error| FieldError {
                field: field.to_string(),
                error,
            })?;
            if null {
                // A null result leaves the field out.
                out.truncate(start);
            } else {
                first = false;
            }
        }
        out.push(b'}');
        Ok(())
    }
}

/// [`passes_where`] for a record that may be projected.
pub fn passes_where_view(p: &Pipeline, ctx: &ViewContext) -> Result<bool, EvalError> {
    match &p.source.where_ {
        None => Ok(true),
        Some(w) => where_result(&w.eval_view(ctx)?),
    }
}

/// Whether no target field is mapped twice (then [`MapWriter`] writes what [`apply_map`] gives).
pub fn distinct_fields(map: &[(String, Program)]) -> bool {
    let mut seen = std::collections::HashSet::new();
    map.iter().all(|(f, _)| seen.insert(f.as_str()))
}

/// Whether the record passes the pipeline's `where` filter.
pub fn passes_where(
    p: &Pipeline,
    record: &Value,
    bindings: &[(&str, &Value)],
    env: &MapEnv,
) -> Result<bool, EvalError> {
    match &p.source.where_ {
        None => Ok(true),
        Some(w) => where_result(&eval(w, record, bindings, env)?),
    }
}

/// A `where`/`when` result as a decision: only true and false answer it. Anything else
/// (text, a number, null) fails the record with the reason, never filters it out silently.
pub fn condition(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(format!(
            "gave {}, not true or false",
            crate::lang::value::describe(other)
        )),
    }
}

fn where_result(v: &Value) -> Result<bool, EvalError> {
    condition(v).map_err(|message| EvalError {
        message,
        span: crate::lang::Span::default(),
    })
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
