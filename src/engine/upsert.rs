//! Check, transform, decide and write: the second half of a page. The existence check is
//! batched (one lookup of the page's match values, plus the id map) and runs before the
//! requires, so a record that exists is skipped before anything it needs is touched.

use super::batch::{key_string, resolve};
use super::decide::{decide, Decision};
use super::keys::{key_field, key_text, record_key};
use super::run::{Defaulted, Item, Runner};
use super::write::{DocumentLines, WriteError};
use super::EngineError;
use crate::connectors::{MatchKey, Record};
use crate::pipeline::OnMatch;
use serde_json::Value;

impl Runner<'_> {
    /// The existence check, batched: one lookup of every match value of the page not yet
    /// asked about, plus the id map for records this tool wrote before. `early`: before the
    /// requires, a match value that cannot be computed yet (it uses a require's binding) is
    /// left for later, and records that exist are decided at once unless they may be updated.
    pub(super) async fn check(
        &mut self,
        items: &mut [Item],
        early: bool,
    ) -> Result<(), EngineError> {
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
    pub(super) async fn upsert(&mut self, items: &mut [Item]) -> Result<(), EngineError> {
        self.check(items, false).await?;
        let mut mapped = Vec::with_capacity(items.len());
        for item in items.iter_mut() {
            if !item.active() {
                mapped.push(None);
                continue;
            }
            let out = self.eval_map(&self.pipeline.map, item, &[]);
            if let Ok(out) = &out {
                self.report.mapped += 1;
                item.defaulted = self.defaulted(item, out);
            }
            mapped.push(Some(out));
        }
        self.recheck(items, &mapped).await?;
        for (item, out) in items.iter_mut().zip(mapped) {
            let entity = self.pipeline.target.entity.clone();
            let mv = item.match_value.clone().unwrap_or(Value::Null);
            match out {
                None => {
                    let decision = item
                        .done
                        .take()
                        .unwrap_or_else(|| Decision::skip("not handled"));
                    self.record_outcome(&entity, item, mv, decision, None, None)?;
                }
                Some(Ok(out)) => {
                    let existing = item.existing.take();
                    self.decide_and_write(item, out, mv, existing).await?;
                }
                Some(Err(reason)) => {
                    let d = Decision::fail(reason);
                    self.record_outcome(&entity, item, mv, d, None, None)?;
                }
            }
        }
        Ok(())
    }

    /// Asks the target once more, in one batched call, about the page's records that are
    /// about to be created: another process writing the same systems (a second `exflow` on
    /// its own state) may have created them since the check, which ran before the requires.
    /// A record found now is decided against what was found (skipped or updated), not
    /// created beside it. A dry run asks nothing more, but counts the call.
    async fn recheck(
        &mut self,
        items: &mut [Item],
        mapped: &[Option<Result<Record, String>>],
    ) -> Result<(), EngineError> {
        let creates: Vec<usize> = (0..items.len())
            .filter(|&i| matches!(mapped[i], Some(Ok(_))) && items[i].existing.is_none())
            .filter(|&i| {
                items[i]
                    .match_value
                    .as_ref()
                    .is_some_and(|v| key_string(v).is_some())
            })
            .collect();
        if creates.is_empty() {
            return Ok(());
        }
        if self.options.dry_run {
            self.writer.plan_read();
            return Ok(());
        }
        let target = &self.pipeline.target;
        let found = resolve(
            self.writer.target,
            &target.entity,
            &target.match_.field,
            creates.iter().filter_map(|&i| items[i].match_value.clone()),
        )
        .await?;
        for i in creates {
            let item = &mut items[i];
            if let Some(rec) = item.match_value.as_ref().and_then(|mv| found.get(mv)) {
                // The match value may be personal (an e-mail): the log names the source key.
                tracing::warn!(
                    pipeline = %self.pipeline.name,
                    entity = %target.entity,
                    source_key = item.source_key.as_deref().unwrap_or("-"),
                    "the record appeared on the target after the check (another process?): \
                     matched by {}, not created again",
                    target.match_.field,
                );
                item.existing = Some(rec.clone());
            }
        }
        Ok(())
    }

    /// The mapped fields whose `??` took its default because a source path on its left was
    /// missing: absent from the record (not delivered) or null.
    fn defaulted(&self, item: &Item, out: &Record) -> Vec<Defaulted> {
        let mut found = Vec::new();
        for (field, paths) in &self.pipeline.defaults {
            if !out.contains_key(field) {
                continue;
            }
            for path in paths {
                let (start, rest) = match item.bindings.iter().find(|(n, _)| *n == path[0]) {
                    Some((_, v)) => (v, &path[1..]),
                    None => (&item.source, &path[..]),
                };
                if let Some(absent) = missing(start, rest) {
                    found.push(Defaulted {
                        field: field.clone(),
                        source: path.join("."),
                        absent,
                    });
                }
            }
        }
        found
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

/// Whether `path` below `value` is missing: `Some(true)` when an object on the way lacks the
/// key, `Some(false)` when a value on the way is null, `None` when it is there. A null
/// binding (a join that found nothing) counts as null, not absent.
fn missing(value: &Value, path: &[String]) -> Option<bool> {
    let mut cur = value;
    for key in path {
        match cur {
            Value::Null => return Some(false),
            Value::Object(m) => match m.get(key) {
                Some(v) => cur = v,
                None => return Some(true),
            },
            _ => return None,
        }
    }
    cur.is_null().then_some(false)
}
