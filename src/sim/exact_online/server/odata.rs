//! The OData part of a division URL: collections, `$count`, single entities, navigation to
//! lines, POST / PUT / DELETE with the write rules.

use super::super::catalog::{self, Kind, LINES};
use super::super::query::{self, Query};
use super::super::store::{key_of, Store};
use super::super::wire::{self, project, ApiError, Shape};
use super::super::writes::{check, Write};
use super::super::Shared;
use super::{Answer, Out};
use axum::http::{HeaderMap, Method};
use serde_json::{json, Value};

#[allow(clippy::too_many_arguments)]
pub(super) fn route(
    sh: &Shared,
    store: &mut Store,
    method: &Method,
    rest: &str,
    q: &Query,
    headers: &HeaderMap,
    body: &[u8],
    json_out: bool,
    now: i64,
) -> Result<Answer, ApiError> {
    if let Some(service) = rest.strip_suffix("/$metadata") {
        return metadata(service);
    }
    let (rest, is_count) = match rest.strip_suffix("/$count") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (ep_path, key, nav) = match rest.find('(') {
        Some(open) => {
            let close = rest[open..]
                .find(')')
                .map(|c| open + c)
                .ok_or_else(|| ApiError::new(400, "Bad Request - Error in query syntax."))?;
            let key = rest[open + 1..close].to_string();
            let nav = rest[close + 1..].strip_prefix('/').map(str::to_string);
            (&rest[..open], Some(key), nav)
        }
        None => (rest, None, None),
    };
    let seg = ep_path.rsplit('/').next().unwrap_or_default();
    if ep_path == "read/sync/Sync/SyncTimestamp" && method == Method::GET {
        return sync_timestamp(
            store,
            q,
            &format!("{}/api/v1/{}/", sh.base_url, store.division),
        );
    }
    let ep = catalog::endpoint(ep_path).ok_or_else(|| {
        ApiError::new(404, format!("Resource not found for the segment '{seg}'."))
    })?;
    let m = method.as_str();
    if m == "PATCH"
        || m == "MERGE"
        || !ep.allows(m)
        || (m == "PUT" && ep.table == "WebhookSubscriptions")
    {
        return Err(ApiError::new(405, "Method not allowed"));
    }
    let base = format!("{}/api/v1/{}/", sh.base_url, store.division);
    let numeric_key = ep.prop(&ep.key).is_some_and(|p| p.ty != "Edm.Guid");
    let key = match key {
        // `hrm/Divisions(123456)`, `general/Currencies('EUR')`.
        Some(k) if numeric_key => Some(k.trim_end_matches('L').trim_matches('\'').to_string()),
        Some(k) => {
            let inner = k.trim_start_matches("guid").trim_matches('\'');
            let g = uuid::Uuid::parse_str(inner).map_err(|_| {
                ApiError::new(
                    400,
                    format!("Bad Request - Error in query syntax. Invalid key '{k}'."),
                )
            })?;
            Some(g.to_string())
        }
        None => None,
    };
    let table = ep.table;
    match (m, key) {
        ("GET", None) if is_count => {
            let n = query::count(store, ep, q)?;
            Ok(Answer {
                status: 200,
                headers: Vec::new(),
                body: Out::Text(n.to_string(), "text/plain;charset=utf-8"),
            })
        }
        ("GET", None) => {
            let page = query::read(store, ep, q, &base)?;
            if !json_out {
                return Ok(Answer {
                    status: 200,
                    headers: Vec::new(),
                    body: Out::Text(
                        wire::atom(&page.rows, seg),
                        "application/atom+xml;type=feed;charset=utf-8",
                    ),
                });
            }
            if page.bare {
                return Ok(Answer::json(200, json!({"d": page.rows})));
            }
            let mut d = serde_json::Map::new();
            d.insert("results".into(), Value::Array(page.rows));
            if let Some(c) = page.count {
                d.insert("__count".into(), json!(c.to_string()));
            }
            if let Some(n) = page.next {
                d.insert("__next".into(), json!(n));
            }
            Ok(Answer::json(200, json!({"d": d})))
        }
        ("GET", Some(k)) => {
            let row = store
                .get(table, &k)
                .ok_or_else(|| ApiError::new(404, "Object not found"))?;
            if let Some(nav) = nav {
                let lt = catalog::lines_by_collection(&nav)
                    .map(|l| l.table)
                    .ok_or_else(|| {
                        ApiError::new(404, format!("Resource not found for the segment '{nav}'."))
                    })?;
                let lep =
                    catalog::crud_endpoint_of(lt).ok_or_else(|| ApiError::new(404, "Not found"))?;
                let shape = Shape {
                    select: q.select.as_deref(),
                    expand: &[],
                    base: &base,
                };
                let rows: Vec<Value> = store
                    .children(lt, &k)
                    .into_iter()
                    .map(|l| project(lep, l, store, &shape))
                    .collect();
                return Ok(Answer::json(200, json!({"d": {"results": rows}})));
            }
            query::validate(
                ep,
                &Query {
                    select: q.select.clone().or(Some(Vec::new())),
                    expand: q.expand.clone(),
                    ..Query::default()
                },
            )?;
            let shape = Shape {
                select: q.select.as_deref(),
                expand: &q.expand,
                base: &base,
            };
            let v = project(ep, row, store, &shape);
            if json_out {
                Ok(Answer::json(200, json!({"d": v})))
            } else {
                Ok(Answer {
                    status: 200,
                    headers: Vec::new(),
                    body: Out::Text(
                        wire::atom(&[v], seg),
                        "application/atom+xml;type=entry;charset=utf-8",
                    ),
                })
            }
        }
        ("POST", None) if ep.kind == Kind::Crud => {
            let value: Value = serde_json::from_slice(body).map_err(|_| {
                ApiError::new(
                    400,
                    "Error processing request stream. The request body is not valid JSON.",
                )
            })?;
            let checked = checked(store, ep, &value, Write::Post)?;
            let sent: Vec<String> = checked.keys().cloned().collect();
            let key = store.create(table, checked, now)?;
            let row = store
                .get(table, &key)
                .ok_or_else(|| ApiError::new(500, "An error has occurred."))?;
            let full = headers
                .get("Prefer")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.contains("return=representation"));
            let expand: Vec<String> = LINES
                .iter()
                .filter(|l| ep.prop(l.collection).is_some())
                .map(|l| l.collection.to_string())
                .collect();
            let shape = Shape {
                select: None,
                expand: if full { &expand } else { &[] },
                base: &base,
            };
            let mut v = project(ep, row, store, &shape);
            if !full {
                // Without `Prefer: return=representation` most properties come back empty.
                let key_field = key_of(table);
                if let Some(obj) = v.as_object_mut() {
                    for (k, val) in obj.iter_mut() {
                        if k != "__metadata"
                            && k != key_field
                            && !sent.contains(k)
                            && !val.is_object()
                        {
                            *val = Value::Null;
                        }
                    }
                }
            }
            let location = v
                .pointer("/__metadata/uri")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let mut a = Answer::json(201, json!({"d": v}));
            a.headers.push(("Location", location));
            Ok(a)
        }
        ("PUT", Some(k)) => {
            let value: Value = serde_json::from_slice(body).map_err(|_| {
                ApiError::new(
                    400,
                    "Error processing request stream. The request body is not valid JSON.",
                )
            })?;
            let checked = checked(store, ep, &value, Write::Put)?;
            let row = store
                .get(table, &k)
                .ok_or_else(|| ApiError::new(404, "Object not found"))?;
            let status = row.data.get("Status").and_then(Value::as_i64);
            if table == "SalesOrders" && matches!(status, Some(21) | Some(45)) {
                return Err(ApiError::new(
                    400,
                    "This sales order is completed or cancelled and can not be changed.",
                ));
            }
            if table == "SalesInvoices" && status == Some(50) {
                return Err(ApiError::new(
                    400,
                    "This invoice has been processed and can not be changed.",
                ));
            }
            store.update(table, &k, checked, now)?;
            Ok(Answer::empty(204))
        }
        ("DELETE", Some(k)) => {
            store.delete(table, &k, now)?;
            Ok(Answer::empty(204))
        }
        _ => Err(ApiError::new(405, "Method not allowed")),
    }
}

/// Checks a write body; the read-only properties it skipped are logged at debug level and
/// kept for `/_sim/stats`, so a test can assert that a client sends none.
fn checked(
    store: &mut Store,
    ep: &catalog::Endpoint,
    value: &Value,
    mode: Write,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let c = check(ep, value, mode)?;
    if !c.dropped.is_empty() {
        tracing::debug!(endpoint = %ep.path, fields = ?c.dropped, "exact online simulator: read-only properties skipped");
        store.note_dropped(&ep.path, &c.dropped);
    }
    Ok(c.body)
}

/// `read/sync/Sync/SyncTimestamp?modified=datetime'..'&endPoint='SalesOrderHeaders'`: the
/// rowversion of the first record of that sync endpoint modified on or after the date, to start
/// a sync from a date. Both parameters are required.
fn sync_timestamp(store: &Store, q: &Query, base: &str) -> Result<Answer, ApiError> {
    let param = |name: &str| {
        q.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let (Some(modified), Some(endpoint)) = (param("modified"), param("endPoint")) else {
        return Err(ApiError::new(
            400,
            "Mandatory parameters 'modified' and 'endPoint' are missing.",
        ));
    };
    let date = modified.trim_start_matches("datetime").trim_matches('\'');
    let Some(since) = super::super::filter::parse_datetime(date) else {
        return Err(ApiError::new(
            400,
            format!("Invalid value for parameter 'modified': {modified}"),
        ));
    };
    let (table, field) = match endpoint.trim_matches('\'') {
        "SalesOrderHeaders" => ("SalesOrders", "Modified"),
        "SalesOrderLines" => ("SalesOrderLines", "Modified"),
        "Accounts" => ("Accounts", "Modified"),
        "Items" => ("Items", "Modified"),
        "StockPositions" => ("StockPositions", "Modified"),
        "Contacts" => ("Contacts", "Modified"),
        "Addresses" => ("Addresses", "Modified"),
        "GLAccounts" => ("GLAccounts", "Modified"),
        "SalesItemPrices" => ("SalesItemPrices", "Modified"),
        "SalesInvoices" => ("SalesInvoices", "Modified"),
        "GoodsDeliveries" => ("GoodsDeliveries", "Modified"),
        "GoodsDeliveryLines" => ("GoodsDeliveryLines", "Modified"),
        "Deleted" => ("Deleted", "DeletedDate"),
        other => {
            return Err(ApiError::new(
                400,
                format!("Invalid value for parameter 'endPoint': {other}"),
            ))
        }
    };
    let ts = store
        .rows(table)
        .into_iter()
        .filter(|r| {
            matches!(r.data.get(field).map(super::super::filter::val_of),
                Some(super::super::filter::Val::Date(ms)) if ms >= since)
        })
        .map(|r| r.ts)
        .min()
        // Nothing changed since then: start from the current rowversion.
        .unwrap_or_else(|| store.rowversion());
    let uri = format!("{base}read/sync/Sync/SyncTimestamp");
    Ok(Answer::json(
        200,
        json!({"d": {"results": [{"__metadata": {"uri": uri, "type": "Exact.Web.Api.Models.Sync.SyncTimestamp"}, "TimeStampAsBigInt": ts}]}}),
    ))
}

/// `{service}/$metadata`: the EDMX service document of the service's entity sets.
fn metadata(service: &str) -> Result<Answer, ApiError> {
    let prefix = format!("{service}/");
    let mut eps: Vec<&catalog::Endpoint> = catalog::catalog()
        .values()
        .filter(|e| {
            e.path
                .strip_prefix(&prefix)
                .is_some_and(|n| !n.contains('/'))
        })
        .collect();
    if eps.is_empty() {
        return Err(ApiError::new(
            404,
            format!("Resource not found for the segment '{service}'."),
        ));
    }
    eps.sort_by(|a, b| a.path.cmp(&b.path));
    let mut types = String::new();
    let mut sets = String::new();
    for e in eps {
        let short = e.type_name.rsplit('.').next().unwrap_or_default();
        types.push_str(&format!(
            "<EntityType Name=\"{short}\"><Key><PropertyRef Name=\"{}\" /></Key>",
            e.key
        ));
        for p in e.props.iter().filter(|p| p.get) {
            if p.is_collection() {
                types.push_str(&format!("<NavigationProperty Name=\"{}\" />", p.name));
            } else {
                types.push_str(&format!(
                    "<Property Name=\"{}\" Type=\"{}\" />",
                    p.name, p.ty
                ));
            }
        }
        types.push_str("</EntityType>");
        let set = e.path.rsplit('/').next().unwrap_or_default();
        sets.push_str(&format!(
            "<EntitySet Name=\"{set}\" EntityType=\"{}\" />",
            e.type_name
        ));
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\"><edmx:DataServices m:DataServiceVersion=\"2.0\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\"><Schema Namespace=\"Exact.Web.Api.Models\" xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\">{types}<EntityContainer Name=\"ExactOnlineContainer\" m:IsDefaultEntityContainer=\"true\">{sets}</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    );
    Ok(Answer {
        status: 200,
        headers: Vec::new(),
        body: Out::Text(xml, "application/xml;charset=utf-8"),
    })
}
