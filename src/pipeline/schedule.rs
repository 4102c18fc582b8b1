//! `schedule:` of a pipeline: a cron expression (5 fields, or 6 with seconds first), parsed
//! with `croner`. Times are UTC, so a schedule means the same on every server.

use chrono::{DateTime, Utc};
use std::str::FromStr;

/// A parsed `schedule:`.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
    text: String,
}

impl Schedule {
    /// Parses a cron expression; the error says what is wrong in the user's words.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let fields = text.split_whitespace().count();
        let is_alias = text.trim_start().starts_with('@');
        if !is_alias && !(5..=6).contains(&fields) {
            return Err(format!(
                "`{text}` has {fields} field(s); a schedule has 5 (minute hour day month weekday) or 6 (second first)"
            ));
        }
        croner::Cron::from_str(text)
            .map(|cron| Schedule {
                cron,
                text: text.to_string(),
            })
            .map_err(|e| format!("`{text}` is not a cron expression: {e}"))
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first moment strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }

    /// The last moment at or before `t`.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_previous_occurrence(&t, true).ok()
    }

    /// The next `n` moments after `t` (for `plan` and `validate --verbose`).
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }
}

/// "schedule `*/15 * * * *`: next runs 10:15, 10:30, 10:45 UTC", for `plan` and
/// `validate --verbose`; `None` when the text does not parse.
pub fn describe(text: &str, now: DateTime<Utc>) -> Option<String> {
    let s = Schedule::parse(text).ok()?;
    let next: Vec<String> = s
        .upcoming(now, 3)
        .iter()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .collect();
    Some(format!(
        "schedule `{text}`: next runs {} (UTC)",
        next.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn five_and_six_fields_parse_and_prose_does_not() {
        assert!(Schedule::parse("*/15 * * * *").is_ok());
        assert!(Schedule::parse("*/2 * * * * *").is_ok());
        assert!(Schedule::parse("0 3 * * MON-FRI").is_ok());
        let e = Schedule::parse("this is not cron").unwrap_err();
        assert!(e.contains("4 field(s)"), "{e}");
        assert!(Schedule::parse("61 * * * *").is_err());
    }

    #[test]
    fn upcoming_times_follow_the_expression() {
        let s = Schedule::parse("*/15 * * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 10, 7, 0).unwrap();
        let next: Vec<String> = s.upcoming(t, 3).iter().map(|d| d.to_rfc3339()).collect();
        assert_eq!(
            next,
            [
                "2026-01-01T10:15:00+00:00",
                "2026-01-01T10:30:00+00:00",
                "2026-01-01T10:45:00+00:00"
            ]
        );
        assert_eq!(
            s.last_at_or_before(t).unwrap().to_rfc3339(),
            "2026-01-01T10:00:00+00:00"
        );
    }
}
