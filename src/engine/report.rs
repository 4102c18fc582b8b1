//! What a run did: counts per entity, API calls per system, time, and (in a dry run) every
//! record's decision.

use super::decide::Decision;
pub use super::run::Defaulted;
use crate::connectors::System;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

/// Counts of one entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EntityCounts {
    /// Records created.
    pub created: u64,
    /// Records updated.
    pub updated: u64,
    /// Records skipped.
    pub skipped: u64,
    /// Records failed.
    pub failed: u64,
}

/// One record's decision, kept for `exflow plan`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordPlan {
    /// The entity decided on (the target entity, or a required one).
    pub entity: String,
    /// The source record's key.
    pub source_key: Option<String>,
    /// The match value on the target.
    pub match_value: Value,
    /// What happens.
    #[serde(flatten)]
    pub decision: Decision,
    /// Target fields that took a `??` default because the source value was missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub defaulted: Vec<Defaulted>,
}

/// How often one target field took its `??` default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DefaultCounts {
    /// Records whose value came from the default.
    pub records: u64,
    /// Of those, records that did not carry the source field at all: the endpoint did not
    /// deliver it. Always 0 for a correct pipeline; a value here means wrong data.
    pub absent: u64,
    /// The source paths that were missing.
    pub sources: std::collections::BTreeSet<String>,
}

/// The summary of one pipeline run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// The pipeline.
    pub pipeline: String,
    /// The main target entity (its counts are the headline numbers).
    pub entity: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The run's id in the state store (none in a dry run).
    pub run_id: Option<i64>,
    /// Counts per entity (the target entity and the required ones).
    pub entities: BTreeMap<String, EntityCounts>,
    /// API calls per system (in a dry run: the reads done plus the writes a run would do).
    pub api_calls: HashMap<System, u64>,
    /// Source records read.
    pub records_read: u64,
    /// Pages read.
    pub pages: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Records of earlier runs that failed and were tried again.
    pub retried: u64,
    /// Journal entries resolved at the start (creates a crashed run left unconfirmed).
    pub journal_resolved: u64,
    /// Calls spent reading fields the read endpoint does not deliver (already counted in
    /// `api_calls`).
    pub complement_calls: u64,
    /// Per target field: how often it took its `??` default (main records that reached the
    /// map).
    pub defaults: BTreeMap<String, DefaultCounts>,
    /// Records of the main entity that reached the map.
    pub mapped: u64,
    /// Every record's decision (dry runs, or when asked).
    pub decisions: Vec<RecordPlan>,
    /// The first [`RunReport::MAX_FAILURES`] failed records with their reasons (always kept:
    /// a failing flow tells at once what went wrong; the activity log has every one).
    pub failures: Vec<RecordPlan>,
}

impl RecordPlan {
    /// The record as a person knows it: `SalesOrderHeader YourReference "10042" (source
    /// 5b8a...)`, by its business key (the match field of `pipeline` for this entity), the
    /// source key only beside it; a personal key (an e-mail) is hidden when `redact` is set.
    pub fn describe(&self, pipeline: &crate::pipeline::Pipeline, redact: bool) -> String {
        let source = self
            .source_key
            .as_deref()
            .map(|k| format!(" (source {k})"))
            .unwrap_or_default();
        let field = pipeline.match_field(&self.entity);
        let value = match &self.match_value {
            Value::Null => None,
            _ if redact && field.is_none_or(crate::state::is_personal) => {
                Some(crate::state::REDACTED.to_string())
            }
            Value::String(s) => Some(s.trim().to_string()),
            other => Some(other.to_string()),
        };
        match (field, value) {
            (Some(f), Some(v)) => format!("{} {f} {v}{source}", self.entity),
            // Failed before its business key was known: the source key is all there is.
            _ => format!("{}{source}", self.entity),
        }
    }
}

impl RunReport {
    /// How many failures a report keeps.
    pub const MAX_FAILURES: usize = 100;

    /// Counts of the main target entity.
    pub fn main_counts(&self) -> EntityCounts {
        self.entities.get(&self.entity).copied().unwrap_or_default()
    }

    /// Records failed over every entity.
    pub fn total_failed(&self) -> u64 {
        self.entities.values().map(|c| c.failed).sum()
    }

    /// The calls spent on `system`.
    pub fn calls(&self, system: System) -> u64 {
        self.api_calls.get(&system).copied().unwrap_or(0)
    }

    pub(crate) fn count_defaults(&mut self, defaulted: &[Defaulted]) {
        let mut seen: Vec<&str> = Vec::new();
        for d in defaulted {
            let c = self.defaults.entry(d.field.clone()).or_default();
            c.sources.insert(d.source.clone());
            if seen.contains(&d.field.as_str()) {
                continue;
            }
            seen.push(&d.field);
            c.records += 1;
            if defaulted.iter().any(|x| x.field == d.field && x.absent) {
                c.absent += 1;
            }
        }
    }

    pub(crate) fn count(&mut self, entity: &str, decision: &Decision) {
        let c = self.entities.entry(entity.to_string()).or_default();
        match decision {
            Decision::Create { .. } => c.created += 1,
            Decision::Update { .. } => c.updated += 1,
            Decision::Skip { .. } => c.skipped += 1,
            Decision::Fail { .. } => c.failed += 1,
        }
    }

    /// The machine-readable summary:
    /// `{"pipeline","created","updated","skipped","failed","api_calls":{"exact_online","exact_globe"}}`
    /// with the counts of the main target entity.
    pub fn to_json(&self) -> Value {
        let c = self.main_counts();
        json!({
            "pipeline": self.pipeline,
            "created": c.created,
            "updated": c.updated,
            "skipped": c.skipped,
            "failed": c.failed,
            "api_calls": {
                "exact_online": self.calls(System::ExactOnline),
                "exact_globe": self.calls(System::ExactGlobe),
            },
        })
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "plan" } else { "run" };
        writeln!(
            f,
            "{verb} {}: {} records read in {} pages, {:.1}s",
            self.pipeline,
            self.records_read,
            self.pages,
            self.elapsed.as_secs_f64()
        )?;
        for (entity, c) in &self.entities {
            writeln!(
                f,
                "  {entity:<20} created {:>5}  updated {:>5}  skipped {:>5}  failed {:>5}",
                c.created, c.updated, c.skipped, c.failed
            )?;
        }
        let per = if self.records_read > 0 {
            |n: u64, r: u64| format!(" ({:.3} per record)", n as f64 / r as f64)
        } else {
            |_: u64, _: u64| String::new()
        };
        let wording = if self.dry_run {
            "API calls a run would spend"
        } else {
            "API calls"
        };
        write!(
            f,
            "  {wording}: exact_online {}{}, exact_globe {}{}",
            self.calls(System::ExactOnline),
            per(self.calls(System::ExactOnline), self.records_read),
            self.calls(System::ExactGlobe),
            per(self.calls(System::ExactGlobe), self.records_read),
        )?;
        if self.complement_calls > 0 {
            write!(
                f,
                "\n  of which {} exact_online calls read fields the sync endpoint does not deliver",
                self.complement_calls
            )?;
        }
        for (field, c) in &self.defaults {
            let sources: Vec<&str> = c.sources.iter().map(String::as_str).collect();
            write!(
                f,
                "\n  {field} defaulted on {} of {} records ({} missing",
                c.records,
                self.mapped,
                sources.join(", ")
            )?;
            if c.absent > 0 {
                write!(
                    f,
                    "; not delivered at all on {}: check the pipeline",
                    c.absent
                )?;
            }
            write!(f, ")")?;
        }
        if self.retried > 0 {
            write!(f, "\n  retried {} records that failed before", self.retried)?;
        }
        if self.journal_resolved > 0 {
            write!(
                f,
                "\n  resolved {} unconfirmed creates of an interrupted run",
                self.journal_resolved
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(entity: &str, match_value: Value) -> RecordPlan {
        RecordPlan {
            entity: entity.into(),
            source_key: Some("5b8a".into()),
            match_value,
            decision: Decision::fail("item `KOF-9` does not exist"),
            defaulted: Vec::new(),
        }
    }

    #[test]
    fn a_failure_is_named_by_its_business_key_then_its_source_key() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (project, diags) = crate::pipeline::load(&[root.join("pipelines")], false);
        let project = project.unwrap_or_else(|| panic!("{diags}"));
        let orders = project.pipeline("orders").unwrap();
        let order = failed("SalesOrderHeader", json!("10042"));
        assert_eq!(
            order.describe(orders, false),
            "SalesOrderHeader YourReference 10042 (source 5b8a)"
        );
        let customer = failed("Account", json!("jan@example.nl"));
        let field = orders.match_field("Account").unwrap();
        assert_eq!(
            customer.describe(orders, false),
            format!("Account {field} jan@example.nl (source 5b8a)")
        );
        // An e-mail is personal: hidden when payloads are redacted.
        assert!(!customer.describe(orders, true).contains("jan@"));
        // Failed before its key was known: the source key is all there is.
        assert_eq!(
            failed("SalesOrderHeader", Value::Null).describe(orders, false),
            "SalesOrderHeader (source 5b8a)"
        );
    }
}
