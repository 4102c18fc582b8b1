//! The rhai host behind `script.name(..)`: sandboxed (no modules, no `eval`, no output,
//! bounded operations, call depth, string/array/map sizes, and about 500 ms of wall time per
//! call). Callers read the script files and hand over their contents.

use rhai::{Dynamic, Engine, Scope, AST};
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Wall time one script call may take.
const CALL_BUDGET: Duration = Duration::from_millis(500);
/// Nesting accepted when converting values to and from rhai.
const MAX_VALUE_DEPTH: usize = 64;

thread_local! {
    /// When the current call on this thread must end (the engine is shared between threads).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// A script that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ScriptError {
    /// The path the caller gave.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What rhai said.
    pub message: String,
}

/// Compiled rhai functions, callable from expressions; `Send + Sync`.
pub struct ScriptHost {
    engine: Engine,
    ast: AST,
    functions: BTreeMap<String, usize>,
}

impl std::fmt::Debug for ScriptHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptHost").field("functions", &self.functions).finish()
    }
}

fn sandboxed_engine() -> Engine {
    let mut engine = Engine::new();
    engine
        .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new())
        .disable_symbol("import")
        .disable_symbol("eval")
        .on_print(|_| {})
        .on_debug(|_, _, _| {})
        .set_max_operations(1_000_000)
        .set_max_call_levels(32)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(1 << 20)
        .set_max_array_size(100_000)
        .set_max_map_size(10_000)
        .set_max_variables(1_000)
        .set_max_modules(0)
        .on_progress(|ops| {
            if ops % 256 != 0 {
                return None;
            }
            let late = DEADLINE.with(|d| d.get().is_some_and(|d| Instant::now() > d));
            late.then(|| Dynamic::from("the script ran longer than 500 ms".to_string()))
        });
    engine
}

impl ScriptHost {
    /// Compiles the given `(path, source)` files; every file's errors are reported.
    pub fn load(files: &[(String, String)]) -> Result<ScriptHost, Vec<ScriptError>> {
        let engine = sandboxed_engine();
        let mut ast = AST::empty();
        let mut errors = Vec::new();
        for (path, source) in files {
            match engine.compile(source) {
                Ok(file_ast) => ast = ast.merge(&file_ast),
                Err(e) => errors.push(ScriptError {
                    file: path.clone(),
                    line: e.1.line().unwrap_or(0),
                    column: e.1.position().unwrap_or(0),
                    message: e.0.to_string(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let functions = ast
            .iter_functions()
            .map(|f| (f.name.to_string(), f.params.len()))
            .collect();
        Ok(ScriptHost {
            engine,
            ast,
            functions,
        })
    }

    /// Function name -> number of parameters.
    pub fn functions(&self) -> BTreeMap<String, usize> {
        self.functions.clone()
    }

    /// Calls the function `name` with JSON arguments.
    pub fn call(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let mut dyn_args = Vec::with_capacity(args.len());
        for a in args {
            dyn_args.push(to_dynamic(a, 0)?);
        }
        DEADLINE.with(|d| d.set(Some(Instant::now() + CALL_BUDGET)));
        let result = self
            .engine
            .call_fn::<Dynamic>(&mut Scope::new(), &self.ast, name, dyn_args);
        DEADLINE.with(|d| d.set(None));
        match result {
            Ok(v) => from_dynamic(v, 0),
            Err(e) => Err(match *e {
                rhai::EvalAltResult::ErrorTerminated(reason, _) => format!("script.{name}(): {reason}"),
                other => format!("script.{name}(): {other}"),
            }),
        }
    }
}

fn to_dynamic(v: &Value, depth: usize) -> Result<Dynamic, String> {
    if depth > MAX_VALUE_DEPTH {
        return Err("the value nests too deeply to pass to a script".into());
    }
    Ok(match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(items) => {
            let mut out = rhai::Array::with_capacity(items.len());
            for i in items {
                out.push(to_dynamic(i, depth + 1)?);
            }
            Dynamic::from_array(out)
        }
        Value::Object(m) => {
            let mut out = rhai::Map::new();
            for (k, v) in m {
                out.insert(k.as_str().into(), to_dynamic(v, depth + 1)?);
            }
            Dynamic::from_map(out)
        }
    })
}

fn from_dynamic(v: Dynamic, depth: usize) -> Result<Value, String> {
    if depth > MAX_VALUE_DEPTH {
        return Err("the script returned a value that nests too deeply".into());
    }
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = v.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = v.as_float() {
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| "the script returned a number that is not finite".into());
    }
    if v.is_string() {
        return Ok(Value::String(v.into_string().unwrap_or_default()));
    }
    if v.is_array() {
        let items = v.into_array().unwrap_or_default();
        return items
            .into_iter()
            .map(|i| from_dynamic(i, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if v.is_map() {
        let map = v.try_cast::<rhai::Map>().unwrap_or_default();
        let mut out = serde_json::Map::new();
        for (k, v) in map {
            out.insert(k.to_string(), from_dynamic(v, depth + 1)?);
        }
        return Ok(Value::Object(out));
    }
    Ok(Value::String(v.to_string()))
}
