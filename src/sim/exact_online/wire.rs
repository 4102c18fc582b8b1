//! The wire format: `/Date(ms)/` dates, the OData error body, row projection with
//! `__metadata` / `__deferred`, and the Atom XML answered when JSON was not asked for.

use super::catalog::{self, Endpoint};
use super::store::{key_of, Row, Store};
use serde_json::{json, Map, Value};

/// Formats epoch milliseconds as Exact Online sends dates.
pub fn date(ms: i64) -> String {
    format!("/Date({ms})/")
}

/// An error answer: status, message (the `error.message.value`) and optional `Reason` header.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Human text.
    pub message: String,
    /// `Reason` response header, when the real service sends one.
    pub reason: Option<String>,
}

impl ApiError {
    /// A new error without `Reason`.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            reason: None,
        }
    }

    /// The JSON body `{"error":{"code":"","message":{"lang":"","value":"..."}}}`.
    pub fn body(&self) -> Value {
        json!({"error": {"code": "", "message": {"lang": "", "value": self.message}}})
    }

    /// The XML body, for requests without `Accept: application/json`.
    pub fn xml(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><error xmlns=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\"><code></code><message xml:lang=\"\">{}</message></error>",
            escape(&self.message)
        )
    }
}

/// The key segment of a row's URI: `(guid'..')` or `(123L)` on sync endpoints.
pub fn key_segment(ep: &Endpoint, row: &Row) -> String {
    if ep.key == "Timestamp" {
        format!("({}L)", row.ts)
    } else {
        match row.data.get(key_of(ep.table)) {
            // Divisions and read functions are keyed by a number (`Code`, `HID`).
            Some(Value::Number(n)) => format!("({n})"),
            Some(Value::String(k)) if ep.prop(&ep.key).is_some_and(|p| p.ty != "Edm.Guid") => {
                format!("('{k}')")
            }
            k => format!("(guid'{}')", k.and_then(Value::as_str).unwrap_or_default()),
        }
    }
}

/// What to include when projecting a row.
pub struct Shape<'a> {
    /// `$select` (None = every property).
    pub select: Option<&'a [String]>,
    /// `$expand` collections.
    pub expand: &'a [String],
    /// `http://host:port/api/v1/{division}/`.
    pub base: &'a str,
}

/// A row as the endpoint returns it: every readable property (null when unset) in reference
/// order, with `__metadata`, and line collections expanded or `__deferred`.
pub fn project(ep: &Endpoint, row: &Row, store: &Store, shape: &Shape) -> Value {
    let uri = format!("{}{}{}", shape.base, ep.path, key_segment(ep, row));
    let mut out = Map::new();
    out.insert(
        "__metadata".into(),
        json!({"uri": uri, "type": ep.type_name}),
    );
    let wanted = |name: &str| match shape.select {
        None => true,
        Some(sel) => sel
            .iter()
            .any(|s| s == "*" || s == name || s.split('/').next() == Some(name)),
    };
    for p in ep.props.iter().filter(|p| p.get && wanted(&p.name)) {
        let v = if p.is_collection() {
            match catalog::lines_by_collection(&p.name) {
                Some(l) if shape.expand.iter().any(|e| e == l.collection) => {
                    let (coll, lt) = (l.collection, l.table);
                    let line_ep = catalog::crud_endpoint_of(lt);
                    let key = row
                        .data
                        .get(key_of(ep.table))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let sub: Vec<String> = shape
                        .select
                        .map(|sel| {
                            sel.iter()
                                .filter_map(|s| s.strip_prefix(&format!("{coll}/")))
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let sub_shape = Shape {
                        select: if sub.is_empty() { None } else { Some(&sub) },
                        expand: &[],
                        base: shape.base,
                    };
                    let results: Vec<Value> = match line_ep {
                        Some(lep) => store
                            .children(lt, key)
                            .into_iter()
                            .map(|l| project(lep, l, store, &sub_shape))
                            .collect(),
                        None => Vec::new(),
                    };
                    json!({"results": results})
                }
                _ => json!({"__deferred": {"uri": format!("{uri}/{}", p.name)}}),
            }
        } else if p.name == "Timestamp" && ep.kind == catalog::Kind::Sync {
            // Edm.Int64 travels as a string in OData v2 verbose JSON.
            json!(row.ts.to_string())
        } else if p.name == "ID" && !row.data.contains_key("ID") {
            row.data
                .get(key_of(ep.table))
                .cloned()
                .unwrap_or(Value::Null)
        } else if p.name == "Division" {
            json!(store.division)
        } else {
            row.data.get(&p.name).cloned().unwrap_or(Value::Null)
        };
        out.insert(p.name.clone(), v);
    }
    Value::Object(out)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders JSON rows as an Atom feed (`feed/entry/content/m:properties`, `d:` fields), the
/// default format of the real service.
pub fn atom(rows: &[Value], title: &str) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:d=\"http://schemas.microsoft.com/ado/2007/08/dataservices\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\">",
    );
    x.push_str(&format!("<title type=\"text\">{}</title>", escape(title)));
    for r in rows {
        let id = r
            .pointer("/__metadata/uri")
            .and_then(Value::as_str)
            .unwrap_or_default();
        x.push_str(&format!(
            "<entry><id>{}</id><content type=\"application/xml\"><m:properties>",
            escape(id)
        ));
        if let Some(obj) = r.as_object() {
            for (k, v) in obj.iter().filter(|(k, _)| !k.starts_with("__")) {
                match v {
                    Value::Null => x.push_str(&format!("<d:{k} m:null=\"true\" />")),
                    Value::String(s) => x.push_str(&format!("<d:{k}>{}</d:{k}>", escape(s))),
                    Value::Object(_) | Value::Array(_) => {}
                    other => x.push_str(&format!("<d:{k}>{other}</d:{k}>")),
                }
            }
        }
        x.push_str("</m:properties></content></entry>");
    }
    x.push_str("</feed>");
    x
}
