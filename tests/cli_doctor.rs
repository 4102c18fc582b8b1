//! `exflow doctor` through the real binary, against both simulators on port 0: a healthy
//! project passes every check; no login, a dead Globe URL and a state file others can read
//! each fail with what to do.

mod serve_support;

use exflow::sim::exact_globe::GlobeSimConfig;
use serde_json::{json, Value};
use serve_support::{env, not_logged_in, small_online};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

async fn doctor(dir: &Path) -> (i32, Value, String) {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = assert_cmd::Command::cargo_bin("exflow")
            .unwrap()
            .current_dir(&dir)
            .args(["doctor", "--format", "json"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        (
            out.status.code().unwrap_or(-1),
            doc,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {doc}"))
}

#[tokio::test]
async fn a_healthy_project_passes_every_check() {
    let public = "http://127.0.0.1:9";
    let env = env(
        small_online(20),
        GlobeSimConfig::default(),
        &[("products", None), ("orders", None)],
        &format!("  public_url: {public}\n"),
    )
    .await;
    for topic in ["Items", "SalesOrders"] {
        env.online
            .insert(
                "WebhookSubscriptions",
                json!({"Topic": topic, "CallbackURL": format!("{public}/webhooks/exact-online")}),
            )
            .unwrap();
    }
    let (code, doc, err) = doctor(env.dir.path()).await;
    assert_eq!(code, 0, "{doc:#}\n{err}");
    assert_eq!(doc["status"], "ok", "{doc:#}");
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "project",
            "state.permissions",
            "state.gitignore",
            "exact_online.login",
            "exact_online.connection",
            "exact_online.division",
            "exact_online.webhooks",
            "exact_online.budget",
            "exact_globe.connection"
        ]
    );
    for c in doc["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
    }
    let budget = check(&doc, "exact_online.budget")["message"]
        .as_str()
        .unwrap();
    assert!(budget.contains("calls left today"), "{budget}");
    // No token is ever printed.
    let tokens = exflow::state::tokens::TokenStore::open(&env.dir.path().join(".exflow/state.db"))
        .unwrap()
        .load("exact_online:exflow-sim")
        .unwrap()
        .unwrap();
    let text = doc.to_string();
    assert!(!text.contains(&tokens.refresh_token) && !text.contains(&tokens.access_token));
    // Without the subscriptions the webhooks check warns, and that alone still exits 0.
    for s in env.online.records("WebhookSubscriptions") {
        env.online
            .delete("WebhookSubscriptions", s["ID"].as_str().unwrap())
            .unwrap();
    }
    let (code, doc, _) = doctor(env.dir.path()).await;
    assert_eq!(code, 0, "{doc:#}");
    let hooks = check(&doc, "exact_online.webhooks");
    assert_eq!(hooks["status"], "warn", "{hooks}");
    assert!(hooks["fix"]
        .as_str()
        .unwrap()
        .contains("exflow webhooks subscribe"));
}

#[tokio::test]
async fn no_login_fails_with_the_command_to_log_in() {
    let env = env(
        small_online(20),
        GlobeSimConfig::default(),
        &[("orders", None)],
        "",
    )
    .await;
    not_logged_in(env.dir.path());
    let (code, doc, _) = doctor(env.dir.path()).await;
    assert_eq!(code, 1, "{doc:#}");
    let login = check(&doc, "exact_online.login");
    assert_eq!(login["status"], "fail", "{login}");
    assert!(login["fix"]
        .as_str()
        .unwrap()
        .contains("exflow auth exact-online"));
    assert_eq!(check(&doc, "exact_online.connection")["status"], "skip");
    // The doctor looks; it creates no state where there was none.
    assert!(!env.dir.path().join(".exflow").exists());
}

#[tokio::test]
async fn a_dead_globe_url_fails_naming_it() {
    let env = env(
        small_online(20),
        GlobeSimConfig::default(),
        &[("orders", None)],
        "",
    )
    .await;
    let file = env.dir.path().join("exflow.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    let yaml = yaml.replace(&env.globe.base_url(), "http://127.0.0.1:9");
    std::fs::write(&file, yaml).unwrap();
    let (code, doc, _) = doctor(env.dir.path()).await;
    assert_eq!(code, 1, "{doc:#}");
    let globe = check(&doc, "exact_globe.connection");
    assert_eq!(globe["status"], "fail", "{globe}");
    assert!(
        globe["message"]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:9"),
        "{globe}"
    );
    assert_eq!(check(&doc, "exact_online.connection")["status"], "ok");
}

#[tokio::test]
async fn a_state_file_others_can_read_fails_with_the_chmod() {
    let env = env(
        small_online(20),
        GlobeSimConfig::default(),
        &[("orders", None)],
        "",
    )
    .await;
    let db = env.dir.path().join(".exflow/state.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, doc, _) = doctor(env.dir.path()).await;
    assert_eq!(code, 1, "{doc:#}");
    let perms = check(&doc, "state.permissions");
    assert_eq!(perms["status"], "fail", "{perms}");
    assert!(
        perms["message"].as_str().unwrap().contains("0644"),
        "{perms}"
    );
    assert!(
        perms["fix"].as_str().unwrap().contains("chmod 600"),
        "{perms}"
    );
    // Reported as found, not silently changed.
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    // In a git repository that does not ignore it, the state is a warning.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(env.dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    if git(&["init", "-q"]).status.success() {
        let (_, doc, _) = doctor(env.dir.path()).await;
        assert_eq!(check(&doc, "state.gitignore")["status"], "warn", "{doc:#}");
        std::fs::write(env.dir.path().join(".gitignore"), ".exflow/\n").unwrap();
        let (_, doc, _) = doctor(env.dir.path()).await;
        assert_eq!(check(&doc, "state.gitignore")["status"], "ok", "{doc:#}");
    }
}
