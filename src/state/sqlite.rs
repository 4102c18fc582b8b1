//! [`StateStore`] over one SQLite file (rusqlite, bundled): WAL mode so readers never block
//! the run, a busy timeout so two processes wait for each other instead of failing.

use super::payload::{cap_payload, ACTIVITY_PAYLOAD_CAP};
use super::query::{self, ActivityQuery, ActivityRow, FailedRecord, Reader};
use super::redact::{hashed_key, scrub};
use super::{
    is_personal, migrations, redact, Activity, DayUsage, Failure, JournalEntry, RetryEntry, RunId,
    RunLock, RunRecord, RunStatus, StateError, StateStore,
};
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::path::Path;

/// The embedded state store: one SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    redact_payloads: bool,
    /// The database file (none in memory): run locks are files beside it.
    path: Option<std::path::PathBuf>,
    /// Keys the hash of personal business keys (made once per database, in `meta`).
    secret: Vec<u8>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("redact_payloads", &self.redact_payloads)
            .finish_non_exhaustive()
    }
}

fn now() -> String {
    Utc::now().to_rfc3339()
}

pub(super) fn time(s: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StateError::Corrupt(format!("time {s:?}: {e}")))
}

pub(super) fn json(s: &str) -> Result<Value, StateError> {
    serde_json::from_str(s).map_err(|e| StateError::Corrupt(format!("json: {e}")))
}

pub(super) fn opt_json(s: Option<String>) -> Result<Option<Value>, StateError> {
    s.as_deref().map(json).transpose()
}

/// Switches the file to WAL. The switch needs the file to itself and SQLite answers "database
/// is locked" at once, without waiting, while another process opens or migrates the same fresh
/// file; so it waits here, as long as the busy timeout would.
fn wal_mode(conn: &Connection) -> Result<(), StateError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        // journal_mode answers with a row, so it is read rather than executed.
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

impl SqliteStore {
    /// Forgets where every pipeline stopped and which target record each source record
    /// became (cursors and id map), keeping the runs and the activity log: for a project
    /// whose systems start over (the demo's simulators, kept as a project for `exflow sim`).
    pub fn forget_systems(&self) -> Result<(), StateError> {
        self.conn
            .lock()
            .execute_batch("DELETE FROM cursors; DELETE FROM id_map;")?;
        Ok(())
    }

    /// Opens (creating the folder and file when needed) and migrates the store at `path`.
    pub fn open(path: &Path, redact_payloads: bool) -> Result<SqliteStore, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            super::private::create_dir(dir).map_err(|source| StateError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let private = |source| StateError::Io {
            path: path.display().to_string(),
            source,
        };
        super::private::protect(path).map_err(private)?;
        let conn = Connection::open(path)?;
        let mut store = Self::setup(conn, redact_payloads)?;
        // WAL and SHM exist now; a file from before this rule is narrowed too.
        super::private::protect(path).map_err(private)?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// A store that lives in memory only (tests, `exflow plan` without state).
    pub fn in_memory(redact_payloads: bool) -> Result<SqliteStore, StateError> {
        Self::setup(Connection::open_in_memory()?, redact_payloads)
    }

    fn setup(mut conn: Connection, redact_payloads: bool) -> Result<SqliteStore, StateError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        wal_mode(&conn)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        migrations::migrate(&mut conn)?;
        let secret = conn.query_row(
            "SELECT value FROM meta WHERE name = 'business_key_secret'",
            [],
            |r| r.get(0),
        )?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            redact_payloads,
            path: None,
            secret,
        })
    }

    /// Whether payloads are stored redacted.
    pub fn redacts(&self) -> bool {
        self.redact_payloads
    }

    /// Runs `f` with the connection: for parts of exflow that keep their own tables here
    /// (OAuth tokens).
    pub fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.conn.lock())
    }

    /// A payload as the activity log keeps it: redacted when asked, capped in size.
    fn payload(&self, v: &Option<Value>) -> Option<String> {
        v.as_ref().map(|v| {
            let text = if self.redact_payloads {
                // Field names catch most personal data; an e-mail address under a name that
                // does not say so (a code, a reference) is caught by its shape.
                scrub(&redact(v).to_string()).into_owned()
            } else {
                v.to_string()
            };
            cap_payload(text, ACTIVITY_PAYLOAD_CAP)
        })
    }

    /// A business key as stored: hashed when it is personal and payloads are redacted.
    fn business_key(&self, key: Option<&str>, field: Option<&str>) -> Option<String> {
        let key = key?;
        match field {
            Some(f) if self.redact_payloads && is_personal(f) => {
                Some(hashed_key(&self.secret, key))
            }
            _ => Some(key.to_string()),
        }
    }

    /// A failure reason as stored: without e-mail addresses when payloads are redacted.
    fn reason(&self, text: &str) -> String {
        match self.redact_payloads {
            true => scrub(text).into_owned(),
            false => text.to_string(),
        }
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            redact: self.redact_payloads,
            secret: &self.secret,
        }
    }
}

impl StateStore for SqliteStore {
    fn lock_pipeline(&self, pipeline: &str) -> Result<RunLock, StateError> {
        let Some(db) = &self.path else {
            return Ok(RunLock(None));
        };
        let name: String = pipeline
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = db.with_file_name(format!(
            "{}.{name}.lock",
            db.file_name().and_then(|f| f.to_str()).unwrap_or("state")
        ));
        let io = |source| StateError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        if fs4::fs_std::FileExt::try_lock_exclusive(&file).map_err(io)? {
            Ok(RunLock(Some(file)))
        } else {
            Err(StateError::Busy(pipeline.to_string()))
        }
    }

    fn begin_run(&self, pipeline: &str) -> Result<RunId, StateError> {
        let conn = self.conn.lock();
        conn.execute(
            "INSERT INTO runs (pipeline, started, status) VALUES (?1, ?2, 'running')",
            params![pipeline, now()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn finish_run(&self, run: RunId, status: RunStatus, counts: &Value) -> Result<(), StateError> {
        self.conn.lock().execute(
            "UPDATE runs SET finished = ?2, status = ?3, counts = ?4 WHERE id = ?1",
            params![run, now(), status.as_str(), counts.to_string()],
        )?;
        Ok(())
    }

    fn runs(&self, pipeline: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StateError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(
            "SELECT id, pipeline, started, finished, status, counts FROM runs
             WHERE (?1 IS NULL OR pipeline = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![pipeline, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, pipeline, started, finished, status, counts) = row?;
            out.push(RunRecord {
                id,
                pipeline,
                started: time(&started)?,
                finished: finished.as_deref().map(time).transpose()?,
                status: RunStatus::parse(&status),
                counts: json(&counts)?,
            });
        }
        Ok(out)
    }

    fn usage_per_day(&self, days: u32) -> Result<Vec<DayUsage>, StateError> {
        super::usage::per_day(&self.conn.lock(), days)
    }

    fn log_activity(&self, a: &Activity) -> Result<(), StateError> {
        self.conn.lock().execute(
            "INSERT INTO activity (run_id, pipeline, entity, source_key, source_payload,
                 sent_payload, target_response, outcome, error, at, business_key, key_field,
                 changes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                a.run,
                a.pipeline,
                a.entity,
                a.source_key,
                self.payload(&a.source_payload),
                self.payload(&a.sent_payload),
                self.payload(&a.target_response),
                a.outcome.as_str(),
                a.error.as_deref().map(|e| self.reason(e)),
                a.at.to_rfc3339(),
                self.business_key(a.business_key.as_deref(), a.key_field.as_deref()),
                a.key_field,
                self.payload(&a.changes),
            ],
        )?;
        Ok(())
    }

    fn activity(&self, run: RunId) -> Result<Vec<Activity>, StateError> {
        query::activity_of_run(&self.conn.lock(), run)
    }

    fn purge_activity(&self, older_than_days: u32) -> Result<usize, StateError> {
        let limit = Utc::now() - Duration::days(i64::from(older_than_days));
        // RFC 3339 in UTC with the same offset spelling sorts as text in time order.
        let limit = limit.to_rfc3339();
        let conn = self.conn.lock();
        let n = conn.execute("DELETE FROM activity WHERE at < ?1", params![limit])?;
        // The rest of a record's history goes with its activity: finished runs, and journal
        // entries that were resolved (an open one is a create to recover, kept whatever age).
        conn.execute(
            "DELETE FROM runs WHERE finished IS NOT NULL AND started < ?1",
            params![limit],
        )?;
        conn.execute(
            "DELETE FROM journal WHERE state != 'open' AND resolved < ?1",
            params![limit],
        )?;
        Ok(n)
    }

    fn id_map_get(
        &self,
        system: &str,
        entity: &str,
        source_key: &str,
    ) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .lock()
            .query_row(
                "SELECT target_key FROM id_map WHERE system = ?1 AND entity = ?2 AND source_key = ?3",
                params![system, entity, source_key],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn id_map_source(
        &self,
        system: &str,
        entity: &str,
        target_key: &str,
    ) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .lock()
            .query_row(
                "SELECT source_key FROM id_map WHERE system = ?1 AND entity = ?2 AND target_key = ?3
                 ORDER BY updated DESC LIMIT 1",
                params![system, entity, target_key],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn id_map_put(
        &self,
        system: &str,
        entity: &str,
        source_key: &str,
        target_key: &str,
    ) -> Result<(), StateError> {
        self.conn.lock().execute(
            "INSERT INTO id_map (system, entity, source_key, target_key, updated)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (system, entity, source_key)
             DO UPDATE SET target_key = excluded.target_key, updated = excluded.updated",
            params![system, entity, source_key, target_key, now()],
        )?;
        Ok(())
    }

    fn cursor_get(&self, pipeline: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .lock()
            .query_row(
                "SELECT cursor FROM cursors WHERE pipeline = ?1",
                params![pipeline],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn cursor_put(&self, pipeline: &str, cursor: &str) -> Result<(), StateError> {
        self.conn.lock().execute(
            "INSERT INTO cursors (pipeline, cursor, updated) VALUES (?1, ?2, ?3)
             ON CONFLICT (pipeline) DO UPDATE SET cursor = excluded.cursor, updated = excluded.updated",
            params![pipeline, cursor, now()],
        )?;
        Ok(())
    }

    fn cursor_clear(&self, pipeline: &str) -> Result<(), StateError> {
        self.conn
            .lock()
            .execute("DELETE FROM cursors WHERE pipeline = ?1", params![pipeline])?;
        Ok(())
    }

    fn journal_begin(
        &self,
        pipeline: &str,
        entity: &str,
        match_field: &str,
        match_value: &Value,
        payload: &Value,
    ) -> Result<i64, StateError> {
        let conn = self.conn.lock();
        // The payload is kept only until the entry resolves; it is redacted like the log.
        let payload = if self.redact_payloads {
            redact(payload)
        } else {
            payload.clone()
        };
        conn.execute(
            "INSERT INTO journal (pipeline, entity, match_field, match_value, payload, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                pipeline,
                entity,
                match_field,
                match_value.to_string(),
                payload.to_string(),
                now()
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn journal_commit(&self, id: i64, target_key: &str) -> Result<(), StateError> {
        self.conn.lock().execute(
            "UPDATE journal SET state = 'committed', target_key = ?2, resolved = ?3, payload = '{}'
             WHERE id = ?1",
            params![id, target_key, now()],
        )?;
        Ok(())
    }

    fn journal_abandon(&self, id: i64, reason: &str) -> Result<(), StateError> {
        self.conn.lock().execute(
            "UPDATE journal SET state = 'abandoned', note = ?2, resolved = ?3, payload = '{}'
             WHERE id = ?1",
            params![id, reason, now()],
        )?;
        Ok(())
    }

    fn journal_open(&self, pipeline: &str) -> Result<Vec<JournalEntry>, StateError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(
            "SELECT id, pipeline, entity, match_field, match_value, payload, at FROM journal
             WHERE pipeline = ?1 AND state = 'open' ORDER BY id",
        )?;
        let rows = stmt.query_map(params![pipeline], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, pipeline, entity, match_field, value, payload, at) = row?;
            out.push(JournalEntry {
                id,
                pipeline,
                entity,
                match_field,
                match_value: json(&value)?,
                payload: json(&payload)?,
                at: time(&at)?,
            });
        }
        Ok(out)
    }

    fn retry_put(&self, pipeline: &str, f: &Failure<'_>) -> Result<(), StateError> {
        let at = now();
        self.conn.lock().execute(
            "INSERT INTO retry (pipeline, source_key, payload, reason, at, first_failed,
                 business_key, key_field, last_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)
             ON CONFLICT (pipeline, source_key) DO UPDATE SET payload = excluded.payload,
                 reason = excluded.reason, attempts = attempts + 1, at = excluded.at,
                 business_key = coalesce(excluded.business_key, business_key),
                 key_field = coalesce(excluded.key_field, key_field),
                 last_run = coalesce(excluded.last_run, last_run)",
            params![
                pipeline,
                f.source_key,
                f.payload.to_string(),
                self.reason(f.reason),
                at,
                self.business_key(f.business_key, f.key_field),
                f.key_field,
                f.run,
            ],
        )?;
        Ok(())
    }

    fn retry_clear(&self, pipeline: &str, source_key: &str) -> Result<(), StateError> {
        self.conn.lock().execute(
            "DELETE FROM retry WHERE pipeline = ?1 AND source_key = ?2",
            params![pipeline, source_key],
        )?;
        Ok(())
    }

    fn retry_list(&self, pipeline: &str) -> Result<Vec<RetryEntry>, StateError> {
        query::retry_list(&self.conn.lock(), pipeline)
    }

    fn activity_page(&self, q: &ActivityQuery) -> Result<Vec<ActivityRow>, StateError> {
        self.reader().activity_page(&self.conn.lock(), q)
    }

    fn failed_records(
        &self,
        pipeline: Option<&str>,
        key: Option<&str>,
        with_payload: bool,
    ) -> Result<Vec<FailedRecord>, StateError> {
        self.reader()
            .failed_records(&self.conn.lock(), pipeline, key, with_payload)
    }

    fn retry_skip(
        &self,
        pipeline: &str,
        key: &str,
        note: &str,
    ) -> Result<Option<RetryEntry>, StateError> {
        let mut conn = self.conn.lock();
        let found = self
            .reader()
            .failed_records(&conn, Some(pipeline), Some(key), false)?;
        let Some(FailedRecord { entry, .. }) = found.into_iter().next() else {
            return Ok(None);
        };
        let tx = conn.transaction()?;
        // The line goes with the record's last run and entity, so `--record` and `--run`
        // find the note beside the failures it ends.
        let entity: Option<String> = tx
            .query_row(
                "SELECT entity FROM activity WHERE pipeline = ?1 AND source_key = ?2
                 ORDER BY id DESC LIMIT 1",
                params![pipeline, entry.source_key],
                |r| r.get(0),
            )
            .optional()?;
        let key_field: Option<String> = tx.query_row(
            "SELECT key_field FROM retry WHERE pipeline = ?1 AND source_key = ?2",
            params![pipeline, entry.source_key],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO activity (run_id, pipeline, entity, source_key, business_key, key_field,
                 outcome, error, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'skip', ?7, ?8)",
            params![
                entry.last_run.unwrap_or(0),
                pipeline,
                entity.unwrap_or_default(),
                entry.source_key,
                entry.business_key,
                key_field,
                format!(
                    "skipped by hand after {} failed attempts: {note}",
                    entry.attempts
                ),
                now(),
            ],
        )?;
        tx.execute(
            "DELETE FROM retry WHERE pipeline = ?1 AND source_key = ?2",
            params![pipeline, entry.source_key],
        )?;
        tx.commit()?;
        Ok(Some(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Outcome;
    use serde_json::json;

    fn store() -> SqliteStore {
        SqliteStore::in_memory(false).unwrap()
    }

    fn activity(run: RunId, at: DateTime<Utc>) -> Activity {
        Activity {
            run,
            pipeline: "orders".into(),
            entity: "SalesOrder".into(),
            source_key: Some("o-1".into()),
            business_key: Some("1".into()),
            key_field: Some("YourReference".into()),
            source_payload: Some(json!({"OrderNumber": 1, "Email": "a@b.nl"})),
            sent_payload: Some(json!({"YourReference": "1", "DeliveryName": "Jan"})),
            target_response: Some(json!({"SalesOrderNumber": "100"})),
            changes: None,
            outcome: Outcome::Create,
            error: None,
            at,
        }
    }

    #[test]
    fn runs_begin_and_finish() {
        let s = store();
        let a = s.begin_run("orders").unwrap();
        let b = s.begin_run("customers").unwrap();
        s.finish_run(a, RunStatus::Failed, &json!({"failed": 1}))
            .unwrap();
        let all = s.runs(None, 10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id, b);
        assert_eq!(all[0].status, RunStatus::Running);
        let orders = s.runs(Some("orders"), 10).unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].status, RunStatus::Failed);
        assert_eq!(orders[0].counts["failed"], 1);
        assert!(orders[0].finished.is_some());
    }

    #[test]
    fn activity_is_logged_and_purged_by_age() {
        let s = store();
        let run = s.begin_run("orders").unwrap();
        s.log_activity(&activity(run, Utc::now() - Duration::days(40)))
            .unwrap();
        s.log_activity(&activity(run, Utc::now())).unwrap();
        let got = s.activity(run).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].outcome, Outcome::Create);
        assert_eq!(got[1].sent_payload.as_ref().unwrap()["DeliveryName"], "Jan");
        assert_eq!(s.purge_activity(30).unwrap(), 1);
        assert_eq!(s.activity(run).unwrap().len(), 1);
        assert_eq!(s.purge_activity(30).unwrap(), 0);
    }

    #[test]
    fn old_runs_and_resolved_journal_entries_go_with_the_activity() {
        let s = store();
        let old = s.begin_run("orders").unwrap();
        s.finish_run(old, RunStatus::Succeeded, &json!({})).unwrap();
        let running = s.begin_run("orders").unwrap();
        let committed = s
            .journal_begin(
                "orders",
                "SalesOrderHeader",
                "YourReference",
                &json!("1"),
                &json!({}),
            )
            .unwrap();
        s.journal_commit(committed, "100").unwrap();
        let open = s
            .journal_begin(
                "orders",
                "SalesOrderHeader",
                "YourReference",
                &json!("2"),
                &json!({}),
            )
            .unwrap();
        let past = (Utc::now() - Duration::days(40)).to_rfc3339();
        s.with_connection(|c| {
            c.execute("UPDATE runs SET started = ?1", params![past]).unwrap();
            c.execute("UPDATE journal SET at = ?1, resolved = CASE WHEN resolved IS NULL THEN NULL ELSE ?1 END", params![past])
                .unwrap();
        });
        s.purge_activity(30).unwrap();
        let runs: Vec<_> = s.runs(None, 10).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(runs, [running], "a run still going is kept");
        let left: Vec<_> = s
            .journal_open("orders")
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(left, [open], "an open create is kept to be recovered");
        let all: i64 = s.with_connection(|c| {
            c.query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))
                .unwrap()
        });
        assert_eq!(all, 1);
    }

    #[test]
    fn activity_payloads_are_redacted_when_asked() {
        let s = SqliteStore::in_memory(true).unwrap();
        let run = s.begin_run("orders").unwrap();
        let mut line = activity(run, Utc::now());
        line.changes = Some(json!({
            "DeliveryName": {"old": "Jan", "new": "Piet"},
            "Description": {"old": "a", "new": "b"}
        }));
        s.log_activity(&line).unwrap();
        let got = &s.activity(run).unwrap()[0];
        let changes = got.changes.as_ref().unwrap();
        assert_eq!(changes["DeliveryName"], "[redacted]");
        assert_eq!(changes["Description"]["new"], "b");
        let src = got.source_payload.as_ref().unwrap();
        assert_eq!(src["Email"], "[redacted]");
        assert_eq!(src["OrderNumber"], 1);
        assert_eq!(
            got.sent_payload.as_ref().unwrap()["DeliveryName"],
            "[redacted]"
        );
    }

    #[test]
    fn id_map_both_ways_and_replace() {
        let s = store();
        assert_eq!(s.id_map_get("exact_globe", "Account", "g1").unwrap(), None);
        s.id_map_put("exact_globe", "Account", "g1", "t1").unwrap();
        s.id_map_put("exact_globe", "Account", "g1", "t2").unwrap();
        assert_eq!(
            s.id_map_get("exact_globe", "Account", "g1")
                .unwrap()
                .as_deref(),
            Some("t2")
        );
        assert_eq!(
            s.id_map_source("exact_globe", "Account", "t2")
                .unwrap()
                .as_deref(),
            Some("g1")
        );
        assert_eq!(s.id_map_get("exact_online", "Account", "g1").unwrap(), None);
    }

    #[test]
    fn cursors_per_pipeline() {
        let s = store();
        assert_eq!(s.cursor_get("orders").unwrap(), None);
        s.cursor_put("orders", "10").unwrap();
        s.cursor_put("orders", "20").unwrap();
        s.cursor_put("products", "5").unwrap();
        assert_eq!(s.cursor_get("orders").unwrap().as_deref(), Some("20"));
        s.cursor_clear("orders").unwrap();
        assert_eq!(s.cursor_get("orders").unwrap(), None);
        assert_eq!(s.cursor_get("products").unwrap().as_deref(), Some("5"));
    }

    #[test]
    fn journal_lists_only_unresolved_entries() {
        let s = store();
        let a = s
            .journal_begin(
                "orders",
                "SalesOrder",
                "YourReference",
                &json!("1"),
                &json!({"x": 1}),
            )
            .unwrap();
        let b = s
            .journal_begin(
                "orders",
                "SalesOrder",
                "YourReference",
                &json!("2"),
                &json!({"x": 2}),
            )
            .unwrap();
        let c = s
            .journal_begin(
                "orders",
                "SalesOrder",
                "YourReference",
                &json!("3"),
                &json!({}),
            )
            .unwrap();
        s.journal_begin("products", "Item", "ItemCode", &json!("A"), &json!({}))
            .unwrap();
        s.journal_commit(a, "100").unwrap();
        s.journal_abandon(c, "refused").unwrap();
        let open = s.journal_open("orders").unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].id, b);
        assert_eq!(open[0].match_value, json!("2"));
        assert_eq!(open[0].payload, json!({"x": 2}));
    }

    #[test]
    fn retries_are_kept_counted_and_cleared() {
        let s = store();
        let payload = json!({"OrderNumber": 1});
        let failure = |key, reason| Failure {
            source_key: key,
            business_key: Some("1"),
            key_field: Some("YourReference"),
            run: Some(7),
            payload: &payload,
            reason,
        };
        s.retry_put("orders", &failure("o1", "item A missing"))
            .unwrap();
        s.retry_put("orders", &failure("o1", "item B missing"))
            .unwrap();
        s.retry_put("products", &failure("p1", "x")).unwrap();
        let list = s.retry_list("orders").unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].attempts, 2);
        assert_eq!(list[0].reason, "item B missing");
        assert_eq!(list[0].payload["OrderNumber"], 1);
        assert_eq!(list[0].business_key.as_deref(), Some("1"));
        assert_eq!(list[0].last_run, Some(7));
        assert!(list[0].first_failed <= list[0].last_failed);
        s.retry_clear("orders", "o1").unwrap();
        assert!(s.retry_list("orders").unwrap().is_empty());
        assert_eq!(s.retry_list("products").unwrap().len(), 1);
    }

    #[test]
    fn one_run_per_pipeline_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let a = SqliteStore::open(&path, false).unwrap();
        let b = SqliteStore::open(&path, false).unwrap();
        let held = a.lock_pipeline("orders").unwrap();
        assert!(matches!(
            b.lock_pipeline("orders"),
            Err(StateError::Busy(_))
        ));
        let other = b.lock_pipeline("products").unwrap();
        drop(held);
        let again = b.lock_pipeline("orders").unwrap();
        drop((other, again));
    }

    #[test]
    fn file_store_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".exflow/state.db");
        {
            let s = SqliteStore::open(&path, false).unwrap();
            s.cursor_put("orders", "42").unwrap();
            s.journal_begin(
                "orders",
                "SalesOrder",
                "YourReference",
                &json!("9"),
                &json!({}),
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path, false).unwrap();
        assert_eq!(s.cursor_get("orders").unwrap().as_deref(), Some("42"));
        assert_eq!(s.journal_open("orders").unwrap().len(), 1);
    }
}
