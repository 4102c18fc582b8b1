//! The run loop: page after page, strictly in order; the cursor is stored only after every
//! record of a page is handled, so a crash re-reads at most one page (and the journal and
//! the match check make that harmless).

use super::batch::resolve;
use super::decide::Decision;
use super::keys::record_key;
use super::recover::recover;
use super::report::{RecordPlan, RunReport};
use super::require::resolve_requires;
use super::write::Writer;
use super::{Connectors, EngineError, RunOptions};
use crate::connectors::{Connector, Cursor, FetchQuery, Record, System};
use crate::lang::{self, Program, ScriptHost, Tables};
use crate::pipeline::apply::condition;
use crate::pipeline::{Pipeline, Project};
use crate::state::{Activity, Failure, Outcome, RetryPolicy, RunStatus, StateStore};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// One source record on its way through a page.
pub(super) struct Item {
    /// The record as the source gave it (an object).
    pub source: Value,
    /// Its key on the source.
    pub source_key: Option<String>,
    /// Joins and requires resolved so far, in order.
    pub bindings: Vec<(String, Value)>,
    /// Set once the record is decided early (filtered, failed, skipped by a require).
    pub done: Option<Decision>,
    /// The match value, once known.
    pub match_value: Option<Value>,
    /// Whether the target was already asked about `match_value` (with `existing` its answer).
    pub checked: bool,
    /// The target record it matches, when it exists.
    pub existing: Option<Record>,
    /// Target fields that took a `??` default because their source value was missing.
    pub defaulted: Vec<Defaulted>,
}

/// A target field whose value came from a `??` default: the source path on its left was
/// absent from the record (the endpoint did not deliver it) or null (the source has none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Defaulted {
    /// The target field.
    pub field: String,
    /// The source path that was missing (`StandardSalesPrice`, `account.Email`).
    pub source: String,
    /// True when the record did not carry the field at all, false when it was null.
    pub absent: bool,
}

impl Item {
    /// Whether the record is still on its way.
    pub fn active(&self) -> bool {
        self.done.is_none()
    }
}

/// What a whole run shares: the project, the pipeline, the connectors, the store.
pub(super) struct Runner<'a> {
    pub env: &'a RunEnv<'a>,
    pub pipeline: &'a Pipeline,
    pub store: &'a dyn StateStore,
    pub options: &'a RunOptions,
    pub writer: Writer<'a>,
    pub report: RunReport,
    pub run_id: Option<i64>,
    /// Required records created (or found) by this run, per entity and match field: a new
    /// customer with two orders in the run is created once.
    pub seen: BTreeMap<(String, String), super::batch::KeyIndex>,
    /// Required records whose create the target refused in this run, with the reason: the
    /// next record needing the same one fails at once instead of asking again.
    pub refused: HashMap<(String, String), String>,
    /// Source keys of the failed records this run retries (from earlier runs).
    pub retrying: HashSet<String>,
}

impl<'a> Runner<'a> {
    /// Evaluates `program` for `item` with its bindings and `extra` ones.
    pub fn eval(
        &self,
        program: &Program,
        item: &Item,
        extra: &[(&str, &Value)],
    ) -> Result<Value, lang::EvalError> {
        let mut bindings: Vec<(&str, &Value)> =
            item.bindings.iter().map(|(n, v)| (n.as_str(), v)).collect();
        bindings.extend_from_slice(extra);
        let ctx = lang::Context {
            record: &item.source,
            vars: &self.env.vars,
            tables: self.env.tables,
            scripts: self.env.scripts,
            bindings: &bindings,
        };
        program.eval(&ctx)
    }

    /// Evaluates a map into a record (null results left out); the first failing field
    /// fails the whole record.
    pub fn eval_map(
        &self,
        map: &[(String, Program)],
        item: &Item,
        extra: &[(&str, &Value)],
    ) -> Result<Record, String> {
        let mut out = Record::new();
        for (field, program) in map {
            let v = self
                .eval(program, item, extra)
                .map_err(|e| format!("map {field}: {e}"))?;
            // A field the record has no value for is not sent (as `pipeline::apply`).
            if !v.is_null() {
                out.insert(field.clone(), v);
            }
        }
        Ok(out)
    }

    /// Counts, logs and (when asked) keeps one decision.
    pub fn record_outcome(
        &mut self,
        entity: &str,
        item: &Item,
        match_value: Value,
        decision: Decision,
        sent: Option<Value>,
        response: Option<Value>,
    ) -> Result<(), EngineError> {
        // The source record is logged once, with the main record's line.
        let with_source = entity == self.pipeline.target.entity;
        self.report.count(entity, &decision);
        let defaulted = match with_source {
            true => item.defaulted.clone(),
            false => Vec::new(),
        };
        if with_source {
            self.report.count_defaults(&defaulted);
        }
        // What a person knows the record by: the match value (order number, item code,
        // e-mail), with the property it is the value of.
        let mut business_key = business_key_of(&match_value);
        let key_field = self.match_field(entity);
        if business_key.is_none() && with_source {
            // Decided before the check (filtered out, failed early): the key is still what
            // a person looks the record up by. A value that needs a require stays unknown.
            let program = &self.pipeline.target.match_.value;
            business_key = self
                .eval(program, item, &[])
                .ok()
                .and_then(|v| business_key_of(&v));
        }
        if let (Some(sk), false, true) = (
            &item.source_key,
            self.options.dry_run,
            entity == self.pipeline.target.entity,
        ) {
            // A failed record is kept for the next run; a retried one that went through
            // (or no longer applies) is forgotten.
            match &decision {
                Decision::Fail { reason } => self.store.retry_put(
                    &self.pipeline.name,
                    &Failure {
                        source_key: sk,
                        business_key: business_key.as_deref(),
                        key_field,
                        run: self.run_id,
                        payload: &item.source,
                        reason,
                    },
                )?,
                _ if self.retrying.contains(sk) => {
                    self.store.retry_clear(&self.pipeline.name, sk)?
                }
                _ => {}
            }
        }
        if let Some(run) = self.run_id {
            let (outcome, error) = match &decision {
                Decision::Create { .. } => (Outcome::Create, None),
                Decision::Update { .. } => (Outcome::Update, None),
                Decision::Skip { reason } => (Outcome::Skip, Some(reason.clone())),
                Decision::Fail { reason } => (Outcome::Fail, Some(reason.clone())),
            };
            self.store.log_activity(&Activity {
                run,
                pipeline: self.pipeline.name.clone(),
                entity: entity.to_string(),
                source_key: item.source_key.clone(),
                business_key,
                key_field: key_field.map(str::to_string),
                source_payload: with_source.then(|| item.source.clone()),
                sent_payload: sent,
                target_response: response,
                changes: changes_of(&decision),
                outcome,
                error,
                at: chrono::Utc::now(),
            })?;
        }
        if matches!(decision, Decision::Fail { .. })
            && self.report.failures.len() < RunReport::MAX_FAILURES
        {
            self.report.failures.push(RecordPlan {
                entity: entity.to_string(),
                source_key: item.source_key.clone(),
                match_value: match_value.clone(),
                decision: decision.clone(),
                defaulted: defaulted.clone(),
            });
        }
        if self.options.dry_run || self.options.keep_decisions {
            self.report.decisions.push(RecordPlan {
                entity: entity.to_string(),
                source_key: item.source_key.clone(),
                match_value,
                decision,
                defaulted,
            });
        }
        Ok(())
    }

    /// The target property `entity` is matched on in this pipeline.
    fn match_field(&self, entity: &str) -> Option<&'a str> {
        let p = self.pipeline;
        if entity == p.target.entity {
            return Some(p.target.match_.field.as_str());
        }
        p.requires
            .iter()
            .find(|r| r.entity == entity)
            .map(|r| r.match_.field.as_str())
    }

    /// Handles one fetched page.
    async fn page(
        &mut self,
        source: &dyn Connector,
        records: Vec<Record>,
    ) -> Result<(), EngineError> {
        let src = &self.pipeline.source;
        let mut items: Vec<Item> = records
            .into_iter()
            .map(|r| Item {
                source_key: record_key(src.system, &src.entity, &r),
                source: Value::Object(r),
                bindings: Vec::new(),
                done: None,
                match_value: None,
                checked: false,
                existing: None,
                defaulted: Vec::new(),
            })
            .collect();

        if let Some(complement) = &src.complement {
            let calls = super::complement::complete_page(
                source,
                src.system,
                &src.entity,
                complement,
                &mut items,
            )
            .await?;
            self.report.complement_calls += calls;
        }
        if let Some(filter) = &src.where_ {
            for item in &mut items {
                item.done = match self.eval(filter, item, &[]).map(|v| condition(&v)) {
                    Ok(Ok(true)) => None,
                    Ok(Ok(false)) => Some(Decision::skip("filtered out by where")),
                    Ok(Err(e)) => Some(Decision::fail(format!("where {e}"))),
                    Err(e) => Some(Decision::fail(format!("where: {e}"))),
                };
            }
        }
        self.joins(source, &mut items).await?;
        // Existence first: an order that exists is skipped before its customer is touched.
        self.check(&mut items, true).await?;
        resolve_requires(self, &mut items).await?;
        self.upsert(&mut items).await
    }

    /// One lookup per join per page, bound under the join's name.
    async fn joins(
        &mut self,
        source: &dyn Connector,
        items: &mut [Item],
    ) -> Result<(), EngineError> {
        for join in &self.pipeline.source.joins {
            let mut values = Vec::with_capacity(items.len());
            for item in items.iter_mut().filter(|i| i.active()) {
                match self.eval(&join.value, item, &[]) {
                    Ok(v) => values.push(v),
                    Err(e) => item.done = Some(Decision::fail(format!("join {}: {e}", join.name))),
                }
            }
            let index = resolve(source, &join.entity, &join.key_field, values).await?;
            for item in items.iter_mut().filter(|i| i.active()) {
                let found = self
                    .eval(&join.value, item, &[])
                    .ok()
                    .and_then(|v| index.get(&v).cloned())
                    .map(Value::Object)
                    .unwrap_or(Value::Null);
                item.bindings.push((join.name.clone(), found));
            }
        }
        Ok(())
    }
}

/// A match value as a person reads it: text trimmed (Exact Globe pads codes), numbers
/// without `.0`; nothing for null, empty, lists and objects.
fn business_key_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        other => super::key_string(other),
    }
}

/// What expressions see besides the record, and the project settings a run needs: taken
/// from a [`Project`] by [`run_pipeline`], or built by hand (tests, embedding).
pub struct RunEnv<'a> {
    /// The pipeline's vars (project vars overridden by the pipeline's own).
    pub vars: Value,
    /// Mapping tables.
    pub tables: &'a Tables,
    /// rhai functions.
    pub scripts: Option<&'a ScriptHost>,
    /// Activity older than this many days is purged at the start of a run (0: never).
    pub retention_days: u32,
    /// When records that failed before are tried again.
    pub retry: RetryPolicy,
}

impl<'a> RunEnv<'a> {
    /// The environment of `pipeline` in `project`.
    pub fn new(project: &'a Project, pipeline: &Pipeline) -> RunEnv<'a> {
        RunEnv {
            vars: project.vars_for(&pipeline.name),
            tables: &project.tables,
            scripts: project.scripts.as_ref(),
            retention_days: project.config.retention_days,
            retry: project.config.retry,
        }
    }
}

/// Runs (or, with `options.dry_run`, plans) one pipeline of `project` to the end of its
/// source.
///
/// Problems of single records are counted and logged and the run goes on; a system that
/// fails as a whole (down, auth, budget) stops the run with an error after marking it
/// aborted, its cursor standing at the last fully handled page.
pub async fn run_pipeline(
    project: &Project,
    pipeline: &Pipeline,
    connectors: &Connectors,
    store: &dyn StateStore,
    options: RunOptions,
) -> Result<RunReport, EngineError> {
    let env = RunEnv::new(project, pipeline);
    run_with_env(&env, pipeline, connectors, store, options).await
}

/// [`run_pipeline`] with the environment given directly.
pub async fn run_with_env(
    env: &RunEnv<'_>,
    pipeline: &Pipeline,
    connectors: &Connectors,
    store: &dyn StateStore,
    options: RunOptions,
) -> Result<RunReport, EngineError> {
    let started = Instant::now();
    let source = connectors.get(pipeline.source.system)?.clone();
    let calls_before = connectors.calls();
    let writer = Writer::new(
        connectors,
        pipeline.target.system,
        store,
        &pipeline.name,
        options.dry_run,
    )?;
    let mut runner = Runner {
        env,
        pipeline,
        store,
        options: &options,
        writer,
        report: RunReport {
            pipeline: pipeline.name.clone(),
            entity: pipeline.target.entity.clone(),
            dry_run: options.dry_run,
            ..RunReport::default()
        },
        run_id: None,
        seen: BTreeMap::new(),
        refused: HashMap::new(),
        retrying: HashSet::new(),
    };
    // Held until the run ends; a dry run writes nothing and needs no lock.
    let _lock = match options.dry_run {
        true => None,
        false => Some(store.lock_pipeline(&pipeline.name)?),
    };
    if !options.dry_run {
        if env.retention_days > 0 {
            store.purge_activity(env.retention_days)?;
        }
        runner.run_id = Some(store.begin_run(&pipeline.name)?);
    }
    let result = run_pages(&mut runner, source.as_ref()).await;
    let mut report = std::mem::take(&mut runner.report);
    report.elapsed = started.elapsed();
    let after = connectors.calls();
    for (system, count) in after {
        let before = calls_before.get(&system).map(|c| c.total()).unwrap_or(0);
        let planned = runner.writer.planned.get(&system).copied().unwrap_or(0);
        report
            .api_calls
            .insert(system, count.total().saturating_sub(before) + planned);
    }
    for system in [System::ExactOnline, System::ExactGlobe] {
        report.api_calls.entry(system).or_insert(0);
    }
    if let Some(run) = runner.run_id {
        report.run_id = Some(run);
        let status = match (&result, report.total_failed()) {
            (Err(_), _) => RunStatus::Aborted,
            (Ok(()), 0) => RunStatus::Succeeded,
            (Ok(()), _) => RunStatus::Failed,
        };
        store.finish_run(run, status, &report.to_json())?;
    }
    result.map(|()| report)
}

/// Retried records are handled in groups of this size, like a fetched page.
const RETRY_CHUNK: usize = 500;

async fn run_pages(runner: &mut Runner<'_>, source: &dyn Connector) -> Result<(), EngineError> {
    let pipeline = runner.pipeline;
    if !runner.options.dry_run {
        runner.report.journal_resolved =
            recover(runner.writer.target, runner.store, &pipeline.name).await?;
    }
    // Records that failed in earlier runs come first, from what the source gave then: the
    // cursor has moved past them. A record changed since comes again through the cursor.
    // Those asked for by hand go regardless of their backoff; the others when due.
    let now = chrono::Utc::now();
    let mut retries = runner.store.retry_list(&pipeline.name)?;
    // Every listed record leaves the list when it goes through, also one that is not due
    // yet but comes again through the cursor.
    runner.retrying = retries.iter().map(|r| r.source_key.clone()).collect();
    match &runner.options.retry_only {
        Some(keys) => retries.retain(|r| keys.contains(&r.source_key)),
        None => retries.retain(|r| runner.env.retry.next_attempt(r).is_some_and(|t| t <= now)),
    }
    runner.report.retried = retries.len() as u64;
    let mut retries = retries.into_iter().filter_map(|r| match r.payload {
        Value::Object(record) => Some(record),
        _ => None,
    });
    loop {
        let chunk: Vec<Record> = retries.by_ref().take(RETRY_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        runner.page(source, chunk).await?;
    }
    if runner.options.retry_only.is_some() {
        return Ok(());
    }
    // `--since` reads from that moment whatever the stored cursor says (a user asking for
    // last week's records wants them, also on a project that has run before); the cursor
    // then moves on from where this run ends.
    let cursor = match runner.options.since {
        Some(_) => None,
        None => runner.store.cursor_get(&pipeline.name)?.map(Cursor),
    };
    let mut query = FetchQuery {
        entity: pipeline.source.entity.clone(),
        filter: pipeline.source.filter.clone(),
        select: Vec::new(),
        expand: pipeline.source.expand.clone(),
        since: runner.options.since,
        cursor,
    };
    loop {
        let page = source.fetch_page(&query).await?;
        runner.report.pages += 1;
        runner.report.records_read += page.records.len() as u64;
        runner.page(source, page.records).await?;
        if let (Some(c), false) = (&page.cursor, runner.options.dry_run) {
            runner.store.cursor_put(&pipeline.name, &c.0)?;
        }
        if let Some(progress) = &runner.options.progress {
            progress(&runner.report);
        }
        let limit_reached = runner
            .options
            .max_pages
            .is_some_and(|m| runner.report.pages as usize >= m);
        let stopping = runner
            .options
            .stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst));
        // A page that says "more" without a cursor to continue from would loop forever.
        if !page.more || page.cursor.is_none() || limit_reached || stopping {
            return Ok(());
        }
        query.cursor = page.cursor;
        query.since = None;
    }
}

/// The field diff of an update as the activity log keeps it: `{"Field": {"old", "new"}}`.
fn changes_of(decision: &Decision) -> Option<Value> {
    let Decision::Update { diff, .. } = decision else {
        return None;
    };
    let fields = diff
        .iter()
        .map(|c| {
            let pair = serde_json::json!({ "old": c.old, "new": c.new });
            (c.field.clone(), pair)
        })
        .collect();
    Some(Value::Object(fields))
}
