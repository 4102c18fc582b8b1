//! The engine: runs a pipeline's Plan page by page.
//!
//! retry earlier failures -> fetch a page -> complete it (fields the read endpoint lacks, one
//! batched read per page) -> filter (`where`) -> joins (one lookup per join
//! per page) -> check (one batched lookup of the page's match keys, plus the id map: a
//! record that exists is skipped before anything it needs is touched) -> requires (batched
//! lookups; create/update/fail/skip) -> transform (`map`) -> decide per record -> write
//! (journalled) -> store the cursor. Systems are reached through [`Connector`]s only;
//! memory is kept in a [`crate::state::StateStore`].
//! May use: `pipeline`, `lang`, `connectors` (the trait only), `state`.

mod batch;
mod complement;
mod decide;
mod keys;
mod plan;
mod recover;
mod report;
mod require;
pub mod retry;
mod run;
pub mod spec;
mod upsert;
mod write;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod race_tests;
#[cfg(test)]
mod tests;

pub use batch::{key_string, KeyIndex};
pub use decide::{decide, diff, Decision, FieldChange};
pub use keys::key_field;
pub use plan::{Plan, Step};
pub use report::{EntityCounts, RecordPlan, RunReport};
pub use run::{run_pipeline, run_with_env, RunEnv};

use crate::connectors::{CallCount, Connector, ConnectorError, System};
use crate::state::StateError;
use std::collections::HashMap;
use std::sync::Arc;

/// The connectors a run may use, one per system.
#[derive(Clone, Default)]
pub struct Connectors {
    /// Exact Online, when the project connects it.
    pub exact_online: Option<Arc<dyn Connector>>,
    /// Exact Globe, when the project connects it.
    pub exact_globe: Option<Arc<dyn Connector>>,
}

impl Connectors {
    /// The connector for `system`, or an error naming the missing connection.
    pub fn get(&self, system: System) -> Result<&Arc<dyn Connector>, EngineError> {
        match system {
            System::ExactOnline => self.exact_online.as_ref(),
            System::ExactGlobe => self.exact_globe.as_ref(),
        }
        .ok_or(EngineError::NotConnected(system))
    }

    /// Calls spent so far per system, for the report.
    pub fn calls(&self) -> HashMap<System, CallCount> {
        let mut out = HashMap::new();
        if let Some(c) = &self.exact_online {
            out.insert(System::ExactOnline, c.calls());
        }
        if let Some(c) = &self.exact_globe {
            out.insert(System::ExactGlobe, c.calls());
        }
        out
    }
}

/// Told after every page, for progress bars.
pub type ProgressFn = Arc<dyn Fn(&RunReport) + Send + Sync>;

/// How to run.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Do everything but write (to either system or to the state store); count the calls a
    /// real run would spend.
    pub dry_run: bool,
    /// Read source records modified on or after this moment, instead of continuing from the
    /// stored cursor (which then moves on from where this run ends).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Keep every record's decision in the report (always on in a dry run).
    pub keep_decisions: bool,
    /// Stop after this many pages (tests, previews); `None` reads everything.
    pub max_pages: Option<usize>,
    /// Called after every page.
    pub progress: Option<ProgressFn>,
    /// Handle only these records of the retry list (by source key), now, whatever their
    /// backoff, and read nothing new from the source (`exflow failed retry`).
    pub retry_only: Option<Vec<String>>,
    /// When set (SIGTERM in `exflow serve`), the run ends after the page in hand, its cursor
    /// stored: the next run goes on from there.
    pub stop: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Why a run stopped before its end. Problems of one record never end a run: they are
/// counted as failed and logged.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The pipeline reads or writes a system the project does not connect.
    #[error("the project has no connection to {0}")]
    NotConnected(System),
    /// A system failed in a way that is not one record's fault (down, auth, budget).
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
}
