//! `exflow schema SYSTEM [ENTITY]`: prints the entity catalogue.

use super::output::Format;
use super::EXIT_INVALID;
use crate::connectors::System;
use crate::schema::{catalogue, Entity};
use clap::Args;
use std::process::ExitCode;

/// Show the entities of a system, or the fields of one entity.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// `exact_online` or `exact_globe`.
    pub system: String,
    /// An entity of that system.
    pub entity: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
    let Some(system) = System::parse(&args.system) else {
        eprintln!(
            "error: unknown system `{}` (use exact_online or exact_globe)",
            args.system
        );
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
