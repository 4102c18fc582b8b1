//! `requires`: the target records a record needs before it can be written (the customer of
//! an order, every item of its lines). Per page and per require, every match value is
//! collected and resolved with one batched lookup; then per record each required record is
//! used as found, updated when it changed, created when missing, or the record fails (the
//! reason names the missing keys) or is skipped. Requires run in order, each seeing the
//! bindings of the ones before; a require whose `when` is false binds null.

use super::batch::{key_string, resolve, KeyIndex};
use super::decide::{diff, Decision};
use super::keys::key_field;
use super::run::{Item, Runner};
use super::write::WriteError;
use super::EngineError;
use crate::connectors::{MatchKey, Record};
use crate::pipeline::apply::condition;
use crate::pipeline::{OnMatch, OnMissing, Require};
use serde_json::Value;

/// Resolves every require of the pipeline for the active records of a page.
pub(super) async fn resolve_requires(
    runner: &mut Runner<'_>,
    items: &mut [Item],
) -> Result<(), EngineError> {
    let pipeline = runner.pipeline;
    for req in &pipeline.requires {
        resolve_one(runner, req, items).await?;
    }
    Ok(())
}

/// One element a record requires: the `each` element (if any) and its match value.
type Element = (Option<Value>, Value);

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// The elements of one record, `None` when the require does not apply (`when` false).
fn elements(
    runner: &Runner<'_>,
    req: &Require,
    item: &Item,
) -> Result<Option<Vec<Element>>, String> {
    if let Some(when) = &req.when {
        match runner.eval(when, item, &[]).map(|v| condition(&v)) {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return Ok(None),
            Ok(Err(e)) => return Err(format!("{} when {e}", req.name)),
            Err(e) => return Err(format!("{} when: {e}", req.name)),
        }
    }
    let list: Vec<Option<Value>> = match &req.each {
        Some(each) => match runner.eval(&each.list, item, &[]) {
            Ok(Value::Array(a)) => a.into_iter().map(Some).collect(),
            Ok(Value::Null) => Vec::new(),
            Ok(_) => return Err(format!("{}: each is not a list", req.name)),
            Err(e) => return Err(format!("{} each: {e}", req.name)),
        },
        None => vec![None],
    };
    let mut out = Vec::with_capacity(list.len());
    for elem in list {
        let extra: Vec<(&str, &Value)> = match (&req.each, &elem) {
            (Some(each), Some(v)) => vec![(each.binding.as_str(), v)],
            _ => Vec::new(),
        };
        let mv = runner
            .eval(&req.match_.value, item, &extra)
            .map_err(|e| format!("{} match {}: {e}", req.name, req.match_.field))?;
        if key_string(&mv).is_none() {
            return Err(format!(
                "{}: the {} to find {} by is empty",
                req.name, req.match_.field, req.entity
            ));
        }
        out.push((elem, mv));
    }
    Ok(Some(out))
}

async fn resolve_one(
    runner: &mut Runner<'_>,
    req: &Require,
    items: &mut [Item],
) -> Result<(), EngineError> {
    let mut wants: Vec<Option<Vec<Element>>> = Vec::with_capacity(items.len());
    for item in items.iter_mut() {
        if !item.active() {
            wants.push(None);
            continue;
        }
        match elements(runner, req, item) {
            Ok(Some(e)) => wants.push(Some(e)),
            Ok(None) => {
                item.bindings.push((req.name.clone(), Value::Null));
                wants.push(None);
            }
            Err(reason) => {
                item.done = Some(Decision::fail(reason));
                wants.push(None);
            }
        }
    }
    let cache_key = (req.entity.clone(), req.match_.field.clone());
    let mut seen = runner.seen.remove(&cache_key).unwrap_or_default();
    let result = resolve_with(runner, req, items, wants, &mut seen).await;
    runner.seen.insert(cache_key, seen);
    result
}

async fn resolve_with(
    runner: &mut Runner<'_>,
    req: &Require,
    items: &mut [Item],
    wants: Vec<Option<Vec<Element>>>,
    seen: &mut KeyIndex,
) -> Result<(), EngineError> {
    let field = req.match_.field.as_str();
    let values: Vec<Value> = wants
        .iter()
        .flatten()
        .flatten()
        .map(|(_, mv)| mv.clone())
        .filter(|mv| !seen.contains(mv))
        .collect();
    let found = resolve(runner.writer.target, &req.entity, field, values).await?;
    let tkey = key_field(runner.pipeline.target.system, &req.entity);

    for (item, want) in items.iter_mut().zip(wants) {
        let Some(elems) = want else { continue };
        let mut bound: Vec<Value> = Vec::with_capacity(elems.len());
        let mut missing: Vec<String> = Vec::new();
        for (elem, mv) in elems {
            let extra: Vec<(&str, &Value)> = match (&req.each, &elem) {
                (Some(each), Some(v)) => vec![(each.binding.as_str(), v)],
                _ => Vec::new(),
            };
            let existing = seen.get(&mv).or_else(|| found.get(&mv)).cloned();
            let outcome = match existing {
                Some(rec) => on_found(runner, req, item, &extra, &mv, rec, tkey).await?,
                None => on_missing(runner, req, item, &extra, &mv).await?,
            };
            match outcome {
                Found::Bound(rec) => {
                    seen.insert(&mv, rec.clone());
                    bound.push(Value::Object(rec));
                }
                Found::Missing => missing.push(describe(&mv)),
                Found::Done(decision) => {
                    item.done = Some(decision);
                    break;
                }
            }
        }
        if item.active() && !missing.is_empty() {
            item.done = Some(Decision::fail(format!(
                "{}: {} not found by {}: {}",
                req.name,
                req.entity,
                field,
                missing.join(", ")
            )));
        }
        if item.active() {
            let value = if req.each.is_some() {
                Value::Array(bound)
            } else {
                bound.pop().unwrap_or(Value::Null)
            };
            item.bindings.push((req.name.clone(), value));
        }
    }
    Ok(())
}

/// What became of one required element.
enum Found {
    /// The target record to bind.
    Bound(Record),
    /// Missing, and the record fails for it (collected to name every missing key at once).
    Missing,
    /// The record is decided (failed or skipped) because of it.
    Done(Decision),
}

async fn on_found(
    runner: &mut Runner<'_>,
    req: &Require,
    item: &Item,
    extra: &[(&str, &Value)],
    mv: &Value,
    rec: Record,
    tkey: &str,
) -> Result<Found, EngineError> {
    match req.on_match {
        OnMatch::Skip => Ok(Found::Bound(rec)),
        OnMatch::Fail => Ok(Found::Done(Decision::fail(format!(
            "{}: {} with {} {} exists (on_match fail)",
            req.name,
            req.entity,
            req.match_.field,
            describe(mv)
        )))),
        OnMatch::Update => {
            let desired = match runner.eval_map(&req.map, item, extra) {
                Ok(d) => d,
                Err(e) => return Ok(Found::Done(Decision::fail(format!("{}: {e}", req.name)))),
            };
            let changes = diff(&rec, &desired, &req.create_only, &[tkey], true);
            if changes.is_empty() {
                return Ok(Found::Bound(rec));
            }
            let key = rec.get(tkey).cloned().unwrap_or(Value::Null);
            if key.is_null() {
                return Ok(Found::Done(Decision::fail(format!(
                    "{}: the {} found has no {tkey}",
                    req.name, req.entity
                ))));
            }
            let patch: Record = changes
                .iter()
                .map(|c| (c.field.clone(), c.new.clone()))
                .collect();
            match runner.writer.update(&req.entity, &key, &patch).await {
                Ok(()) => {
                    let mut updated = rec;
                    updated.extend(patch.clone());
                    let d = Decision::Update { key, diff: changes };
                    runner.record_outcome(
                        &req.entity,
                        item,
                        mv.clone(),
                        d,
                        Some(Value::Object(patch)),
                        None,
                    )?;
                    Ok(Found::Bound(updated))
                }
                Err(WriteError::Record(reason)) => Ok(Found::Done(Decision::fail(format!(
                    "{}: updating {} {} refused: {reason}",
                    req.name,
                    req.entity,
                    describe(mv)
                )))),
                Err(WriteError::Fatal(e)) => Err(e),
            }
        }
    }
}

async fn on_missing(
    runner: &mut Runner<'_>,
    req: &Require,
    item: &Item,
    extra: &[(&str, &Value)],
    mv: &Value,
) -> Result<Found, EngineError> {
    match req.on_missing {
        OnMissing::Fail => Ok(Found::Missing),
        OnMissing::SkipRecord => Ok(Found::Done(Decision::skip(format!(
            "{}: {} with {} {} does not exist",
            req.name,
            req.entity,
            req.match_.field,
            describe(mv)
        )))),
        OnMissing::Create => {
            // A create the target refused earlier in this run is not tried again.
            let refused_key = (req.entity.clone(), key_string(mv).unwrap_or_default());
            if let Some(reason) = runner.refused.get(&refused_key) {
                return Ok(Found::Done(Decision::fail(reason.clone())));
            }
            let mut payload = match runner.eval_map(&req.map, item, extra) {
                Ok(d) => d,
                Err(e) => return Ok(Found::Done(Decision::fail(format!("{}: {e}", req.name)))),
            };
            // The match field is how the record is found again (after a crash, next run).
            payload
                .entry(req.match_.field.clone())
                .or_insert_with(|| mv.clone());
            let key = MatchKey {
                field: req.match_.field.clone(),
                value: mv.clone(),
            };
            match runner
                .writer
                .create(&req.entity, payload.clone(), None, &key)
                .await
            {
                Ok(stored) => {
                    let mut bound = payload.clone();
                    bound.extend(stored.clone());
                    let d = Decision::Create {
                        payload: payload.clone(),
                    };
                    runner.record_outcome(
                        &req.entity,
                        item,
                        mv.clone(),
                        d,
                        Some(Value::Object(payload)),
                        Some(Value::Object(stored)),
                    )?;
                    Ok(Found::Bound(bound))
                }
                Err(WriteError::Record(reason)) => {
                    let reason = format!(
                        "{}: creating {} {} refused: {reason}",
                        req.name,
                        req.entity,
                        describe(mv)
                    );
                    runner.refused.insert(refused_key, reason.clone());
                    Ok(Found::Done(Decision::fail(reason)))
                }
                Err(WriteError::Fatal(e)) => Err(e),
            }
        }
    }
}
