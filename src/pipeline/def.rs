//! A pipeline file as written: every value with its position, nothing resolved yet.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::source::{ExprSource, Loc, SourceFile};
use super::yaml::{self, Reader, Spanned};
use marked_yaml::types::MarkedMappingNode;
use marked_yaml::Node;
use std::sync::Arc;

/// The keys a pipeline file may have.
pub const PIPELINE_KEYS: &[&str] = &[
    "pipeline",
    "description",
    "source",
    "target",
    "requires",
    "map",
    "create_only",
    "update_only_if_changed",
    "schedule",
    "vars",
];
pub(crate) const SOURCE_KEYS: &[&str] = &["system", "entity", "filter", "where", "expand", "join"];
pub(crate) const TARGET_KEYS: &[&str] = &["system", "entity", "lines", "match", "on_match"];
pub(crate) const LINES_KEYS: &[&str] = &["entity", "field"];
pub(crate) const JOIN_KEYS: &[&str] = &["entity", "on"];
pub(crate) const REQUIRE_KEYS: &[&str] = &[
    "entity",
    "each",
    "as",
    "when",
    "match",
    "on_missing",
    "on_match",
    "map",
    "create_only",
];

/// `Field == expression`, as in `match:` and `on:`.
#[derive(Debug, Clone)]
pub struct MatchDef {
    /// The property on the entity matched.
    pub field: Spanned<String>,
    /// The expression giving the value.
    pub value: ExprSource,
}

/// `source:` as written.
#[derive(Debug, Clone)]
pub struct SourceDef {
    /// System name.
    pub system: Spanned<String>,
    /// Entity name.
    pub entity: Spanned<String>,
    /// Native OData filter.
    pub filter: Option<Spanned<String>>,
    /// Expression filter.
    pub where_: Option<ExprSource>,
    /// Navigation properties.
    pub expand: Vec<Spanned<String>>,
    /// Related records: binding, entity, `Key == expr`.
    pub joins: Vec<(Spanned<String>, Spanned<String>, MatchDef)>,
}

/// `target:` as written.
#[derive(Debug, Clone)]
pub struct TargetDef {
    /// System name.
    pub system: Spanned<String>,
    /// Entity name.
    pub entity: Spanned<String>,
    /// Line entity and the map field holding the lines.
    pub lines: Option<(Spanned<String>, Spanned<String>)>,
    /// How an existing record is found.
    pub match_: Option<MatchDef>,
    /// `skip | update | fail`.
    pub on_match: Option<Spanned<String>>,
}

/// One entry of `requires:` as written.
#[derive(Debug, Clone)]
pub struct RequireDef {
    /// Binding name.
    pub name: Spanned<String>,
    /// Target entity.
    pub entity: Spanned<String>,
    /// List expression and element binding.
    pub each: Option<(ExprSource, Spanned<String>)>,
    /// Condition.
    pub when: Option<ExprSource>,
    /// How the required record is found.
    pub match_: Option<MatchDef>,
    /// `create | fail | skip_record`.
    pub on_missing: Option<Spanned<String>>,
    /// `skip | update`.
    pub on_match: Option<Spanned<String>>,
    /// Field mapping for create/update.
    pub map: Vec<(Spanned<String>, ExprSource)>,
    /// Create-only fields.
    pub create_only: Vec<Spanned<String>>,
    /// Where the entry starts.
    pub loc: Loc,
}

/// A whole pipeline file as written.
#[derive(Debug, Clone)]
pub struct PipelineDef {
    /// The file.
    pub file: Arc<SourceFile>,
    /// `pipeline:` name.
    pub name: Spanned<String>,
    /// `description:`.
    pub description: String,
    /// `source:`.
    pub source: SourceDef,
    /// `target:`.
    pub target: TargetDef,
    /// `requires:`, in order.
    pub requires: Vec<RequireDef>,
    /// `map:` in order, with the position of the `map` key.
    pub map: Vec<(Spanned<String>, ExprSource)>,
    /// Position of the `map:` key.
    pub map_loc: Loc,
    /// Whether `map:` could be read (else required-field checks would only add noise).
    pub map_valid: bool,
    /// `create_only:`.
    pub create_only: Vec<Spanned<String>>,
    /// `update_only_if_changed:` (default true).
    pub update_only_if_changed: bool,
    /// `schedule:`.
    pub schedule: Option<Spanned<String>>,
    /// Pipeline-level `vars:` (override the project's).
    pub vars: serde_json::Map<String, serde_json::Value>,
}

/// Reads a pipeline file; `None` when it is too broken to go on (diagnostics say why).
pub fn read(file: &Arc<SourceFile>, diags: &mut Diagnostics) -> Option<PipelineDef> {
    let root = match yaml::parse(file) {
        Ok(n) => n,
        Err(d) => {
            diags.push(*d);
            return None;
        }
    };
    let mut r = Reader::new(file.clone(), diags);
    let top = r.mapping(&root, "a pipeline file")?;
    // "missing key" diagnostics point at the first key of the file.
    let top_loc = match top.iter().next() {
        Some((k, _)) => r.key_loc(k),
        None => r.loc(&root),
    };
    r.check_keys(top, PIPELINE_KEYS, "a pipeline");
    let name = r.text(top, "pipeline", Some(&top_loc));
    let description = r
        .text(top, "description", None)
        .map(|s| s.value)
        .unwrap_or_default();
    let source = read_source(&mut r, top, &top_loc);
    let target = read_target(&mut r, top, &top_loc);
    let requires = read_requires(&mut r, top);
    let map_valid = matches!(r.entry(top, "map"), Some((_, Node::Mapping(_))));
    let (map, map_loc) = match r.entry(top, "map") {
        Some((k, node)) => {
            let loc = r.key_loc(k);
            (read_map(&mut r, node, "map"), loc)
        }
        None => {
            r.diags.push(
                Diagnostic::error("E103", top_loc.clone(), "missing `map`")
                    .with_help("`map:` lists target fields and the expressions that fill them"),
            );
            (Vec::new(), top_loc.clone())
        }
    };
    let create_only = r.names(top, "create_only");
    let update_only_if_changed = r.boolean(top, "update_only_if_changed").unwrap_or(true);
    let schedule = r.text(top, "schedule", None);
    let vars = match r.entry(top, "vars") {
        Some((_, node @ Node::Mapping(_))) => match yaml::to_json(node) {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
        Some((_, node)) => {
            let loc = r.loc(node);
            r.diags.push(Diagnostic::error(
                "E101",
                loc,
                "`vars` must be a mapping of names to values",
            ));
            serde_json::Map::new()
        }
        None => serde_json::Map::new(),
    };
    Some(PipelineDef {
        file: file.clone(),
        name: name?,
        description,
        source: source?,
        target: target?,
        requires,
        map,
        map_loc,
        map_valid,
        create_only,
        update_only_if_changed,
        schedule,
        vars,
    })
}

fn section<'n>(
    r: &mut Reader,
    top: &'n MarkedMappingNode,
    key: &str,
    parent: &Loc,
) -> Option<(&'n MarkedMappingNode, Loc)> {
    match r.entry(top, key) {
        Some((k, node)) => {
            let loc = r.key_loc(k);
            r.mapping(node, &format!("`{key}`")).map(|m| (m, loc))
        }
        None => {
            r.diags.push(Diagnostic::error(
                "E103",
                parent.clone(),
                format!("missing `{key}`"),
            ));
            None
        }
    }
}

fn read_source(r: &mut Reader, top: &MarkedMappingNode, top_loc: &Loc) -> Option<SourceDef> {
    let (m, loc) = section(r, top, "source", top_loc)?;
    r.check_keys(m, SOURCE_KEYS, "`source`");
    let system = r.text(m, "system", Some(&loc));
    let entity = r.text(m, "entity", Some(&loc));
    let filter = r.text(m, "filter", None);
    let where_ = r.entry(m, "where").and_then(|(_, n)| r.expr(n, "`where`"));
    let expand = r.names(m, "expand");
    let mut joins = Vec::new();
    if let Some((_, node)) = r.entry(m, "join") {
        if let Some(jm) = r.mapping(node, "`join`") {
            for (k, v) in jm.iter() {
                let name = Spanned {
                    value: k.as_str().to_string(),
                    loc: r.key_loc(k),
                };
                let Some(j) = r.mapping(v, &format!("join `{}`", k.as_str())) else {
                    continue;
                };
                r.check_keys(j, JOIN_KEYS, "a join");
                let jentity = r.text(j, "entity", Some(&name.loc));
                let on = match r.entry(j, "on") {
                    Some((_, n)) => r.expr(n, "`on`").and_then(|e| split_match(r, e)),
                    None => {
                        r.diags.push(Diagnostic::error("E103", name.loc.clone(), "missing `on`").with_help("write `on: ID == OrderedBy`: the joined entity's field, then the value from the record"));
                        None
                    }
                };
                if let (Some(e), Some(on)) = (jentity, on) {
                    joins.push((name, e, on));
                }
            }
        }
    }
    Some(SourceDef {
        system: system?,
        entity: entity?,
        filter,
        where_,
        expand,
        joins,
    })
}

fn read_target(r: &mut Reader, top: &MarkedMappingNode, top_loc: &Loc) -> Option<TargetDef> {
    let (m, loc) = section(r, top, "target", top_loc)?;
    r.check_keys(m, TARGET_KEYS, "`target`");
    let system = r.text(m, "system", Some(&loc));
    let entity = r.text(m, "entity", Some(&loc));
    let lines = match r.entry(m, "lines") {
        Some((k, node)) => {
            let lloc = r.key_loc(k);
            r.mapping(node, "`lines`").and_then(|lm| {
                r.check_keys(lm, LINES_KEYS, "`lines`");
                let e = r.text(lm, "entity", Some(&lloc));
                let f = r.text(lm, "field", Some(&lloc));
                Some((e?, f?))
            })
        }
        None => None,
    };
    let match_ = match r.entry(m, "match") {
        Some((_, n)) => r.expr(n, "`match`").and_then(|e| split_match(r, e)),
        None => {
            r.diags.push(Diagnostic::error("E103", loc.clone(), "missing `match`").with_help("write `match: YourReference == text(OrderNumber)`: how an existing target record is recognised"));
            None
        }
    };
    let on_match = r.text(m, "on_match", None);
    Some(TargetDef {
        system: system?,
        entity: entity?,
        lines,
        match_,
        on_match,
    })
}

fn read_requires(r: &mut Reader, top: &MarkedMappingNode) -> Vec<RequireDef> {
    let mut out = Vec::new();
    let Some((_, node)) = r.entry(top, "requires") else {
        return out;
    };
    let Some(rm) = r.mapping(node, "`requires`") else {
        return out;
    };
    for (k, v) in rm.iter() {
        let name = Spanned {
            value: k.as_str().to_string(),
            loc: r.key_loc(k),
        };
        let Some(m) = r.mapping(v, &format!("requires `{}`", k.as_str())) else {
            continue;
        };
        r.check_keys(m, REQUIRE_KEYS, "a required record");
        let entity = r.text(m, "entity", Some(&name.loc));
        let each = r
            .entry(m, "each")
            .and_then(|(_, n)| r.expr(n, "`each`"))
            .map(|e| {
                let binding = r.text(m, "as", None).unwrap_or_else(|| Spanned {
                    value: "item".to_string(),
                    loc: name.loc.clone(),
                });
                (e, binding)
            });
        let when = r.entry(m, "when").and_then(|(_, n)| r.expr(n, "`when`"));
        let match_ = match r.entry(m, "match") {
            Some((_, n)) => r.expr(n, "`match`").and_then(|e| split_match(r, e)),
            None => {
                r.diags.push(
                    Diagnostic::error("E103", name.loc.clone(), "missing `match`")
                        .with_help("write e.g. `match: EmailAddress == account.Email`"),
                );
                None
            }
        };
        let on_missing = r.text(m, "on_missing", None);
        let on_match = r.text(m, "on_match", None);
        let map = match r.entry(m, "map") {
            Some((_, node)) => read_map(r, node, "map"),
            None => Vec::new(),
        };
        let create_only = r.names(m, "create_only");
        if let Some(entity) = entity {
            out.push(RequireDef {
                loc: name.loc.clone(),
                name,
                entity,
                each,
                when,
                match_,
                on_missing,
                on_match,
                map,
                create_only,
            });
        }
    }
    out
}

fn read_map(r: &mut Reader, node: &Node, what: &str) -> Vec<(Spanned<String>, ExprSource)> {
    let Some(m) = r.mapping(node, &format!("`{what}`")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in m.iter() {
        let key = Spanned {
            value: k.as_str().to_string(),
            loc: r.key_loc(k),
        };
        if let Some(e) = r.map_value(v, &format!("the value of `{}`", k.as_str())) {
            out.push((key, e));
        }
    }
    out
}

/// Splits `Field == expression` into the field and the expression (positions kept).
fn split_match(r: &mut Reader, e: ExprSource) -> Option<MatchDef> {
    let text = e.text.clone();
    let Some(eq) = text.find("==") else {
        let loc = e.loc(0..text.len());
        r.diags.push(
            Diagnostic::error(
                "E118",
                loc,
                "a match is written `TargetField == expression`",
            )
            .with_help("for example `YourReference == text(OrderNumber)`"),
        );
        return None;
    };
    let lhs = &text[..eq];
    let field = lhs.trim();
    let field_start = lhs.len() - lhs.trim_start().len();
    if field.is_empty() || !field.chars().all(|c| c.is_alphanumeric() || c == '_') {
        let loc = e.loc(field_start..field_start + field.len().max(1));
        r.diags.push(
            Diagnostic::error("E118", loc, format!("`{field}` is not a field name"))
                .with_help("the left side of `==` names a field of the entity matched"),
        );
        return None;
    }
    let rhs_start = eq + 2;
    let rhs = &text[rhs_start..];
    let lead = rhs.len() - rhs.trim_start().len();
    let value_start = rhs_start + lead;
    let field_loc = e.loc(field_start..field_start + field.len());
    let value = ExprSource::new(
        e.file.clone(),
        e.file_offset(value_start),
        text[value_start..].to_string(),
    );
    Some(MatchDef {
        field: Spanned {
            value: field.to_string(),
            loc: field_loc,
        },
        value,
    })
}
