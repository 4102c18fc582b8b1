//! Pipeline files: YAML read with a position for every value, checked against the entity
//! catalogue, expressions compiled, into [`Pipeline`]s the engine runs.
//!
//! Stages, one file each: `source` (files and positions) -> `yaml` (spanned reading) ->
//! `def` (the file as written) -> `compile` (check and compile) -> `model` (what runs);
//! `project` ties `exflow.yaml`, tables, scripts and pipelines together; `reads` and
//! `sparse` parse only the parts of a record a pipeline reads.
//! May use: `lang`, `schema`. Never HTTP or state.

pub mod apply;
mod compile;
pub mod def;
pub mod diagnostic;
mod fields;
pub mod json_schema;
mod layout;
pub mod model;
pub mod project;
pub mod reads;
pub mod scan;
pub mod schedule;
pub mod service;
pub mod source;
pub mod source_fields;
pub mod sparse;
pub mod yaml;

pub use compile::Scope;
pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use model::*;
pub use project::{
    check_source, load, load_project, read_connections, GlobeConnection, OnlineConnection, Project,
    ProjectConfig,
};
