//! Connectors: the one trait the engine talks to, and its two HTTP implementations.
//!
//! The engine never sees HTTP: it asks a [`Connector`] for pages of records, for the
//! records matching a batch of keys, and to create or update records and documents.
//! Each implementation owns its wire protocol, paging, auth, rate limits and retries.
//! May use: `schema` (field catalogue, padding), `state` (tokens). Never `sim`.

pub mod exact_globe;
pub mod exact_online;
pub mod wait;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One entity record as JSON: property name -> value, with the system's casing.
pub type Record = Map<String, Value>;

pub use crate::schema::System;

/// Where an incremental read stands: opaque to the engine, stored per pipeline.
/// Exact Online sync endpoints use the `Timestamp` rowversion; Exact Globe a modified time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor(pub String);

/// What to read from the source.
#[derive(Debug, Clone, Default)]
pub struct FetchQuery {
    /// Entity as the pipeline names it (`SalesOrders`, `Account`, `Items`, ...).
    pub entity: String,
    /// Extra native OData `$filter`, ANDed with the cursor condition.
    pub filter: Option<String>,
    /// Properties to read; empty means the connector's default set for the entity.
    pub select: Vec<String>,
    /// Navigation properties to include (for example `SalesOrderLines`).
    pub expand: Vec<String>,
    /// Continue after this cursor; `None` reads from `since` or from the start.
    pub cursor: Option<Cursor>,
    /// Records modified on or after this moment (the engine sets it with no cursor).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// One page of a fetch.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The records of this page, lines already attached where `expand` asked for them.
    pub records: Vec<Record>,
    /// The cursor to store once every record of this page is handled.
    pub cursor: Option<Cursor>,
    /// Whether another page follows; pass `cursor` back to read it.
    pub more: bool,
}

/// How to recognise a record that a create may already have made (a lost response).
#[derive(Debug, Clone)]
pub struct MatchKey {
    /// Property on the target entity, for example `YourReference` or `Email`.
    pub field: String,
    /// The value the new record carries in that property.
    pub value: Value,
}

/// What went wrong talking to a system.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The target refused the request (a 4xx other than auth and rate limits): the record
    /// is wrong, not the connection. Never retried.
    #[error("{system} refused the request ({status}): {message}")]
    Refused {
        /// The system that answered.
        system: System,
        /// HTTP status code.
        status: u16,
        /// The error message from the body.
        message: String,
    },
    /// Authentication failed and could not be repaired by a token refresh.
    #[error("{system}: authentication failed: {reason}")]
    Auth {
        /// The system.
        system: System,
        /// Why.
        #[source]
        reason: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The daily budget is down to the configured reserve: stop cleanly, resume next run.
    #[error("{system}: daily API budget reached (reserve {reserve} calls kept)")]
    BudgetExhausted {
        /// The system.
        system: System,
        /// Calls kept in reserve.
        reserve: u64,
    },
    /// The system could not be reached or kept failing after the safe retries.
    #[error("{system} unavailable: {message}")]
    Unavailable {
        /// The system.
        system: System,
        /// The last failure.
        message: String,
    },
    /// A response that does not have the shape the protocol promises.
    #[error("{system} sent an unexpected response: {message}")]
    Protocol {
        /// The system.
        system: System,
        /// What was wrong.
        message: String,
    },
    /// A document was only partly written (Globe: lines staged, header refused).
    #[error("{system}: document not committed: {message}")]
    PartialDocument {
        /// The system.
        system: System,
        /// What happened, including what was cleaned up.
        message: String,
    },
    /// Local configuration that the connector cannot work with (URL, credentials, entity).
    #[error("configuration: {0}")]
    Config(String),
}

impl ConnectorError {
    /// True when this error belongs to one record (a refusal), so the run goes on.
    pub fn is_record_error(&self) -> bool {
        matches!(
            self,
            ConnectorError::Refused { .. } | ConnectorError::PartialDocument { .. }
        )
    }
}

/// API calls spent, as counted by the connector itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCount {
    /// GET requests.
    pub reads: u64,
    /// POST/PUT/MERGE/DELETE requests.
    pub writes: u64,
}

impl CallCount {
    /// Reads plus writes.
    pub fn total(&self) -> u64 {
        self.reads + self.writes
    }
}

/// The engine's view of a system. Implementations batch, page, retry and rate-limit.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Which system this talks to.
    fn system(&self) -> System;

    /// Reads one page of `query`, oldest change first; paging is strictly sequential.
    async fn fetch_page(&self, query: &FetchQuery) -> Result<Page, ConnectorError>;

    /// Every record of `entity` whose `field` equals one of `values`, in as few calls as the
    /// system allows (OData `or` filters split under the URL limit; code padding applied).
    async fn lookup(
        &self,
        entity: &str,
        field: &str,
        values: &[Value],
        select: &[String],
    ) -> Result<Vec<Record>, ConnectorError>;

    /// `fields` of the `entity` records whose key is one of `keys`, read from `endpoint`:
    /// for fields the endpoint a page came from does not deliver (the catalogue names an
    /// endpoint that has them). Batched as `lookup` is; each record carries its key.
    async fn complement(
        &self,
        entity: &str,
        endpoint: &str,
        keys: &[Value],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let _ = endpoint;
        let key = crate::schema::catalogue()
            .entity(self.system(), entity)
            .and_then(|e| e.key.clone())
            .unwrap_or_else(|| "ID".to_string());
        let mut select = vec![key.clone()];
        select.extend(fields.iter().cloned());
        self.lookup(entity, &key, keys, &select).await
    }

    /// Creates one record and returns it as stored (with its key). When `match_key` is given
    /// and the response is lost, the connector looks the record up before trying again.
    async fn create(
        &self,
        entity: &str,
        record: &Record,
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError>;

    /// Partial update of the record with key `key`: only the properties in `changes`.
    async fn update(
        &self,
        entity: &str,
        key: &Value,
        changes: &Record,
    ) -> Result<(), ConnectorError>;

    /// Creates a header with its lines as one document (Globe: lines staged under a
    /// TransactionKey, then the header; Online: a deep insert). Returns the stored header.
    async fn create_document(
        &self,
        header_entity: &str,
        header: &Record,
        line_entity: &str,
        lines: &[Record],
        match_key: Option<&MatchKey>,
    ) -> Result<Record, ConnectorError>;

    /// [`Connector::create_document`] with the lines staged under `transaction_key`, a key
    /// the caller made and journalled before the first line, so that lines a crash leaves
    /// staged can be found again ([`Connector::discard_staged`]). Systems that write a
    /// document in one call ignore the key.
    async fn create_document_keyed(
        &self,
        header_entity: &str,
        header: &Record,
        line_entity: &str,
        lines: &[Record],
        match_key: Option<&MatchKey>,
        _transaction_key: &str,
    ) -> Result<Record, ConnectorError> {
        self.create_document(header_entity, header, line_entity, lines, match_key)
            .await
    }

    /// Deletes the lines staged under `transaction_key` when no `header_entity` committed
    /// them; returns how many went. Nothing to do where documents are written in one call.
    async fn discard_staged(
        &self,
        _header_entity: &str,
        _line_entity: &str,
        _transaction_key: &str,
    ) -> Result<usize, ConnectorError> {
        Ok(0)
    }

    /// API calls spent since this connector was made.
    fn calls(&self) -> CallCount;
}
