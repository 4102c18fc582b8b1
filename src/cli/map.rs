//! `exflow map PIPELINE --input FILE`: applies a pipeline's map to exported records, one
//! result per line, without touching either system.

use super::EXIT_INVALID;
use crate::pipeline::apply::{apply_map, distinct_fields, passes_where, write_map, MapEnv};
use crate::pipeline::sparse::Projection;
use crate::pipeline::{self, Pipeline, Project};
use clap::Args;
use serde_json::Value;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Apply a pipeline's map to records exported from the source (JSON or JSON lines).
#[derive(Debug, Args)]
pub struct MapArgs {
    /// Pipeline name or file.
    pub pipeline: String,
    /// Records: a JSON value, a JSON array, or JSON lines; `-` for standard input.
    #[arg(long, short, default_value = "-")]
    pub input: PathBuf,
    /// Project folder (holding exflow.yaml or the pipelines).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Also print records that the `where` filter drops, as `null`.
    #[arg(long)]
    pub keep_filtered: bool,
}

fn find_pipeline<'p>(project: &'p Project, wanted: &str) -> Option<&'p Pipeline> {
    project.pipeline(wanted).or_else(|| {
        let want = Path::new(wanted);
        project
            .pipelines
            .iter()
            .find(|p| p.file == want || p.file.ends_with(want))
    })
}

/// Reads records: one JSON document per line, or one document (an array is its elements).
pub fn read_records(input: &Path) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if input == Path::new("-") {
        std::io::stdin().read_to_end(&mut buf)?;
    } else {
        buf = std::fs::read(input)?;
    }
    Ok(buf)
}

/// Splits input into records: a JSON array gives its elements; otherwise every value in the
/// stream (JSON lines, or concatenated documents) is one record.
pub fn for_each_record(buf: &[u8], f: impl FnMut(usize, Result<Value, serde_json::Error>)) {
    for_each_record_reading(buf, None, f)
}

/// [`for_each_record`], keeping of each record only the parts `reads` names (all when `None`).
pub fn for_each_record_reading(
    buf: &[u8],
    reads: Option<&Projection>,
    mut f: impl FnMut(usize, Result<Value, serde_json::Error>),
) {
    let trimmed = buf.iter().position(|b| !b.is_ascii_whitespace());
    if trimmed.map(|i| buf[i]) == Some(b'[') {
        let items = match reads {
            Some(r) => r.array_from_slice(buf),
            None => serde_json::from_slice::<Vec<Value>>(buf),
        };
        match items {
            Ok(items) => items
                .into_iter()
                .enumerate()
                .for_each(|(i, v)| f(i + 1, Ok(v))),
            Err(e) => f(1, Err(e)),
        }
        return;
    }
    let mut line_no = 0;
    for line in buf.split(|b| *b == b'\n') {
        line_no += 1;
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        f(
            line_no,
            match reads {
                Some(r) => r.from_slice(line),
                None => serde_json::from_slice(line),
            },
        );
    }
}

/// Runs the command.
pub fn run(args: MapArgs) -> ExitCode {
    let target = PathBuf::from(&args.pipeline);
    let paths = if target.is_file() {
        vec![target.clone()]
    } else {
        vec![args.project.clone()]
    };
    let (project, diags) = pipeline::load(&paths, false);
    if diags.has_errors() {
        super::output::print_diagnostics(&diags, super::output::Format::Text);
    }
    let Some(project) = project else {
        return ExitCode::from(EXIT_INVALID);
    };
    let Some(p) = find_pipeline(&project, &args.pipeline) else {
        let names: Vec<&str> = project.pipelines.iter().map(|p| p.name.as_str()).collect();
        eprintln!(
            "error: no pipeline `{}` (have: {})",
            args.pipeline,
            names.join(", ")
        );
        return ExitCode::from(EXIT_INVALID);
    };
    let buf = match read_records(&args.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.input.display());
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let vars = project.vars_for(&p.name);
    let env = MapEnv {
        vars: &vars,
        tables: &project.tables,
        scripts: project.scripts.as_ref(),
    };
    // Offline, joins and required records bind to the input's own property of that name.
    let names: Vec<String> = p
        .source
        .joins
        .iter()
        .map(|j| j.name.clone())
        .chain(p.requires.iter().map(|r| r.name.clone()))
        .collect();
    let null = Value::Null;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut failed = 0usize;
    // One output line, reused; mapped straight to JSON unless a field is mapped twice.
    let mut line_buf = Vec::with_capacity(1 << 12);
    let direct = distinct_fields(&p.map);
    let projection = Projection::new(&p.reads);
    for_each_record_reading(&buf, Some(&projection), |line, rec| {
        let record = match rec {
            Ok(r) => r,
            Err(e) => {
                failed += 1;
                eprintln!("line {line}: not JSON: {e}");
                return;
            }
        };
        let bindings: Vec<(&str, &Value)> = names
            .iter()
            .map(|n| (n.as_str(), record.get(n).unwrap_or(&null)))
            .collect();
        match passes_where(p, &record, &bindings, &env) {
            Ok(false) => {
                if args.keep_filtered {
                    let _ = writeln!(out, "null");
                }
                return;
            }
            Ok(true) => {}
            Err(e) => {
                failed += 1;
                eprintln!("line {line}: where: {e}");
                return;
            }
        }
        let written = if direct {
            line_buf.clear();
            write_map(&p.map, &record, &bindings, &env, &mut line_buf)
        } else {
            apply_map(&p.map, &record, &bindings, &env).map(|mapped| {
                line_buf.clear();
                let _ = serde_json::to_writer(&mut line_buf, &mapped);
            })
        };
        match written {
            Ok(()) => {
                line_buf.push(b'\n');
                let _ = out.write_all(&line_buf);
            }
            Err(e) => {
                failed += 1;
                eprintln!("line {line}: {e}");
            }
        }
    });
    let _ = out.flush();
    if failed > 0 {
        eprintln!("{failed} record(s) failed");
        ExitCode::from(super::EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
