//! What the integration tests that run the standard pipelines share: both simulators on
//! 127.0.0.1 port 0 and a project folder (the repository's `pipelines/`) pointing at them,
//! with the tokens `exflow auth exact-online` would have stored.
#![allow(dead_code)]

use exflow::pipeline::{self, Project};
use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use std::path::Path;

/// Both simulators and the project folder.
pub struct Env {
    pub online: OnlineSim,
    pub globe: GlobeSim,
    pub dir: tempfile::TempDir,
}

/// Copies a folder, leaving out pipeline tests (`*.test.yaml`), which need no systems.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if !e.path().to_string_lossy().ends_with(".test.yaml") {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A small Exact Online (40 orders) for these tests.
pub fn small_online() -> OnlineSimConfig {
    OnlineSimConfig {
        orders: 40,
        customers: 15,
        products: 25,
        minutely_limit: 10_000,
        daily_limit: 100_000,
        ..OnlineSimConfig::default()
    }
}

/// Starts both simulators and writes the project.
pub async fn env(online: OnlineSimConfig, globe: GlobeSimConfig) -> Env {
    let online = OnlineSim::start(online, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let globe = GlobeSim::start(globe, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("pipelines"), &dir.path().join("pipelines"));
    let yaml = format!(
        "project: e2e\nstate: .exflow/state.db\n\
         connections:\n  exact_online:\n    base_url: {}\n    division: {}\n    client_id: exflow-sim\n    \
         client_secret: exflow-sim-secret\n    redirect_uri: http://127.0.0.1:9/callback\n    daily_reserve: 10\n  \
         exact_globe:\n    base_url: {}\n    server_name: localhost\n    database_name: \"500\"\n    \
         user: exflow\n    password: exflow\n\
         vars:\n  default_debtor: null\n  home_country: NL\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n",
        online.base_url(),
        online.division(),
        globe.base_url()
    );
    std::fs::write(dir.path().join("exflow.yaml"), yaml).unwrap();
    let (access, refresh) = online.issue_tokens();
    let now = chrono::Utc::now().timestamp();
    TokenStore::open(&dir.path().join(".exflow/state.db"))
        .unwrap()
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

/// The project, loaded as a run loads it.
pub fn load(env: &Env) -> Project {
    match pipeline::load_project(env.dir.path()) {
        Ok(p) => p,
        Err(d) => panic!("project does not load: {d}"),
    }
}
