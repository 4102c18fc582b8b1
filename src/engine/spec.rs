//! Pipeline unit tests as data (`exflow test`): a `NAME.test.yaml` beside a pipeline lists
//! input records, the related records they would be joined with, the target record that
//! may already exist, and what the pipeline must make of them: the mapped fields and the
//! decision. They run without any network, like dbt or Benthos config tests.
//!
//! ```yaml
//! pipeline: orders
//! tests:
//!   - name: a company order keeps its reference
//!     input: { OrderNumber: 1001, Status: 12, SalesOrderLines: [...] }
//!     bindings: { account: {...}, customer: { DebtorNumber: "  4711" } }   # `items: null`: missing
//!     existing: null                  # or the target record as it is now
//!     expect:
//!       decision: create              # create | update | skip | fail
//!       map: { YourReference: "1001" }   # fields that must be there, with these values
//!       requires:
//!         customer: { AccountName: "Bakker BV" }
//!       reason: contains this text    # for skip and fail
//! ```

use super::decide::{decide, Decision};
use crate::connectors::Record;
use crate::pipeline::apply::{apply_map, eval, passes_where, truthy, MapEnv};
use crate::pipeline::{OnMatch, OnMissing, Pipeline, Project};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// The pipeline under test.
    pub pipeline: String,
    /// The cases.
    pub tests: Vec<SpecCase>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecCase {
    /// What it shows.
    pub name: String,
    /// The source record.
    pub input: Value,
    /// Joins and required records as they would resolve (`account`, `customer`, ...).
    #[serde(default)]
    pub bindings: Map<String, Value>,
    /// The target record that already exists, if any.
    #[serde(default)]
    pub existing: Option<Value>,
    /// Vars overriding the project's for this case (e.g. a default debtor).
    #[serde(default)]
    pub vars: Map<String, Value>,
    /// What must come out.
    pub expect: SpecExpect,
}

/// The expected outcome.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SpecExpect {
    /// `create`, `update`, `skip` or `fail`.
    #[serde(default)]
    pub decision: Option<String>,
    /// Fields of the mapped record (a subset; `null` means absent).
    #[serde(default)]
    pub map: Map<String, Value>,
    /// Mapped fields per required record (the first element for `each`).
    #[serde(default)]
    pub requires: Map<String, Value>,
    /// Fields the update changes (for `update`).
    #[serde(default)]
    pub changes: Option<Vec<String>>,
    /// Text the skip or fail reason contains.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The result of one case.
#[derive(Debug)]
pub struct CaseResult {
    /// The file.
    pub file: PathBuf,
    /// The case name.
    pub name: String,
    /// Problems found; empty when it passed.
    pub problems: Vec<String>,
}

/// Test files beside the project's pipelines.
pub fn find_spec_files(project: &Project) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = project
        .pipelines
        .iter()
        .filter_map(|p| p.file.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.to_string_lossy().ends_with(".test.yaml") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

fn subset_problems(
    what: &str,
    expected: &Map<String, Value>,
    actual: &Map<String, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, want) in expected {
        let got = actual.get(k).unwrap_or(&Value::Null);
        if !values_equal(want, got) {
            out.push(format!("{what}.{k}: expected {want}, got {got}"));
        }
    }
    out
}

/// Numbers compare by value (1 == 1.0); everything else exactly.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

fn decision_name(d: &Decision) -> &'static str {
    match d {
        Decision::Create { .. } => "create",
        Decision::Update { .. } => "update",
        Decision::Skip { .. } => "skip",
        Decision::Fail { .. } => "fail",
    }
}

/// Runs one case against a pipeline.
pub fn run_case(project: &Project, pipeline: &Pipeline, case: &SpecCase) -> Vec<String> {
    let mut vars = project.vars_for(&pipeline.name);
    if let Value::Object(m) = &mut vars {
        for (k, v) in &case.vars {
            m.insert(k.clone(), v.clone());
        }
    }
    let env = MapEnv {
        vars: &vars,
        tables: &project.tables,
        scripts: project.scripts.as_ref(),
    };
    let mut problems = Vec::new();
    // Whether the map ran: an expectation about mapped fields must not pass unchecked.
    let mut mapped_checked = false;
    let mut bound: Vec<(String, Value)> = case
        .bindings
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for j in &pipeline.source.joins {
        if !bound.iter().any(|(k, _)| k == &j.name) {
            bound.push((j.name.clone(), Value::Null));
        }
    }
    let refs: Vec<(&str, &Value)> = bound.iter().map(|(k, v)| (k.as_str(), v)).collect();

    // The where filter decides first.
    let decision = match passes_where(pipeline, &case.input, &refs, &env) {
        Err(e) => Decision::fail(format!("where: {e}")),
        Ok(false) => Decision::skip("filtered out by where"),
        // Like the engine: an order that exists is skipped before its requires are touched.
        Ok(true)
            if case.existing.as_ref().is_some_and(|e| !e.is_null())
                && pipeline.target.on_match == OnMatch::Skip =>
        {
            Decision::skip("exists on the target")
        }
        Ok(true) => {
            // Required records: map each, and let a missing one that must not be created
            // fail or skip the record, as the engine does.
            let mut outcome = None;
            for rq in &pipeline.requires {
                if let Some(w) = &rq.when {
                    match eval(w, &case.input, &refs, &env) {
                        Ok(v) if !truthy(&v) => continue,
                        Ok(_) => {}
                        Err(e) => {
                            outcome = Some(Decision::fail(format!("{}: when: {e}", rq.name)));
                            break;
                        }
                    }
                }
                // A required record is missing only when the case says so (`name: null`).
                let missing = case.bindings.get(&rq.name).is_some_and(Value::is_null);
                if missing && rq.on_missing != OnMissing::Create {
                    let reason = format!(
                        "required {} `{}` not found on the target",
                        rq.entity, rq.name
                    );
                    outcome = Some(if rq.on_missing == OnMissing::Fail {
                        Decision::fail(reason)
                    } else {
                        Decision::skip(reason)
                    });
                    break;
                }
                if let Some(expected) = case
                    .expect
                    .requires
                    .get(&rq.name)
                    .and_then(Value::as_object)
                {
                    let elem;
                    let mut inner = refs.clone();
                    if let Some(each) = &rq.each {
                        elem = eval(&each.list, &case.input, &refs, &env)
                            .ok()
                            .and_then(|l| l.as_array().and_then(|a| a.first().cloned()))
                            .unwrap_or(Value::Null);
                        inner.push((each.binding.as_str(), &elem));
                    }
                    match apply_map(&rq.map, &case.input, &inner, &env) {
                        Ok(m) => problems.extend(subset_problems(
                            &format!("requires.{}", rq.name),
                            expected,
                            &m,
                        )),
                        Err(e) => problems.push(format!("requires.{}: {e}", rq.name)),
                    }
                }
            }
            match outcome {
                Some(d) => d,
                None => match apply_map(&pipeline.map, &case.input, &refs, &env) {
                    Err(e) => Decision::fail(e.to_string()),
                    Ok(mapped) => {
                        mapped_checked = true;
                        problems.extend(subset_problems("map", &case.expect.map, &mapped));
                        let existing: Option<Record> =
                            case.existing.as_ref().and_then(|e| e.as_object().cloned());
                        let mut excluded: Vec<&str> = vec![pipeline.target.match_.field.as_str()];
                        if let Some(l) = &pipeline.target.lines {
                            excluded.push(l.field.as_str());
                        }
                        let key = existing
                            .as_ref()
                            .and_then(|e| e.get(&pipeline.target.match_.field).cloned())
                            .unwrap_or(Value::Null);
                        decide(
                            existing.as_ref().map(|e| (e, key)),
                            mapped,
                            pipeline.target.on_match,
                            &pipeline.create_only,
                            &excluded,
                            pipeline.update_only_if_changed,
                        )
                    }
                },
            }
        }
    };
    if !mapped_checked && !case.expect.map.is_empty() {
        problems.push(format!(
            "map: not evaluated, the record was decided before mapping ({}: {})",
            decision_name(&decision),
            describe(&decision)
        ));
    }
    if let Some(want) = &case.expect.decision {
        if decision_name(&decision) != want {
            problems.push(format!(
                "decision: expected {want}, got {} ({})",
                decision_name(&decision),
                describe(&decision)
            ));
        }
    }
    if let Some(text) = &case.expect.reason {
        let reason = match &decision {
            Decision::Skip { reason } | Decision::Fail { reason } => reason.clone(),
            _ => String::new(),
        };
        if !reason.contains(text.as_str()) {
            problems.push(format!(
                "reason: expected it to contain `{text}`, got `{reason}`"
            ));
        }
    }
    if let Some(fields) = &case.expect.changes {
        let got: Vec<String> = match &decision {
            Decision::Update { diff, .. } => diff.iter().map(|c| c.field.clone()).collect(),
            _ => Vec::new(),
        };
        let mut want = fields.clone();
        want.sort();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        if want != got_sorted {
            problems.push(format!("changes: expected {want:?}, got {got_sorted:?}"));
        }
    }
    problems
}

fn describe(d: &Decision) -> String {
    match d {
        Decision::Skip { reason } | Decision::Fail { reason } => reason.clone(),
        Decision::Update { diff, .. } => diff
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Decision::Create { .. } => "new record".to_string(),
    }
}

/// Errors reading a test file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file cannot be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file is not a valid test file.
    #[error("{0}: {1}")]
    Parse(PathBuf, serde_yaml::Error),
    /// It names a pipeline the project does not have.
    #[error("{0}: no pipeline `{1}`")]
    UnknownPipeline(PathBuf, String),
}

/// Runs every case of one file.
pub fn run_file(project: &Project, path: &Path) -> Result<Vec<CaseResult>, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpecError::Read(path.to_path_buf(), e))?;
    let spec: SpecFile =
        serde_yaml::from_str(&text).map_err(|e| SpecError::Parse(path.to_path_buf(), e))?;
    let pipeline = project
        .pipeline(&spec.pipeline)
        .ok_or_else(|| SpecError::UnknownPipeline(path.to_path_buf(), spec.pipeline.clone()))?;
    Ok(spec
        .tests
        .iter()
        .map(|case| CaseResult {
            file: path.to_path_buf(),
            name: case.name.clone(),
            problems: run_case(project, pipeline, case),
        })
        .collect())
}
