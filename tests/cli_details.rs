//! Small things the binary must get right: `eval` goes on after a bad JSON line, brackets
//! inside a string literal are not nesting, and the JSON summary of a run that stopped
//! still has its counts.

mod common;

use common::{env, small_online};
use exflow::sim::exact_globe::{Faults, GlobeSimConfig};
use serde_json::Value;
use std::path::Path;

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
fn eval_goes_on_after_a_bad_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"n\": 1}\n{\"n\": oops}\n{\"n\": 3}\n").unwrap();
    let (code, out, err) = exflow(
        dir.path(),
        &["eval", "n", "--input", input.to_str().unwrap()],
    );
    assert_eq!(out, "1\n3\n", "{err}");
    assert_eq!(code, Some(1), "a bad line fails the command");
    assert!(err.contains("input line 2"), "{err}");
}

#[test]
fn brackets_inside_a_string_literal_are_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(&input, "{}").unwrap();
    let text = "(".repeat(32);
    let expr = format!("lower(\"{text}\")");
    let (code, out, err) = exflow(
        dir.path(),
        &["eval", &expr, "--input", input.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), format!("\"{text}\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_summary_of_a_stopped_run_has_its_counts() {
    // Globe needs a restart from the first call: the run stops at its first lookup.
    let globe = GlobeSimConfig {
        faults: Faults {
            restart: 1.0,
            ..Faults::default()
        },
        ..GlobeSimConfig::default()
    };
    let env = env(small_online(), globe, "null").await;
    let dir = env.dir.path().to_path_buf();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        let d = dir.to_str().unwrap().to_string();
        exflow(
            &dir,
            &["run", "products", "--project", &d, "--format", "json"],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["pipeline"], "products");
    assert!(run["error"].is_string(), "{run}");
    for key in ["created", "updated", "skipped", "failed"] {
        assert!(run[key].is_u64(), "{key} in {run}");
    }
    assert!(
        run["api_calls"]["exact_online"].as_u64().unwrap() > 0,
        "{run}"
    );
}
