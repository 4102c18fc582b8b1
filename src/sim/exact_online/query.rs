//! Reading: the OData query options (`$filter`, `$select`, `$expand`, `$top`, `$skip`,
//! `$orderby`, `$inlinecount`, `$skiptoken`), the per-endpoint rules of Exact Online
//! (mandatory filtering, `$select` on bulk/sync, Timestamp-only filters on sync) and paging.

use super::catalog::{Endpoint, Kind};
use super::filter::{self, Expr, Val};
use super::store::{key_of, Row, Store};
use super::wire::{project, ApiError, Shape};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::Value;
use std::cmp::Ordering;

/// Characters escaped in generated `__next` links.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The parsed query string.
#[derive(Debug, Default)]
pub struct Query {
    /// `$filter`.
    pub filter: Option<String>,
    /// `$select`, split on commas.
    pub select: Option<Vec<String>>,
    /// `$expand`, split on commas.
    pub expand: Vec<String>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: Option<usize>,
    /// `$orderby`: (field, descending).
    pub orderby: Vec<(String, bool)>,
    /// `$inlinecount=allpages`.
    pub inlinecount: bool,
    /// `$skiptoken`.
    pub skiptoken: Option<String>,
    /// Every pair as sent (decoded), for `__next` and function parameters.
    pub pairs: Vec<(String, String)>,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(400, msg)
}

/// Parses a raw query string (form-encoded, `+` = space).
pub fn parse_query(raw: Option<&str>) -> Result<Query, ApiError> {
    let mut q = Query::default();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        let list = |v: &str| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        match k.as_str() {
            "$filter" => q.filter = Some(v.clone()),
            "$select" => q.select = Some(list(&v)),
            "$expand" => q.expand = list(&v),
            "$top" => q.top = Some(v.trim().parse().map_err(|_| bad(format!("Invalid $top value '{v}'.")))?),
            "$skip" => q.skip = Some(v.trim().parse().map_err(|_| bad(format!("Invalid $skip value '{v}'.")))?),
            "$inlinecount" => match v.as_str() {
                "allpages" => q.inlinecount = true,
                "none" => {}
                _ => return Err(bad("Invalid $inlinecount value.")),
            },
            "$skiptoken" => q.skiptoken = Some(v.clone()),
            "$orderby" => {
                for part in list(&v) {
                    let mut it = part.split_whitespace();
                    let field = it.next().unwrap_or_default().to_string();
                    let desc = match it.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(_) => return Err(bad(format!("Syntax error in $orderby '{v}'."))),
                    };
                    q.orderby.push((field, desc));
                }
            }
            "$format" => {}
            other if other.starts_with('$') => return Err(bad(format!("The query parameter '{other}' begins with a system-reserved '$' character but is not recognized."))),
            _ => {}
        }
        q.pairs.push((k, v));
    }
    Ok(q)
}

/// `sync/SalesInvoice/SalesInvoices` is one feed of header rows and line rows (its fields
/// mix both, some "only supported for header"): a line row carries its header's fields under
/// its own, keyed by its own rowversion. `None` for every other endpoint.
fn invoice_feed(store: &Store, ep: &Endpoint) -> Option<Vec<Row>> {
    if ep.path != "sync/SalesInvoice/SalesInvoices" {
        return None;
    }
    let mut out = Vec::new();
    for h in store.rows("SalesInvoices") {
        out.push(h.clone());
        let key = h
            .data
            .get("InvoiceID")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for l in store.children("SalesInvoiceLines", key) {
            let mut data = h.data.clone();
            for header_only in ["AmountDiscount", "AmountDiscountExclVat", "AmountFCExclVat"] {
                data.remove(header_only);
            }
            data.extend(l.data.clone());
            out.push(Row { data, ts: l.ts });
        }
    }
    Some(out)
}

/// One answer page.
pub struct Page {
    /// Projected rows.
    pub rows: Vec<Value>,
    /// `__next` link.
    pub next: Option<String>,
    /// `__count` (with `$inlinecount=allpages`).
    pub count: Option<usize>,
    /// Answer as `{"d":[...]}` (a `$top` query that fits one page).
    pub bare: bool,
}

fn row_val(ep: &Endpoint, store: &Store, row: &Row, name: &str) -> Val {
    if name == "Timestamp" {
        return Val::Num(row.ts as f64);
    }
    if name == "Division" {
        return Val::Num(f64::from(store.division));
    }
    match row.data.get(name) {
        Some(v) => filter::val_of(v),
        None if name == "ID" => row
            .data
            .get(key_of(ep.table))
            .map(filter::val_of)
            .unwrap_or(Val::Null),
        None => Val::Null,
    }
}

fn order_vals(a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Val::Str(x), Val::Str(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Val::Date(x), Val::Date(y)) => x.cmp(y),
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Less,
        (_, Val::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// Checks the options against the endpoint's rules; returns the parsed filter.
pub fn validate(ep: &Endpoint, q: &Query) -> Result<Option<Expr>, ApiError> {
    let type_of = |p: &str| {
        ep.prop(p)
            .filter(|p| p.get && !p.is_collection())
            .map(|p| p.ty.clone())
    };
    let top_one = q.top == Some(1) && ep.kind == Kind::Bulk;
    if matches!(ep.kind, Kind::Bulk | Kind::Sync) && q.select.is_none() && !top_one {
        return Err(bad(
            "Please add a $select or a $top=1 statement to the query string.",
        ));
    }
    if ep.kind == Kind::Sync
        && q.select
            .as_ref()
            .is_some_and(|s| s.iter().any(|f| f == "*"))
    {
        return Err(bad(
            "$select=* is not allowed for this resource. Please specify the fields explicitly.",
        ));
    }
    if let Some(sel) = &q.select {
        for f in sel.iter().filter(|f| *f != "*") {
            let head = f.split('/').next().unwrap_or_default();
            let ok = match ep.prop(head) {
                Some(p) if p.is_collection() => {
                    f.contains('/') == q.expand.iter().any(|e| e == head) || !f.contains('/')
                }
                Some(_) => !f.contains('/'),
                None => false,
            };
            if !ok {
                return Err(bad(format!(
                    "No property '{f}' exists in type '{}'.",
                    ep.type_name
                )));
            }
        }
    }
    for e in &q.expand {
        if !ep.prop(e).is_some_and(|p| p.is_collection()) {
            return Err(bad(format!(
                "No property '{e}' exists in type '{}'.",
                ep.type_name
            )));
        }
    }
    for (f, _) in &q.orderby {
        if type_of(f).is_none() {
            return Err(bad(format!(
                "No property '{f}' exists in type '{}'.",
                ep.type_name
            )));
        }
    }
    if q.skip.is_some() && matches!(ep.kind, Kind::Bulk | Kind::Sync) {
        return Err(bad(
            "The $skip query option is not supported for this resource. Use $skiptoken.",
        ));
    }
    let expr = match &q.filter {
        Some(f) => {
            let e = filter::parse(f).map_err(|e| bad(e.0))?;
            filter::check(&e, &ep.type_name, &type_of).map_err(|e| bad(e.0))?;
            let mut props = Vec::new();
            filter::properties(&e, &mut props);
            if ep.kind == Kind::Sync {
                let others: Vec<&String> = props.iter().filter(|p| *p != "Timestamp").collect();
                if !others.is_empty() {
                    let list: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
                    return Err(bad(format!(
                        "Filtering on these fields is not supported: {}",
                        list.join(", ")
                    )));
                }
            }
            Some(e)
        }
        None => None,
    };
    Ok(expr)
}

/// Mandatory filtering: a collection read of these endpoints must filter on one of the listed
/// fields (single-entity reads by key are not affected).
fn require_filter(ep: &Endpoint, expr: Option<&Expr>) -> Result<(), ApiError> {
    let Some(required) = ep.mandatory_filter() else {
        return Ok(());
    };
    let mut props = Vec::new();
    if let Some(e) = expr {
        filter::properties(e, &mut props);
    }
    if props.iter().any(|p| required.contains(&p.as_str())) {
        Ok(())
    } else {
        Err(mandatory_filter_error(required))
    }
}

fn mandatory_filter_error(fields: &[&str]) -> ApiError {
    bad(format!(
        "This endpoint has mandatory filtering applied. A GET request for this endpoint must have a $filter parameter with one of the following fields in the url:{}",
        fields.join(",")
    ))
}

/// Runs a collection read and cuts one page. `base` is `http://host:port/api/v1/{division}/`.
pub fn read(store: &Store, ep: &Endpoint, q: &Query, base: &str) -> Result<Page, ApiError> {
    let expr = validate(ep, q)?;
    require_filter(ep, expr.as_ref())?;
    let feed = invoice_feed(store, ep);
    let mut rows: Vec<&Row> = match &feed {
        Some(f) => f.iter().collect(),
        None => store.rows(ep.table),
    };
    if ep.kind == Kind::Read && ep.table == "StockPositions" {
        let item = q
            .pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("itemId"))
            .map(|(_, v)| {
                v.trim_start_matches("guid")
                    .trim_matches('\'')
                    .to_lowercase()
            })
            .ok_or_else(|| bad("Mandatory parameter 'itemId' is missing."))?;
        rows.retain(|r| r.data.get("ItemId").and_then(Value::as_str) == Some(item.as_str()));
    }
    if let Some(e) = &expr {
        rows.retain(|r| filter::eval(e, &|p| row_val(ep, store, r, p)) == Val::Bool(true));
    }
    let key_cmp = |a: &&Row, b: &&Row| {
        if ep.kind == Kind::Sync {
            a.ts.cmp(&b.ts)
        } else {
            let k = key_of(ep.table);
            a.data
                .get(k)
                .and_then(Value::as_str)
                .cmp(&b.data.get(k).and_then(Value::as_str))
        }
    };
    rows.sort_by(|a, b| {
        for (f, desc) in &q.orderby {
            let o = order_vals(&row_val(ep, store, a, f), &row_val(ep, store, b, f));
            if o != Ordering::Equal {
                return if *desc { o.reverse() } else { o };
            }
        }
        key_cmp(a, b)
    });
    let count = q.inlinecount.then_some(rows.len());
    if let Some(tok) = &q.skiptoken {
        let bad_token = || bad(format!("Invalid $skiptoken '{tok}'."));
        if ep.kind == Kind::Sync {
            let ts: i64 = tok.trim_end_matches('L').parse().map_err(|_| bad_token())?;
            rows.retain(|r| r.ts > ts);
        } else {
            let key = tok
                .trim_start_matches("guid")
                .trim_matches('\'')
                .to_lowercase();
            if uuid::Uuid::parse_str(&key).is_err() {
                return Err(bad_token());
            }
            let k = key_of(ep.table);
            if q.orderby.is_empty() {
                rows.retain(|r| {
                    r.data
                        .get(k)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v > key.as_str())
                });
            } else {
                let pos = rows
                    .iter()
                    .position(|r| r.data.get(k).and_then(Value::as_str) == Some(key.as_str()));
                rows = rows.split_off(pos.map(|p| p + 1).unwrap_or(0));
            }
        }
    }
    if let Some(n) = q.skip {
        rows = rows.split_off(n.min(rows.len()));
    }
    let limit = q.top.unwrap_or(usize::MAX);
    let take = limit.min(ep.page_size());
    let more = rows.len() > take && limit > take;
    rows.truncate(take);
    let shape = Shape {
        select: q.select.as_deref(),
        expand: &q.expand,
        base,
    };
    let projected: Vec<Value> = rows.iter().map(|r| project(ep, r, store, &shape)).collect();
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let token = if ep.kind == Kind::Sync {
                format!("{}L", last.ts)
            } else {
                format!(
                    "guid'{}'",
                    last.data
                        .get(key_of(ep.table))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )
            };
            let mut parts: Vec<String> = q
                .pairs
                .iter()
                .filter(|(k, _)| k != "$skiptoken" && k != "$top")
                .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE)))
                .collect();
            if let Some(t) = q.top {
                parts.push(format!("$top={}", t - take));
            }
            parts.push(format!(
                "$skiptoken={}",
                utf8_percent_encode(&token, QUERY_VALUE)
            ));
            Some(format!("{base}{}?{}", ep.path, parts.join("&")))
        }
        _ => None,
    };
    // A page reached through `$skiptoken` stays in the `results` shape of the first page.
    let bare = q.top.is_some() && !q.inlinecount && next.is_none() && q.skiptoken.is_none();
    Ok(Page {
        rows: projected,
        next,
        count,
        bare,
    })
}

/// `/$count`: the number of rows matching the filter.
pub fn count(store: &Store, ep: &Endpoint, q: &Query) -> Result<usize, ApiError> {
    let expr = match &q.filter {
        Some(_) => validate(
            ep,
            &Query {
                select: Some(Vec::new()),
                filter: q.filter.clone(),
                ..Query::default()
            },
        )?,
        None => None,
    };
    require_filter(ep, expr.as_ref())?;
    let feed = invoice_feed(store, ep);
    let rows = match &feed {
        Some(f) => f.iter().collect(),
        None => store.rows(ep.table),
    };
    Ok(rows
        .into_iter()
        .filter(|r| {
            expr.as_ref()
                .is_none_or(|e| filter::eval(e, &|p| row_val(ep, store, r, p)) == Val::Bool(true))
        })
        .count())
}
