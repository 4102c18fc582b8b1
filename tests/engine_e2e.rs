//! The engine end to end: both simulators on 127.0.0.1 port 0, the standard pipelines of
//! `pipelines/`, the real HTTP clients built from a project's `exflow.yaml`, a real SQLite
//! state file. Call counts come from the simulators' own `/_sim/stats`.

use exflow::cli::connect::{connectors, state_store};
use exflow::engine::{run_pipeline, Connectors, RunOptions, RunReport};
use exflow::pipeline::{self, Project};
use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use exflow::state::SqliteStore;
use serde_json::Value;
use std::path::Path;

struct Env {
    online: OnlineSim,
    globe: GlobeSim,
    dir: tempfile::TempDir,
}

fn copy_dir(from: &Path, to: &Path) {
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

async fn env(online: OnlineSimConfig, globe: GlobeSimConfig, vars: &str) -> Env {
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
         vars:\n  default_debtor: null\n  home_country: NL\n  currency: EUR\n  prices_include_vat: false\n  skip_item_prefix: \"TMP-\"\n{vars}",
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

fn load(env: &Env) -> Project {
    match pipeline::load_project(env.dir.path()) {
        Ok(p) => p,
        Err(d) => panic!("project does not load: {d}"),
    }
}

async fn run(project: &Project, name: &str, conns: &Connectors, store: &SqliteStore, dry_run: bool) -> RunReport {
    let p = project.pipeline(name).unwrap();
    let options = RunOptions { dry_run, keep_decisions: true, ..RunOptions::default() };
    match run_pipeline(project, p, conns, store, options).await {
        Ok(r) => r,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn fails(r: &RunReport) -> Vec<String> {
    r.decisions
        .iter()
        .filter_map(|d| match &d.decision {
            exflow::engine::Decision::Fail { reason } => Some(format!("{} {}: {reason}", d.entity, d.match_value)),
            _ => None,
        })
        .collect()
}

fn writes(stats: &Value) -> u64 {
    stats["writes"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn the_standard_flows_run_and_a_rerun_creates_nothing() {
    let env = env(
        OnlineSimConfig { orders: 60, customers: 20, products: 25, minutely_limit: 10_000, daily_limit: 100_000, ..OnlineSimConfig::default() },
        GlobeSimConfig::default(),
        "",
    )
    .await;
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();

    let globe_before = env.globe.stats();
    let plan = run(&project, "products", &conns, &store, true).await;
    println!("{plan}");
    println!("globe stats after plan: {}", env.globe.stats());
    let _ = globe_before;

    for name in ["products", "customers", "orders"] {
        let r = run(&project, name, &conns, &store, false).await;
        println!("{r}");
        for f in fails(&r).iter().take(3) {
            println!("  {f}");
        }
        let mut reasons: Vec<String> = r.decisions.iter().filter_map(|d| match &d.decision {
            exflow::engine::Decision::Skip { reason } => Some(reason.clone()),
            _ => None,
        }).collect();
        reasons.sort();
        reasons.dedup();
        println!("  skip reasons: {reasons:?}");
    }
    println!("online stats: {}", env.online.stats());
    println!("globe stats: {}", env.globe.stats());
}
