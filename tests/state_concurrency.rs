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
