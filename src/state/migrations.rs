//! Versioned schema of the state database: `PRAGMA user_version` says how many of
//! [`MIGRATIONS`] have run; each runs once, in order, under one write lock taken before the
//! version is read.

use super::StateError;
use rusqlite::Connection;

/// Each entry moves the schema one version up. Append only; never edit a shipped entry.
const MIGRATIONS: &[&str] = &[
    // 1: runs, activity, id map, cursors, journal
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pipeline TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL,
        counts TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_pipeline ON runs(pipeline, id);
    CREATE TABLE activity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL,
        pipeline TEXT NOT NULL,
        entity TEXT NOT NULL,
        source_key TEXT,
        source_payload TEXT,
        sent_payload TEXT,
        target_response TEXT,
        outcome TEXT NOT NULL,
        error TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX activity_run ON activity(run_id, id);
    CREATE INDEX activity_at ON activity(at);
    CREATE TABLE id_map (
        system TEXT NOT NULL,
        entity TEXT NOT NULL,
        source_key TEXT NOT NULL,
        target_key TEXT NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (system, entity, source_key)
    );
    CREATE INDEX id_map_target ON id_map(system, entity, target_key);
    CREATE TABLE cursors (
        pipeline TEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pipeline TEXT NOT NULL,
        entity TEXT NOT NULL,
        match_field TEXT NOT NULL,
        match_value TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open',
        target_key TEXT,
        note TEXT,
        at TEXT NOT NULL,
        resolved TEXT
    );
    CREATE INDEX journal_open ON journal(pipeline, state);",
    // 2: failed records, retried by the next run even when the cursor has moved on
    "CREATE TABLE retry (
        pipeline TEXT NOT NULL,
        source_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        at TEXT NOT NULL,
        PRIMARY KEY (pipeline, source_key)
    );",
    // 3: the activity log as people search it (business key, filters, paging), the retry
    // list with its history, and the secret that keys the hash of personal business keys.
    "ALTER TABLE activity ADD COLUMN business_key TEXT;
    ALTER TABLE activity ADD COLUMN key_field TEXT;
    CREATE INDEX activity_business_key ON activity(business_key COLLATE NOCASE);
    CREATE INDEX activity_source_key ON activity(source_key);
    CREATE INDEX activity_pipeline ON activity(pipeline, id);
    CREATE INDEX activity_outcome ON activity(outcome, id);
    CREATE INDEX activity_pipeline_outcome ON activity(pipeline, outcome, id);
    CREATE INDEX activity_run_outcome ON activity(run_id, outcome, id);
    ALTER TABLE retry ADD COLUMN business_key TEXT;
    ALTER TABLE retry ADD COLUMN key_field TEXT;
    ALTER TABLE retry ADD COLUMN first_failed TEXT;
    ALTER TABLE retry ADD COLUMN last_run INTEGER;
    UPDATE retry SET first_failed = at;
    CREATE INDEX retry_business_key ON retry(business_key COLLATE NOCASE);
    CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    INSERT INTO meta (name, value) VALUES ('business_key_secret', randomblob(32));",
    // 4: the field diff of an update, kept beside what was sent (which holds only the new values)
    "ALTER TABLE activity ADD COLUMN changes TEXT;",
];

/// Brings the database to the newest schema.
///
/// Several processes may open a fresh file at once: the version is read and the migrations
/// run inside one `BEGIN IMMEDIATE` transaction (the write lock taken before the read), so
/// the loser waits (busy timeout) and then finds the work done instead of redoing it.
pub fn migrate(conn: &mut Connection) -> Result<(), StateError> {
    let known = MIGRATIONS.len() as i64;
    // Cheap check first: an up-to-date file takes no write lock.
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StateError::TooNew { found, known });
    }
    if found < known {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > known {
            return Err(StateError::TooNew { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            tx.execute_batch(sql)?;
            // user_version cannot take a bound parameter; the number is ours, not input.
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        }
        tx.commit()?;
    }
    // The token table is the Exact Online client's; it migrates it idempotently itself.
    super::tokens::migrate(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_is_idempotent_and_sets_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'
                 AND name IN ('runs', 'activity', 'id_map', 'cursors', 'journal', 'oauth_tokens', 'retry', 'meta')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 8);
    }

    #[test]
    fn a_version_2_database_keeps_its_retry_list() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO retry (pipeline, source_key, payload, reason, at)
             VALUES ('orders', 'o1', '{}', 'item A missing', '2026-01-02T03:04:05+00:00');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let first: String = conn
            .query_row("SELECT first_failed FROM retry", [], |r| r.get(0))
            .unwrap();
        assert_eq!(first, "2026-01-02T03:04:05+00:00");
        let secret: Vec<u8> = conn
            .query_row("SELECT value FROM meta", [], |r| r.get(0))
            .unwrap();
        assert_eq!(secret.len(), 32);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA user_version = 999").unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StateError::TooNew { found: 999, .. })
        ));
    }
}
