//! `exflow functions`: the mapping language's standard library, with an example each.

use clap::Args;
use std::process::ExitCode;

/// List the mapping language's functions.
#[derive(Debug, Args)]
pub struct FunctionsArgs {
    /// Only functions whose name contains this.
    pub filter: Option<String>,
    /// Output format (`markdown` gives the README's table).
    #[arg(long, default_value = "text")]
    pub format: String,
}

/// Runs the command.
pub fn run(args: FunctionsArgs) -> ExitCode {
    let list: Vec<_> = crate::lang::functions()
        .iter()
        .filter(|f| args.filter.as_deref().is_none_or(|q| f.name.contains(q)))
        .collect();
    match args.format.as_str() {
        "json" => {
            let items: Vec<serde_json::Value> = list
                .iter()
                .map(|f| serde_json::json!({"name": f.name, "signature": f.signature, "doc": f.doc, "example": f.example}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&items).unwrap_or_default()
            );
        }
        "markdown" => {
            println!("| function | what it does | example |");
            println!("|---|---|---|");
            for f in list {
                let esc = |s: &str| s.replace('|', "\\|");
                println!(
                    "| `{}` | {} | `{}` |",
                    esc(f.signature),
                    esc(f.doc),
                    esc(f.example)
                );
            }
        }
        _ => {
            for f in list {
                println!("{}\n    {}\n    e.g. {}", f.signature, f.doc, f.example);
            }
        }
    }
    ExitCode::SUCCESS
}
