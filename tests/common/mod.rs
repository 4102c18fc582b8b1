//! What the end-to-end tests share: both simulators on 127.0.0.1 port 0, a project folder
//! with the standard pipelines pointing at them, runs through the engine, and readers of the
//! simulators' call counts.
#![allow(dead_code)]

use exflow::engine::{run_pipeline, Connectors, RunOptions, RunReport};
use exflow::pipeline::{self, Project};
use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use exflow::state::SqliteStore;
use serde_json::Value;
use std::path::Path;

pub struct Env {
    pub online: OnlineSim,
    pub globe: GlobeSim,
    pub dir: tempfile::TempDir,
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Both simulators and a project folder pointing at them; `default_debtor` is YAML.
pub async fn env(online: OnlineSimConfig, globe: GlobeSimConfig, default_debtor: &str) -> Env {
    env_with(online, globe, default_debtor, "").await
}

/// [`env`] with more lines appended to the project's `vars:`.
pub async fn env_with(
    online: OnlineSimConfig,
    globe: GlobeSimConfig,
    default_debtor: &str,
    more_vars: &str,
) -> Env {
    let online = OnlineSim::start(online, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let globe = GlobeSim::start(globe, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("pipelines"), &dir.path().join("pipelines"));
    // Test files beside the pipelines are not needed here.
    for e in std::fs::read_dir(dir.path().join("pipelines")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".test.yaml") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let yaml = format!(
        "project: e2e\nstate: .exflow/state.db\nretention_days: 30\nredact_payloads: false\n\
         connections:\n  exact_online:\n    base_url: {}\n    division: {}\n    client_id: exflow-sim\n    \
         client_secret: exflow-sim-secret\n    redirect_uri: http://127.0.0.1:9/callback\n    daily_reserve: 10\n  \
         exact_globe:\n    base_url: {}\n    server_name: localhost\n    database_name: \"500\"\n    \
         user: exflow\n    password: exflow\n\
         vars:\n  default_debtor: {default_debtor}\n  home_country: NL\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n{more_vars}",
        online.base_url(),
        online.division(),
        globe.base_url()
    );
    std::fs::write(dir.path().join("exflow.yaml"), yaml).unwrap();
    // The tokens an `exflow auth exact-online` would have stored.
    let (access, refresh) = online.issue_tokens();
    let tokens = TokenStore::open(&dir.path().join(".exflow/state.db")).unwrap();
    let now = chrono::Utc::now().timestamp();
    tokens
        .save(
            "exact_online:exflow-sim",
            &StoredToken {
                access_token: access,
                refresh_token: refresh,
                access_expires_at: now + 600,
                refreshed_at: now,
            },
        )
        .unwrap();
    Env { online, globe, dir }
}

pub fn load(env: &Env) -> Project {
    match pipeline::load_project(env.dir.path()) {
        Ok(p) => p,
        Err(d) => panic!("project does not load: {d}"),
    }
}

pub async fn run(
    project: &Project,
    name: &str,
    conns: &Connectors,
    store: &SqliteStore,
    dry_run: bool,
) -> RunReport {
    let p = project.pipeline(name).unwrap();
    let options = RunOptions {
        dry_run,
        keep_decisions: true,
        ..RunOptions::default()
    };
    match run_pipeline(project, p, conns, store, options).await {
        Ok(r) => r,
        Err(e) => panic!("{name}: {e}"),
    }
}

pub fn fails(r: &RunReport) -> Vec<String> {
    r.decisions
        .iter()
        .filter_map(|d| match &d.decision {
            exflow::engine::Decision::Fail { reason } => {
                Some(format!("{} {}: {reason}", d.entity, d.match_value))
            }
            _ => None,
        })
        .collect()
}

/// Calls of one method (`POST`, `MERGE`, `PUT`, `GET`) a simulator has answered.
pub fn method_calls(stats: &Value, method: &str) -> u64 {
    let by_method = stats["by_method"][method].as_u64();
    by_method.unwrap_or_else(|| {
        stats["calls"]
            .as_object()
            .map(|calls| {
                calls
                    .iter()
                    .filter(|(k, _)| k.starts_with(&format!("{method} ")))
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    })
}

pub fn writes(stats: &Value) -> u64 {
    ["POST", "PUT", "MERGE", "DELETE"]
        .iter()
        .map(|m| method_calls(stats, m))
        .sum()
}

pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn small_online() -> OnlineSimConfig {
    OnlineSimConfig {
        orders: 60,
        customers: 20,
        products: 25,
        minutely_limit: 10_000,
        daily_limit: 100_000,
        ..OnlineSimConfig::default()
    }
}
