//! The engine's view of Globe: [`Connector`] for [`ExactGlobeClient`]. Incremental reads by
//! modified time, batched key lookups, creates that survive a lost answer, MERGE updates
//! of writable fields only, and documents (see `document`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalogue::EntityDef;
use super::client::{canonical_name, canonical_names, CallError, ExactGlobeClient};
use super::document;
use super::odata;
use crate::connectors::{
    CallCount, Connector, ConnectorError, Cursor, FetchQuery, MatchKey, Page, Record, System,
};

const SYSTEM: System = System::ExactGlobe;

/// What a Globe cursor holds: the newest modified time seen (the next read starts there,
/// inclusive, so a change in the same millisecond is never missed), the keys already handed
/// out at exactly that time (so they are not handed out again), and, within a scan, the
/// `__next` link to continue with.
#[derive(Debug, Default, Serialize, Deserialize)]
struct GlobeCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// Most keys a cursor remembers at one modified time; past it, records sharing that time may
/// be handed out again (harmless: the engine skips what did not change).
const MAX_SEEN_AT_SINCE: usize = 5000;

fn key_text(record: &Record, key: &str) -> Option<String> {
    match record.get(key)? {
        Value::String(s) => Some(s.trim().to_ascii_lowercase()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl GlobeCursor {
    fn parse(cursor: &Cursor) -> Result<GlobeCursor, ConnectorError> {
        serde_json::from_str(&cursor.0).map_err(|e| {
            ConnectorError::Config(format!("not an exact_globe cursor ({e}): {}", cursor.0))
        })
    }

    fn to_cursor(&self) -> Result<Cursor, ConnectorError> {
        serde_json::to_string(self)
            .map(Cursor)
            .map_err(|e| ConnectorError::Protocol {
                system: SYSTEM,
                message: e.to_string(),
            })
    }
}

fn config_error(entity: &str, e: String) -> ConnectorError {
    ConnectorError::Config(format!("{entity}: {e}"))
}

impl ExactGlobeClient {
    /// Every record of `entity` whose `field` equals one of `values`: one `or` filter per
    /// batch that fits the URL limit, codes padded, pages followed.
    pub async fn lookup_records(
        &self,
        entity: &str,
        field: &str,
        values: &[Value],
        select: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let prop = def.and_then(|d| d.property(field));
        let field = canonical_name(def, field);
        let mut literals: Vec<String> = Vec::with_capacity(values.len());
        for value in values {
            let lit = odata::literal(prop, value).map_err(|e| config_error(&name, e))?;
            if !literals.contains(&lit) {
                literals.push(lit);
            }
        }
        if literals.is_empty() {
            return Ok(Vec::new());
        }
        let mut select = canonical_names(def, select);
        if !select.is_empty() && !select.contains(&field) {
            // The caller maps the answers back to its keys through this field.
            select.push(field.clone());
        }
        // Budget what the rest of the URL leaves for the filter.
        let rest = format!(
            "{}?$filter=&$select={}&$top={}",
            self.entity_url(&name),
            odata::encode(&select.join(",")),
            self.config().page_size
        );
        let budget = self.config().max_url_length.saturating_sub(rest.len());
        if budget < 64 {
            return Err(ConnectorError::Config(format!(
                "{name}: max_url_length {} leaves no room for a filter",
                self.config().max_url_length
            )));
        }
        let mut out = Vec::new();
        for filter in odata::split_or_filters(&field, &literals, budget) {
            out.extend(
                self.query(&name, Some(&filter), &select, None, None)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The record of `entity` whose match-key property holds the match value, if any.
    pub async fn find_one(
        &self,
        entity: &str,
        key: &MatchKey,
    ) -> Result<Option<Record>, ConnectorError> {
        let found = self
            .lookup_records(entity, &key.field, std::slice::from_ref(&key.value), &[])
            .await?;
        if found.len() > 1 {
            tracing::warn!(system = "exact_globe", entity, field = %key.field, "{} records share the match key; using the first", found.len());
        }
        Ok(found.into_iter().next())
    }

    /// Creates one record; a lost answer is resolved by looking the record up by `match_key`
    /// before it is sent again (never without a match key).
    pub async fn create_record(
        &self,
        entity: &str,
        record: &Record,
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        let max_tries = self.config().max_retries + 1;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.post(entity, record).await {
                Ok(stored) => return Ok(stored),
                Err(CallError::Failed(e)) => return Err(e),
                Err(CallError::Lost(m)) => {
                    let Some(key) = match_key else {
                        return Err(ConnectorError::Unavailable {
                            system: SYSTEM,
                            message: format!(
                                "no answer to the create of {entity} ({m}); it may have been applied and \
                                 is not sent again without a match key"
                            ),
                        });
                    };
                    if let Some(found) = self.find_one(entity, key).await? {
                        tracing::info!(
                            system = "exact_globe",
                            entity,
                            "lost answer resolved: the record was created"
                        );
                        return Ok(found);
                    }
                    if tries >= max_tries {
                        return Err(ConnectorError::Unavailable {
                            system: SYSTEM,
                            message: format!(
                                "no answer to the create of {entity} after {tries} tries: {m}"
                            ),
                        });
                    }
                    tokio::time::sleep(self.config().retry_delay).await;
                }
            }
        }
    }

    /// Partial update of the record at `key`: only the writable properties among `changes`
    /// are sent. Nothing to send means no call.
    pub async fn update_record(
        &self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let writable: Record = changes
            .iter()
            .filter(|(field, _)| def.is_none_or(|d| d.is_writable(field)))
            .map(|(f, v)| (f.clone(), v.clone()))
            .collect();
        if writable.is_empty() {
            return Ok(());
        }
        self.merge(&name, key, &writable).await
    }

    /// One page of changed records (see [`Connector::fetch_page`]).
    pub async fn fetch(&self, query: &FetchQuery) -> Result<Page, ConnectorError> {
        let (name, def) = Self::resolve(&query.entity)?;
        let state = match &query.cursor {
            Some(c) => GlobeCursor::parse(c)?,
            None => GlobeCursor {
                since: query.since,
                ..GlobeCursor::default()
            },
        };
        let modified = def
            .and_then(EntityDef::modified_property)
            .map(|p| p.name.clone());
        let page = match &state.next {
            Some(next) => match self.get_page(&self.follow_url(next)).await {
                Ok(page) => page,
                // A continuation the server no longer knows (its session expired): start the
                // scan again from the modified time reached, which loses nothing.
                Err(ConnectorError::Refused { .. }) if modified.is_some() => {
                    self.get_page(&self.first_page_url(
                        &name,
                        def,
                        query,
                        modified.as_deref(),
                        state.since,
                    )?)
                    .await?
                }
                Err(e) => return Err(e),
            },
            None => {
                self.get_page(&self.first_page_url(
                    &name,
                    def,
                    query,
                    modified.as_deref(),
                    state.since,
                )?)
                .await?
            }
        };
        // Drop what an earlier page already handed out at the cursor's time, then move the
        // cursor to the newest time in this page (records come ordered by modified time).
        let key = def.map_or("ID", |d| d.key.as_str());
        let mut since = state.since;
        let mut seen = state.seen;
        let mut records = Vec::with_capacity(page.records.len());
        for record in page.records {
            let Some(field) = &modified else {
                records.push(record);
                continue;
            };
            let at = record
                .get(field)
                .and_then(Value::as_str)
                .and_then(odata::parse_date);
            let id = key_text(&record, key);
            if at.is_some() && at == state.since && id.as_ref().is_some_and(|id| seen.contains(id))
            {
                continue;
            }
            if let Some(at) = at {
                if since.is_none_or(|s| at > s) {
                    since = Some(at);
                    seen.clear();
                }
                if Some(at) == since && seen.len() < MAX_SEEN_AT_SINCE {
                    seen.extend(id);
                }
            }
            records.push(record);
        }
        if !query.expand.is_empty() {
            self.attach_lines(def, &mut records, &query.expand).await?;
        }
        let more = page.next.is_some();
        let cursor = if more || modified.is_some() {
            Some(
                GlobeCursor {
                    since: since.filter(|_| modified.is_some()),
                    seen,
                    next: page.next,
                }
                .to_cursor()?,
            )
        } else {
            None
        };
        Ok(Page {
            records,
            cursor,
            more,
        })
    }

    fn first_page_url(
        &self,
        name: &str,
        def: Option<&EntityDef>,
        query: &FetchQuery,
        modified: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<String, ConnectorError> {
        let mut filters = Vec::new();
        if let Some(f) = query.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            filters.push(format!("({f})"));
        }
        if let (Some(field), Some(at)) = (modified, since) {
            filters.push(format!("{field} ge {}", odata::datetime_literal(at)));
        }
        let key = def.map_or("ID", |d| d.key.as_str());
        let orderby = match modified {
            Some(field) => format!("{field},{key}"),
            None => key.to_string(),
        };
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !filters.is_empty() {
            pairs.push(("$filter", filters.join(" and ")));
        }
        let mut select = canonical_names(def, &query.select);
        if !select.is_empty() {
            // The cursor needs the modified time and the key, whatever the caller selects.
            for needed in modified.into_iter().chain(std::iter::once(key)) {
                if !select.iter().any(|s| s == needed) {
                    select.push(needed.to_string());
                }
            }
            pairs.push(("$select", select.join(",")));
        }
        pairs.push(("$orderby", orderby));
        pairs.push(("$top", self.config().page_size.to_string()));
        Ok(format!(
            "{}?{}",
            self.entity_url(name),
            odata::query_string(&pairs)
        ))
    }

    /// Attaches the lines named in `expand` (`SalesOrderLine`, ...) to each header, read in
    /// batches through the property the line shares with the header's key.
    async fn attach_lines(
        &self,
        header: Option<&EntityDef>,
        records: &mut [Record],
        expand: &[String],
    ) -> Result<(), ConnectorError> {
        let Some(header) = header else {
            return Err(ConnectorError::Config(
                "expand needs an entity the catalogue knows".into(),
            ));
        };
        for name in expand {
            let (line_name, line_def) = Self::resolve(name)?;
            let Some(link) = line_def.and_then(|d| d.property(&header.key)) else {
                return Err(ConnectorError::Config(format!(
                    "{line_name} cannot be attached to {}: it has no {} property",
                    header.name, header.key
                )));
            };
            let keys: Vec<Value> = records
                .iter()
                .filter_map(|r| r.get(&header.key).cloned())
                .collect();
            let lines = self
                .lookup_records(&line_name, &link.name, &keys, &[])
                .await?;
            for record in records.iter_mut() {
                let key = record
                    .get(&header.key)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .unwrap_or_default()
                    .to_string();
                let own: Vec<Value> = lines
                    .iter()
                    .filter(|l| {
                        l.get(&link.name).and_then(Value::as_str).map(str::trim)
                            == Some(key.as_str())
                    })
                    .map(|l| Value::Object(l.clone()))
                    .collect();
                record.insert(name.clone(), Value::Array(own));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for ExactGlobeClient {
    fn system(&self) -> System {
        SYSTEM
    }

    async fn fetch_page(&self, query: &FetchQuery) -> Result<Page, ConnectorError> {
        self.fetch(query).await
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

    async fn create(
        &self,
        entity: &str,
        record: &Record,
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        self.create_record(entity, record, match_key).await
    }

    async fn update(
        &self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), ConnectorError> {
        self.update_record(entity, key, changes).await
    }

    async fn create_document(
        &self,
        header_entity: &str,
        header: &Record,
        line_entity: &str,
        lines: &[Record],
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError> {
        document::create_document(
            self,
            header_entity,
            header,
            line_entity,
            lines,
            match_key,
            None,
        )
        .await
    }

    async fn create_document_keyed(
        &self,
        header_entity: &str,
        header: &Record,
        line_entity: &str,
        lines: &[Record],
        match_key: Option<&MatchKey>,
        transaction_key: &str,
    ) -> Result<Record, ConnectorError> {
        document::create_document(
            self,
            header_entity,
            header,
            line_entity,
            lines,
            match_key,
            Some(transaction_key),
        )
        .await
    }

    async fn discard_staged(
        &self,
        header_entity: &str,
        line_entity: &str,
        transaction_key: &str,
    ) -> Result<usize, ConnectorError> {
        document::discard_staged(self, header_entity, line_entity, transaction_key).await
    }

    fn calls(&self) -> CallCount {
        ExactGlobeClient::calls(self)
    }
}
