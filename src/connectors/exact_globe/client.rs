//! The Globe client: URLs as the Entity Services expect them
//! (`/services/Exact.Entity.REST.EG/{Entity}`, keys, `__next` links), entity and property
//! names in the catalogue's casing, and the basic operations (read pages, create, merge,
//! delete) that `connector` and `document` build on. One request on the wire, with its
//! retries, is `transport`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::catalogue::{Catalogue, EntityDef};
use super::config::{GlobeAuth, GlobeConfig};
use super::odata::{self, Collection};
use super::padding;
use super::transport::protocol;
pub(crate) use super::transport::{CallError, Repeat};
use crate::connectors::{CallCount, ConnectorError, Record};

/// The REST service path under the host.
pub const SERVICE_PATH: &str = "/services/Exact.Entity.REST.EG";

/// A client for one Globe administration. Cheap to clone: clones share the connection pool
/// and the call counters.
#[derive(Clone)]
pub struct ExactGlobeClient {
    pub(super) inner: Arc<Inner>,
}

/// What clones share.
pub(super) struct Inner {
    pub(super) config: GlobeConfig,
    /// `base_url` without a trailing slash.
    pub(super) base: String,
    pub(super) http: reqwest::Client,
    pub(super) reads: AtomicU64,
    pub(super) writes: AtomicU64,
    /// NTLM only: held for a whole request, so requests go one at a time over the one
    /// connection; true while that connection is authenticated.
    pub(super) ntlm: tokio::sync::Mutex<bool>,
}

impl std::fmt::Debug for ExactGlobeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactGlobeClient")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl ExactGlobeClient {
    /// A client for the administration `config` names. Makes no request.
    pub fn new(config: GlobeConfig) -> Result<Self, ConnectorError> {
        config.validate()?;
        Catalogue::get()?;
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(15));
        if config.auth == GlobeAuth::Ntlm {
            // NTLM authenticates a connection, not a request: keep exactly one.
            builder = builder.pool_max_idle_per_host(1);
        }
        let http = builder
            .build()
            .map_err(|e| ConnectorError::Config(format!("exact_globe HTTP client: {e}")))?;
        let base = config.base_url.trim_end_matches('/').to_string();
        Ok(ExactGlobeClient {
            inner: Arc::new(Inner {
                config,
                base,
                http,
                reads: AtomicU64::new(0),
                writes: AtomicU64::new(0),
                ntlm: tokio::sync::Mutex::new(false),
            }),
        })
    }

    /// The settings this client was made with.
    pub fn config(&self) -> &GlobeConfig {
        &self.inner.config
    }

    /// API calls spent so far (every attempt, retries included).
    pub fn calls(&self) -> CallCount {
        CallCount {
            reads: self.inner.reads.load(Ordering::Relaxed),
            writes: self.inner.writes.load(Ordering::Relaxed),
        }
    }

    /// The entity's catalogue entry (matched case-insensitively) and the name to put in the
    /// URL: the catalogue's spelling, or the given one for entities it does not list.
    pub fn resolve(entity: &str) -> Result<(String, Option<&'static EntityDef>), ConnectorError> {
        let name = entity.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConnectorError::Config(format!(
                "{entity:?} is not a Globe entity name"
            )));
        }
        let catalogue = Catalogue::get()?;
        // Pipelines may name a document by its header's stem: `SalesOrder`, `Invoice`.
        let def = catalogue
            .entity(name)
            .or_else(|| catalogue.entity(&format!("{name}Header")));
        Ok((
            def.map_or_else(|| name.to_string(), |d| d.name.clone()),
            def,
        ))
    }

    /// `http://host:8020/services/Exact.Entity.REST.EG/{entity}`.
    pub fn entity_url(&self, entity: &str) -> String {
        format!("{}{SERVICE_PATH}/{entity}", self.inner.base)
    }

    /// The URL of one record: `Account(guid'…')`, `Item('A-1')`, `SalesOrderHeader('      17')`.
    pub fn key_url(
        &self,
        entity: &str,
        def: Option<&EntityDef>,
        key: &Value,
    ) -> Result<String, ConnectorError> {
        let key_prop = def.and_then(EntityDef::key_property);
        let literal = match (key_prop, key) {
            (Some(prop), _) => odata::literal(Some(prop), key),
            (None, Value::String(s)) if odata::guid_literal(s).is_ok() => odata::guid_literal(s),
            (None, other) => odata::literal(None, other),
        }
        .map_err(|e| ConnectorError::Config(format!("key of {entity}: {e}")))?;
        Ok(format!(
            "{}({})",
            self.entity_url(entity),
            odata::encode_path(&literal)
        ))
    }

    /// Rebuilds a `__next` link on our own base URL: the service writes its own host name
    /// into the link, which behind a reverse proxy or NAT is not the one we can reach.
    pub fn follow_url(&self, next: &str) -> String {
        let lower = next.to_ascii_lowercase();
        match lower.find("/services/") {
            Some(at) => format!("{}{}", self.inner.base, &next[at..]),
            None if next.starts_with('/') => format!("{}{next}", self.inner.base),
            None => next.to_string(),
        }
    }

    /// Reads one page at `url` (a set URL with its query, or a followed `__next`).
    pub async fn get_page(&self, url: &str) -> Result<Collection, ConnectorError> {
        let body = self
            .send(Method::GET, url, None, Repeat::Safe)
            .await
            .map_err(ConnectorError::from)?;
        odata::parse_collection(body).map_err(protocol)
    }

    /// Every record of `entity` matching `filter`, following `__next` sequentially, at most
    /// `limit` records (all when `None`).
    pub async fn query(
        &self,
        entity: &str,
        filter: Option<&str>,
        select: &[String],
        orderby: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(filter) = filter.filter(|f| !f.trim().is_empty()) {
            pairs.push(("$filter", filter.to_string()));
        }
        let select = canonical_names(def, select);
        if !select.is_empty() {
            pairs.push(("$select", select.join(",")));
        }
        if let Some(orderby) = orderby {
            pairs.push(("$orderby", orderby.to_string()));
        }
        let page_size = self.inner.config.page_size as usize;
        let top = limit.map_or(page_size, |l| l.clamp(1, page_size));
        pairs.push(("$top", top.to_string()));
        let mut url = format!("{}?{}", self.entity_url(&name), odata::query_string(&pairs));
        let mut out = Vec::new();
        loop {
            let page = self.get_page(&url).await?;
            out.extend(page.records);
            if let Some(limit) = limit {
                if out.len() >= limit {
                    out.truncate(limit);
                    return Ok(out);
                }
            }
            match page.next {
                Some(next) => url = self.follow_url(&next),
                None => return Ok(out),
            }
        }
    }

    /// POSTs `record` (casing fixed, codes padded) to `entity` and returns the stored record.
    pub(crate) async fn post(&self, entity: &str, record: &Record) -> Result<Record, CallError> {
        let (name, def) = Self::resolve(entity).map_err(CallError::Failed)?;
        let body = Value::Object(padding::prepare_record(def, record));
        let answer = self
            .send(
                Method::POST,
                &self.entity_url(&name),
                Some(&body),
                Repeat::Create,
            )
            .await?;
        odata::parse_entity(answer).map_err(|e| CallError::Failed(protocol(e)))
    }

    /// Partial update (MERGE, or POST with `X-HTTP-Method: MERGE`) of the record at `key`.
    pub(crate) async fn merge(
        &self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let url = self.key_url(&name, def, key)?;
        let body = Value::Object(padding::prepare_record(def, changes));
        if self.inner.config.merge_via_post {
            self.send_tunnelled(Method::POST, &url, Some(&body), Repeat::Safe, Some("MERGE"))
                .await?;
        } else {
            let merge =
                Method::from_bytes(b"MERGE").map_err(|e| ConnectorError::Config(e.to_string()))?;
            self.send(merge, &url, Some(&body), Repeat::Safe).await?;
        }
        Ok(())
    }

    /// Deletes the record at `key`. A record that is already gone counts as deleted.
    pub async fn delete(&self, entity: &str, key: &Value) -> Result<(), ConnectorError> {
        let (name, def) = Self::resolve(entity)?;
        let url = self.key_url(&name, def, key)?;
        match self.send(Method::DELETE, &url, None, Repeat::Safe).await {
            Ok(_) => Ok(()),
            Err(CallError::Failed(ConnectorError::Refused { status: 404, .. })) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// `names` in the catalogue's casing (unknown names kept as given).
pub(crate) fn canonical_names(def: Option<&EntityDef>, names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            def.and_then(|d| d.property(n))
                .map_or_else(|| n.trim().to_string(), |p| p.name.clone())
        })
        .collect()
}

/// The property `name` in the catalogue's casing (kept as given when unknown).
pub(crate) fn canonical_name(def: Option<&EntityDef>, name: &str) -> String {
    def.and_then(|d| d.property(name))
        .map_or_else(|| name.trim().to_string(), |p| p.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> ExactGlobeClient {
        ExactGlobeClient::new(GlobeConfig::new(base, "localhost", "500", "u", "p")).unwrap()
    }

    #[test]
    fn urls() {
        let c = client("http://h:8020/");
        assert_eq!(
            c.entity_url("Account"),
            "http://h:8020/services/Exact.Entity.REST.EG/Account"
        );
        let (name, def) = ExactGlobeClient::resolve("salesorderheader").unwrap();
        assert_eq!(name, "SalesOrderHeader");
        assert_eq!(
            c.key_url(&name, def, &Value::from("17")).unwrap(),
            "http://h:8020/services/Exact.Entity.REST.EG/SalesOrderHeader('%20%20%20%20%20%2017')"
        );
        let (name, def) = ExactGlobeClient::resolve("account").unwrap();
        assert!(c
            .key_url(
                &name,
                def,
                &Value::from("{6F9619FF-8B86-D011-B42D-00C04FC964FF}")
            )
            .unwrap()
            .ends_with("Account(guid'6f9619ff-8b86-d011-b42d-00c04fc964ff')"));
        assert!(ExactGlobeClient::resolve("Account?x=1").is_err());
        assert_eq!(
            ExactGlobeClient::resolve("SalesOrder").unwrap().0,
            "SalesOrderHeader"
        );
        assert_eq!(
            ExactGlobeClient::resolve("BrowserData_Items").unwrap().0,
            "BrowserData_Items"
        );
    }

    #[test]
    fn next_links_are_rebased() {
        let c = client("https://proxy.example/globe");
        assert_eq!(
            c.follow_url("http://SRV01:8020/services/Exact.Entity.REST.EG/Account?$skiptoken=abc"),
            "https://proxy.example/globe/services/Exact.Entity.REST.EG/Account?$skiptoken=abc"
        );
    }
}
