//! A pipeline after loading and checking: every expression compiled, every name resolved
//! against the catalogue. This is what the engine runs.

use crate::lang::Program;
use crate::schema::System;
use std::path::PathBuf;

/// A checked, compiled pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Unique name (cursor and state key).
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// Where records come from.
    pub source: Source,
    /// Where they go.
    pub target: Target,
    /// Records upserted before this one (customer, items), in order.
    pub requires: Vec<Require>,
    /// Target field -> expression, in file order.
    pub map: Vec<(String, Program)>,
    /// Fields written on create only, never on update.
    pub create_only: Vec<String>,
    /// Skip updates when no mapped field changed (default true).
    pub update_only_if_changed: bool,
    /// Cron-like schedule for `exflow serve`.
    pub schedule: Option<String>,
    /// Per target field of `map`, the source paths whose absence makes it take a `??`
    /// default: what `exflow plan` flags when the source did not deliver them.
    pub defaults: Vec<(String, Vec<super::source_fields::FieldPath>)>,
    /// The parts of an input record `where` and `map` can observe (joins and required
    /// records read as record fields of their name), for parsing only those.
    pub reads: super::reads::ReadSet,
}

impl Pipeline {
    /// The names expressions can use besides record fields: joins, then required records.
    /// Offline (`exflow map`, `exflow test`) each binds to the input's own field of that name.
    pub fn binding_names(&self) -> Vec<&str> {
        self.source
            .joins
            .iter()
            .map(|j| j.name.as_str())
            .chain(self.requires.iter().map(|r| r.name.as_str()))
            .collect()
    }

    /// The target field records of `entity` are matched on: their business key (the order
    /// number as `YourReference`, the item code, the e-mail), for the main target entity
    /// and the required ones.
    pub fn match_field(&self, entity: &str) -> Option<&str> {
        std::iter::once((&self.target.entity, &self.target.match_.field))
            .chain(self.requires.iter().map(|r| (&r.entity, &r.match_.field)))
            .find(|(e, _)| e.as_str() == entity)
            .map(|(_, f)| f.as_str())
    }
}

/// The source side of a pipeline.
#[derive(Debug, Clone)]
pub struct Source {
    /// Source system.
    pub system: System,
    /// Source entity (catalogue name).
    pub entity: String,
    /// Native OData `$filter` pushed to the API.
    pub filter: Option<String>,
    /// Record filter in the mapping language, evaluated per record.
    pub where_: Option<Program>,
    /// Navigation properties read with each record (order lines).
    pub expand: Vec<String>,
    /// Related records of the source system, fetched in batches per page.
    pub joins: Vec<Join>,
    /// Fields the pipeline reads that the read endpoint does not deliver, fetched for each
    /// page from an endpoint that has them.
    pub complement: Option<Complement>,
}

/// Source fields fetched for a whole page in batched calls, because the endpoint the records
/// are read from leaves them out (Exact Online's `sync/Logistics/Items` has no
/// `StandardSalesPrice`).
#[derive(Debug, Clone)]
pub struct Complement {
    /// The endpoint the records are read from.
    pub read_from: String,
    /// The endpoint the fields come from.
    pub endpoint: String,
    /// The fields, as the entity names them.
    pub fields: Vec<String>,
}

/// A related source record bound to a name in every expression (e.g. the order's account).
#[derive(Debug, Clone)]
pub struct Join {
    /// The binding, e.g. `account`.
    pub name: String,
    /// Entity on the source system, e.g. `Accounts`.
    pub entity: String,
    /// Its property matched, e.g. `ID`.
    pub key_field: String,
    /// The value taken from the record, e.g. `OrderedBy`.
    pub value: Program,
}

/// The target side of a pipeline.
#[derive(Debug, Clone)]
pub struct Target {
    /// Target system.
    pub system: System,
    /// Target entity (catalogue name).
    pub entity: String,
    /// For header/line documents: where the lines come from.
    pub lines: Option<Lines>,
    /// How an existing record is recognised.
    pub match_: MatchSpec,
    /// What to do with a record that exists.
    pub on_match: OnMatch,
}

/// Lines of a document target.
#[derive(Debug, Clone)]
pub struct Lines {
    /// The line entity, e.g. `SalesOrderLine`.
    pub entity: String,
    /// The map output field holding the list of line objects; removed from the header.
    pub field: String,
}

/// "Does it already exist?": a target property equal to a value computed from the record.
#[derive(Debug, Clone)]
pub struct MatchSpec {
    /// Target property.
    pub field: String,
    /// Evaluated in the record's context.
    pub value: Program,
}

/// What to do when the target record exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMatch {
    /// Leave it alone.
    Skip,
    /// Update the changed writable fields.
    Update,
    /// Fail the record.
    Fail,
}

/// What to do when a required record does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMissing {
    /// Create it.
    Create,
    /// Fail the record, naming the missing key.
    Fail,
    /// Skip the record quietly.
    SkipRecord,
}

/// A record the main record needs on the target, upserted first (customer, items).
#[derive(Debug, Clone)]
pub struct Require {
    /// Binding of the target record after the upsert, e.g. `customer`.
    pub name: String,
    /// Entity on the target system.
    pub entity: String,
    /// For one record per list element (items per line).
    pub each: Option<Each>,
    /// Only when this holds (e.g. no default debtor); otherwise the binding is null.
    pub when: Option<Program>,
    /// How the required record is recognised.
    pub match_: MatchSpec,
    /// When it is missing.
    pub on_missing: OnMissing,
    /// When it exists.
    pub on_match: OnMatch,
    /// Fields of a created or updated required record.
    pub map: Vec<(String, Program)>,
    /// Written on create only.
    pub create_only: Vec<String>,
}

/// Iterate a list of the record (e.g. its lines), binding each element.
#[derive(Debug, Clone)]
pub struct Each {
    /// The list expression.
    pub list: Program,
    /// The element's binding, e.g. `line`.
    pub binding: String,
}

impl OnMatch {
    /// Parses `skip | update | fail`.
    pub fn parse(s: &str) -> Option<OnMatch> {
        match s {
            "skip" => Some(OnMatch::Skip),
            "update" => Some(OnMatch::Update),
            "fail" => Some(OnMatch::Fail),
            _ => None,
        }
    }
}

impl OnMissing {
    /// Parses `create | fail | skip_record`.
    pub fn parse(s: &str) -> Option<OnMissing> {
        match s {
            "create" => Some(OnMissing::Create),
            "fail" => Some(OnMissing::Fail),
            "skip_record" => Some(OnMissing::SkipRecord),
            _ => None,
        }
    }
}
