//! One entity request, after authentication and administration selection: reads with the
//! OData query options (`$filter`, `$select`, `$orderby`, `$top` + `$skiptoken`, `$skip`,
//! `$inlinecount`) and writes, answered in OData v2 verbose JSON.

use super::catalog::Entity;
use super::documents;
use super::filter::{self, Expr};
use super::store::{key_literal, parse_key, record_key, Admin, ApiError, Record};
use super::write;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The page size when the client gives no `$top`, and the most one page holds.
/// The real default is not public (reference §7, open questions).
pub const PAGE_SIZE: usize = 100;
/// The largest page the simulator serves, whatever `$top` asks.
pub const MAX_PAGE: usize = 1000;

/// The path of the REST service (matched case-insensitively).
pub const SERVICE_PATH: &str = "/services/Exact.Entity.REST.EG";

/// Characters escaped in a key inside a URI (spaces of padded codes, among others).
const KEY_CHARS: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// What a request produced.
#[derive(Debug)]
pub enum Outcome {
    /// 200 with a body.
    Ok(Value),
    /// 201 with the created entity.
    Created(Value),
    /// 204.
    NoContent,
    /// 200 with a body already serialized.
    Body(String),
}

/// The parsed query options of a GET.
struct Query {
    filter: Option<Expr>,
    select: Option<Vec<String>>,
    orderby: Vec<(String, bool)>,
    top: Option<usize>,
    skip: usize,
    skiptoken: usize,
    inlinecount: bool,
}

fn parse_query(entity: &Entity, pairs: &[(String, String)]) -> Result<Query, ApiError> {
    let mut q = Query {
        filter: None,
        select: None,
        orderby: vec![],
        top: None,
        skip: 0,
        skiptoken: 0,
        inlinecount: false,
    };
    let unknown = |p: &str| {
        ApiError::bad(format!(
            "No property '{p}' exists in type '{}'",
            entity.type_name()
        ))
    };
    let count = |name: &str, v: &str| {
        v.trim().parse::<usize>().map_err(|_| {
            ApiError::bad(format!(
                "Invalid value '{v}' for query option '{name}'. It must be a non-negative integer."
            ))
        })
    };
    for (name, value) in pairs {
        match name.as_str() {
            "$filter" => q.filter = Some(filter::parse(value, entity).map_err(|e| ApiError::bad(e.0))?),
            "$select" => {
                let mut cols = Vec::new();
                for c in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    if c == "*" {
                        cols.clear();
                        break;
                    }
                    if !entity.has(c) {
                        return Err(unknown(c));
                    }
                    cols.push(c.to_string());
                }
                q.select = (!cols.is_empty()).then_some(cols);
            }
            "$orderby" => {
                for part in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    let mut words = part.split_whitespace();
                    let prop = words.next().unwrap_or_default();
                    let desc = match words.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(other) => return Err(ApiError::bad(format!("Syntax error at '{other}' in $orderby."))),
                    };
                    if !entity.has(prop) {
                        return Err(unknown(prop));
                    }
                    q.orderby.push((prop.to_string(), desc));
                }
            }
            "$top" => q.top = Some(count(name, value)?),
            "$skip" => q.skip = count(name, value)?,
            "$skiptoken" => q.skiptoken = count(name, value)?,
            "$inlinecount" => match value.as_str() {
                "allpages" => q.inlinecount = true,
                "none" => {}
                _ => return Err(ApiError::bad(format!("Invalid value '{value}' for $inlinecount."))),
            },
            "$format" if value == "json" => {}
            "$format" => return Err(ApiError { status: 415, message: format!("Unsupported media type requested: '{value}'.") }),
            "$expand" => return Err(ApiError::bad("The $expand query option is not supported by this service.")),
            n if n.starts_with('$') => {
                return Err(ApiError::bad(format!(
                    "The query parameter '{n}' begins with a system-reserved '$' character but is not recognized."
                )))
            }
            _ => {}
        }
    }
    Ok(q)
}

/// `{base}/services/Exact.Entity.REST.EG/Entity(key)`.
fn entity_uri(entity: &Entity, rec: &Record, base: &str) -> String {
    let key = record_key(entity, rec).unwrap_or_default();
    format!(
        "{base}{SERVICE_PATH}/{}({})",
        entity.name,
        percent_encoding::utf8_percent_encode(&key_literal(entity, &key), KEY_CHARS)
    )
}

/// An entity in wire shape: `__metadata` first, then every property (null when empty) in
/// catalogue order, or only the `$select`ed ones.
pub fn to_wire(entity: &Entity, rec: &Record, base: &str, select: Option<&[String]>) -> Value {
    let mut out = Map::new();
    let uri = entity_uri(entity, rec, base);
    out.insert(
        "__metadata".into(),
        json!({"id": uri, "uri": uri, "type": entity.type_name()}),
    );
    match select {
        Some(cols) => {
            for c in cols {
                out.insert(c.clone(), rec.get(c).cloned().unwrap_or(Value::Null));
            }
        }
        None => {
            for p in &entity.properties {
                out.insert(
                    p.name.clone(),
                    rec.get(&p.name).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    Value::Object(out)
}

fn read_only(entity: &Entity, op: &str) -> ApiError {
    ApiError {
        status: 405,
        message: format!(
            "{op} is not supported for entity '{}' by the REST service.",
            entity.name
        ),
    }
}

/// One request on `/services/Exact.Entity.REST.EG/{Entity}[(key)]`.
pub struct Request<'a> {
    /// GET, POST, MERGE, PUT, PATCH or DELETE (after `X-HTTP-Method` tunnelling).
    pub method: &'a str,
    /// The entity.
    pub entity: &'a Entity,
    /// The text inside `Entity(...)`, if any.
    pub raw_key: Option<&'a str>,
    /// The decoded query string.
    pub query: &'a [(String, String)],
    /// The request body.
    pub body: &'a [u8],
    /// Prefix of URIs in answers.
    pub base: &'a str,
}

/// Handles one request; `now` stamps writes.
pub fn handle(admin: &mut Admin, now: i64, req: &Request<'_>) -> Result<Outcome, ApiError> {
    let Request {
        method,
        entity,
        raw_key,
        query: query_pairs,
        body,
        base,
    } = *req;
    let key = raw_key.map(|k| parse_key(entity, k, false)).transpose()?;
    let parse_body = || -> Result<Value, ApiError> {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad(format!(
                "Error processing request stream. The payload is not valid JSON: {e}"
            ))
        })
    };
    match (method, key) {
        ("GET", None) => {
            if !entity.rest.retrieve {
                return Err(read_only(entity, "Retrieve"));
            }
            list(admin, entity, query_pairs, base)
        }
        ("GET", Some(k)) => {
            if !entity.rest.retrieve {
                return Err(read_only(entity, "Retrieve"));
            }
            let q = parse_query(entity, query_pairs)?;
            let rec = admin
                .table(&entity.name)
                .and_then(|t| t.get(&k))
                .ok_or_else(|| write::not_found(entity))?;
            Ok(Outcome::Ok(
                json!({ "d": to_wire(entity, rec, base, q.select.as_deref()) }),
            ))
        }
        ("POST", None) => {
            if !entity.rest.create {
                return Err(read_only(entity, "Create"));
            }
            let rec = write::create(admin, entity, &parse_body()?, now)?;
            Ok(Outcome::Created(
                json!({ "d": to_wire(entity, &rec, base, None) }),
            ))
        }
        ("POST", Some(_)) => Err(ApiError {
            status: 405,
            message: "POST is not allowed on an entity key; use MERGE or PUT to update.".into(),
        }),
        ("MERGE" | "PUT" | "PATCH", Some(k)) => {
            if !entity.rest.update {
                return Err(read_only(entity, "Update"));
            }
            write::update(admin, entity, &k, &parse_body()?, now)?;
            Ok(Outcome::NoContent)
        }
        ("DELETE", Some(k)) => {
            if !entity.rest.delete {
                return Err(read_only(entity, "Delete"));
            }
            write::delete(admin, entity, &k)?;
            Ok(Outcome::NoContent)
        }
        ("MERGE" | "PUT" | "PATCH" | "DELETE", None) => Err(ApiError {
            status: 405,
            message: format!("{method} requires a key: {}(key).", entity.name),
        }),
        _ => Err(ApiError {
            status: 405,
            message: format!("Method '{method}' is not allowed."),
        }),
    }
}

fn list(
    admin: &Admin,
    entity: &Entity,
    pairs: &[(String, String)],
    base: &str,
) -> Result<Outcome, ApiError> {
    let q = parse_query(entity, pairs)?;
    let mut rows: Vec<&Record> = admin
        .table(&entity.name)
        .into_iter()
        .flat_map(|t| t.values())
        .filter(|r| {
            q.filter
                .as_ref()
                .is_none_or(|f| filter::matches(f, r, entity))
        })
        .collect();
    if !q.orderby.is_empty() {
        rows.sort_by(|a, b| {
            q.orderby
                .iter()
                .map(|(p, desc)| {
                    let o = filter::order_values(a.get(p), b.get(p));
                    if *desc {
                        o.reverse()
                    } else {
                        o
                    }
                })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let total = rows.len();
    let start = q.skip.saturating_add(q.skiptoken);
    let page = q.top.unwrap_or(PAGE_SIZE).min(MAX_PAGE);
    let end = start.saturating_add(page).min(total);
    let results: Vec<WireRecord<'_>> = rows
        .get(start.min(total)..end)
        .unwrap_or_default()
        .iter()
        .map(|r| WireRecord {
            entity,
            rec: r,
            base,
            select: q.select.as_deref(),
        })
        .collect();
    let mut d = Page {
        count: None,
        results,
        next: None,
    };
    if q.inlinecount {
        d.count = Some(total.saturating_sub(q.skip).to_string());
    }
    if end < total && page > 0 {
        let mut next: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "$skiptoken")
            .cloned()
            .collect();
        next.push(("$skiptoken".into(), (end - q.skip).to_string()));
        let qs = serde_urlencoded::to_string(&next)
            .unwrap_or_default()
            .replace('+', "%20");
        d.next = Some(format!("{base}{SERVICE_PATH}/{}?{qs}", entity.name));
    }
    // Serialized straight from the store: a page of Accounts has 315 properties per row.
    serde_json::to_string(&Envelope { d })
        .map(Outcome::Body)
        .map_err(|e| ApiError::server(format!("Serialization failed: {e}")))
}

/// `{"d": ...}`.
#[derive(Serialize)]
struct Envelope<'a> {
    d: Page<'a>,
}

/// One page of a collection.
#[derive(Serialize)]
struct Page<'a> {
    #[serde(rename = "__count", skip_serializing_if = "Option::is_none")]
    count: Option<String>,
    results: Vec<WireRecord<'a>>,
    #[serde(rename = "__next", skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// A stored record written in wire shape without building an intermediate JSON tree
/// (same output as `to_wire`).
struct WireRecord<'a> {
    entity: &'a Entity,
    rec: &'a Record,
    base: &'a str,
    select: Option<&'a [String]>,
}

impl Serialize for WireRecord<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let uri = entity_uri(self.entity, self.rec, self.base);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "__metadata",
            &json!({"id": uri, "uri": uri, "type": self.entity.type_name()}),
        )?;
        let null = Value::Null;
        match self.select {
            Some(cols) => {
                for c in cols {
                    map.serialize_entry(c, self.rec.get(c).unwrap_or(&null))?;
                }
            }
            None => {
                for p in &self.entity.properties {
                    map.serialize_entry(&p.name, self.rec.get(&p.name).unwrap_or(&null))?;
                }
            }
        }
        map.end()
    }
}

/// Committed rows of an entity (staged document lines left out), in wire shape.
pub fn committed(admin: &Admin, entity: &Entity, base: &str) -> Vec<Value> {
    admin
        .table(&entity.name)
        .into_iter()
        .flat_map(|t| t.iter())
        .filter(|(k, _)| !admin.is_staged(&entity.name, k))
        .map(|(_, r)| to_wire(entity, r, base, None))
        .collect()
}

/// Lines staged without a committed header, in wire shape.
pub fn staged(admin: &Admin, base: &str) -> Vec<Value> {
    let catalog = super::catalog::Catalog::get();
    documents::line_entities()
        .filter_map(|name| catalog.entity(name))
        .flat_map(|e| {
            admin
                .table(&e.name)
                .into_iter()
                .flat_map(|t| t.iter())
                .filter(|(k, _)| admin.is_staged(&e.name, k))
                .map(|(_, r)| to_wire(e, r, base, None))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::catalog::Catalog;
    use super::*;

    #[test]
    fn streamed_records_equal_the_json_tree() {
        let e = Catalog::get().entity("Account").unwrap();
        let rec: Record = json!({"ID": "e4e1b2c3-0000-4000-8000-000000000001", "AccountName": "A", "Blocked": true})
            .as_object()
            .cloned()
            .unwrap();
        let sel = vec!["AccountName".to_string()];
        for select in [None, Some(sel.as_slice())] {
            let streamed = serde_json::to_value(WireRecord {
                entity: e,
                rec: &rec,
                base: "http://h",
                select,
            })
            .unwrap();
            assert_eq!(streamed, to_wire(e, &rec, "http://h", select));
        }
    }
}
