//! How commands print: `--format text|json`, and diagnostics fancy on a terminal, plain when
//! piped.

mod snippet;

use crate::pipeline::Diagnostics;
use clap::ValueEnum;
use std::io::IsTerminal;

/// Makes a closed stdout or stderr (`exflow functions | head -3`) end the process quietly
/// with exit 0, as `rg` and `fd` do, instead of the panic `println!` raises on a broken pipe.
/// Rust ignores SIGPIPE, so the write fails and the panic is the only signal there is.
pub fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info)
    }));
}

/// Output format of commands a CI job reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// For programs.
    Json,
}

/// Prints diagnostics: miette's graphical report on a terminal, its plain narratable form
/// otherwise, or one JSON document.
pub fn print_diagnostics(diags: &Diagnostics, format: Format) {
    match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = diags.0.iter().map(|d| d.to_json()).collect();
            let doc = serde_json::json!({
                "errors": diags.error_count(),
                "warnings": diags.warning_count(),
                "diagnostics": list,
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            let fancy = std::io::stderr().is_terminal();
            for d in &diags.0 {
                eprintln!("{}", render(d, fancy));
            }
        }
    }
}

/// Prints `text` and a newline on stdout. Returns false when stdout is gone (a reader
/// that quit, `exflow activity | head`): not a failure of the command, and never a panic,
/// as `println!` would be.
pub fn out(text: &str) -> bool {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .is_ok()
}

/// Prints `doc` as pretty JSON on stdout (see [`out`]).
pub fn out_json(doc: &serde_json::Value) -> bool {
    out(&serde_json::to_string_pretty(doc).unwrap_or_default())
}

/// Renders one miette diagnostic.
pub fn render(d: &dyn miette::Diagnostic, fancy: bool) -> String {
    let fitted = snippet::fit(d);
    let d: &dyn miette::Diagnostic = match &fitted {
        Some(f) => f,
        None => d,
    };
    let mut out = String::new();
    let result = if fancy {
        miette::GraphicalReportHandler::new().render_report(&mut out, d)
    } else {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, d)
    };
    if result.is_err() {
        out = d.to_string();
    }
    out
}
