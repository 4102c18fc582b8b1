//! Checking a pipeline against the catalogue and compiling its expressions: every error at
//! once, each at its own line and column.

use super::def::{MatchDef, PipelineDef};
use super::diagnostic::{Diagnostic, Diagnostics};
use super::fields::{check_line_objects, check_map_fields, simple_path, unknown_field};
use super::model::*;
use super::source::ExprSource;
use super::source_fields;
use super::yaml::Spanned;
use crate::lang::{self, CheckEnv, LangError, Program, Type};
use crate::schema::System;
use crate::schema::{self, shape, Entity};
use std::collections::{BTreeMap, BTreeSet};

/// What expressions may refer to besides the record: the project's vars, tables and scripts.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Known variable names (project and pipeline).
    pub vars: BTreeSet<String>,
    /// Known mapping tables.
    pub tables: BTreeSet<String>,
    /// rhai functions and their arity.
    pub scripts: BTreeMap<String, usize>,
}

pub(super) struct Ctx<'a> {
    pub(super) diags: &'a mut Diagnostics,
    scope: &'a Scope,
    /// Source record fields named by any expression, with where each is first named.
    record_fields: Vec<(String, super::source::Loc)>,
}

impl Ctx<'_> {
    fn push_lang(&mut self, src: &ExprSource, errors: Vec<LangError>) {
        for e in errors {
            let loc = src.loc(e.span.start..e.span.end);
            let mut d = Diagnostic::error(e.code.as_str(), loc, e.message.clone());
            d.help = e.help.clone();
            d.label = "here".to_string();
            self.diags.push(d);
        }
    }

    /// Parses, checks and compiles one expression; returns its type and program.
    fn expr(
        &mut self,
        src: &ExprSource,
        root: &Type,
        bindings: &[(String, Type)],
    ) -> Option<(Type, Program, lang::Expr)> {
        let ast = match lang::parse(&src.text) {
            Ok(a) => a,
            Err(errs) => {
                self.push_lang(src, errs);
                return None;
            }
        };
        let env = CheckEnv {
            root: root.clone(),
            bindings: bindings.to_vec(),
            vars: Some(self.scope.vars.clone()),
            tables: Some(self.scope.tables.clone()),
            scripts: self.scope.scripts.clone(),
        };
        let (ty, errs, warnings) = lang::check_warn(&ast, &env);
        for w in warnings {
            let loc = src.loc(w.span.start..w.span.end);
            let mut d = Diagnostic::warning(w.code.as_str(), loc, w.message.clone());
            d.help = w.help.clone();
            d.label = "here".to_string();
            self.diags.push(d);
        }
        if !errs.is_empty() {
            self.push_lang(src, errs);
            return None;
        }
        let bound: Vec<&str> = bindings.iter().map(|(n, _)| n.as_str()).collect();
        for (name, span) in source_fields::record_fields(&ast, &bound) {
            if !self.record_fields.iter().any(|(n, _)| *n == name) {
                self.record_fields
                    .push((name, src.loc(span.start..span.end)));
            }
        }
        match lang::compile(&ast) {
            Ok(p) => Some((ty, p, ast)),
            Err(errs) => {
                self.push_lang(src, errs);
                None
            }
        }
    }
}

fn system(ctx: &mut Ctx, s: &Spanned<String>) -> Option<System> {
    let sys = System::parse(&s.value);
    if sys.is_none() {
        ctx.diags.push(
            Diagnostic::error(
                "E104",
                s.loc.clone(),
                format!("unknown system `{}`", s.value),
            )
            .with_help("systems are `exact_online` and `exact_globe`"),
        );
    }
    sys
}

fn entity(ctx: &mut Ctx, sys: System, name: &Spanned<String>) -> Option<&'static Entity> {
    let cat = schema::catalogue();
    match cat.entity(sys, &name.value) {
        Some(e) => Some(e),
        None => {
            let help = cat
                .suggest_entity(sys, &name.value)
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("`exflow schema {sys}` lists the entities"));
            ctx.diags.push(
                Diagnostic::error(
                    "E105",
                    name.loc.clone(),
                    format!("{sys} has no entity `{}`", name.value),
                )
                .with_help(help),
            );
            None
        }
    }
}

fn on_match(ctx: &mut Ctx, s: &Option<Spanned<String>>, default: OnMatch) -> OnMatch {
    match s {
        None => default,
        Some(s) => OnMatch::parse(&s.value).unwrap_or_else(|| {
            ctx.diags.push(
                Diagnostic::error(
                    "E113",
                    s.loc.clone(),
                    format!("`{}` is not a choice for on_match", s.value),
                )
                .with_help("on_match is `skip`, `update` or `fail`"),
            );
            default
        }),
    }
}

fn on_missing(ctx: &mut Ctx, s: &Option<Spanned<String>>) -> OnMissing {
    match s {
        None => OnMissing::Fail,
        Some(s) => OnMissing::parse(&s.value).unwrap_or_else(|| {
            ctx.diags.push(
                Diagnostic::error(
                    "E113",
                    s.loc.clone(),
                    format!("`{}` is not a choice for on_missing", s.value),
                )
                .with_help("on_missing is `create`, `fail` or `skip_record`"),
            );
            OnMissing::Fail
        }),
    }
}

fn match_spec(
    ctx: &mut Ctx,
    m: &MatchDef,
    entity: Option<&Entity>,
    root: &Type,
    bindings: &[(String, Type)],
) -> Option<MatchSpec> {
    if let Some(e) = entity {
        if e.field(&m.field.value).is_none() {
            ctx.diags.push(unknown_field(
                e,
                &m.field.value,
                m.field.loc.clone(),
                "E112",
            ));
        }
    }
    let (_, value, _) = ctx.expr(&m.value, root, bindings)?;
    Some(MatchSpec {
        field: m.field.value.clone(),
        value,
    })
}

fn create_only(ctx: &mut Ctx, names: &[Spanned<String>], entity: Option<&Entity>) -> Vec<String> {
    for n in names {
        if let Some(e) = entity {
            if e.field(&n.value).is_none() {
                ctx.diags
                    .push(unknown_field(e, &n.value, n.loc.clone(), "E112"));
            }
        }
    }
    names.iter().map(|n| n.value.clone()).collect()
}

fn element_type(ty: &Type) -> Type {
    match ty {
        Type::List(inner) => inner.as_ref().clone(),
        _ => Type::Any,
    }
}

/// Checks a pipeline definition and compiles it. Diagnostics go to `diags`; `None` when any
/// error was found.
pub fn compile(def: &PipelineDef, scope: &Scope, diags: &mut Diagnostics) -> Option<Pipeline> {
    let before = diags.error_count();
    let mut ctx = Ctx {
        diags,
        scope,
        record_fields: Vec::new(),
    };
    let src_sys = system(&mut ctx, &def.source.system);
    let tgt_sys = system(&mut ctx, &def.target.system);
    let src_entity = src_sys.and_then(|s| entity(&mut ctx, s, &def.source.entity));
    let tgt_entity = tgt_sys.and_then(|s| entity(&mut ctx, s, &def.target.entity));
    let root = src_entity.map(shape::record_type).unwrap_or(Type::Any);

    for x in &def.source.expand {
        if let Some(e) = src_entity {
            if e.field(&x.value).is_none() {
                ctx.diags
                    .push(unknown_field(e, &x.value, x.loc.clone(), "E112"));
            }
        }
    }

    // Joins: related source records, visible in every later expression.
    let mut bindings: Vec<(String, Type)> = Vec::new();
    let mut joins = Vec::new();
    for (name, ent, on) in &def.source.joins {
        let je = src_sys.and_then(|s| entity(&mut ctx, s, ent));
        if let Some(je) = je {
            if je.field(&on.field.value).is_none() {
                ctx.diags.push(unknown_field(
                    je,
                    &on.field.value,
                    on.field.loc.clone(),
                    "E112",
                ));
            }
        }
        if let Some((_, value, _)) = ctx.expr(&on.value, &root, &bindings) {
            joins.push(Join {
                name: name.value.clone(),
                entity: ent.value.clone(),
                key_field: on.field.value.clone(),
                value,
            });
        }
        bindings.push((
            name.value.clone(),
            je.map(shape::record_type).unwrap_or(Type::Any),
        ));
    }
    let where_ = def
        .source
        .where_
        .as_ref()
        .and_then(|w| ctx.expr(w, &root, &bindings));
    let mut read_exprs: Vec<lang::Expr> = where_
        .as_ref()
        .map(|(_, _, a)| a.clone())
        .into_iter()
        .collect();
    let where_ = where_.map(|(_, p, _)| p);

    // Requires, in order: each sees the bindings before it.
    let mut requires = Vec::new();
    for rq in &def.requires {
        let re = tgt_sys.and_then(|s| entity(&mut ctx, s, &rq.entity));
        let when = rq
            .when
            .as_ref()
            .and_then(|w| ctx.expr(w, &root, &bindings).map(|(_, p, _)| p));
        let mut inner = bindings.clone();
        let each = match &rq.each {
            Some((list, binding)) => {
                let compiled = ctx.expr(list, &root, &bindings);
                let elem = compiled
                    .as_ref()
                    .map(|(t, _, _)| element_type(t))
                    .unwrap_or(Type::Any);
                inner.push((binding.value.clone(), elem));
                compiled.map(|(_, p, _)| Each {
                    list: p,
                    binding: binding.value.clone(),
                })
            }
            None => None,
        };
        let match_ = rq
            .match_
            .as_ref()
            .and_then(|m| match_spec(&mut ctx, m, re, &root, &inner));
        let om = on_missing(&mut ctx, &rq.on_missing);
        let on_m = on_match(&mut ctx, &rq.on_match, OnMatch::Skip);
        let mut typed = Vec::new();
        let mut map = Vec::new();
        for (key, src) in &rq.map {
            let r = ctx.expr(src, &root, &inner);
            typed.push((
                key.clone(),
                r.as_ref().map(|(t, _, a)| (t.clone(), a.clone())),
            ));
            if let Some((_, p, _)) = r {
                map.push((key.value.clone(), p));
            }
        }
        if let Some(re) = re {
            check_map_fields(&mut ctx, re, &typed, &rq.loc, None, om == OnMissing::Create);
        }
        let co = create_only(&mut ctx, &rq.create_only, re);
        if rq.each.is_some() && each.is_none() {
            continue;
        }
        if let Some(match_) = match_ {
            requires.push(Require {
                name: rq.name.value.clone(),
                entity: rq.entity.value.clone(),
                each,
                when,
                match_,
                on_missing: om,
                on_match: on_m,
                map,
                create_only: co,
            });
        }
        // A required record binds to the target record (null when `when` is false).
        let ty = if rq.each.is_some() {
            Type::List(Box::new(re.map(shape::record_type).unwrap_or(Type::Any)))
        } else {
            re.map(shape::record_type).unwrap_or(Type::Any)
        };
        bindings.push((rq.name.value.clone(), ty));
    }

    // Target.
    let lines = match &def.target.lines {
        Some((le, field)) => {
            let lent = tgt_sys.and_then(|s| entity(&mut ctx, s, le));
            if !def.map.iter().any(|(k, _)| k.value == field.value) {
                ctx.diags.push(
                    Diagnostic::error(
                        "E119",
                        field.loc.clone(),
                        format!(
                            "`lines.field` is `{}` but the map has no such key",
                            field.value
                        ),
                    )
                    .with_help(format!(
                        "add `{}: <list of line objects>` to the map",
                        field.value
                    )),
                );
            }
            lent.map(|l| (l, field.value.clone()))
        }
        None => None,
    };
    let target_match = def
        .target
        .match_
        .as_ref()
        .and_then(|m| match_spec(&mut ctx, m, tgt_entity, &root, &bindings));
    let target_on_match = on_match(&mut ctx, &def.target.on_match, OnMatch::Skip);

    let mut typed = Vec::new();
    let mut map = Vec::new();
    let mut defaults = Vec::new();
    for (key, src) in &def.map {
        let r = ctx.expr(src, &root, &bindings);
        if let Some((_, _, ast)) = &r {
            let paths = source_fields::coalesced_paths(ast);
            if !paths.is_empty() {
                defaults.push((key.value.clone(), paths));
            }
        }
        if let (Some((lent, lfield)), Some((ty, _, _))) = (&lines, &r) {
            if &key.value == lfield {
                check_line_objects(&mut ctx, src, ty, lent, key);
            }
        }
        typed.push((
            key.clone(),
            r.as_ref().map(|(t, _, a)| (t.clone(), a.clone())),
        ));
        if let Some((_, p, a)) = r {
            map.push((key.value.clone(), p));
            read_exprs.push(a);
        }
    }
    if let Some(te) = tgt_entity {
        let skip = lines.as_ref().map(|(_, f)| f.as_str());
        check_map_fields(&mut ctx, te, &typed, &def.map_loc, skip, def.map_valid);
        // A source field longer than the target field it is copied into, straight.
        for (key, t) in &typed {
            let (Some(tf), Some((_, ast)), Some(se)) = (te.field(&key.value), t, src_entity) else {
                continue;
            };
            if let (Some(max), Some(path)) = (tf.length, simple_path(ast)) {
                if let Some(sl) = se.field(&path).and_then(|f| f.length) {
                    if sl > max {
                        ctx.diags.push(
                            Diagnostic::warning(
                                "E120",
                                key.loc.clone(),
                                format!(
                                    "`{path}` holds up to {sl} characters but `{}` only {max}",
                                    tf.name
                                ),
                            )
                            .with_help(format!("use `left({path}, {max})` if long values occur")),
                        );
                    }
                }
            }
        }
    }
    let co = create_only(&mut ctx, &def.create_only, tgt_entity);
    let complement = src_entity.and_then(|e| complement(&mut ctx, e, def.source.filter.is_some()));
    if let Some(s) = &def.schedule {
        if let Err(e) = super::schedule::Schedule::parse(&s.value) {
            let d = Diagnostic::error("E121", s.loc.clone(), e);
            ctx.diags
                .push(d.with_help("e.g. `*/15 * * * *` (every 15 minutes, UTC)"));
        }
    }

    let ok = ctx.diags.error_count() == before;
    if !ok {
        return None;
    }
    Some(Pipeline {
        name: def.name.value.clone(),
        description: def.description.clone(),
        file: def.file.path.clone(),
        source: Source {
            system: src_sys?,
            entity: def.source.entity.value.clone(),
            filter: def.source.filter.as_ref().map(|f| f.value.clone()),
            where_,
            expand: def.source.expand.iter().map(|x| x.value.clone()).collect(),
            joins,
            complement,
        },
        target: Target {
            system: tgt_sys?,
            entity: def.target.entity.value.clone(),
            lines: lines.map(|(l, f)| Lines {
                entity: l.name.clone(),
                field: f,
            }),
            match_: target_match?,
            on_match: target_on_match,
        },
        requires,
        map,
        create_only: co,
        update_only_if_changed: def.update_only_if_changed,
        schedule: def.schedule.as_ref().map(|s| s.value.clone()),
        defaults,
        reads: super::reads::reads_of(&read_exprs),
    })
}

/// The fields the pipeline reads that the endpoint its records come from leaves out: each
/// gets a warning with what it costs, and the engine fetches them per page.
fn complement(ctx: &mut Ctx, source: &Entity, filtered: bool) -> Option<Complement> {
    let read = source.read_endpoint(filtered);
    let mut fields: Vec<String> = Vec::new();
    let mut endpoint: Option<&str> = None;
    for (name, loc) in &ctx.record_fields {
        if !read.lacks.iter().any(|l| l == name) {
            continue;
        }
        let Some(from) = source.complement_endpoint(name) else {
            continue;
        };
        ctx.diags.push(
            Diagnostic::warning(
                "E130",
                loc.clone(),
                format!(
                    "`{}` does not deliver `{name}`; exflow reads it for every page from `{from}`",
                    read.path
                ),
            )
            .with_help(format!(
                "this costs one extra {} call per page of up to about 100 records (10 per 1,000); \
                 drop the field from the pipeline if you do not need it",
                source.system
            )),
        );
        // One endpoint serves all of them (bulk has what sync lacks, else the entity path).
        endpoint.get_or_insert(from);
        fields.push(name.clone());
    }
    Some(Complement {
        read_from: read.path.to_string(),
        endpoint: endpoint?.to_string(),
        fields,
    })
}
