//! pipeline: STAND-IN for the pipeline model (branch `main`, by the lead), following the
//! agreed contract; replaced wholesale when `main` is merged.

use crate::connectors::System;
use crate::lang;
use std::path::PathBuf;

/// A loaded project.
pub struct Project {
    /// Its folder.
    pub root: PathBuf,
    /// `exflow.yaml`.
    pub config: ProjectConfig,
    /// Its pipelines.
    pub pipelines: Vec<Pipeline>,
    /// Mapping tables.
    pub tables: lang::Tables,
    /// rhai scripts.
    pub scripts: Option<lang::ScriptHost>,
    /// `vars`.
    pub vars: serde_json::Value,
}

/// Project settings.
pub struct ProjectConfig {
    /// State database.
    pub state: PathBuf,
    /// Activity retention.
    pub retention_days: u32,
    /// Redact payloads in the log.
    pub redact_payloads: bool,
}

/// One pipeline.
pub struct Pipeline {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// File.
    pub file: PathBuf,
    /// Source.
    pub source: Source,
    /// Target.
    pub target: Target,
    /// Requires.
    pub requires: Vec<Require>,
    /// Map.
    pub map: Vec<(String, lang::Program)>,
    /// Create-only fields.
    pub create_only: Vec<String>,
    /// Update only if changed.
    pub update_only_if_changed: bool,
    /// Schedule.
    pub schedule: Option<String>,
}

/// Source.
pub struct Source {
    /// System.
    pub system: System,
    /// Entity.
    pub entity: String,
    /// Native OData filter.
    pub filter: Option<String>,
    /// Custom filter.
    pub where_: Option<lang::Program>,
    /// Expand.
    pub expand: Vec<String>,
    /// Joins.
    pub joins: Vec<Join>,
}

/// Join.
pub struct Join {
    /// Binding.
    pub name: String,
    /// Entity on the source system.
    pub entity: String,
    /// Key field.
    pub key_field: String,
    /// Value.
    pub value: lang::Program,
}

/// Target.
pub struct Target {
    /// System.
    pub system: System,
    /// Entity.
    pub entity: String,
    /// Lines.
    pub lines: Option<Lines>,
    /// Match.
    pub match_: MatchSpec,
    /// On match.
    pub on_match: OnMatch,
}

/// Lines.
pub struct Lines {
    /// Line entity.
    pub entity: String,
    /// Map output field holding the lines.
    pub field: String,
}

/// Match.
pub struct MatchSpec {
    /// Target property.
    pub field: String,
    /// Value.
    pub value: lang::Program,
}

/// On match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMatch {
    /// Skip.
    Skip,
    /// Update.
    Update,
    /// Fail.
    Fail,
}

/// On missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMissing {
    /// Create.
    Create,
    /// Fail.
    Fail,
    /// Skip record.
    SkipRecord,
}

/// Require.
pub struct Require {
    /// Binding.
    pub name: String,
    /// Entity on the target system.
    pub entity: String,
    /// Each.
    pub each: Option<Each>,
    /// When.
    pub when: Option<lang::Program>,
    /// Match.
    pub match_: MatchSpec,
    /// On missing.
    pub on_missing: OnMissing,
    /// On match.
    pub on_match: OnMatch,
    /// Map.
    pub map: Vec<(String, lang::Program)>,
    /// Create-only.
    pub create_only: Vec<String>,
}

/// Each.
pub struct Each {
    /// List.
    pub list: lang::Program,
    /// Binding.
    pub binding: String,
}
