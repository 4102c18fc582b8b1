//! A pipeline compiled into its steps: what `exflow plan` shows before the records, and the
//! order the runner follows (fetch -> filter -> join -> require -> transform -> check -> upsert).

use crate::connectors::System;
use crate::pipeline::{OnMatch, OnMissing, Pipeline};
use serde::Serialize;
use std::fmt;

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Read a page of changed records.
    Fetch {
        /// Source system.
        system: System,
        /// Source entity.
        entity: String,
        /// Native filter, if any.
        filter: Option<String>,
        /// Navigation properties read along.
        expand: Vec<String>,
    },
    /// Keep only records for which the `where` expression holds.
    Filter {
        /// What filters (the pipeline's `where`).
        expression: String,
    },
    /// One lookup per page on the source, bound under `name`.
    Join {
        /// Binding name.
        name: String,
        /// Source entity looked up.
        entity: String,
        /// Its key property.
        key_field: String,
    },
    /// Find (and create or update) a record the target needs first.
    Require {
        /// Binding name.
        name: String,
        /// Target entity.
        entity: String,
        /// Per element of a list, bound under this name.
        each: Option<String>,
        /// Target property matched.
        match_field: String,
        /// What happens when it is missing.
        on_missing: String,
        /// What happens when it exists.
        on_match: String,
    },
    /// Evaluate the map.
    Transform {
        /// Target fields produced.
        fields: Vec<String>,
    },
    /// One batched lookup per page of the records' match keys, plus the id map.
    Check {
        /// Target entity.
        entity: String,
        /// Target property matched.
        match_field: String,
        /// What happens when it exists.
        on_match: String,
    },
    /// Create (or update) on the target.
    Upsert {
        /// Target system.
        system: System,
        /// Target entity.
        entity: String,
        /// Line entity, for documents.
        lines: Option<String>,
        /// Fields written on create only.
        create_only: Vec<String>,
    },
}

/// The steps of one pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The pipeline.
    pub pipeline: String,
    /// Its steps in execution order.
    pub steps: Vec<Step>,
}

fn on_match(m: OnMatch) -> String {
    match m {
        OnMatch::Skip => "skip",
        OnMatch::Update => "update",
        OnMatch::Fail => "fail",
    }
    .to_string()
}

fn on_missing(m: OnMissing) -> String {
    match m {
        OnMissing::Create => "create",
        OnMissing::Fail => "fail",
        OnMissing::SkipRecord => "skip_record",
    }
    .to_string()
}

impl Plan {
    /// Compiles `pipeline` into its steps.
    pub fn compile(pipeline: &Pipeline) -> Plan {
        let src = &pipeline.source;
        let mut steps = vec![Step::Fetch {
            system: src.system,
            entity: src.entity.clone(),
            filter: src.filter.clone(),
            expand: src.expand.clone(),
        }];
        if src.where_.is_some() {
            steps.push(Step::Filter {
                expression: "where".to_string(),
            });
        }
        for j in &src.joins {
            steps.push(Step::Join {
                name: j.name.clone(),
                entity: j.entity.clone(),
                key_field: j.key_field.clone(),
            });
        }
        for r in &pipeline.requires {
            steps.push(Step::Require {
                name: r.name.clone(),
                entity: r.entity.clone(),
                each: r.each.as_ref().map(|e| e.binding.clone()),
                match_field: r.match_.field.clone(),
                on_missing: on_missing(r.on_missing),
                on_match: on_match(r.on_match),
            });
        }
        steps.push(Step::Transform {
            fields: pipeline.map.iter().map(|(f, _)| f.clone()).collect(),
        });
        let t = &pipeline.target;
        steps.push(Step::Check {
            entity: t.entity.clone(),
            match_field: t.match_.field.clone(),
            on_match: on_match(t.on_match),
        });
        steps.push(Step::Upsert {
            system: t.system,
            entity: t.entity.clone(),
            lines: t.lines.as_ref().map(|l| l.entity.clone()),
            create_only: pipeline.create_only.clone(),
        });
        Plan {
            pipeline: pipeline.name.clone(),
            steps,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Fetch {
                system,
                entity,
                filter,
                ..
            } => {
                write!(f, "fetch    {system} {entity}")?;
                if let Some(flt) = filter {
                    write!(f, " where {flt}")?;
                }
                Ok(())
            }
            Step::Filter { expression } => write!(f, "filter   {expression} (per record)"),
            Step::Join {
                name,
                entity,
                key_field,
            } => write!(
                f,
                "join     {name} = {entity} by {key_field} (one lookup per page)"
            ),
            Step::Require {
                name,
                entity,
                each,
                match_field,
                on_missing,
                on_match,
            } => {
                write!(f, "require  {name} = {entity} by {match_field}")?;
                if let Some(e) = each {
                    write!(f, " for each {e}")?;
                }
                write!(f, " (missing: {on_missing}, exists: {on_match})")
            }
            Step::Transform { fields } => write!(f, "map      {} fields", fields.len()),
            Step::Check {
                entity,
                match_field,
                on_match,
            } => write!(f, "check    {entity} by {match_field} (exists: {on_match})"),
            Step::Upsert {
                system,
                entity,
                lines,
                ..
            } => {
                write!(f, "upsert   {system} {entity}")?;
                if let Some(l) = lines {
                    write!(f, " with {l} lines")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plan for {}:", self.pipeline)?;
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(f, "  {}. {s}", i + 1)?;
        }
        Ok(())
    }
}
