//! `jsonpath(value, path)` through jsonpath-rust (RFC 9535). Literal paths are parsed once,
//! when the expression is compiled.

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

/// A parsed JSONPath.
#[derive(Debug, Clone)]
pub struct CompiledPath(JpQuery);

/// Parses a JSONPath, or says why it is invalid.
pub fn compile_path(path: &str) -> Result<CompiledPath, String> {
    parse_json_path(path)
        .map(CompiledPath)
        .map_err(|e| format!("invalid JSONPath '{path}': {e}"))
}

/// The values the path selects, as a list.
pub fn select(value: &Value, path: &CompiledPath) -> Result<Value, String> {
    let found = js_path_process(&path.0, value).map_err(|e| format!("jsonpath(): {e}"))?;
    Ok(Value::Array(found.into_iter().map(|r| r.val().clone()).collect()))
}
