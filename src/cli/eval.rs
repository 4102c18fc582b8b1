//! `exflow eval EXPR`: runs one mapping expression over JSON records, for trying out
//! expressions and for scripts. Exit 2 when the expression is invalid, 1 when a record failed.

use super::{EXIT_FAILED, EXIT_INVALID};
use crate::lang::{check, compile, parse, CheckEnv, Context, LangError, ScriptHost, Tables};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `exflow eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The expression, e.g. `"upper(Name) | pad_left(10)"`.
    pub expr: String,
    /// A JSON record, or JSON lines (one result per record); `-` or absent reads stdin.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Variables for `vars.*` (YAML or JSON object).
    #[arg(long)]
    pub vars: Option<PathBuf>,
    /// A mapping table `NAME=FILE.yaml` (a mapping of keys to values, or
    /// `{ entries: {..}, default: .. }`); repeatable.
    #[arg(long = "table", value_name = "NAME=FILE")]
    pub tables: Vec<String>,
    /// A rhai script whose functions are callable as `script.name(..)`; repeatable.
    #[arg(long = "script", value_name = "FILE")]
    pub scripts: Vec<PathBuf>,
    /// Pretty-print the results.
    #[arg(long)]
    pub pretty: bool,
}

/// A problem with the command's own inputs (files, options).
#[derive(Debug, thiserror::Error)]
enum SetupError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: {1}")]
    Invalid(String, String),
}

/// Runs `exflow eval`.
pub fn run(args: EvalArgs) -> ExitCode {
    let expr = match parse(&args.expr) {
        Ok(e) => e,
        Err(errs) => return report_invalid(&args.expr, errs),
    };
    let (vars, tables, scripts) = match load_setup(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let env = CheckEnv {
        vars: vars.as_object().map(|o| o.keys().cloned().collect()),
        tables: Some(tables.names().into_iter().collect()),
        scripts: scripts
            .as_ref()
            .map(ScriptHost::functions)
            .unwrap_or_default(),
        ..CheckEnv::default()
    };
    let (_, errs) = check(&expr, &env);
    if !errs.is_empty() {
        return report_invalid(&args.expr, errs);
    }
    let program = match compile(&expr) {
        Ok(p) => p,
        Err(errs) => return report_invalid(&args.expr, errs),
    };
    let input = match read_input(args.input.as_deref()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    // Where the current stream began: after a bad line, reading starts over on the next
    // line (as `exflow map` goes on), since a JSON stream cannot resume after an error.
    let mut base = 0;
    let mut stream = serde_json::Deserializer::from_str(&input).into_iter::<Value>();
    let mut line_of = LineCounter::new(&input);
    loop {
        let start = skip_ws(&input, base + stream.byte_offset());
        let record = match stream.next() {
            None => break,
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                eprintln!("error: input line {}: invalid JSON: {e}", line_of.at(start));
                failed = true;
                let bad = (base + stream.byte_offset()).max(start);
                base = match input[bad..].find('\n') {
                    Some(n) => bad + n + 1,
                    None => input.len(),
                };
                stream = serde_json::Deserializer::from_str(&input[base..]).into_iter::<Value>();
                continue;
            }
        };
        let line = line_of.at(start);
        let ctx = Context {
            record: &record,
            vars: &vars,
            tables: &tables,
            scripts: scripts.as_ref(),
            bindings: &[],
        };
        match program.eval(&ctx) {
            Ok(v) => {
                let text = if args.pretty {
                    serde_json::to_string_pretty(&v)
                } else {
                    serde_json::to_string(&v)
                };
                if writeln!(out, "{}", text.unwrap_or_default()).is_err() {
                    return ExitCode::from(EXIT_FAILED);
                }
            }
            Err(e) => {
                failed = true;
                let _ = out.flush();
                let diag = LangError::new(
                    crate::lang::ErrorCode::TypeMismatch,
                    e.span,
                    e.message.clone(),
                );
                let report =
                    miette::Report::new(EvalDiagnostic(diag)).with_source_code(args.expr.clone());
                let fancy = std::io::stderr().is_terminal();
                eprintln!(
                    "input line {line}: {}",
                    super::output::render(report.as_ref(), fancy)
                );
            }
        }
    }
    let _ = out.flush();
    if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// An evaluation error shown like a diagnostic, but without a language error code.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
struct EvalDiagnostic(LangError);

impl miette::Diagnostic for EvalDiagnostic {
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let s = self.0.span;
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some("failed here".into()),
            s.start,
            s.end.saturating_sub(s.start),
        ))))
    }
}

fn report_invalid(src: &str, errs: Vec<LangError>) -> ExitCode {
    for e in errs {
        let report = miette::Report::new(e).with_source_code(src.to_string());
        let fancy = std::io::stderr().is_terminal();
        eprintln!("{}", super::output::render(report.as_ref(), fancy));
    }
    ExitCode::from(EXIT_INVALID)
}

fn read_file(path: &Path) -> Result<String, SetupError> {
    std::fs::read_to_string(path).map_err(|e| SetupError::Read(path.display().to_string(), e))
}

fn read_input(path: Option<&Path>) -> Result<String, SetupError> {
    match path {
        Some(p) if p != Path::new("-") => read_file(p),
        _ => {
            let mut stdin = std::io::stdin();
            if path.is_none() && stdin.is_terminal() {
                // Nothing piped in: evaluate once against an empty record.
                return Ok("{}".into());
            }
            let mut s = String::new();
            stdin
                .read_to_string(&mut s)
                .map_err(|e| SetupError::Read("stdin".into(), e))?;
            Ok(s)
        }
    }
}

type Setup = (Value, Tables, Option<ScriptHost>);

fn load_setup(args: &EvalArgs) -> Result<Setup, SetupError> {
    let vars = match &args.vars {
        None => Value::Object(Default::default()),
        Some(p) => {
            let v: Value = serde_yaml::from_str(&read_file(p)?)
                .map_err(|e| SetupError::Invalid(p.display().to_string(), e.to_string()))?;
            if !v.is_object() {
                return Err(SetupError::Invalid(
                    p.display().to_string(),
                    "vars must be a mapping".into(),
                ));
            }
            v
        }
    };
    let mut tables = Tables::new();
    for spec in &args.tables {
        let Some((name, file)) = spec.split_once('=') else {
            return Err(SetupError::Invalid(
                spec.clone(),
                "expected --table NAME=FILE".into(),
            ));
        };
        let path = Path::new(file);
        let v: Value = serde_yaml::from_str(&read_file(path)?)
            .map_err(|e| SetupError::Invalid(file.to_string(), e.to_string()))?;
        let (entries, default) =
            table_entries(v).map_err(|m| SetupError::Invalid(file.to_string(), m))?;
        tables.insert(name, entries, default);
    }
    let scripts = if args.scripts.is_empty() {
        None
    } else {
        let mut files = Vec::new();
        for p in &args.scripts {
            files.push((p.display().to_string(), read_file(p)?));
        }
        let host = ScriptHost::load(&files).map_err(|errs| {
            let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            SetupError::Invalid("scripts".into(), text.join("; "))
        })?;
        Some(host)
    };
    Ok((vars, tables, scripts))
}

/// A table file: `{ key: value }`, or `{ entries: { key: value }, default: value }`.
fn table_entries(v: Value) -> Result<(indexmap::IndexMap<String, Value>, Option<Value>), String> {
    let Value::Object(mut map) = v else {
        return Err("a table must be a mapping of keys to values".into());
    };
    let structured = map.get("entries").is_some_and(Value::is_object)
        && map.keys().all(|k| k == "entries" || k == "default");
    let default = if structured {
        map.remove("default")
    } else {
        None
    };
    if structured {
        if let Some(Value::Object(e)) = map.remove("entries") {
            map = e;
        }
    }
    Ok((map.into_iter().collect(), default))
}

fn skip_ws(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Byte offset -> 1-based line number, scanning forward only.
struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }
    fn at(&mut self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        if end > self.pos {
            self.line += self.text[self.pos..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.pos = end;
        }
        self.line
    }
}
