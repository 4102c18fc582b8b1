//! Date functions. Dates are ISO-8601 text: `2024-03-01` or `2024-03-01T12:30:00` (UTC).
//! `date()` also reads OData's `/Date(ms)/` and any chrono format.

use super::{arg, builtin, int, text as t, Builtin, Kind};
use crate::lang::value::describe;
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;
use std::borrow::Cow;

type Args<'a, 'b> = &'a [Cow<'b, Value>];
type Res = Result<Value, String>;

pub(super) static DATE: &[Builtin] = &[
    builtin!("now", "now() -> date", "The current UTC date and time.", "len(now()) >= 19", 0..=0, [], Date, Kind::Plain(now)),
    builtin!("today", "today() -> date", "The current UTC date.", "len(today()) == 10", 0..=0, [], Date, Kind::Plain(today)),
    builtin!("date", "date(text, format?) -> date", "Reads a date: ISO-8601, OData `/Date(ms)/`, or the given chrono format; gives ISO text.", "date('/Date(1709251200000)/') == '2024-03-01T00:00:00' and date('01-03-2024', '%d-%m-%Y') == '2024-03-01'", 1..=2, [Text, Text], Date, Kind::Plain(date)),
    builtin!("format_date", "format_date(date, format) -> text", "Formats a date with a chrono format string (`%d-%m-%Y`).", "format_date('2024-03-01', '%d/%m/%Y') == '01/03/2024'", 2..=2, [Text, Text], Text, Kind::Plain(format_date)),
    builtin!("add_days", "add_days(date, days) -> date", "Adds (or with a negative number subtracts) whole days.", "add_days('2024-02-28', 2) == '2024-03-01'", 2..=2, [Text, Num], Date, Kind::Plain(add_days)),
];

/// A parsed date, remembering whether it had a time of day.
enum D {
    Day(NaiveDate),
    Moment(NaiveDateTime),
}

impl D {
    fn iso(&self) -> String {
        match self {
            D::Day(d) => d.format("%Y-%m-%d").to_string(),
            D::Moment(m) if m.and_utc().timestamp_subsec_millis() != 0 => {
                m.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
            }
            D::Moment(m) => m.format("%Y-%m-%dT%H:%M:%S").to_string(),
        }
    }
    fn moment(&self) -> NaiveDateTime {
        match self {
            D::Day(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
            D::Moment(m) => *m,
        }
    }
}

fn checked_format(f: &str, fmt: &str) -> Result<Vec<Item<'static>>, String> {
    StrftimeItems::new(fmt)
        .parse_to_owned()
        .map_err(|_| format!("{f}(): invalid date format '{fmt}'"))
}

fn parse(f: &str, s: &str, fmt: Option<&str>) -> Result<D, String> {
    let s = s.trim();
    let fail = || format!("{f}() cannot read '{s}' as a date");
    if let Some(fmt) = fmt {
        checked_format(f, fmt)?;
        if let Ok(m) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(D::Moment(m));
        }
        return NaiveDate::parse_from_str(s, fmt).map(D::Day).map_err(|_| {
            format!("{f}() cannot read '{s}' with the format '{fmt}'")
        });
    }
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits_end = inner
            .char_indices()
            .find(|&(i, c)| i > 0 && (c == '+' || c == '-'))
            .map(|(i, _)| i)
            .unwrap_or(inner.len());
        let ms: i64 = inner[..digits_end].parse().map_err(|_| fail())?;
        return DateTime::<Utc>::from_timestamp_millis(ms)
            .map(|d| D::Moment(d.naive_utc()))
            .ok_or_else(fail);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(D::Moment(d.with_timezone(&Utc).naive_utc()));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(m) = NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), fmt) {
            return Ok(D::Moment(m));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map(D::Day).map_err(|_| fail())
}

fn date_arg(f: &str, a: Args) -> Result<Option<D>, String> {
    match arg(a, 0) {
        Value::Null => Ok(None),
        Value::String(s) => parse(f, s, None).map(Some),
        other => Err(format!("{f}() expects a date (ISO text), got {}", describe(other))),
    }
}

fn now(_: Args) -> Res {
    Ok(Value::String(D::Moment(Utc::now().naive_utc()).iso()))
}
fn today(_: Args) -> Res {
    Ok(Value::String(D::Day(Utc::now().date_naive()).iso()))
}
fn date(a: Args) -> Res {
    let Some(s) = t("date", a, 0)? else { return Ok(Value::Null) };
    Ok(Value::String(parse("date", s, t("date", a, 1)?)?.iso()))
}
fn format_date(a: Args) -> Res {
    let Some(d) = date_arg("format_date", a)? else { return Ok(Value::Null) };
    let fmt = t("format_date", a, 1)?.unwrap_or("%Y-%m-%d");
    let items = checked_format("format_date", fmt)?;
    let m = d.moment();
    let mut out = String::new();
    use std::fmt::Write;
    write!(out, "{}", m.format_with_items(items.iter()))
        .map_err(|_| format!("format_date(): the format '{fmt}' does not fit this date"))?;
    Ok(Value::String(out))
}
fn add_days(a: Args) -> Res {
    let Some(d) = date_arg("add_days", a)? else { return Ok(Value::Null) };
    let days = int("add_days", a, 1)?.unwrap_or(0);
    let delta = Duration::try_days(days).ok_or("add_days(): too many days")?;
    let out = match d {
        D::Day(x) => x.checked_add_signed(delta).map(D::Day),
        D::Moment(x) => x.checked_add_signed(delta).map(D::Moment),
    };
    out.map(|d| Value::String(d.iso())).ok_or_else(|| "add_days(): the date is out of range".into())
}
