//! When each pipeline is due. A pause (the machine asleep, the service stopped) never turns
//! into a string of runs: whatever was missed is one run, then the schedule goes on from
//! now. At start a pipeline whose last run began before its last scheduled moment is due
//! at once (it missed that moment while nothing ran).

use crate::pipeline::schedule::Schedule;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The schedule of every pipeline that has one, with its next moment.
#[derive(Debug, Default)]
pub struct Book {
    entries: BTreeMap<String, (Schedule, DateTime<Utc>)>,
}

impl Book {
    /// Adds `name` with `schedule`; `last_run` is when its last run began (from the state
    /// store). Due now when that is before the last moment the schedule named.
    pub fn add(
        &mut self,
        name: &str,
        schedule: Schedule,
        last_run: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) {
        let missed = match (schedule.last_at_or_before(now), last_run) {
            (Some(moment), Some(last)) => last < moment,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let next = if missed {
            now
        } else {
            schedule.next_after(now).unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        self.entries.insert(name.to_string(), (schedule, next));
    }

    /// Keeps the next moment of entries whose expression did not change (a reload).
    pub fn carry_over(&mut self, old: &Book) {
        for (name, (schedule, next)) in self.entries.iter_mut() {
            if let Some((s, n)) = old.entries.get(name) {
                if s.as_str() == schedule.as_str() {
                    *next = *n;
                }
            }
        }
    }

    /// The names due at `now`; each moves to its first moment after `now` (so missed
    /// moments are run once, not one by one).
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut out = Vec::new();
        for (name, (schedule, next)) in self.entries.iter_mut() {
            if *next <= now {
                out.push(name.clone());
                *next = schedule.next_after(now).unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
        }
        out
    }

    /// The next moment of `name`'s schedule.
    pub fn next_of(&self, name: &str) -> Option<DateTime<Utc>> {
        self.entries.get(name).map(|(_, next)| *next)
    }

    /// The earliest next moment.
    pub fn earliest(&self) -> Option<DateTime<Utc>> {
        self.entries.values().map(|(_, n)| *n).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
    }

    #[test]
    fn a_long_pause_is_caught_up_once() {
        let mut b = Book::default();
        let s = Schedule::parse("*/15 * * * *").unwrap();
        b.add("orders", s, Some(at(10, 0)), at(10, 1));
        assert!(b.due(at(10, 5)).is_empty());
        // Asleep from 10:05 to 13:02: eleven moments missed, one run.
        assert_eq!(b.due(at(13, 2)), vec!["orders"]);
        assert!(b.due(at(13, 3)).is_empty());
        assert_eq!(b.earliest(), Some(at(13, 15)));
    }

    #[test]
    fn at_start_a_missed_moment_runs_at_once_and_a_recent_run_waits() {
        let s = Schedule::parse("0 * * * *").unwrap();
        let mut b = Book::default();
        b.add("missed", s.clone(), Some(at(9, 30)), at(10, 10));
        b.add("recent", s.clone(), Some(at(10, 5)), at(10, 10));
        b.add("never", s, None, at(10, 10));
        assert_eq!(b.due(at(10, 10)), vec!["missed", "never"]);
        assert_eq!(b.earliest(), Some(at(11, 0)));
    }

    #[test]
    fn a_reload_keeps_unchanged_moments() {
        let s = Schedule::parse("*/5 * * * *").unwrap();
        let mut old = Book::default();
        old.add("p", s.clone(), Some(at(10, 0)), at(10, 1));
        let mut new = Book::default();
        new.add("p", s, None, at(10, 2));
        new.carry_over(&old);
        assert_eq!(new.earliest(), Some(at(10, 5)));
        assert!(new.due(at(10, 2) + Duration::seconds(1)).is_empty());
    }
}
