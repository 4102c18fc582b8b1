//! `exflow map PIPELINE --input FILE`: applies a pipeline's map to exported records, one
//! result per line, without touching either system.

use super::EXIT_INVALID;
use crate::lang::{ProjectedValue, View};
use crate::pipeline::apply::{apply_map, distinct_fields, passes_where_view, MapEnv, MapWriter};
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

/// The bytes of an input: a file mapped into memory (no copy, no zeroed buffer: reading a
/// 40 MB export that way cost a tenth of `exflow map`'s time), or standard input read whole.
pub enum Input {
    /// A mapped file.
    Mapped(memmap2::Mmap),
    /// Bytes read.
    Read(Vec<u8>),
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Read(v) => v,
        }
    }
}

/// Reads records from a file or, for `-`, standard input.
pub fn read_records(input: &Path) -> std::io::Result<Input> {
    if input == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        return Ok(Input::Read(buf));
    }
    let file = std::fs::File::open(input)?;
    let meta = file.metadata()?;
    if meta.len() == 0 || !meta.is_file() {
        // Nothing to map (an empty file cannot be mapped), or a pipe or device.
        let mut buf = Vec::new();
        (&file).read_to_end(&mut buf)?;
        return Ok(Input::Read(buf));
    }
    // SAFETY: the map is only read. Another process truncating the file while it is mapped
    // would be a fault, the same trade every tool that maps its input (ripgrep, jq's
    // successors) makes for speed on exported files.
    match unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
        Ok(m) => Ok(Input::Mapped(m)),
        Err(_) => {
            let mut buf = Vec::new();
            (&file).read_to_end(&mut buf)?;
            Ok(Input::Read(buf))
        }
    }
}

/// The records of an input: a JSON array gives its elements; otherwise every line
/// holding something is one record (JSON lines). `f` gets the line number (1 for an array)
/// and the bytes of the record.
pub fn for_each_record(buf: &[u8], mut f: impl FnMut(usize, RecordText)) {
    let trimmed = buf.iter().position(|b| !b.is_ascii_whitespace());
    if trimmed.map(|i| buf[i]) == Some(b'[') {
        f(1, RecordText::Array(buf));
        return;
    }
    let mut line_no = 0;
    let mut rest = buf;
    while !rest.is_empty() {
        line_no += 1;
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        f(line_no, RecordText::One(line));
    }
}

/// The text of one record, or of an array of records.
#[derive(Debug, Clone, Copy)]
pub enum RecordText<'a> {
    /// One JSON document.
    One(&'a [u8]),
    /// A JSON array whose elements are the records.
    Array(&'a [u8]),
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
    let names = p.binding_names();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut failed = 0usize;
    // One output line, reused; mapped straight to JSON unless a field is mapped twice.
    let mut line_buf = Vec::with_capacity(1 << 12);
    let direct = distinct_fields(&p.map);
    let projection = Projection::new(&p.reads);
    let writer = MapWriter::new(&p.map);
    // Maps one record; false when it failed (the reason is on standard error).
    let mut map_one = |line: usize, rec: ProjectedValue| -> bool {
        let record = View::of(&rec);
        let bindings: Vec<(&str, View)> = names.iter().map(|n| (*n, record.field(n))).collect();
        let ctx = env.view_context(record, &bindings);
        match passes_where_view(p, &ctx) {
            Ok(false) => {
                if args.keep_filtered {
                    let _ = writeln!(out, "null");
                }
                return true;
            }
            Ok(true) => {}
            Err(e) => {
                eprintln!("line {line}: where: {e}");
                return false;
            }
        }
        line_buf.clear();
        let written = if direct {
            writer.write(&ctx, &mut line_buf)
        } else {
            let full = rec.to_value();
            let plain: Vec<(&str, &Value)> = names
                .iter()
                .map(|n| (*n, full.get(*n).unwrap_or(&Value::Null)))
                .collect();
            apply_map(&p.map, &full, &plain, &env).map(|mapped| {
                let _ = serde_json::to_writer(&mut line_buf, &mapped);
            })
        };
        match written {
            Ok(()) => {
                line_buf.push(b'\n');
                let _ = out.write_all(&line_buf);
                true
            }
            Err(e) => {
                eprintln!("line {line}: {e}");
                false
            }
        }
    };
    for_each_record(&buf, |line, text| {
        let parsed = match text {
            RecordText::One(b) => projection.scan(b).map(|r| vec![r]),
            RecordText::Array(b) => projection.scan_array(b),
        };
        match parsed {
            Ok(records) => {
                for (i, rec) in records.into_iter().enumerate() {
                    let at = if matches!(text, RecordText::Array(_)) {
                        i + 1
                    } else {
                        line
                    };
                    if !map_one(at, rec) {
                        failed += 1;
                    }
                }
            }
            Err(e) => {
                failed += 1;
                // `line` is where the record starts; the error's own line counts from there.
                let at = line + e.line - 1;
                eprintln!("line {at}, column {}: not JSON: {}", e.column, e.message);
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
