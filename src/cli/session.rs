//! What every command that runs pipelines sets up: a tokio runtime, the connectors the
//! pipelines need and the project's state store. Shared by `run`, `plan` and `failed retry`;
//! every problem is reported here, with the exit code the caller returns.

use super::connect::{connectors, state_store};
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::engine::Connectors;
use crate::pipeline::{Pipeline, Project};
use crate::state::SqliteStore;
use std::process::ExitCode;

/// A runtime, connectors and a store, ready for `engine::run_pipeline`.
pub struct Session {
    /// Drives the connectors' HTTP calls.
    pub runtime: tokio::runtime::Runtime,
    /// One per system the pipelines use.
    pub conns: Connectors,
    /// The project's state.
    pub store: SqliteStore,
}

impl Session {
    /// Sets up what running `pipelines` of `project` needs; on failure the error is printed
    /// and the exit code returned (1 without a runtime, 2 for the configuration's faults).
    pub fn start(project: &Project, pipelines: &[&Pipeline]) -> Result<Session, ExitCode> {
        let runtime = tokio::runtime::Runtime::new().map_err(|e| {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::from(EXIT_FAILED)
        })?;
        let conns = runtime
            .block_on(connectors(project, pipelines))
            .map_err(|e| invalid(&e.to_string()))?;
        // A busy or failing state store is the work failing (exit 1), not the configuration.
        let store = state_store(project).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        })?;
        Ok(Session {
            runtime,
            conns,
            store,
        })
    }
}

fn invalid(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID)
}
