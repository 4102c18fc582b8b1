//! One configuration for every command: `fetch` and `auth` read `exflow.yaml` (flags and the
//! environment override it), `validate` warns about unset variables, errors name the URL they
//! tried; and the simulators' faults change at run time. Through the real binary.

mod common;

use common::env;
use exflow::sim::exact_globe::GlobeSimConfig;
use serde_json::Value;
use std::path::Path;

/// The variables a user's shell might hold: none may leak into these runs.
const VARS: &[&str] = &[
    "EXACT_ONLINE_BASE_URL",
    "EXACT_ONLINE_CLIENT_ID",
    "EXACT_ONLINE_CLIENT_SECRET",
    "EXACT_ONLINE_DIVISION",
    "EXACT_ONLINE_REDIRECT_URI",
    "EXACT_GLOBE_BASE_URL",
    "EXACT_GLOBE_SERVER",
    "EXACT_GLOBE_DATABASE",
    "EXACT_GLOBE_USER",
    "EXACT_GLOBE_PASSWORD",
    "EXACT_GLOBE_AUTH",
];

async fn exflow(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut c = assert_cmd::Command::cargo_bin("exflow").unwrap();
        c.current_dir(&dir).args(&args);
        for v in VARS {
            c.env_remove(v);
        }
        for (k, v) in vars {
            c.env(k, v);
        }
        c.output().unwrap()
    })
    .await
    .unwrap()
}

fn records(out: &std::process::Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    doc["records"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn fetch_reads_the_project_file_and_flags_override_it() {
    let env = env(common::small_online(), GlobeSimConfig::default(), "null").await;
    let dir = env.dir.path();
    // No flags, no environment: the connections and the tokens come from exflow.yaml.
    let globe = exflow(
        dir,
        &[
            "fetch",
            "exact_globe",
            "Account",
            "--top",
            "2",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(records(&globe).len(), 2);
    let online = exflow(
        dir,
        &[
            "fetch",
            "exact_online",
            "Accounts",
            "--top",
            "1",
            "--select",
            "Code,Name",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(records(&online).len(), 1);
    // From elsewhere with --project.
    let elsewhere = tempfile::tempdir().unwrap();
    let project = dir.to_string_lossy().to_string();
    let out = exflow(
        elsewhere.path(),
        &[
            "fetch",
            "exact_globe",
            "Item",
            "--top",
            "1",
            "--format",
            "json",
            "--project",
            &project,
        ],
        &[],
    )
    .await;
    assert_eq!(records(&out).len(), 1);
    // A flag beats the file, and the failure names the URL it tried.
    let out = exflow(
        dir,
        &[
            "fetch",
            "exact_globe",
            "Account",
            "--top",
            "1",
            "--globe-url",
            "http://127.0.0.1:9",
        ],
        &[],
    )
    .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("http://127.0.0.1:9"), "{err}");
    // So does the environment, under the names exflow.yaml uses.
    let out = exflow(
        dir,
        &["fetch", "exact_globe", "Account", "--top", "1"],
        &[("EXACT_GLOBE_PASSWORD", "wrong")],
    )
    .await;
    assert!(!out.status.success(), "the wrong password was not used");
    env.online.shutdown().await;
    env.globe.shutdown().await;
}

#[tokio::test]
async fn auth_takes_base_url_credentials_and_redirect_uri_from_the_project() {
    let env = env(common::small_online(), GlobeSimConfig::default(), "null").await;
    let dir = env.dir.path();
    // The project's redirect URI (http://127.0.0.1:9/callback), as the App Center has it.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client
        .get(format!("{}/api/oauth2/auth", env.online.base_url()))
        .query(&[
            ("client_id", "exflow-sim"),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    let location = resp.headers()["Location"].to_str().unwrap().to_string();
    let code = location.split("code=").nth(1).expect("code").to_string();
    let out = exflow(dir, &["auth", "exact-online", "--code", &code], &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("state.db"), "{stdout}");
    env.online.shutdown().await;
    env.globe.shutdown().await;
}

#[tokio::test]
async fn validate_warns_about_an_unset_variable() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines"),
        &dir.path().join("pipelines"),
    );
    let yaml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("exflow.yaml")).unwrap();
    std::fs::write(dir.path().join("exflow.yaml"), yaml).unwrap();
    let out = exflow(dir.path(), &["validate", ".", "--format", "json"], &[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unset: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "E117" && d["severity"] == "warning")
        .map(|d| d["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        unset.iter().any(|m| m.contains("EXACT_GLOBE_PASSWORD")),
        "{unset:?}"
    );
    // Set, it is not warned about.
    let out = exflow(
        dir.path(),
        &["validate", ".", "--format", "json"],
        &[("EXACT_GLOBE_PASSWORD", "x")],
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("EXACT_GLOBE_PASSWORD"), "{text}");
}

#[tokio::test]
async fn faults_are_set_and_cleared_at_run_time() {
    let env = env(common::small_online(), GlobeSimConfig::default(), "null").await;
    let http = reqwest::Client::new();
    let globe = env.globe.base_url();
    let account = format!("{globe}/services/Exact.Entity.REST.EG/Account?$top=1");
    let get = || {
        http.get(&account)
            .basic_auth("exflow", Some("exflow"))
            .header("ServerName", "localhost")
            .header("DatabaseName", "500")
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200);
    let set = http
        .put(format!("{globe}/_sim/faults"))
        .body("status503=1")
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(get().await.unwrap().status(), 503);
    let now: Value = http
        .get(format!("{globe}/_sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["faults"], "status503=1");
    http.delete(format!("{globe}/_sim/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get().await.unwrap().status(),
        200,
        "the data and service stay"
    );
    let bad = http
        .put(format!("{globe}/_sim/faults"))
        .body("nonsense=1")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Exact Online: a 429 burst switched on and off without losing the data.
    let online = env.online.base_url();
    let (token, _) = env.online.issue_tokens();
    let url = format!(
        "{online}/api/v1/{}/sync/CRM/Accounts?$select=ID&$filter=Timestamp%20gt%201",
        env.online.division()
    );
    let read = || http.get(&url).bearer_auth(&token).send();
    let first = read().await.unwrap();
    let status = first.status();
    assert_eq!(status, 200, "{}", first.text().await.unwrap_or_default());
    http.put(format!("{online}/_sim/faults"))
        .body("burst429=2")
        .send()
        .await
        .unwrap();
    assert_eq!(read().await.unwrap().status(), 429);
    http.delete(format!("{online}/_sim/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(read().await.unwrap().status(), 200);
    env.online.shutdown().await;
    env.globe.shutdown().await;
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = exflow(dir.path(), &["completions", shell], &[]).await;
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("validate") && text.contains("serve"),
            "{shell}"
        );
    }
}
