//! Building the connectors and the state store a project's `exflow.yaml` describes: shared by
//! `plan`, `run` and `demo`.

use crate::connectors::exact_globe::{ExactGlobeClient, GlobeConfig};
use crate::connectors::exact_online::{ExactOnlineClient, OnlineConfig};
use crate::connectors::System;
use crate::engine::Connectors;
use crate::pipeline::{Pipeline, Project};
use crate::state::tokens::TokenStore;
use crate::state::{SqliteStore, StateError};
use std::sync::Arc;

/// Why the connectors could not be built: the configuration's fault (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A pipeline needs a system that `exflow.yaml` does not connect.
    #[error("pipeline `{pipeline}` uses {system}, but exflow.yaml has no `connections.{system}`")]
    Missing {
        /// The pipeline.
        pipeline: String,
        /// The system.
        system: System,
    },
    /// The connection settings were refused by the client.
    #[error("{system}: {message}")]
    Invalid {
        /// The system.
        system: System,
        /// Why.
        message: String,
    },
    /// The state store could not be opened.
    #[error(transparent)]
    State(#[from] StateError),
}

impl ConnectError {
    /// The exit code: a state store that is busy or failing (another process holds it) is
    /// the work failing, never an invalid configuration.
    pub fn exit_code(&self) -> u8 {
        match self {
            ConnectError::State(StateError::Sqlite(_) | StateError::Busy(_)) => super::EXIT_FAILED,
            _ => super::EXIT_INVALID,
        }
    }
}

/// The connectors `pipelines` need, built from the project's connections. Exact Online
/// needs a stored token pair (`exflow auth exact-online`) and may read its division.
pub async fn connectors(
    project: &Project,
    pipelines: &[&Pipeline],
) -> Result<Connectors, ConnectError> {
    Ok(connect(project, pipelines).await?.0)
}

/// [`connectors`], and the Exact Online client itself when one was built (its rate limits,
/// the webhooks API): one client per process, so that its token refreshes never race.
pub async fn connect(
    project: &Project,
    pipelines: &[&Pipeline],
) -> Result<(Connectors, Option<ExactOnlineClient>), ConnectError> {
    let mut out = Connectors::default();
    let mut online = None;
    for p in pipelines {
        for system in [p.source.system, p.target.system] {
            let missing = || ConnectError::Missing {
                pipeline: p.name.clone(),
                system,
            };
            match system {
                System::ExactGlobe if out.exact_globe.is_none() => {
                    project.config.exact_globe.as_ref().ok_or_else(missing)?;
                    out.exact_globe = Some(Arc::new(globe_client(project)?));
                }
                System::ExactOnline if out.exact_online.is_none() => {
                    project.config.exact_online.as_ref().ok_or_else(missing)?;
                    let client = online_client(project).await?;
                    out.exact_online = Some(Arc::new(client.clone()));
                    online = Some(client);
                }
                _ => {}
            }
        }
    }
    Ok((out, online))
}

/// The Exact Globe client of the project's `connections.exact_globe`.
pub fn globe_client(project: &Project) -> Result<ExactGlobeClient, ConnectError> {
    let system = System::ExactGlobe;
    let c = project
        .config
        .exact_globe
        .as_ref()
        .ok_or_else(|| ConnectError::Missing {
            pipeline: "(connection test)".into(),
            system,
        })?;
    let config = GlobeConfig::new(
        c.base_url.clone(),
        c.server_name.clone(),
        c.database_name.clone(),
        c.user.clone(),
        c.password.clone(),
    );
    ExactGlobeClient::new(config).map_err(|e| ConnectError::Invalid {
        system,
        message: e.to_string(),
    })
}

/// The client settings of the project's `connections.exact_online`, if it has one.
pub fn online_config(project: &Project) -> Option<OnlineConfig> {
    let c = project.config.exact_online.as_ref()?;
    let mut config = OnlineConfig::new(&c.base_url, &c.client_id, &c.client_secret);
    config.division = c.division;
    if !c.redirect_uri.is_empty() {
        config.redirect_uri = c.redirect_uri.clone();
    }
    config.daily_reserve = c.daily_reserve;
    Some(config)
}

/// The Exact Online client of the project's `connections.exact_online`.
pub async fn online_client(project: &Project) -> Result<ExactOnlineClient, ConnectError> {
    let system = System::ExactOnline;
    let config = online_config(project).ok_or_else(|| ConnectError::Missing {
        pipeline: "(webhooks)".into(),
        system,
    })?;
    // Tokens live in the state file, written before use (they rotate).
    let tokens = TokenStore::open(&project.state_path()).map_err(|e| ConnectError::Invalid {
        system,
        message: e.to_string(),
    })?;
    ExactOnlineClient::new(config, tokens)
        .await
        .map_err(|e| ConnectError::Invalid {
            system,
            message: auth_hint(system, &e.to_string()),
        })
}

/// The project's state store (created on first use).
pub fn state_store(project: &Project) -> Result<SqliteStore, ConnectError> {
    Ok(SqliteStore::open(
        &project.state_path(),
        project.config.redact_payloads,
    )?)
}

/// The client's error said once: without the system name `ConnectError` puts in front, and
/// with the hint to log in only where the error does not give it already.
fn auth_hint(system: System, error: &str) -> String {
    let text = error
        .strip_prefix(&format!("{system}: "))
        .unwrap_or(error)
        .to_string();
    if text.contains("exflow auth exact-online") {
        text
    } else {
        format!("{text} (run `exflow auth exact-online` first?)")
    }
}

#[cfg(test)]
mod auth_hint_tests {
    use super::*;

    #[test]
    fn the_system_and_the_hint_are_said_once() {
        let e = "exact_online: authentication failed: no Exact Online token stored under `x`: run `exflow auth exact-online` first";
        let m = ConnectError::Invalid {
            system: System::ExactOnline,
            message: auth_hint(System::ExactOnline, e),
        }
        .to_string();
        assert_eq!(m.matches("exact_online:").count(), 1, "{m}");
        assert_eq!(m.matches("exflow auth exact-online").count(), 1, "{m}");
        let m = auth_hint(System::ExactOnline, "exact_online unavailable: refused");
        assert!(
            m.ends_with("(run `exflow auth exact-online` first?)"),
            "{m}"
        );
    }
}
