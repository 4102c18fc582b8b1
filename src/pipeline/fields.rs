//! Checks of what a map writes into a target entity: field names, writability, types,
//! lengths, required fields, and the keys of document line objects.

use super::compile::Ctx;
use super::diagnostic::Diagnostic;
use super::source::{ExprSource, Loc};
use super::yaml::Spanned;
use crate::lang::ast::ExprKind;
use crate::lang::{self, Type};
use crate::schema::{Entity, FieldType};
use std::collections::BTreeSet;

pub(super) fn unknown_field(entity: &Entity, name: &str, loc: Loc, code: &str) -> Diagnostic {
    let help = entity
        .suggest(name)
        .map(|s| format!("did you mean `{s}`?"))
        .unwrap_or_else(|| {
            format!(
                "`exflow schema {} {}` lists its fields",
                entity.system, entity.name
            )
        });
    Diagnostic::error(
        code,
        loc,
        format!("{} `{}` has no field `{name}`", entity.system, entity.name),
    )
    .with_help(help)
}

/// Whether a value of type `ty` can be written to a field of type `field`.
fn fits(ty: &Type, field: FieldType) -> bool {
    match ty {
        Type::Any | Type::Null => true,
        Type::Text => matches!(
            field,
            FieldType::Text | FieldType::Guid | FieldType::Date | FieldType::Binary
        ),
        Type::Number => matches!(
            field,
            FieldType::Number | FieldType::Int | FieldType::Text | FieldType::Bool
        ),
        Type::Bool => matches!(
            field,
            FieldType::Bool | FieldType::Text | FieldType::Int | FieldType::Number
        ),
        Type::Date => matches!(field, FieldType::Date | FieldType::Text),
        Type::List(_) | Type::Object(_) => field == FieldType::List,
        Type::Record(_) => false,
    }
}

fn type_name(ty: &Type) -> &'static str {
    match ty {
        Type::Any => "any",
        Type::Null => "null",
        Type::Bool => "bool",
        Type::Number => "number",
        Type::Text => "text",
        Type::Date => "date",
        Type::List(_) => "list",
        Type::Object(_) => "object",
        Type::Record(_) => "record",
    }
}

/// A map key with the type and syntax tree of its expression (None when it did not check).
pub(super) type TypedField = (Spanned<String>, Option<(Type, lang::Expr)>);

/// Checks the fields a map writes against `entity`: names, writability, types, lengths, and
/// the required fields it leaves out. `skip` names map keys that are not fields (the lines).
pub(super) fn check_map_fields(
    ctx: &mut Ctx,
    entity: &Entity,
    fields: &[TypedField],
    map_loc: &Loc,
    skip: Option<&str>,
    for_create: bool,
) {
    let mut written = BTreeSet::new();
    for (key, typed) in fields {
        if Some(key.value.as_str()) == skip {
            continue;
        }
        written.insert(key.value.clone());
        let Some(field) = entity.field(&key.value) else {
            ctx.diags
                .push(unknown_field(entity, &key.value, key.loc.clone(), "E106"));
            continue;
        };
        if field.read_only {
            ctx.diags.push(
                Diagnostic::error(
                    "E108",
                    key.loc.clone(),
                    format!(
                        "`{}` is read-only on {} `{}`",
                        field.name, entity.system, entity.name
                    ),
                )
                .with_help("remove it from the map; the system fills it in"),
            );
            continue;
        }
        if let Some((ty, ast)) = typed {
            if !fits(ty, field.ty) {
                ctx.diags.push(
                    Diagnostic::error(
                        "E109",
                        key.loc.clone(),
                        format!(
                            "`{}` is a {} field but the expression gives {}",
                            field.name,
                            field.ty.as_str(),
                            type_name(ty)
                        ),
                    )
                    .with_help(match field.ty {
                        FieldType::Number | FieldType::Int => "convert with `number(x)`",
                        FieldType::Text => "convert with `text(x)`",
                        _ => "convert the value to the field's type",
                    }),
                );
            }
            if let (Some(max), Some(len)) = (field.length, literal_text_len(ast)) {
                if len > max as usize {
                    ctx.diags.push(
                        Diagnostic::error(
                            "E110",
                            key.loc.clone(),
                            format!(
                                "`{}` holds at most {max} characters; this value has {len}",
                                field.name
                            ),
                        )
                        .with_help(format!("shorten it, e.g. `left(x, {max})`")),
                    );
                }
            }
        }
    }
    if for_create {
        let missing: Vec<&str> = entity
            .required_fields()
            .filter(|f| !written.contains(&f.name))
            .map(|f| f.name.as_str())
            .collect();
        for name in missing {
            ctx.diags.push(
                Diagnostic::error(
                    "E107",
                    map_loc.clone(),
                    format!(
                        "required field `{name}` of {} `{}` is not mapped",
                        entity.system, entity.name
                    ),
                )
                .with_help(format!(
                    "add `{name}: ...` to the map; {} refuses a create without it",
                    entity.system
                )),
            );
        }
    }
}

/// Checks that object literals in a list (document lines) only use fields of the line entity.
pub(super) fn check_line_objects(
    ctx: &mut Ctx,
    src: &ExprSource,
    ty: &Type,
    line_entity: &Entity,
    key: &Spanned<String>,
) {
    let Type::List(inner) = ty else {
        if !matches!(ty, Type::Any | Type::Null) {
            ctx.diags.push(Diagnostic::error("E119", key.loc.clone(), format!("`{}` must be a list of line objects, but the expression gives {}", key.value, type_name(ty))).with_help("build the lines with `SalesOrderLines | map(line => { Itemcode: line.ItemCode, ... })`"));
        }
        return;
    };
    let Type::Object(fields) = inner.as_ref() else {
        return;
    };
    let mut written = BTreeSet::new();
    for f in fields {
        written.insert(f.name.clone());
        let loc = src.loc(f.span.start..f.span.end);
        match line_entity.field(&f.name) {
            None => ctx
                .diags
                .push(unknown_field(line_entity, &f.name, loc, "E106")),
            Some(field) if field.read_only => ctx.diags.push(Diagnostic::error(
                "E108",
                loc,
                format!(
                    "`{}` is read-only on {} `{}`",
                    field.name, line_entity.system, line_entity.name
                ),
            )),
            Some(field) if !fits(&f.ty, field.ty) => ctx.diags.push(Diagnostic::error(
                "E109",
                loc,
                format!(
                    "`{}` is a {} field but the expression gives {}",
                    field.name,
                    field.ty.as_str(),
                    type_name(&f.ty)
                ),
            )),
            Some(_) => {}
        }
    }
    for req in line_entity
        .required_fields()
        .filter(|f| !written.contains(&f.name))
    {
        ctx.diags.push(Diagnostic::error(
            "E107",
            key.loc.clone(),
            format!(
                "required field `{}` of {} `{}` is not set in the line objects",
                req.name, line_entity.system, line_entity.name
            ),
        ));
    }
}

/// The length of a constant text expression (a length check needs nothing more).
pub(super) fn literal_text_len(e: &lang::Expr) -> Option<usize> {
    match &e.kind {
        ExprKind::Literal(serde_json::Value::String(s)) => Some(s.chars().count()),
        _ => None,
    }
}

/// The field name when the expression is just a field of the record.
pub(super) fn simple_path(e: &lang::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(n.clone()),
        _ => None,
    }
}
