//! `exflow schema SYSTEM [ENTITY]`: prints the entity catalogue;
//! `exflow schema --json-schema pipeline|project`: writes a JSON Schema for editors.

use super::output::Format;
use super::EXIT_INVALID;
use crate::connectors::System;
use crate::pipeline::json_schema;
use crate::schema::{catalogue, Entity};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Show the entities of a system, or the fields of one entity; or write a JSON Schema.
///
/// `exflow schema --json-schema pipeline --out exflow.pipeline.schema.json` writes the schema
/// of pipeline files (entity names per system, each target entity's fields under `map:`);
/// `--json-schema project` the schema of `exflow.yaml`. Point an editor at it with a first
/// line `# yaml-language-server: $schema=../exflow.pipeline.schema.json`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// `exact_online` or `exact_globe`.
    #[arg(required_unless_present = "json_schema")]
    pub system: Option<String>,
    /// An entity of that system.
    pub entity: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write a JSON Schema (draft-07) instead: of a pipeline file or of `exflow.yaml`.
    #[arg(long, value_enum, value_name = "KIND", conflicts_with_all = ["system", "entity"])]
    pub json_schema: Option<JsonSchemaKind>,
    /// Where `--json-schema` writes (default: standard output).
    #[arg(long, value_name = "FILE", requires = "json_schema")]
    pub out: Option<PathBuf>,
}

/// Which file a JSON Schema describes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum JsonSchemaKind {
    /// A pipeline file (`pipelines/*.yaml`).
    Pipeline,
    /// The project file `exflow.yaml`.
    Project,
}

fn write_json_schema(kind: JsonSchemaKind, out: Option<&Path>) -> ExitCode {
    let schema = match kind {
        JsonSchemaKind::Pipeline => json_schema::pipeline(),
        JsonSchemaKind::Project => json_schema::project(),
    };
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
    match out {
        None => print!("{text}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(EXIT_INVALID);
            }
        }
    }
    ExitCode::SUCCESS
}

fn flags(f: &crate::schema::Field) -> String {
    let mut out = Vec::new();
    if f.key {
        out.push("key");
    }
    if f.required {
        out.push("required");
    }
    if f.read_only {
        out.push("read-only");
    }
    if f.create_only {
        out.push("create-only");
    }
    if f.padded {
        out.push("padded");
    }
    out.join(", ")
}

fn print_entity(e: &Entity) {
    println!("{} {}", e.system, e.name);
    if let Some(p) = &e.path {
        println!("  endpoint:   /api/v1/{{division}}/{p}");
    }
    if let Some(s) = &e.sync {
        println!("  sync:       /api/v1/{{division}}/{s}");
    }
    if let Some(l) = &e.lines {
        println!("  lines:      {l}");
    }
    if let Some(k) = &e.key {
        println!("  key:        {k}");
    }
    println!("  match keys: {}", e.match_keys.join(", "));
    println!();
    println!("  {:<40} {:<8} {:>6}  flags", "field", "type", "length");
    for f in &e.fields {
        let ty = match &f.item {
            Some(i) => format!("list<{i}>"),
            None => f.ty.as_str().to_string(),
        };
        let len = f.length.map(|l| l.to_string()).unwrap_or_default();
        println!("  {:<40} {:<8} {:>6}  {}", f.name, ty, len, flags(f));
    }
}

/// Runs the command.
pub fn run(args: SchemaArgs) -> ExitCode {
    if let Some(kind) = args.json_schema {
        return write_json_schema(kind, args.out.as_deref());
    }
    let name = args.system.unwrap_or_default();
    let Some(system) = System::parse(&name) else {
        eprintln!("error: unknown system `{name}` (use exact_online or exact_globe)");
        return ExitCode::from(EXIT_INVALID);
    };
    let cat = catalogue();
    match args.entity {
        Some(name) => {
            let Some(e) = cat.entity(system, &name) else {
                let hint = cat
                    .suggest_entity(system, &name)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                eprintln!("error: {system} has no entity `{name}`{hint}");
                return ExitCode::from(EXIT_INVALID);
            };
            match args.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(e).unwrap_or_default()),
                Format::Text => print_entity(e),
            }
        }
        None => {
            let entities = &cat.system(system).entities;
            match args.format {
                Format::Json => {
                    let list: Vec<serde_json::Value> = entities
                        .values()
                        .map(|e| {
                            serde_json::json!({
                                "name": e.name, "key": e.key, "path": e.path, "sync": e.sync,
                                "lines": e.lines, "match_keys": e.match_keys, "fields": e.fields.len(),
                            })
                        })
                        .collect();
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({"system": system, "entities": list})
                        )
                        .unwrap_or_default()
                    );
                }
                Format::Text => {
                    println!("{system}: {} entities", entities.len());
                    for e in entities.values() {
                        println!(
                            "  {:<28} {:>4} fields  key {:<18} match {}",
                            e.name,
                            e.fields.len(),
                            e.key.as_deref().unwrap_or("-"),
                            e.match_keys.join(", ")
                        );
                    }
                }
            }
        }
    }
    ExitCode::SUCCESS
}
