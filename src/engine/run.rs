//! The run loop: page after page, strictly in order; the cursor is stored only after every
//! record of a page is handled, so a crash re-reads at most one page (and the journal and
//! the match check make that harmless).

use super::batch::{key_string, resolve};
use super::decide::{decide, Decision};
use super::keys::{key_field, key_text, record_key};
use super::recover::recover;
use super::report::{RecordPlan, RunReport};
use super::require::resolve_requires;
use super::write::{DocumentLines, WriteError, Writer};
use super::{Connectors, EngineError, RunOptions};
use crate::connectors::{Connector, Cursor, FetchQuery, MatchKey, Record, System};
use crate::lang::{self, Program, ScriptHost, Tables};
use crate::pipeline::apply::truthy;
use crate::pipeline::{OnMatch, Pipeline, Project};
use crate::state::{Activity, Outcome, RunStatus, StateStore};
use serde_json::Value;
use std::collections::BTreeMap;
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
                source_payload: with_source.then(|| item.source.clone()),
                sent_payload: sent,
                target_response: response,
                outcome,
                error,
                at: chrono::Utc::now(),
            })?;
        }
        if self.options.dry_run || self.options.keep_decisions {
            self.report.decisions.push(RecordPlan {
                entity: entity.to_string(),
                source_key: item.source_key.clone(),
                match_value,
                decision,
            });
        }
        Ok(())
    }

    /// Handles one fetched page.
    async fn page(
        &mut self,
        source: &dyn Connector,
        records: Vec<Record>,
    ) -> Result<(), EngineError> {
        let src = &self.pipeline.source;
        let source_key_field = key_field(src.system, &src.entity);
        let mut items: Vec<Item> = records
            .into_iter()
            .map(|r| Item {
                source_key: r.get(source_key_field).and_then(key_string),
                source: Value::Object(r),
                bindings: Vec::new(),
                done: None,
                match_value: None,
                checked: false,
                existing: None,
            })
            .collect();
        self.report.records_read += items.len() as u64;

        if let Some(filter) = &src.where_ {
            for item in &mut items {
                item.done = match self.eval(filter, item, &[]) {
                    Ok(v) if truthy(&v) => None,
                    Ok(_) => Some(Decision::skip("filtered out by where")),
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

    /// The existence check, batched: one lookup of every match value of the page not yet
    /// asked about, plus the id map for records this tool wrote before. `early`: before the
    /// requires, a match value that cannot be computed yet (it uses a require's binding) is
    /// left for later, and records that exist are decided at once unless they may be updated.
    async fn check(&mut self, items: &mut [Item], early: bool) -> Result<(), EngineError> {
        let target = &self.pipeline.target;
        let system = target.system;
        let tkey = key_field(system, &target.entity);
        let mut ask = Vec::new();
        for (i, item) in items.iter_mut().enumerate() {
            if !item.active() || item.checked {
                continue;
            }
            let mv = match self.eval(&target.match_.value, item, &[]) {
                Ok(v) if key_string(&v).is_some() => v,
                _ if early => continue,
                Ok(_) => {
                    item.done = Some(Decision::fail(format!(
                        "match {}: the value is empty",
                        target.match_.field
                    )));
                    continue;
                }
                Err(e) => {
                    item.done = Some(Decision::fail(format!(
                        "match {}: {e}",
                        target.match_.field
                    )));
                    continue;
                }
            };
            item.match_value = Some(mv);
            item.checked = true;
            ask.push(i);
        }
        // Records this tool created or saw before: a skip needs no call at all; an update
        // needs the record, fetched by its key (which also finds it when its match value
        // changed).
        let mut by_id_map = Vec::new();
        let mut rest = Vec::new();
        for i in ask {
            let mapped = match &items[i].source_key {
                Some(sk) => self.store.id_map_get(system.as_str(), &target.entity, sk)?,
                None => None,
            };
            match mapped {
                Some(k) if target.on_match != OnMatch::Update => {
                    let mut known = Record::new();
                    known.insert(tkey.to_string(), Value::String(k));
                    items[i].existing = Some(known);
                }
                Some(k) => by_id_map.push((i, k)),
                None => rest.push(i),
            }
        }
        let by_key = resolve(
            self.writer.target,
            &target.entity,
            tkey,
            by_id_map.iter().map(|(_, k)| Value::String(k.clone())),
        )
        .await?;
        for (i, k) in by_id_map {
            match by_key.get(&Value::String(k)) {
                Some(found) => items[i].existing = Some(found.clone()),
                None => rest.push(i),
            }
        }
        let by_match = resolve(
            self.writer.target,
            &target.entity,
            &target.match_.field,
            rest.iter().filter_map(|&i| items[i].match_value.clone()),
        )
        .await?;
        for i in rest {
            let item = &mut items[i];
            if let Some(mv) = &item.match_value {
                item.existing = by_match.get(mv).cloned();
            }
            // Remember where it is: the next run needs no lookup for it.
            let key = item
                .existing
                .as_ref()
                .and_then(|e| e.get(tkey))
                .and_then(key_text);
            if let (Some(sk), Some(k), false) = (&item.source_key, key, self.options.dry_run) {
                self.store
                    .id_map_put(system.as_str(), &target.entity, sk, &k)?;
            }
        }
        if early && target.on_match != OnMatch::Update {
            for item in items
                .iter_mut()
                .filter(|i| i.active() && i.existing.is_some())
            {
                item.done = Some(match target.on_match {
                    OnMatch::Fail => Decision::fail("exists on the target and on_match is fail"),
                    _ => Decision::skip("exists on the target"),
                });
            }
        }
        Ok(())
    }

    /// Transform, late check (match values that needed the requires), decide and write the
    /// page's records.
    async fn upsert(&mut self, items: &mut [Item]) -> Result<(), EngineError> {
        self.check(items, false).await?;
        for item in items.iter_mut() {
            if !item.active() {
                let decision = item
                    .done
                    .take()
                    .unwrap_or_else(|| Decision::skip("not handled"));
                let entity = self.pipeline.target.entity.clone();
                let mv = item.match_value.clone().unwrap_or(Value::Null);
                self.record_outcome(&entity, item, mv, decision, None, None)?;
                continue;
            }
            let mv = item.match_value.clone().unwrap_or(Value::Null);
            match self.eval_map(&self.pipeline.map, item, &[]) {
                Ok(out) => {
                    let existing = item.existing.take();
                    self.decide_and_write(item, out, mv, existing).await?;
                }
                Err(reason) => {
                    let entity = self.pipeline.target.entity.clone();
                    let d = Decision::fail(reason);
                    self.record_outcome(&entity, item, mv, d, None, None)?;
                }
            }
        }
        Ok(())
    }

    async fn decide_and_write(
        &mut self,
        item: &Item,
        out: Record,
        mv: Value,
        existing: Option<Record>,
    ) -> Result<(), EngineError> {
        let pipeline = self.pipeline;
        let target = &pipeline.target;
        let entity = target.entity.as_str();
        let lines_field = target.lines.as_ref().map(|l| l.field.as_str());
        let tkey = key_field(target.system, entity);
        // The match field is equal by definition (up to case): never an update of its own.
        let mut excluded = vec![tkey, target.match_.field.as_str()];
        excluded.extend(lines_field);
        let existing_key = existing
            .as_ref()
            .map(|e| e.get(tkey).cloned().unwrap_or(Value::Null));
        // Remember where an existing record is, so a changed match value still finds it.
        if let (Some(sk), Some(k), false) = (
            &item.source_key,
            existing_key.as_ref().and_then(key_text),
            self.options.dry_run,
        ) {
            self.store
                .id_map_put(target.system.as_str(), entity, sk, &k)?;
        }
        let decision = decide(
            existing.as_ref().zip(existing_key),
            out,
            target.on_match,
            &pipeline.create_only,
            &excluded,
            pipeline.update_only_if_changed,
        );
        match decision {
            Decision::Create { payload } => {
                let mut header = payload.clone();
                let lines = match lines_field {
                    Some(f) => match header.remove(f) {
                        Some(Value::Array(ls)) => {
                            let mut records = Vec::with_capacity(ls.len());
                            for l in ls {
                                match l {
                                    Value::Object(r) => records.push(r),
                                    _ => {
                                        let d =
                                            Decision::fail(format!("{f}: a line is not a record"));
                                        return self
                                            .record_outcome(entity, item, mv, d, None, None);
                                    }
                                }
                            }
                            Some(records)
                        }
                        Some(Value::Null) | None => Some(Vec::new()),
                        Some(_) => {
                            let d = Decision::fail(format!("{f}: not a list of lines"));
                            return self.record_outcome(entity, item, mv, d, None, None);
                        }
                    },
                    None => None,
                };
                let key = MatchKey {
                    field: target.match_.field.clone(),
                    value: mv.clone(),
                };
                let doc = lines.map(|records| DocumentLines {
                    entity: target
                        .lines
                        .as_ref()
                        .map(|l| l.entity.as_str())
                        .unwrap_or_default(),
                    records,
                });
                match self.writer.create(entity, header, doc, &key).await {
                    Ok(stored) => {
                        if let (Some(sk), false) = (&item.source_key, self.options.dry_run) {
                            if let Some(tk) = record_key(target.system, entity, &stored) {
                                self.store
                                    .id_map_put(target.system.as_str(), entity, sk, &tk)?;
                            }
                        }
                        let sent = Value::Object(payload.clone());
                        let d = Decision::Create { payload };
                        self.record_outcome(
                            entity,
                            item,
                            mv,
                            d,
                            Some(sent),
                            Some(Value::Object(stored)),
                        )
                    }
                    Err(WriteError::Record(reason)) => {
                        let d = Decision::fail(format!("create refused: {reason}"));
                        self.record_outcome(entity, item, mv, d, Some(Value::Object(payload)), None)
                    }
                    Err(WriteError::Fatal(e)) => Err(e),
                }
            }
            Decision::Update { key, diff } => {
                let changes: Record = diff
                    .iter()
                    .map(|c| (c.field.clone(), c.new.clone()))
                    .collect();
                match self.writer.update(entity, &key, &changes).await {
                    Ok(()) => {
                        let d = Decision::Update { key, diff };
                        self.record_outcome(entity, item, mv, d, Some(Value::Object(changes)), None)
                    }
                    Err(WriteError::Record(reason)) => {
                        let d = Decision::fail(format!("update refused: {reason}"));
                        self.record_outcome(entity, item, mv, d, Some(Value::Object(changes)), None)
                    }
                    Err(WriteError::Fatal(e)) => Err(e),
                }
            }
            other => self.record_outcome(entity, item, mv, other, None, None),
        }
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
}

impl<'a> RunEnv<'a> {
    /// The environment of `pipeline` in `project`.
    pub fn new(project: &'a Project, pipeline: &Pipeline) -> RunEnv<'a> {
        RunEnv {
            vars: project.vars_for(&pipeline.name),
            tables: &project.tables,
            scripts: project.scripts.as_ref(),
            retention_days: project.config.retention_days,
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

async fn run_pages(runner: &mut Runner<'_>, source: &dyn Connector) -> Result<(), EngineError> {
    let pipeline = runner.pipeline;
    if !runner.options.dry_run {
        runner.report.journal_resolved =
            recover(runner.writer.target, runner.store, &pipeline.name).await?;
    }
    let cursor = runner.store.cursor_get(&pipeline.name)?.map(Cursor);
    let mut query = FetchQuery {
        entity: pipeline.source.entity.clone(),
        filter: pipeline.source.filter.clone(),
        select: Vec::new(),
        expand: pipeline.source.expand.clone(),
        since: if cursor.is_none() {
            runner.options.since
        } else {
            None
        },
        cursor,
    };
    loop {
        let page = source.fetch_page(&query).await?;
        runner.report.pages += 1;
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
        // A page that says "more" without a cursor to continue from would loop forever.
        if !page.more || page.cursor.is_none() || limit_reached {
            return Ok(());
        }
        query.cursor = page.cursor;
        query.since = None;
    }
}
