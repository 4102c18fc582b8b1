//! The engine's view of Exact Online: [`Connector`] for [`ExactOnlineClient`].
//!
//! Incremental reads use the sync endpoints with a `Timestamp` cursor (1000 rows a call).
//! Lines asked for with `expand` are read for a whole page of headers at once: batched
//! `OrderID eq guid'…' or …` filters on the bulk endpoint with `$expand` (1000 headers a
//! page), so 1000 orders cost about a dozen calls instead of one per order. (Reading
//! `sync/…Lines` from the smallest header `Timestamp` would be cheaper still, but misses the
//! lines of a header that changed after its lines did, so it is not used.)

use super::client::{ExactOnlineClient, Outcome};
use super::entities::{self, EntityEndpoints};
use super::odata::{self, MAX_URL_LEN};
use super::paging::Pager;
use crate::connectors::{
    CallCount, Connector, ConnectorError, Cursor, FetchQuery, MatchKey, Page, Record, System,
};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Cursor prefix for plain (non-sync) reads: the `__next` link to continue from.
const NEXT_PREFIX: &str = "next:";
/// POST attempts when answers are lost and a match key shows nothing was created.
const CREATE_ATTEMPTS: u32 = 3;

fn unknown_entity(name: &str) -> ConnectorError {
    ConnectorError::Config(format!("unknown Exact Online entity `{name}`"))
}

impl ExactOnlineClient {
    fn entity(&self, name: &str) -> Result<&'static EntityEndpoints, ConnectorError> {
        entities::endpoints(name).ok_or_else(|| unknown_entity(name))
    }

    /// Every record of `entity` whose `field` is one of `values`: `or` filters split under
    /// the URL limit, each followed through all its pages. Account codes are padded.
    pub async fn lookup_records(
        &self,
        entity: &str,
        field: &str,
        values: &[Value],
        select: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let e = self.entity(entity)?;
        self.lookup_on(e.service_path, e.name, field, values, select, None)
            .await
    }

    /// `lookup_records` against any path, with optional `$expand`.
    async fn lookup_on(
        &self,
        path: &str,
        entity: &str,
        field: &str,
        values: &[Value],
        select: &[String],
        expand: Option<&str>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let padded = entities::is_padded_code(entity, field);
        let mut literals: Vec<String> = Vec::new();
        for v in values {
            let v = match (padded, v) {
                (true, Value::String(s)) => Value::String(odata::pad_account_code(s)),
                (true, Value::Number(n)) => Value::String(odata::pad_account_code(&n.to_string())),
                _ => v.clone(),
            };
            let kind = entities::literal_kind(entity, field, Some(&v));
            let lit =
                odata::literal(&v, kind).map_err(|e| ConnectorError::Config(e.to_string()))?;
            if !literals.contains(&lit) {
                literals.push(lit);
            }
        }
        if literals.is_empty() {
            return Ok(Vec::new());
        }
        let mut fixed: Vec<(&str, String)> = Vec::new();
        if !select.is_empty() {
            fixed.push(("$select", select.join(",")));
        }
        if let Some(x) = expand {
            fixed.push(("$expand", x.to_string()));
        }
        // Room left for the filter once the rest of the URL is written.
        let base_len = self.url(path, &fixed).len() + "&$filter=".len();
        let budget = MAX_URL_LEN.saturating_sub(base_len + 16).max(200);
        let mut out = Vec::new();
        for filter in odata::split_or_filters(field, &literals, budget) {
            let mut params = vec![("$filter", filter)];
            params.extend(fixed.iter().cloned());
            let url = self.url(path, &params);
            out.extend(Pager::new(self.clone(), url).collect_all().await?);
        }
        Ok(out)
    }

    /// Reads the lines of `headers` in batches and attaches them under the line collection.
    async fn attach_lines(
        &self,
        e: &EntityEndpoints,
        headers: &mut [Record],
    ) -> Result<(), ConnectorError> {
        let Some((nav, line_entity)) = e.lines else {
            return Ok(());
        };
        let ids: Vec<Value> = headers
            .iter()
            .filter_map(|h| h.get(e.key).cloned())
            .collect();
        let mut by_header: HashMap<String, Vec<Value>> = HashMap::new();
        match e.bulk_path {
            Some(bulk) => {
                let select = vec![e.key.to_string(), nav.to_string()];
                let rows = self
                    .lookup_on(bulk, e.name, e.key, &ids, &select, Some(nav))
                    .await?;
                for mut row in rows {
                    let key = row
                        .get(e.key)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    if let Some(Value::Array(lines)) = row.remove(nav) {
                        by_header.entry(key).or_default().extend(lines);
                    }
                }
            }
            None => {
                let le = self.entity(line_entity)?;
                let rows = self
                    .lookup_on(le.service_path, le.name, e.key, &ids, &[], None)
                    .await?;
                for row in rows {
                    let key = row
                        .get(e.key)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    by_header.entry(key).or_default().push(Value::Object(row));
                }
            }
        }
        for h in headers.iter_mut() {
            let key = h
                .get(e.key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let lines = by_header.remove(&key).unwrap_or_default();
            h.insert(nav.to_string(), Value::Array(lines));
        }
        Ok(())
    }

    async fn fetch_sync(
        &self,
        e: &EntityEndpoints,
        sync_path: &str,
        q: &FetchQuery,
    ) -> Result<Page, ConnectorError> {
        let from = match &q.cursor {
            Some(Cursor(c)) => c
                .trim()
                .parse::<i64>()
                .map_err(|_| ConnectorError::Config(format!("not a Timestamp cursor: {c}")))?,
            None => 1,
        };
        let mut select = if q.select.is_empty() {
            entities::default_select(e, true)
        } else {
            q.select.clone()
        };
        for must in ["Timestamp", e.key] {
            if !select.iter().any(|s| s == must) {
                select.push(must.to_string());
            }
        }
        let url = self.url(
            sync_path,
            &[
                (
                    "$filter",
                    format!("Timestamp gt {}", odata::int64_literal(from)),
                ),
                ("$select", select.join(",")),
            ],
        );
        let page = self.get_page(&url).await?;
        let mut records = page.records;
        records.sort_by_key(|r| r.get("Timestamp").and_then(odata::as_i64).unwrap_or(0));
        let last = records
            .iter()
            .filter_map(|r| r.get("Timestamp").and_then(odata::as_i64))
            .max()
            .unwrap_or(from);
        if let (Some(since), None) = (q.since, &q.cursor) {
            // Sync endpoints filter on Timestamp only: older records are skipped here.
            let since = odata::iso(since);
            records.retain(|r| match r.get("Modified").and_then(Value::as_str) {
                Some(m) => m >= since.as_str(),
                None => true,
            });
        }
        if let Some((nav, _)) = e.lines {
            if q.expand.iter().any(|x| x == nav) && !records.is_empty() {
                self.attach_lines(e, &mut records).await?;
            }
        }
        Ok(Page {
            records,
            cursor: Some(Cursor(last.to_string())),
            more: page.next.is_some(),
        })
    }

    async fn fetch_plain(
        &self,
        e: &EntityEndpoints,
        q: &FetchQuery,
    ) -> Result<Page, ConnectorError> {
        let url = match &q.cursor {
            Some(Cursor(c)) if c.starts_with(NEXT_PREFIX) => c[NEXT_PREFIX.len()..].to_string(),
            _ => {
                let mut filters: Vec<String> = Vec::new();
                if let Some(f) = &q.filter {
                    filters.push(format!("({f})"));
                }
                if let Some(since) = q.since {
                    filters.push(format!("Modified ge {}", odata::datetime_literal(since)));
                }
                let mut params: Vec<(&str, String)> = Vec::new();
                if !filters.is_empty() {
                    params.push(("$filter", filters.join(" and ")));
                }
                let select = if q.select.is_empty() && e.select_mandatory {
                    entities::default_select(e, false)
                } else {
                    q.select.clone()
                };
                if !select.is_empty() {
                    params.push(("$select", select.join(",")));
                }
                if !q.expand.is_empty() {
                    params.push(("$expand", q.expand.join(",")));
                }
                self.url(e.service_path, &params)
            }
        };
        let page = self.get_page(&url).await?;
        Ok(Page {
            more: page.next.is_some(),
            cursor: page.next.map(|n| Cursor(format!("{NEXT_PREFIX}{n}"))),
            records: page.records,
        })
    }

    /// POSTs `body`; a lost answer is resolved by looking `match_key` up before any resend.
    async fn create_at(
        &self,
        e: &EntityEndpoints,
        body: Value,
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        let mut last = String::new();
        for attempt in 0..CREATE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let doubt = match self.post_once(e.service_path, &body).await? {
                Outcome::Answer { status, body, .. } if status < 500 => {
                    return ExactOnlineClient::created(status, &body);
                }
                Outcome::Answer { status, .. } => format!("HTTP {status}"),
                // Nothing reached the server: sending again cannot duplicate.
                Outcome::NotSent(msg) => {
                    last = msg;
                    continue;
                }
                Outcome::Lost(msg) => msg,
            };
            last = doubt.clone();
            let Some(mk) = match_key else {
                return Err(ConnectorError::Unavailable {
                    system: System::ExactOnline,
                    message: format!(
                        "the answer to creating a {} was lost ({doubt}) and there is no match key to check it; not sent again, check for a duplicate",
                        e.name
                    ),
                });
            };
            tracing::warn!(
                entity = e.name,
                "exact online: create answer lost, looking it up before retrying"
            );
            let found = self
                .lookup_records(e.name, &mk.field, std::slice::from_ref(&mk.value), &[])
                .await?;
            if let Some(rec) = found.into_iter().next() {
                return Ok(rec);
            }
        }
        Err(ConnectorError::Unavailable {
            system: System::ExactOnline,
            message: format!(
                "creating a {} failed after {CREATE_ATTEMPTS} attempts: {last}",
                e.name
            ),
        })
    }
}

/// Account `Code` is stored padded; pad it on the way in.
fn pad_codes(e: &EntityEndpoints, record: &Record) -> Record {
    let mut r = record.clone();
    for (name, value) in r.iter_mut() {
        if let Value::String(s) = value {
            if entities::is_padded_code(e.name, name) {
                *s = odata::pad_account_code(s);
            }
        }
    }
    r
}

#[async_trait]
impl Connector for ExactOnlineClient {
    fn system(&self) -> System {
        System::ExactOnline
    }

    async fn fetch_page(&self, query: &FetchQuery) -> Result<Page, ConnectorError> {
        let e = self.entity(&query.entity)?;
        let plain_cursor = query
            .cursor
            .as_ref()
            .is_some_and(|c| c.0.starts_with(NEXT_PREFIX));
        match e.sync_path {
            Some(sync) if query.filter.is_none() && !plain_cursor => {
                self.fetch_sync(e, sync, query).await
            }
            _ => self.fetch_plain(e, query).await,
        }
    }

    async fn lookup(
        &self,
        entity: &str,
        field: &str,
        values: &[Value],
        select: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        self.lookup_records(entity, field, values, select).await
    }

    async fn complement(
        &self,
        entity: &str,
        endpoint: &str,
        keys: &[Value],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let e = self.entity(entity)?;
        let mut select = vec![e.key.to_string()];
        select.extend(fields.iter().filter(|f| *f != e.key).cloned());
        // Bulk endpoints page 1,000 rows: one call per `or` filter that fits in a URL.
        self.lookup_on(endpoint, e.name, e.key, keys, &select, None)
            .await
    }

    async fn create(
        &self,
        entity: &str,
        record: &Record,
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        let e = self.entity(entity)?;
        self.create_at(e, Value::Object(pad_codes(e, record)), match_key)
            .await
    }

    async fn update(
        &self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), ConnectorError> {
        let e = self.entity(entity)?;
        let id = key
            .as_str()
            .and_then(odata::guid_literal)
            .ok_or_else(|| ConnectorError::Config(format!("{} key {key} is not a GUID", e.name)))?;
        if changes.is_empty() {
            return Ok(());
        }
        self.put(&format!("{}({id})", e.service_path), &pad_codes(e, changes))
            .await
    }

    async fn create_document(
        &self,
        header_entity: &str,
        header: &Record,
        line_entity: &str,
        lines: &[Record],
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        let e = self.entity(header_entity)?;
        let nav = e.lines.map_or(line_entity, |(nav, _)| nav);
        let mut body = pad_codes(e, header);
        body.insert(
            nav.to_string(),
            Value::Array(lines.iter().cloned().map(Value::Object).collect()),
        );
        self.create_at(e, Value::Object(body), match_key).await
    }

    fn calls(&self) -> CallCount {
        ExactOnlineClient::calls(self)
    }
}
