//! The binary never panics (exit 101) on what users do every day: a diagnostic quoting a
//! source line longer than 65,535 characters, or a command piped into `head` that closes its
//! standard output early. Every command runs for real, against simulators on 127.0.0.1:0
//! where it needs a system.

use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use exflow::state::tokens::{StoredToken, TokenStore};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

/// Runs `exflow args` in `dir` with its standard output closed before it writes a byte.
fn closed_stdout(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The only reading end goes: every write to stdout now fails with a broken pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A project whose orders pipeline maps an unknown field to a 70,000-character literal.
fn project_with_a_long_line() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("examples/default-debtor"), dir.path());
    let file = dir.path().join("pipelines/orders.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    let long = format!(
        "  YourReference: text(OrderNumber)\n  YourRefernce: \"{}\"\n",
        "x".repeat(70_000)
    );
    let yaml = yaml.replacen("  YourReference: text(OrderNumber)\n", &long, 1);
    assert!(yaml.contains("YourRefernce"));
    std::fs::write(file, yaml).unwrap();
    dir
}

#[test]
fn diagnostics_quoting_a_very_long_line_do_not_panic() {
    let project = project_with_a_long_line();
    let p = project.path().to_str().unwrap();
    for args in [
        vec!["validate", p],
        vec!["run", "--project", p],
        vec!["test", "--project", p],
    ] {
        let (code, err) = run(project.path(), &args);
        assert_eq!(code, Some(2), "{args:?}: {}", &err[..err.len().min(2000)]);
        assert!(!err.contains("panicked"), "{args:?}");
        assert!(err.contains("E106"), "{args:?}");
        assert!(err.contains("YourRefernce"), "{args:?}");
        assert!(err.len() < 10_000, "{args:?}: the long line is cut");
    }
    let record = project.path().join("record.json");
    std::fs::write(&record, r#"{"Name": "a"}"#).unwrap();
    // Tabs count four columns each: the error sits past column 65,535 of one line, in an
    // expression shorter than eval's 64 KiB limit. One is refused by the checker, one fails
    // while it maps the record.
    let tabs = "\t".repeat(30_000);
    for (expr, code, word) in [
        (format!("{tabs}nope(Name)"), 2, "nope"),
        (format!("{tabs}number(Name)"), 1, "number"),
    ] {
        let (got, err) = run(
            project.path(),
            &["eval", &expr, "--input", record.to_str().unwrap()],
        );
        assert_eq!(got, Some(code), "{}", &err[..err.len().min(2000)]);
        assert!(!err.contains("panicked"));
        assert!(err.contains(word), "{}", &err[..err.len().min(2000)]);
        assert!(err.len() < 10_000, "the long line is cut");
    }
}

/// Both simulators and a project (the standard pipelines) pointing at them.
async fn project_with_simulators() -> (OnlineSim, GlobeSim, tempfile::TempDir) {
    let online = OnlineSim::start(
        OnlineSimConfig {
            orders: 10,
            customers: 5,
            products: 8,
            ..OnlineSimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let globe = GlobeSim::start(GlobeSimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("pipelines"), &dir.path().join("pipelines"));
    let yaml = format!(
        "project: pipes\nstate: .exflow/state.db\n\
         connections:\n  exact_online:\n    base_url: {}\n    division: {}\n    client_id: exflow-sim\n    \
         client_secret: exflow-sim-secret\n    redirect_uri: http://127.0.0.1:9/callback\n  \
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
    (online, globe, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_exits_quietly_when_stdout_closes_early() {
    let (_online, _globe, project) = project_with_simulators().await;
    let dir = project.path().to_path_buf();
    let record = dir.join("record.json");
    std::fs::write(&record, r#"{"Name": "a", "OrderNumber": 7}"#).unwrap();
    let record = record.to_str().unwrap().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["--version"],
        vec!["functions"],
        vec!["schema", "exact_globe"],
        vec!["schema", "exact_online", "SalesOrders", "--format", "json"],
        vec!["explain", "E106"],
        vec!["validate", "pipelines"],
        vec!["validate", "pipelines", "--format", "json"],
        vec!["eval", "upper(Name)", "--input", &record],
        vec!["map", "orders", "--input", &record],
        vec!["test"],
        vec!["fetch", "exact_globe", "Account", "--top", "3"],
        vec!["plan", "products"],
        vec!["plan", "products", "--format", "json"],
        vec!["run", "products"],
        vec!["run", "customers", "--format", "json"],
        vec!["demo", "--orders", "20", "--format", "json"],
    ];
    let commands: Vec<Vec<String>> = commands
        .into_iter()
        .map(|c| c.into_iter().map(String::from).collect())
        .collect();
    let results = tokio::task::spawn_blocking(move || {
        commands
            .iter()
            .map(|args| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                (args.join(" "), closed_stdout(&dir, &args))
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (args, (code, err)) in results {
        assert_ne!(code, Some(101), "{args}: {err}");
        assert!(!err.contains("panicked"), "{args}: {err}");
        assert!(!err.contains("Broken pipe"), "{args}: {err}");
    }
}
