//! JSON Schemas (draft-07, what yaml-language-server supports best) for pipeline files and
//! `exflow.yaml`, so an editor completes entity and field names and flags a misspelt key.
//!
//! Generated from the entity catalogue and from the key lists the readers check, so the
//! schema cannot drift from what `exflow validate` accepts.

use super::def::{JOIN_KEYS, LINES_KEYS, PIPELINE_KEYS, REQUIRE_KEYS, SOURCE_KEYS, TARGET_KEYS};
use super::project::PROJECT_KEYS;
use crate::schema::{catalogue, Entity, System};
use serde_json::{json, Map, Value};

const DRAFT: &str = "http://json-schema.org/draft-07/schema#";
const SYSTEMS: [System; 2] = [System::ExactOnline, System::ExactGlobe];

/// The JSON Schema of a pipeline file (`pipelines/*.yaml`).
pub fn pipeline() -> Value {
    let mut definitions = Map::new();
    // An expression: YAML gives text, or a number, bool or null written bare.
    definitions.insert(
        "expr".into(),
        json!({"type": ["string", "number", "boolean", "null"],
               "description": "a mapping-language expression"}),
    );
    definitions.insert(
        "names".into(),
        json!({"oneOf": [
        {"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
    );
    definitions.insert(
        "map".into(),
        json!({"type": "object",
        "description": "target fields and the expressions that fill them",
        "additionalProperties": {"$ref": "#/definitions/expr"}}),
    );
    let mut all_of = Vec::new();
    for system in SYSTEMS {
        let s = system.as_str();
        definitions.insert(format!("requires_{s}"), requires(system));
        // The entity names, and each entity's fields for the map, depend on the system.
        for side in ["source", "target"] {
            all_of.push(when(
                side,
                s,
                None,
                json!({"properties": {side: {
                "properties": {"entity": {"enum": entity_names(system)}}}}}),
            ));
        }
        all_of.push(when(
            "target",
            s,
            None,
            json!({"properties": {"requires": {
            "additionalProperties": {"$ref": format!("#/definitions/requires_{s}")}}}}),
        ));
        for e in catalogue().system(system).entities.values() {
            all_of.push(when(
                "target",
                s,
                Some(&e.name),
                json!({"properties": {
                "map": fields_map(e), "create_only": field_names(e)}}),
            ));
        }
    }
    let properties = json!({
        "pipeline": {"type": "string", "description": "the pipeline's name"},
        "description": {"type": "string"},
        "source": closed(SOURCE_KEYS, &["system", "entity"], json!({
            "system": system_enum(),
            "entity": {"type": "string", "description": "an entity of the source system"},
            "filter": {"type": "string", "description": "an OData $filter sent to the API"},
            "where": {"$ref": "#/definitions/expr"},
            "expand": {"$ref": "#/definitions/names"},
            "join": {"type": "object", "additionalProperties": closed(JOIN_KEYS, &["entity", "on"], json!({
                "entity": {"type": "string"},
                "on": {"type": "string", "description": "`Field == expression`"}}))},
        })),
        "target": closed(TARGET_KEYS, &["system", "entity", "match"], json!({
            "system": system_enum(),
            "entity": {"type": "string", "description": "an entity of the target system"},
            "lines": closed(LINES_KEYS, &["entity", "field"], json!({
                "entity": {"type": "string"}, "field": {"type": "string"}})),
            "match": {"type": "string", "description": "`TargetField == expression`"},
            "on_match": {"enum": ["skip", "update", "fail"]},
        })),
        "requires": {"type": "object", "additionalProperties": {"type": "object"}},
        "map": {"$ref": "#/definitions/map"},
        "create_only": {"$ref": "#/definitions/names"},
        "update_only_if_changed": {"type": "boolean"},
        "schedule": {"type": "string"},
        "vars": {"type": "object"},
    });
    let mut schema = closed(
        PIPELINE_KEYS,
        &["pipeline", "source", "target", "map"],
        properties,
    );
    let obj = schema.as_object_mut().expect("closed() builds an object");
    obj.insert("$schema".into(), DRAFT.into());
    obj.insert("title".into(), "exflow pipeline".into());
    obj.insert("allOf".into(), Value::Array(all_of));
    obj.insert("definitions".into(), Value::Object(definitions));
    schema
}

/// The JSON Schema of the project file `exflow.yaml`.
pub fn project() -> Value {
    let scalar = json!({"type": ["string", "number", "boolean", "null"]});
    let conn = |keys: &[&str]| {
        let props: Map<String, Value> = keys
            .iter()
            .map(|k| (k.to_string(), scalar.clone()))
            .collect();
        closed(keys, &[], Value::Object(props))
    };
    let properties = json!({
        "project": {"type": "string"},
        "state": {"type": "string", "description": "the SQLite state file"},
        "retention_days": {"type": ["integer", "string"]},
        "redact_payloads": {"type": ["boolean", "string"]},
        "retry": closed(&["max_attempts", "backoff_minutes"], &[], json!({
            "max_attempts": {"type": ["integer", "string"]},
            "backoff_minutes": {"type": ["integer", "string"]}})),
        "connections": closed(&["exact_online", "exact_globe"], &[], json!({
            "exact_online": conn(&["base_url", "division", "client_id", "client_secret",
                "redirect_uri", "daily_reserve"]),
            "exact_globe": conn(&["base_url", "server_name", "database_name", "user", "password"]),
        })),
        "vars": {"type": "object"},
        "pipelines": {"type": "string", "description": "the folder of pipeline files"},
        // Checked by `exflow validate`; open here so the schema never rejects a valid file.
        "serve": {"type": "object"},
        "notifications": {"type": "object"},
    });
    let mut schema = closed(PROJECT_KEYS, &[], properties);
    let obj = schema.as_object_mut().expect("closed() builds an object");
    obj.insert("$schema".into(), DRAFT.into());
    obj.insert("title".into(), "exflow project (exflow.yaml)".into());
    schema
}

/// An object with exactly `keys` (each described in `properties`, or left open).
fn closed(keys: &[&str], required: &[&str], properties: Value) -> Value {
    let mut props = match properties {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for k in keys {
        props.entry(k.to_string()).or_insert_with(|| json!({}));
    }
    props.retain(|k, _| keys.contains(&k.as_str()));
    json!({"type": "object", "properties": props, "required": required,
           "additionalProperties": false})
}

/// `if side.system == system (and side.entity == entity) then ...`.
fn when(side: &str, system: &str, entity: Option<&str>, then: Value) -> Value {
    let mut cond = json!({"system": {"const": system}});
    let mut req = vec!["system"];
    if let Some(e) = entity {
        cond["entity"] = json!({"const": e});
        req.push("entity");
    }
    json!({"if": {"properties": {side: {"properties": cond, "required": req}}, "required": [side]},
           "then": then})
}

fn system_enum() -> Value {
    json!({"enum": SYSTEMS.map(System::as_str)})
}

fn entity_names(system: System) -> Vec<&'static str> {
    catalogue()
        .system(system)
        .entities
        .keys()
        .map(String::as_str)
        .collect()
}

/// A map whose keys are `e`'s fields, each described by type, length and flags.
fn fields_map(e: &Entity) -> Value {
    let mut props: Map<String, Value> = e
        .fields
        .iter()
        .map(|f| {
            let mut d = f.ty.as_str().to_string();
            if let Some(l) = f.length {
                d.push_str(&format!("({l})"));
            }
            for (on, flag) in [
                (f.key, "key"),
                (f.required, "required"),
                (f.read_only, "read-only"),
                (f.create_only, "create-only"),
            ] {
                if on {
                    d.push_str(", ");
                    d.push_str(flag);
                }
            }
            (
                f.name.clone(),
                json!({"$ref": "#/definitions/expr", "description": d}),
            )
        })
        .collect();
    // A document's lines go under the field `target.lines` names, `Lines` in every example.
    if e.lines.is_some() {
        props.insert(
            "Lines".into(),
            json!({"$ref": "#/definitions/expr",
            "description": "the document's lines (the field `target.lines` names)"}),
        );
    }
    json!({"properties": props, "additionalProperties": false})
}

/// `create_only` may name only `e`'s fields.
fn field_names(e: &Entity) -> Value {
    let names: Vec<&str> = e.fields.iter().map(|f| f.name.as_str()).collect();
    json!({"oneOf": [{"enum": names}, {"type": "array", "items": {"enum": names}}]})
}

/// One entry of `requires:`: a record of the target system.
fn requires(system: System) -> Value {
    let all_of: Vec<Value> = catalogue()
        .system(system)
        .entities
        .values()
        .map(|e| {
            json!({
            "if": {"properties": {"entity": {"const": e.name}}, "required": ["entity"]},
            "then": {"properties": {"map": fields_map(e), "create_only": field_names(e)}}})
        })
        .collect();
    let mut schema = closed(
        REQUIRE_KEYS,
        &["entity"],
        json!({
            "entity": {"enum": entity_names(system)},
            "each": {"$ref": "#/definitions/expr"},
            "as": {"type": "string"},
            "when": {"$ref": "#/definitions/expr"},
            "match": {"type": "string", "description": "`Field == expression`"},
            "on_missing": {"enum": ["create", "fail", "skip_record"]},
            "on_match": {"enum": ["skip", "update", "fail"]},
            "map": {"$ref": "#/definitions/map"},
            "create_only": {"$ref": "#/definitions/names"},
        }),
    );
    schema["allOf"] = Value::Array(all_of);
    schema
}
