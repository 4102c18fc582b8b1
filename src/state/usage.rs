//! What the runs cost per day: records handled and API calls per system, summed in SQL so
//! the overview's budget chart reads a few rows, not every run of the last weeks.

use super::StateError;
use chrono::{Duration, NaiveDate, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

/// One day's totals over every pipeline's runs that started that day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayUsage {
    /// The day.
    pub day: NaiveDate,
    /// Runs started.
    pub runs: u64,
    /// Records created, updated, skipped or failed.
    pub records: u64,
    /// Calls to Exact Online.
    pub exact_online_calls: u64,
    /// Calls to Exact Globe.
    pub exact_globe_calls: u64,
}

/// The last `days` days up to today, oldest first; a day without runs is there with zeros,
/// so a chart's bars stay one per day.
pub(super) fn per_day(conn: &Connection, days: u32) -> Result<Vec<DayUsage>, StateError> {
    let days = days.max(1);
    let today = Utc::now().date_naive();
    let first = today - Duration::days(i64::from(days) - 1);
    // `started` is RFC 3339 in UTC: its first ten characters are the day, and text order is
    // time order, so the range check can use plain comparison.
    let mut stmt = conn.prepare(
        "SELECT substr(started, 1, 10) AS day, COUNT(*),
                SUM(COALESCE(json_extract(counts, '$.created'), 0)
                  + COALESCE(json_extract(counts, '$.updated'), 0)
                  + COALESCE(json_extract(counts, '$.skipped'), 0)
                  + COALESCE(json_extract(counts, '$.failed'), 0)),
                SUM(COALESCE(json_extract(counts, '$.api_calls.exact_online'), 0)),
                SUM(COALESCE(json_extract(counts, '$.api_calls.exact_globe'), 0))
         FROM runs WHERE started >= ?1 GROUP BY day ORDER BY day",
    )?;
    let rows = stmt.query_map(params![first.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut found = std::collections::HashMap::new();
    for row in rows {
        let (day, runs, records, online, globe) = row?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        found.insert(day, (n(runs), n(records), n(online), n(globe)));
    }
    Ok(first
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|day| {
            let (runs, records, online, globe) =
                found.get(&day.to_string()).copied().unwrap_or_default();
            DayUsage {
                day,
                runs,
                records,
                exact_online_calls: online,
                exact_globe_calls: globe,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::state::{RunStatus, SqliteStore, StateStore};
    use chrono::{Duration, Utc};
    use serde_json::json;

    #[test]
    fn days_sum_every_pipeline_and_keep_empty_days() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("state.db"), false).unwrap();
        for (p, online, globe) in [("orders", 7, 3), ("customers", 2, 1)] {
            let r = s.begin_run(p).unwrap();
            let counts = json!({"created": 4, "updated": 1, "skipped": 2, "failed": 1,
                "api_calls": {"exact_online": online, "exact_globe": globe}});
            s.finish_run(r, RunStatus::Failed, &counts).unwrap();
        }
        // A run from three weeks ago falls outside a fortnight.
        let old = s.begin_run("orders").unwrap();
        s.finish_run(
            old,
            RunStatus::Succeeded,
            &json!({"api_calls": {"exact_online": 99}}),
        )
        .unwrap();
        let weeks_ago = (Utc::now() - Duration::days(21)).to_rfc3339();
        s.with_connection(|c| {
            c.execute(
                "UPDATE runs SET started = ?1 WHERE id = ?2",
                rusqlite::params![weeks_ago, old],
            )
        })
        .unwrap();

        let days = s.usage_per_day(14).unwrap();
        assert_eq!(days.len(), 14);
        assert_eq!(days[13].day, Utc::now().date_naive());
        assert_eq!((days[13].runs, days[13].records), (2, 16));
        assert_eq!(
            (days[13].exact_online_calls, days[13].exact_globe_calls),
            (9, 4)
        );
        assert!(days[..13]
            .iter()
            .all(|d| d.runs == 0 && d.exact_online_calls == 0));
    }
}
