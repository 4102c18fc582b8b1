//! Checking write bodies as the service does: unknown properties (refused), read-only properties
//! (skipped, and reported so tests can see them), mandatory properties, value types (ISO dates in, stored as `/Date(ms)/`), line collections.

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

/// Properties the reference marks mandatory but the service derives when they are missing
/// (reference 5.8: an invoice line's `GLAccount` comes from the item's revenue account).
const DERIVED: &[(&str, &str)] = &[("salesinvoice/SalesInvoiceLines", "GLAccount")];

/// A checked body and the read-only properties that were left out of it.
#[derive(Debug, Default)]
pub struct Checked {
    /// The writable properties, values normalised.
    pub body: Map<String, Value>,
    /// Read-only properties skipped, as `Name` or `Lines/Name` for a line's.
    pub dropped: Vec<String>,
}

/// Checks a JSON body against the endpoint and returns it with values normalised.
pub fn check_body(
    ep: &Endpoint,
    body: &Value,
    mode: Write,
) -> Result<Map<String, Value>, ApiError> {
    check(ep, body, mode).map(|c| c.body)
}

/// Like [`check_body`], also naming the read-only properties it skipped. Exact Online skips a
/// property that is read-only (always, or by business logic at that moment) in POST and PUT
/// bodies without an error (docs/exact-online-simulator.md); unknown properties are refused.
pub fn check(ep: &Endpoint, body: &Value, mode: Write) -> Result<Checked, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(bad(
            "Error processing request stream. The request body must be a JSON object.",
        ));
    };
    let mut out = Checked::default();
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
            out.dropped.push(k.clone());
            continue;
        }
        if p.is_collection() {
            // A record read back carries `{"__deferred":..}` or `{"results":[..]}` here.
            let items = match v {
                Value::Array(a) => Some(a),
                Value::Object(o) if o.contains_key("__deferred") => continue,
                Value::Object(o) => o.get("results").and_then(Value::as_array),
                _ => None,
            };
            let Some(items) = items else {
                return Err(bad(format!(
                    "Error processing request stream. '{k}' must be an array."
                )));
            };
            let Some(lines) = catalog::lines_by_collection(&p.name) else {
                if items.is_empty() {
                    continue;
                }
                return Err(bad(format!(
                    "Property '{k}' can not be written through this endpoint."
                )));
            };
            let line_ep = catalog::crud_endpoint_of(lines.table)
                .ok_or_else(|| bad("line endpoint missing"))?;
            let mut checked = Vec::with_capacity(items.len());
            for l in items {
                let line_mode = if mode == Write::Trusted {
                    Write::Trusted
                } else if mode == Write::Put && l.get("ID").is_some() {
                    Write::Put
                } else {
                    Write::Line
                };
                let c = check(line_ep, l, line_mode)?;
                for d in c.dropped {
                    let name = format!("{k}/{d}");
                    if !out.dropped.contains(&name) {
                        out.dropped.push(name);
                    }
                }
                checked.push(Value::Object(c.body));
            }
            out.body.insert(k.clone(), Value::Array(checked));
            continue;
        }
        out.body.insert(k.clone(), convert(k, &p.ty, v)?);
    }
    if matches!(mode, Write::Post | Write::Line) {
        for p in ep.props.iter().filter(|p| p.mandatory) {
            if mode == Write::Line && LINES.iter().any(|l| l.fk == p.name) {
                continue;
            }
            if DERIVED.contains(&(ep.path.as_str(), p.name.as_str())) {
                continue;
            }
            let missing = match out.body.get(&p.name) {
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
    let invalid = || {
        bad(format!("Error processing request stream. The property '{k}' has an invalid value for type '{ty}'."))
    };
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
            if let Some(ms) = s
                .strip_prefix("/Date(")
                .and_then(|r| r.strip_suffix(")/"))
                .and_then(|m| m.parse::<i64>().ok())
            {
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
