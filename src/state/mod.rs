//! The state store: what exflow remembers between runs.
//!
//! Runs, the activity log (per record: what came in, what was sent, the answer), the id map
//! (source key <-> target key), cursors per pipeline, the create journal that makes a
//! crash harmless and the retry list of failed records. [`StateStore`] is the small trait the engine uses, so that a server
//! database can replace the embedded SQLite file ([`SqliteStore`]) later. OAuth tokens live
//! in the same file ([`tokens`], written by the Exact Online client).
//! May use: nothing of exflow but plain data types (no connectors, no engine).

mod migrations;
mod payload;
pub mod private;
mod query;
mod redact;
mod retry;
pub mod seal;
mod sqlite;
pub mod tokens;
mod usage;

pub use payload::{cap_payload, is_capped, ACTIVITY_PAYLOAD_CAP, TRUNCATED_MARKER};
pub use query::{ActivityQuery, ActivityRow, FailedRecord};
pub use redact::{hashed_key, is_personal, redact, HASHED_PREFIX, REDACTED};
pub use retry::{RetryPolicy, RetryState};
pub use sqlite::SqliteStore;
pub use usage::DayUsage;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// Where the state lives when the project says nothing else.
pub const DEFAULT_PATH: &str = ".exflow/state.db";

/// What went wrong in the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The database refused or failed.
    #[error("state store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The folder for the database could not be made.
    #[error("state store: cannot create {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A stored value could not be read back.
    #[error("state store: corrupt value: {0}")]
    Corrupt(String),
    /// Another process is running the same pipeline on this state.
    #[error("pipeline `{0}` is already running on this state (another exflow process)")]
    Busy(String),
    /// The database was written by a newer exflow.
    #[error("state store: schema version {found} is newer than this exflow knows ({known})")]
    TooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
}

/// Identifies one run of one pipeline.
pub type RunId = i64;

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going, or killed before it could say otherwise.
    Running,
    /// Every record handled without failure.
    Succeeded,
    /// Finished, but some records failed.
    Failed,
    /// Stopped early (connection lost, budget reached).
    Aborted,
}

impl RunStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Aborted => "aborted",
        }
    }

    fn parse(s: &str) -> RunStatus {
        match s {
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            "aborted" => RunStatus::Aborted,
            _ => RunStatus::Running,
        }
    }
}

/// One stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Its id.
    pub id: RunId,
    /// The pipeline's name.
    pub pipeline: String,
    /// When it began.
    pub started: DateTime<Utc>,
    /// When it ended, if it did.
    pub finished: Option<DateTime<Utc>>,
    /// How it ended.
    pub status: RunStatus,
    /// The counts of the run (the report), as JSON.
    pub counts: Value,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Created on the target.
    Create,
    /// Changed fields written to the target.
    Update,
    /// Left alone (exists, unchanged, or filtered out).
    Skip,
    /// Could not be handled; `error` says why.
    Fail,
}

impl Outcome {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Create => "create",
            Outcome::Update => "update",
            Outcome::Skip => "skip",
            Outcome::Fail => "fail",
        }
    }

    /// The outcome a user names on the command line: `created`, `updated`, `skipped`,
    /// `failed` (or the stored spellings `create`, `update`, `skip`, `fail`).
    pub fn from_name(s: &str) -> Option<Outcome> {
        match s.to_ascii_lowercase().as_str() {
            "create" | "created" => Some(Outcome::Create),
            "update" | "updated" => Some(Outcome::Update),
            "skip" | "skipped" => Some(Outcome::Skip),
            "fail" | "failed" => Some(Outcome::Fail),
            _ => None,
        }
    }

    fn parse(s: &str) -> Outcome {
        match s {
            "create" => Outcome::Create,
            "update" => Outcome::Update,
            "skip" => Outcome::Skip,
            _ => Outcome::Fail,
        }
    }
}

/// One line of the activity log: what came from the source, what was sent, the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// The run it belongs to.
    pub run: RunId,
    /// The pipeline.
    pub pipeline: String,
    /// The target entity written (or checked).
    pub entity: String,
    /// The source record's key, when it has one.
    pub source_key: Option<String>,
    /// The key a person knows the record by (order number, item code, e-mail): the match
    /// value of `entity`. Stored as a keyed hash when it is personal and payloads are
    /// redacted.
    pub business_key: Option<String>,
    /// The target property `business_key` is the value of (`YourReference`, `ItemCode`).
    pub key_field: Option<String>,
    /// The record as the source gave it.
    pub source_payload: Option<Value>,
    /// What was sent to the target (the full record on create, the changes on update).
    pub sent_payload: Option<Value>,
    /// The target's answer.
    pub target_response: Option<Value>,
    /// For an update: per changed target property its value before and after
    /// (`{"Field": {"old": .., "new": ..}}`), the diff the dashboard shows.
    pub changes: Option<Value>,
    /// What happened.
    pub outcome: Outcome,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// One unresolved create: written before the create, committed after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Its id.
    pub id: i64,
    /// The pipeline that began it.
    pub pipeline: String,
    /// The target entity.
    pub entity: String,
    /// The property that identifies the created record on the target.
    pub match_field: String,
    /// Its value.
    pub match_value: Value,
    /// What was about to be sent.
    pub payload: Value,
    /// When it was begun.
    pub at: DateTime<Utc>,
}

/// The store the engine keeps its memory in. Every method is one short transaction.
pub trait StateStore: Send + Sync {
    /// Takes the pipeline's run lock (held until the guard drops): two processes running one
    /// pipeline at once could both create what neither has seen yet.
    fn lock_pipeline(&self, pipeline: &str) -> Result<RunLock, StateError>;
    /// Records the start of a run.
    fn begin_run(&self, pipeline: &str) -> Result<RunId, StateError>;
    /// Records the end of a run with its counts.
    fn finish_run(&self, run: RunId, status: RunStatus, counts: &Value) -> Result<(), StateError>;
    /// The latest runs, newest first, of one pipeline or of all.
    fn runs(&self, pipeline: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StateError>;
    /// Records and API calls per day over the last `days` days, today last.
    fn usage_per_day(&self, days: u32) -> Result<Vec<DayUsage>, StateError>;

    /// Appends one record's story to the activity log (redacted when the store is set so).
    fn log_activity(&self, activity: &Activity) -> Result<(), StateError>;
    /// The activity of one run, in order.
    fn activity(&self, run: RunId) -> Result<Vec<Activity>, StateError>;
    /// Deletes activity older than `older_than_days`, and finished runs and resolved
    /// journal entries as old; returns how many activity lines went.
    fn purge_activity(&self, older_than_days: u32) -> Result<usize, StateError>;

    /// The target key of a source record, if it was written before.
    fn id_map_get(
        &self,
        system: &str,
        entity: &str,
        source_key: &str,
    ) -> Result<Option<String>, StateError>;
    /// The source key that a target record came from.
    fn id_map_source(
        &self,
        system: &str,
        entity: &str,
        target_key: &str,
    ) -> Result<Option<String>, StateError>;
    /// Remembers (or replaces) the target key of a source record.
    fn id_map_put(
        &self,
        system: &str,
        entity: &str,
        source_key: &str,
        target_key: &str,
    ) -> Result<(), StateError>;

    /// Where the pipeline's incremental read stands.
    fn cursor_get(&self, pipeline: &str) -> Result<Option<String>, StateError>;
    /// Stores the cursor once a page is fully handled.
    fn cursor_put(&self, pipeline: &str, cursor: &str) -> Result<(), StateError>;
    /// Forgets the cursor (the next run starts over).
    fn cursor_clear(&self, pipeline: &str) -> Result<(), StateError>;

    /// Writes a journal entry BEFORE a create; returns its id.
    fn journal_begin(
        &self,
        pipeline: &str,
        entity: &str,
        match_field: &str,
        match_value: &Value,
        payload: &Value,
    ) -> Result<i64, StateError>;
    /// Marks the create done, with the key the target gave.
    fn journal_commit(&self, id: i64, target_key: &str) -> Result<(), StateError>;
    /// Marks the create as not done (the target refused it): nothing to resolve later.
    fn journal_abandon(&self, id: i64, reason: &str) -> Result<(), StateError>;
    /// The entries of a pipeline that were begun and never committed nor abandoned.
    fn journal_open(&self, pipeline: &str) -> Result<Vec<JournalEntry>, StateError>;

    /// Keeps a failed source record (as read, unredacted: it must be processed again) so
    /// the next run retries it even though the cursor has moved past it. `failure` says
    /// which record, in which run, and why; one row per record, replaced on each failure.
    fn retry_put(&self, pipeline: &str, failure: &Failure<'_>) -> Result<(), StateError>;
    /// Forgets a retried record once it went through (or no longer applies).
    fn retry_clear(&self, pipeline: &str, source_key: &str) -> Result<(), StateError>;
    /// The records waiting for a retry, oldest first.
    fn retry_list(&self, pipeline: &str) -> Result<Vec<RetryEntry>, StateError>;

    /// One page of the activity log, newest first, filtered as `query` asks (indexed: a
    /// page costs the same on a log of any size).
    fn activity_page(&self, query: &ActivityQuery) -> Result<Vec<ActivityRow>, StateError>;
    /// The failed records waiting for a retry, of one pipeline or of all, those matching
    /// `key` (a source key or a business key) only when given; payloads only when asked.
    fn failed_records(
        &self,
        pipeline: Option<&str>,
        key: Option<&str>,
        with_payload: bool,
    ) -> Result<Vec<FailedRecord>, StateError>;
    /// Drops a failed record from the retry list by hand, keeping `note` in the activity
    /// log; returns the dropped entry (none when no such record waits).
    fn retry_skip(
        &self,
        pipeline: &str,
        key: &str,
        note: &str,
    ) -> Result<Option<RetryEntry>, StateError>;
}

/// One failure of a source record, as the retry list keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// The source record's key.
    pub source_key: &'a str,
    /// Its business key, when known (see [`Activity::business_key`]).
    pub business_key: Option<&'a str>,
    /// The target property of the business key.
    pub key_field: Option<&'a str>,
    /// The run it failed in.
    pub run: Option<RunId>,
    /// The record as the source gave it.
    pub payload: &'a Value,
    /// Why it failed.
    pub reason: &'a str,
}

/// A pipeline's run lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock(pub(crate) Option<std::fs::File>);

impl RunLock {
    /// A lock held by other means (a store without files, or a server-side lock).
    pub fn none() -> RunLock {
        RunLock(None)
    }

    /// A lock held as an exclusive lock on `file` (released on drop).
    pub fn file(file: std::fs::File) -> RunLock {
        RunLock(Some(file))
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            let _ = fs4::fs_std::FileExt::unlock(file);
        }
    }
}

/// A failed source record waiting for the next run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetryEntry {
    /// The source record's key.
    pub source_key: String,
    /// The record as the source gave it.
    pub payload: Value,
    /// Why it failed last time.
    pub reason: String,
    /// How many runs it failed in.
    pub attempts: u32,
    /// Its business key (order number, item code; a keyed hash when personal and redacted).
    pub business_key: Option<String>,
    /// When it failed first.
    pub first_failed: DateTime<Utc>,
    /// When it failed last.
    pub last_failed: DateTime<Utc>,
    /// The run it failed in last, when known.
    pub last_run: Option<RunId>,
}

/// Opens (creating when needed) the SQLite store at `path`.
pub fn open(path: &Path, redact_payloads: bool) -> Result<SqliteStore, StateError> {
    SqliteStore::open(path, redact_payloads)
}
