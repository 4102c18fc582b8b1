//! Validation cases as data: every `tests/cases/validate/*.yaml` states the diagnostics it
//! must produce in `# expect: CODE LINE:COLUMN [text the hint or message contains]` comments;
//! a file without any must validate cleanly. Warnings count where the file expects their code. Adding a case means adding a file.

use exflow::pipeline;
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Expected {
    code: String,
    line: usize,
    column: usize,
    contains: Option<String>,
}

fn expectations(text: &str) -> Vec<Expected> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("# expect:"))
        .map(|rest| {
            let mut parts = rest.trim().splitn(3, ' ');
            let code = parts.next().unwrap_or_default().to_string();
            let pos = parts.next().unwrap_or_default();
            let (line, column) = pos.split_once(':').unwrap_or(("0", "0"));
            Expected {
                code,
                line: line.parse().unwrap_or(0),
                column: column.parse().unwrap_or(0),
                contains: parts.next().map(str::to_string),
            }
        })
        .collect()
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/validate");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("cases folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("exflow.yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_validation_case_reports_exactly_what_it_expects() {
    let mut failures = Vec::new();
    let files = cases();
    assert!(files.len() >= 20, "cases missing: {}", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("case");
        let mut expected = expectations(&text);
        expected.sort();
        let (_, diags) = pipeline::load(std::slice::from_ref(&file), false);
        // Errors always; a warning when the file expects its code.
        let got: Vec<_> = diags
            .0
            .iter()
            .filter(|d| {
                d.severity == pipeline::Severity::Error || expected.iter().any(|e| e.code == d.code)
            })
            .collect();
        let mut actual: Vec<(String, usize, usize, String)> = got
            .iter()
            .map(|d| {
                let (l, c) = d.line_col();
                (
                    d.code.clone(),
                    l,
                    c,
                    format!("{} | {}", d.message, d.help.clone().unwrap_or_default()),
                )
            })
            .collect();
        actual.sort();
        let ok = expected.len() == actual.len()
            && expected.iter().zip(&actual).all(|(e, a)| {
                e.code == a.0
                    && e.line == a.1
                    && e.column == a.2
                    && e.contains.as_ref().is_none_or(|c| a.3.contains(c.as_str()))
            });
        if !ok {
            failures.push(format!(
                "{}:\n  expected {:?}\n  actual   {:?}",
                file.display(),
                expected,
                actual
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
