//! A `where` or `when` never drops a record silently: a comparison of values of different
//! kinds (text "12" with number 12), or a condition that is not true or false, fails the
//! record with its reason, so it is logged and retried; `validate` warns about comparisons
//! the catalogue's types make always false.

mod common;

use common::{copy_dir, env, load, small_online};
use exflow::cli::connect::{connectors, state_store};
use exflow::engine::{run_pipeline, Decision, RunOptions};
use exflow::sim::exact_globe::GlobeSimConfig;
use exflow::state::StateStore;
use serde_json::{json, Value};
use std::path::Path;

#[tokio::test]
async fn a_where_comparing_text_with_a_number_fails_every_record_with_the_reason() {
    let env = env(small_online(), GlobeSimConfig::default(), "null").await;
    // Globe debtor numbers are text; compared with a number they never match. Before, every
    // debtor was skipped as "filtered out", never synced and never retried.
    let file = env.dir.path().join("pipelines/customers.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    let line = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("where:"))
        .expect("customers has a where")
        .to_string();
    std::fs::write(
        &file,
        yaml.replace(&line, "  where: trim(DebtorNumber) == 10001"),
    )
    .unwrap();
    let project = load(&env);
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let conns = connectors(&project, &pipelines).await.unwrap();
    let store = state_store(&project).unwrap();
    let p = project.pipeline("customers").unwrap();
    let options = RunOptions {
        keep_decisions: true,
        ..RunOptions::default()
    };
    let r = run_pipeline(&project, p, &conns, &store, options)
        .await
        .unwrap();
    assert!(r.records_read > 0);
    let reasons: Vec<String> = r
        .decisions
        .iter()
        .map(|d| match &d.decision {
            Decision::Fail { reason } => reason.clone(),
            other => panic!("not failed: {other:?}"),
        })
        .collect();
    assert_eq!(reasons.len() as u64, r.records_read);
    for reason in &reasons {
        assert!(reason.contains("cannot compare text"), "{reason}");
    }
    let retry = store.retry_list("customers").unwrap();
    assert_eq!(retry.len() as u64, r.records_read, "each waits for a retry");
}

fn exflow(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_warns_about_a_comparison_that_is_always_false() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("examples/default-debtor"), dir.path());
    let file = dir.path().join("pipelines/orders.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert!(yaml.contains("where: Status == 12\n"));
    std::fs::write(
        &file,
        yaml.replace("where: Status == 12\n", "where: Status == \"12\"\n"),
    )
    .unwrap();
    let (code, _, err) = exflow(dir.path(), &["validate", "."]);
    assert_eq!(code, Some(0), "a warning, not an error: {err}");
    assert!(
        err.contains("E008") && err.contains("always false"),
        "{err}"
    );

    // `exflow map` on an exported record says why the record does not pass.
    let record = dir.path().join("order.json");
    let order: Value = json!({"Status": "12", "OrderNumber": 7, "SalesOrderLines": []});
    std::fs::write(&record, order.to_string()).unwrap();
    std::fs::write(&file, yaml).unwrap();
    let (code, _, err) = exflow(
        dir.path(),
        &[
            "map",
            "orders_default_debtor",
            "--input",
            record.to_str().unwrap(),
        ],
    );
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("cannot compare text"), "{err}");
}
