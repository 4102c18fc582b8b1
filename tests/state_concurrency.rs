//! Several processes opening one fresh state file at once (two `exflow run` started by cron
//! in the same minute): every one of them opens it, none sees half a migration.

use exflow::state::{SqliteStore, StateStore};
use std::sync::{Arc, Barrier};

#[test]
fn a_fresh_state_file_opened_at_once_by_many_is_migrated_once() {
    const OPENERS: usize = 8;
    for round in 0..12 {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join(".exflow/state.db"));
        let start = Arc::new(Barrier::new(OPENERS));
        let openers: Vec<_> = (0..OPENERS)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    SqliteStore::open(&path, false).map(|s| s.begin_run("orders"))
                })
            })
            .collect();
        for opener in openers {
            match opener.join().unwrap() {
                Ok(Ok(_)) => {}
                Ok(Err(e)) | Err(e) => panic!("round {round}: {e}"),
            }
        }
        let store = SqliteStore::open(&path, false).unwrap();
        assert_eq!(store.runs(Some("orders"), 100).unwrap().len(), OPENERS);
    }
}

/// A long-lived process (`exflow serve`) that opens the store a second time (the token
/// store, a reload) keeps its hold on the database: another process opening and closing the
/// state (`exflow runs`) must not take the WAL away from under it, so what it writes next is
/// seen by everyone. The other process is this test binary again, reading the runs.
#[test]
fn a_second_open_in_a_long_lived_process_keeps_its_writes_visible() {
    if let Ok(db) = std::env::var("EXFLOW_TEST_READ_RUNS") {
        let store = SqliteStore::open(std::path::Path::new(&db), false).unwrap();
        let ids: Vec<i64> = store
            .runs(None, 100)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        println!("RUNS {}\n", serde_json::to_string(&ids).unwrap());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".exflow/state.db");
    let serve = SqliteStore::open(&path, false).unwrap();
    let first = serve.begin_run("orders").unwrap();
    // The same process opens the file again, and keeps that handle too.
    let _tokens = exflow::state::tokens::TokenStore::open(&path).unwrap();
    let _again = SqliteStore::open(&path, false).unwrap();
    let runs_seen = || -> Vec<i64> {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_second_open_in_a_long_lived_process_keeps_its_writes_visible",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("EXFLOW_TEST_READ_RUNS", &path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        // The harness prints the test's name on the same line.
        let line = text
            .split("RUNS ")
            .nth(1)
            .and_then(|l| l.lines().next())
            .unwrap_or_else(|| panic!("no runs line: {text}"));
        serde_json::from_str(line).unwrap()
    };
    assert!(runs_seen().contains(&first));
    let second = serve.begin_run("orders").unwrap();
    let seen = runs_seen();
    assert!(seen.contains(&second), "run {second} not seen: {seen:?}");
}
