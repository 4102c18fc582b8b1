//! Running records of the retry list now, whatever their backoff or attempts: what
//! `exflow failed retry` and the dashboard's **Retry** button do.

use super::{run_pipeline, Connectors, EngineError, RunOptions, RunReport};
use crate::pipeline::{Pipeline, Project};
use crate::state::StateStore;

/// The source keys of `pipeline`'s failed records named by `keys` (business or source
/// keys; none: every waiting record). A key that waits nowhere is an error, not a run that
/// does nothing.
pub fn chosen_keys(
    store: &dyn StateStore,
    pipeline: &str,
    keys: &[String],
) -> Result<Vec<String>, RetryError> {
    let wanted: Vec<Option<&str>> = match keys.is_empty() {
        true => vec![None],
        false => keys.iter().map(|k| Some(k.as_str())).collect(),
    };
    let mut chosen = Vec::new();
    for key in wanted {
        let found = store.failed_records(Some(pipeline), key, false)?;
        if let (true, Some(key)) = (found.is_empty(), key) {
            return Err(RetryError::NotWaiting {
                pipeline: pipeline.to_string(),
                key: key.to_string(),
            });
        }
        chosen.extend(found.into_iter().map(|f| f.entry.source_key));
    }
    Ok(chosen)
}

/// Runs the failed records of `pipeline` named by `keys` through it now; `None` when none
/// waits.
pub async fn retry_failed(
    project: &Project,
    pipeline: &Pipeline,
    connectors: &Connectors,
    store: &dyn StateStore,
    keys: &[String],
) -> Result<Option<RunReport>, RetryError> {
    let chosen = chosen_keys(store, &pipeline.name, keys)?;
    if chosen.is_empty() {
        return Ok(None);
    }
    let options = RunOptions {
        retry_only: Some(chosen),
        ..RunOptions::default()
    };
    Ok(Some(
        run_pipeline(project, pipeline, connectors, store, options).await?,
    ))
}

/// Why a retry did not run.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// The key named waits on no retry list.
    #[error("no failed record {key:?} waits in pipeline `{pipeline}`")]
    NotWaiting {
        /// The pipeline asked about.
        pipeline: String,
        /// The key given.
        key: String,
    },
    /// The state store failed.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The run failed as a whole.
    #[error(transparent)]
    Engine(#[from] EngineError),
}
