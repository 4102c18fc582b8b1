//! The read side of the activity log and the retry list, as `exflow activity`, `runs` and
//! `failed` ask for it: filtered in SQL on indexed columns and paged by id (keyset, never
//! OFFSET), so a page of a log of 100,000 records costs what a page of ten does.

use super::redact::{hashed_key, scrub};
use super::sqlite::{json, opt_json, time};
use super::{is_personal, redact, Activity, Outcome, RetryEntry, RunId, StateError};
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, Row};
use serde::Serialize;
use serde_json::Value;

/// What `exflow activity` asks for: every filter is optional; pages go backwards in time.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    /// Only this pipeline.
    pub pipeline: Option<String>,
    /// Only this run.
    pub run: Option<RunId>,
    /// Only lines about this record: its business key (order number, item code, e-mail)
    /// or its source key.
    pub record: Option<String>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only lines older than this line id (the `next_before` of the previous page).
    pub before: Option<i64>,
    /// At most this many lines (0 means 50).
    pub limit: usize,
    /// Read the source payload, what was sent and the answer too (else they are `None`).
    pub payloads: bool,
}

/// One line of the activity log as read back, with its id (for paging).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityRow {
    /// The line's id: newer lines have larger ids.
    pub id: i64,
    /// The line.
    #[serde(flatten)]
    pub activity: Activity,
}

/// A record on the retry list, with its pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedRecord {
    /// The pipeline it failed in.
    pub pipeline: String,
    /// The entry.
    #[serde(flatten)]
    pub entry: RetryEntry,
}

/// How the store reads: whether it redacts, and the secret that keys hashed business keys.
pub(super) struct Reader<'a> {
    pub redact: bool,
    pub secret: &'a [u8],
}

impl Reader<'_> {
    /// The forms a business key given by a user may be stored in: as typed, and hashed.
    fn key_forms(&self, key: &str) -> [String; 2] {
        [key.trim().to_string(), hashed_key(self.secret, key)]
    }

    /// A payload as shown: redacted when the store redacts, even if it was logged before
    /// `redact_payloads` was switched on.
    fn shown(&self, v: Option<Value>) -> Option<Value> {
        let v = v?;
        if !self.redact {
            return Some(v);
        }
        // As stored (see `SqliteStore::payload`): by field name, then e-mail addresses by
        // their shape; the retry list keeps its records unredacted, so this is its only pass.
        let redacted = redact(&v);
        let text = redacted.to_string();
        if !text.contains('@') {
            return Some(redacted);
        }
        Some(serde_json::from_str(&scrub(&text)).unwrap_or_else(|_| Value::from(super::REDACTED)))
    }

    /// A business key as shown: a personal one logged in clear before `redact_payloads`
    /// was switched on is shown hashed, as it would be stored now.
    fn shown_key(&self, key: Option<String>, field: Option<&str>) -> Option<String> {
        match (key, field) {
            (Some(k), Some(f))
                if self.redact && is_personal(f) && !k.starts_with(super::HASHED_PREFIX) =>
            {
                Some(hashed_key(self.secret, &k))
            }
            (k, _) => k,
        }
    }

    /// A reason as shown: without e-mail addresses when the store redacts.
    fn shown_reason(&self, text: String) -> String {
        match self.redact {
            true => scrub(&text).into_owned(),
            false => text,
        }
    }

    /// One page of activity.
    pub fn activity_page(
        &self,
        conn: &Connection,
        q: &ActivityQuery,
    ) -> Result<Vec<ActivityRow>, StateError> {
        let payloads = if q.payloads {
            "source_payload, sent_payload, target_response, changes"
        } else {
            "NULL, NULL, NULL, NULL"
        };
        let mut sql = format!(
            "SELECT id, run_id, pipeline, entity, source_key, business_key, key_field, {payloads},
                    outcome, error, at FROM activity WHERE 1 = 1"
        );
        let mut args: Vec<Sql> = Vec::new();
        // Only the filters given go into the SQL: `?1 IS NULL OR ...` would keep SQLite
        // from using the indexes.
        if let Some(p) = &q.pipeline {
            sql.push_str(" AND pipeline = ?");
            args.push(Sql::Text(p.clone()));
        }
        if let Some(run) = q.run {
            sql.push_str(" AND run_id = ?");
            args.push(Sql::Integer(run));
        }
        if let Some(o) = q.outcome {
            sql.push_str(" AND outcome = ?");
            args.push(Sql::Text(o.as_str().to_string()));
        }
        if let Some(key) = &q.record {
            let [clear, hashed] = self.key_forms(key);
            sql.push_str(
                " AND (business_key = ? COLLATE NOCASE OR business_key = ? COLLATE NOCASE
                       OR source_key = ?)",
            );
            args.extend([
                Sql::Text(clear.clone()),
                Sql::Text(hashed),
                Sql::Text(clear),
            ]);
        }
        if let Some(before) = q.before {
            sql.push_str(" AND id < ?");
            args.push(Sql::Integer(before));
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        let limit = if q.limit == 0 { 50 } else { q.limit };
        args.push(Sql::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok((r.get(0)?, raw_activity(r, 1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, raw) = row?;
            let mut activity = raw.parse()?;
            activity.source_payload = self.shown(activity.source_payload);
            activity.sent_payload = self.shown(activity.sent_payload);
            activity.target_response = self.shown(activity.target_response);
            activity.changes = self.shown(activity.changes);
            activity.business_key =
                self.shown_key(activity.business_key, activity.key_field.as_deref());
            activity.error = activity.error.map(|e| self.shown_reason(e));
            out.push(ActivityRow { id, activity });
        }
        Ok(out)
    }

    /// The retry list, as `exflow failed` shows it.
    pub fn failed_records(
        &self,
        conn: &Connection,
        pipeline: Option<&str>,
        key: Option<&str>,
        with_payload: bool,
    ) -> Result<Vec<FailedRecord>, StateError> {
        let payload = if with_payload { "payload" } else { "NULL" };
        let mut sql = format!(
            "SELECT pipeline, source_key, {payload}, reason, attempts, business_key,
                    first_failed, at, last_run, key_field FROM retry WHERE 1 = 1"
        );
        let mut args: Vec<Sql> = Vec::new();
        if let Some(p) = pipeline {
            sql.push_str(" AND pipeline = ?");
            args.push(Sql::Text(p.to_string()));
        }
        if let Some(key) = key {
            let [clear, hashed] = self.key_forms(key);
            sql.push_str(
                " AND (source_key = ? OR business_key = ? COLLATE NOCASE
                       OR business_key = ? COLLATE NOCASE)",
            );
            args.extend([
                Sql::Text(clear.clone()),
                Sql::Text(clear),
                Sql::Text(hashed),
            ]);
        }
        sql.push_str(" ORDER BY first_failed, pipeline, source_key");
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok((r.get::<_, String>(0)?, raw_retry(r, 1)?, r.get(9)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (pipeline, raw, field): (String, RawRetry, Option<String>) = row?;
            let mut entry = raw.parse()?;
            entry.payload = self.shown(Some(entry.payload)).unwrap_or(Value::Null);
            entry.business_key = self.shown_key(entry.business_key, field.as_deref());
            entry.reason = self.shown_reason(entry.reason);
            out.push(FailedRecord { pipeline, entry });
        }
        Ok(out)
    }
}

/// The activity of one run, in order (unredacted beyond what was stored).
pub(super) fn activity_of_run(conn: &Connection, run: RunId) -> Result<Vec<Activity>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT run_id, pipeline, entity, source_key, business_key, key_field, source_payload,
                sent_payload, target_response, changes, outcome, error, at
         FROM activity WHERE run_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([run], |r| raw_activity(r, 0))?;
    rows.map(|r| r?.parse()).collect()
}

/// The retry list of one pipeline, oldest failure first, payloads as stored.
pub(super) fn retry_list(conn: &Connection, pipeline: &str) -> Result<Vec<RetryEntry>, StateError> {
    let mut stmt = conn.prepare(
        "SELECT source_key, payload, reason, attempts, business_key, first_failed, at, last_run
         FROM retry WHERE pipeline = ?1 ORDER BY first_failed, source_key",
    )?;
    let rows = stmt.query_map([pipeline], |r| raw_retry(r, 0))?;
    rows.map(|r| r?.parse()).collect()
}

/// An activity line's columns before their text is parsed.
struct RawActivity {
    run: RunId,
    pipeline: String,
    entity: String,
    source_key: Option<String>,
    business_key: Option<String>,
    key_field: Option<String>,
    payloads: [Option<String>; 4],
    outcome: String,
    error: Option<String>,
    at: String,
}

/// Reads the thirteen activity columns starting at `at`, in the order of [`activity_of_run`].
fn raw_activity(r: &Row<'_>, at: usize) -> rusqlite::Result<RawActivity> {
    Ok(RawActivity {
        run: r.get(at)?,
        pipeline: r.get(at + 1)?,
        entity: r.get(at + 2)?,
        source_key: r.get(at + 3)?,
        business_key: r.get(at + 4)?,
        key_field: r.get(at + 5)?,
        payloads: [
            r.get(at + 6)?,
            r.get(at + 7)?,
            r.get(at + 8)?,
            r.get(at + 9)?,
        ],
        outcome: r.get(at + 10)?,
        error: r.get(at + 11)?,
        at: r.get(at + 12)?,
    })
}

impl RawActivity {
    fn parse(self) -> Result<Activity, StateError> {
        let [src, sent, resp, changes] = self.payloads;
        Ok(Activity {
            run: self.run,
            pipeline: self.pipeline,
            entity: self.entity,
            source_key: self.source_key,
            business_key: self.business_key,
            key_field: self.key_field,
            source_payload: opt_json(src)?,
            sent_payload: opt_json(sent)?,
            target_response: opt_json(resp)?,
            changes: opt_json(changes)?,
            outcome: Outcome::parse(&self.outcome),
            error: self.error,
            at: time(&self.at)?,
        })
    }
}

/// A retry row's columns before their text is parsed.
struct RawRetry {
    source_key: String,
    payload: Option<String>,
    reason: String,
    attempts: u32,
    business_key: Option<String>,
    first_failed: Option<String>,
    last_failed: String,
    last_run: Option<RunId>,
}

/// Reads the eight retry columns starting at `at`, in the order of [`retry_list`].
fn raw_retry(r: &Row<'_>, at: usize) -> rusqlite::Result<RawRetry> {
    Ok(RawRetry {
        source_key: r.get(at)?,
        payload: r.get(at + 1)?,
        reason: r.get(at + 2)?,
        attempts: r.get(at + 3)?,
        business_key: r.get(at + 4)?,
        first_failed: r.get(at + 5)?,
        last_failed: r.get(at + 6)?,
        last_run: r.get(at + 7)?,
    })
}

impl RawRetry {
    fn parse(self) -> Result<RetryEntry, StateError> {
        let last_failed = time(&self.last_failed)?;
        Ok(RetryEntry {
            source_key: self.source_key,
            payload: self
                .payload
                .as_deref()
                .map(json)
                .transpose()?
                .unwrap_or(Value::Null),
            reason: self.reason,
            attempts: self.attempts,
            business_key: self.business_key,
            first_failed: self
                .first_failed
                .as_deref()
                .map(time)
                .transpose()?
                .unwrap_or(last_failed),
            last_failed,
            last_run: self.last_run,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Failure, SqliteStore, StateStore};
    use chrono::Utc;
    use serde_json::json;

    fn line(run: RunId, pipeline: &str, key: &str, field: &str, outcome: Outcome) -> Activity {
        Activity {
            run,
            pipeline: pipeline.into(),
            entity: "Entity".into(),
            source_key: Some(format!("guid-{key}")),
            business_key: Some(key.into()),
            key_field: Some(field.into()),
            source_payload: Some(json!({"Email": "jan@example.nl", "Code": key})),
            sent_payload: Some(json!({"Code": key})),
            target_response: None,
            changes: None,
            outcome,
            error: (outcome == Outcome::Fail).then(|| format!("{key} refused for jan@example.nl")),
            at: Utc::now(),
        }
    }

    fn page(s: &SqliteStore, q: ActivityQuery) -> Vec<ActivityRow> {
        s.activity_page(&q).unwrap()
    }

    #[test]
    fn pages_go_back_in_time_and_filters_combine() {
        let s = SqliteStore::in_memory(false).unwrap();
        let run = s.begin_run("products").unwrap();
        for i in 0..25 {
            let o = if i % 5 == 0 {
                Outcome::Fail
            } else {
                Outcome::Create
            };
            s.log_activity(&line(run, "products", &format!("A-{i}"), "ItemCode", o))
                .unwrap();
        }
        s.log_activity(&line(run, "orders", "1001", "YourReference", Outcome::Skip))
            .unwrap();
        let first = page(
            &s,
            ActivityQuery {
                pipeline: Some("products".into()),
                limit: 10,
                ..Default::default()
            },
        );
        assert_eq!(first.len(), 10);
        assert_eq!(first[0].activity.business_key.as_deref(), Some("A-24"));
        assert!(
            first[0].activity.source_payload.is_none(),
            "payloads only when asked"
        );
        let second = page(
            &s,
            ActivityQuery {
                pipeline: Some("products".into()),
                limit: 10,
                before: Some(first[9].id),
                ..Default::default()
            },
        );
        assert_eq!(second[0].activity.business_key.as_deref(), Some("A-14"));
        let failed = page(
            &s,
            ActivityQuery {
                outcome: Some(Outcome::Fail),
                run: Some(run),
                ..Default::default()
            },
        );
        assert_eq!(failed.len(), 5);
        assert!(failed.iter().all(|r| r.activity.outcome == Outcome::Fail));
        // By business key, case-insensitively, or by source key; payloads with `show`.
        for key in ["a-7", "guid-A-7"] {
            let found = page(
                &s,
                ActivityQuery {
                    record: Some(key.into()),
                    payloads: true,
                    ..Default::default()
                },
            );
            assert_eq!(found.len(), 1, "{key}");
            assert_eq!(found[0].activity.sent_payload, Some(json!({"Code": "A-7"})));
        }
    }

    #[test]
    fn personal_business_keys_are_stored_hashed_and_found_by_hashing() {
        let s = SqliteStore::in_memory(true).unwrap();
        let run = s.begin_run("customers").unwrap();
        s.log_activity(&line(
            run,
            "customers",
            "Jan@Example.nl",
            "EmailAddress",
            Outcome::Fail,
        ))
        .unwrap();
        let stored: String = s.with_connection(|c| {
            c.query_row(
                "SELECT business_key || error || source_payload FROM activity",
                [],
                |r| r.get(0),
            )
            .unwrap()
        });
        assert!(!stored.to_lowercase().contains("jan@"), "{stored}");
        let found = page(
            &s,
            ActivityQuery {
                record: Some("jan@example.nl ".into()),
                payloads: true,
                ..Default::default()
            },
        );
        assert_eq!(found.len(), 1);
        let a = &found[0].activity;
        assert!(a
            .business_key
            .as_deref()
            .unwrap()
            .starts_with(crate::state::HASHED_PREFIX));
        assert_eq!(
            a.source_payload.as_ref().unwrap()["Email"],
            crate::state::REDACTED
        );
        assert!(!a.error.as_deref().unwrap().contains('@'), "{:?}", a.error);
        // An order number is no personal data: kept in clear.
        s.log_activity(&line(
            run,
            "orders",
            "1001",
            "YourReference",
            Outcome::Create,
        ))
        .unwrap();
        let found = page(
            &s,
            ActivityQuery {
                record: Some("1001".into()),
                ..Default::default()
            },
        );
        assert_eq!(found[0].activity.business_key.as_deref(), Some("1001"));
    }

    #[test]
    fn a_skipped_record_leaves_the_list_and_its_note_in_the_log() {
        let s = SqliteStore::in_memory(false).unwrap();
        let run = s.begin_run("orders").unwrap();
        s.log_activity(&line(run, "orders", "1001", "YourReference", Outcome::Fail))
            .unwrap();
        let failure = Failure {
            source_key: "guid-1001",
            business_key: Some("1001"),
            key_field: Some("YourReference"),
            run: Some(run),
            payload: &json!({"OrderNumber": 1001}),
            reason: "item X missing",
        };
        s.retry_put("orders", &failure).unwrap();
        let listed = s.failed_records(None, Some("1001"), true).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].entry.payload["OrderNumber"], 1001);
        // Shown redacted when the store redacts, though kept whole for the retry.
        let secret = s.with_connection(|c| {
            c.query_row("SELECT value FROM meta", [], |r| r.get::<_, Vec<u8>>(0))
                .unwrap()
        });
        let reader = Reader {
            redact: true,
            secret: &secret,
        };
        let raw = json!({"OrderNumber": 1001, "Email": "jan@x.nl", "Ref": "see jan@x.nl"});
        let shown = reader.shown(Some(raw)).unwrap();
        assert_eq!(
            shown,
            json!({"OrderNumber": 1001, "Email": "[redacted]", "Ref": "see [redacted]"})
        );
        assert!(s.retry_skip("orders", "nope", "x").unwrap().is_none());
        let skipped = s
            .retry_skip("orders", "1001", "cancelled by the customer")
            .unwrap();
        assert_eq!(skipped.unwrap().source_key, "guid-1001");
        assert!(s.retry_list("orders").unwrap().is_empty());
        let log = page(
            &s,
            ActivityQuery {
                record: Some("1001".into()),
                ..Default::default()
            },
        );
        assert_eq!(log.len(), 2);
        let note = &log[0].activity;
        assert_eq!((note.outcome, note.run), (Outcome::Skip, run));
        assert!(
            note.error
                .as_deref()
                .unwrap()
                .contains("cancelled by the customer"),
            "{note:?}"
        );
        assert_eq!(note.entity, "Entity");
    }

    #[test]
    fn large_payloads_are_capped_in_the_log_but_kept_whole_for_the_retry() {
        let s = SqliteStore::in_memory(false).unwrap();
        let run = s.begin_run("products").unwrap();
        let big = json!({"Code": "A", "Notes": "x".repeat(crate::state::ACTIVITY_PAYLOAD_CAP * 3)});
        let mut a = line(run, "products", "A", "ItemCode", Outcome::Fail);
        a.source_payload = Some(big.clone());
        s.log_activity(&a).unwrap();
        let logged = &page(
            &s,
            ActivityQuery {
                payloads: true,
                ..Default::default()
            },
        )[0]
        .activity;
        assert!(crate::state::is_capped(
            logged.source_payload.as_ref().unwrap()
        ));
        assert_eq!(logged.sent_payload, Some(json!({"Code": "A"})));
        let failure = Failure {
            source_key: "guid-A",
            business_key: Some("A"),
            key_field: Some("ItemCode"),
            run: Some(run),
            payload: &big,
            reason: "too long",
        };
        s.retry_put("products", &failure).unwrap();
        assert_eq!(s.retry_list("products").unwrap()[0].payload, big);
    }
}
