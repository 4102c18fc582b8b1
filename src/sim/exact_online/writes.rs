//! Checking write bodies as the service does: unknown properties, read-only properties,
//! mandatory properties, value types (ISO dates in, stored as `/Date(ms)/`), line collections.

use super::catalog::{self, Endpoint, LINES};
use super::filter::parse_datetime;
use super::wire::{date, ApiError};
use serde_json::{json, Map, Value};

/// Which write is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// POST: creatable fields, mandatory fields.
    Post,
    /// PUT: updatable fields only.
    Put,
    /// A header POST's line: the foreign key to the header is not required.
    Line,
    /// `OnlineSim::insert`/`update`: any known field (a user in the UI sees more than the API).
    Trusted,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(400, msg)
}

/// Checks a JSON body against the endpoint and returns it with values normalised.
pub fn check_body(ep: &Endpoint, body: &Value, mode: Write) -> Result<Map<String, Value>, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(bad("Error processing request stream. The request body must be a JSON object."));
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if k == "__metadata" {
            continue;
        }
        let Some(p) = ep.prop(k) else {
            return Err(bad(format!(
                "The property '{k}' does not exist on type '{}'. Make sure to only use property names that are defined by the type.",
                ep.type_name
            )));
        };
        let writable = match mode {
            Write::Post | Write::Line => p.post,
            Write::Put => p.put,
            Write::Trusted => true,
        };
        if !writable {
            return Err(bad(format!("Property '{k}' is read-only and can not be set on {}.", if mode == Write::Put { "update" } else { "create" })));
        }
        if p.is_collection() {
            let Some((_, lt, _)) = LINES.iter().find(|(c, _, _)| *c == p.name) else {
                return Err(bad(format!("Property '{k}' can not be written through this endpoint.")));
            };
            let Some(items) = v.as_array() else {
                return Err(bad(format!("Error processing request stream. '{k}' must be an array.")));
            };
            let line_ep = catalog::crud_endpoint_of(lt).ok_or_else(|| bad("line endpoint missing"))?;
            let lines: Result<Vec<Value>, ApiError> = items
                .iter()
                .map(|l| {
                    let line_mode = if mode == Write::Trusted { Write::Trusted } else if mode == Write::Put && l.get("ID").is_some() { Write::Put } else { Write::Line };
                    check_body(line_ep, l, line_mode).map(Value::Object)
                })
                .collect();
            out.insert(k.clone(), Value::Array(lines?));
            continue;
        }
        out.insert(k.clone(), convert(k, &p.ty, v)?);
    }
    if matches!(mode, Write::Post | Write::Line) {
        for p in ep.props.iter().filter(|p| p.mandatory) {
            if mode == Write::Line && LINES.iter().any(|(_, _, fk)| *fk == p.name) {
                continue;
            }
            let missing = match out.get(&p.name) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                _ => false,
            };
            if missing {
                return Err(bad(format!("Mandatory: {}", p.name)));
            }
        }
    }
    Ok(out)
}

fn convert(k: &str, ty: &str, v: &Value) -> Result<Value, ApiError> {
    let invalid = || bad(format!("Error processing request stream. The property '{k}' has an invalid value for type '{ty}'."));
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match ty {
        "Edm.Guid" => {
            let s = v.as_str().ok_or_else(invalid)?;
            json!(uuid::Uuid::parse_str(s).map_err(|_| invalid())?.to_string())
        }
        "Edm.DateTime" => {
            let s = v.as_str().ok_or_else(invalid)?;
            if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")).and_then(|m| m.parse::<i64>().ok()) {
                json!(date(ms))
            } else {
                json!(date(parse_datetime(s).ok_or_else(invalid)?))
            }
        }
        "Edm.Double" | "Edm.Decimal" => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) => json!(s.parse::<f64>().map_err(|_| invalid())?),
            _ => return Err(invalid()),
        },
        "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Byte" => match v {
            Value::Number(n) if n.is_i64() => v.clone(),
            Value::String(s) => json!(s.parse::<i64>().map_err(|_| invalid())?),
            _ => return Err(invalid()),
        },
        "Edm.Boolean" => match v {
            Value::Bool(_) => v.clone(),
            _ => return Err(invalid()),
        },
        "Edm.String" => match v {
            Value::String(_) => v.clone(),
            _ => return Err(invalid()),
        },
        _ => v.clone(),
    })
}
