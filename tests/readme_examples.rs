//! Every ```yaml block of README.md is true: a pipeline, table, test or project file validates
//! with the real `exflow validate` inside a copy of the standard project; a part of
//! `exflow.yaml` validates merged into it. A block the test cannot place says so with
//! `<!-- readme-test: fragment -->` on the line before its fence, and must still be YAML.

use assert_cmd::Command;
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A README block: its first line number, the marker before it (if any) and its text.
struct Block {
    line: usize,
    marker: Option<String>,
    text: String,
}

fn yaml_blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let lines: Vec<&str> = readme.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() == "```yaml" {
            let marker = i
                .checked_sub(1)
                .map(|p| lines[p].trim())
                .and_then(|l| l.strip_prefix("<!-- readme-test:"))
                .and_then(|l| l.strip_suffix("-->"))
                .map(|m| m.trim().to_string());
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && !lines[end].starts_with("```") {
                end += 1;
            }
            out.push(Block {
                line: start + 1,
                marker,
                text: lines[start..end].join("\n") + "\n",
            });
            i = end;
        }
        i += 1;
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// A copy of the standard project, with `edit` applied, that `exflow validate` must pass.
fn validate_in_project(block: &Block, edit: impl FnOnce(&Path)) {
    check_in_project(block, &["validate"], edit)
}

/// A copy of the standard project, with `edit` applied, on which `exflow ARGS` succeeds.
fn check_in_project(block: &Block, args: &[&str], edit: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("pipelines"), &dir.path().join("pipelines"));
    std::fs::copy(root().join("exflow.yaml"), dir.path().join("exflow.yaml")).expect("copy");
    edit(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_exflow"))
        .current_dir(dir.path())
        .args(args)
        .output()
        .expect("run exflow");
    assert!(
        out.status.success(),
        "README.md block at line {} fails `exflow {}`:\n{}\n{}{}",
        block.line,
        args.join(" "),
        block.text,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn key(name: &str) -> Value {
    Value::String(name.to_string())
}

#[test]
fn every_readme_yaml_example_is_true() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let blocks = yaml_blocks(&readme);
    assert!(blocks.len() >= 5, "found only {} yaml blocks", blocks.len());
    let mut fragments = 0;
    for b in &blocks {
        let doc: Value = serde_yaml::from_str(&b.text)
            .unwrap_or_else(|e| panic!("README.md block at line {} is not YAML: {e}", b.line));
        if b.marker.as_deref() == Some("fragment") {
            fragments += 1;
            continue;
        }
        assert_eq!(
            b.marker, None,
            "unknown readme-test marker at line {}",
            b.line
        );
        let m = doc.as_mapping().unwrap_or_else(|| {
            panic!(
                "README.md block at line {} is not a mapping; mark it a fragment",
                b.line
            )
        });
        let name = m
            .get(key("pipeline"))
            .and_then(Value::as_str)
            .unwrap_or("readme");
        if m.contains_key(key("tests")) {
            // A test file beside its pipeline: `exflow test` runs it.
            let file = format!("pipelines/{name}.test.yaml");
            check_in_project(b, &["test", &file], |d| {
                std::fs::write(d.join(&file), &b.text).expect("write")
            });
        } else if m.contains_key(key("target")) {
            // A pipeline replaces the standard one of the same name (names must be unique).
            let file = format!("pipelines/{name}.yaml");
            validate_in_project(b, |d| std::fs::write(d.join(file), &b.text).expect("write"));
        } else if m.contains_key(key("entries")) {
            validate_in_project(b, |d| {
                std::fs::write(d.join("pipelines/tables/readme.yaml"), &b.text).expect("write")
            });
        } else if m.contains_key(key("connections")) {
            validate_in_project(b, |d| {
                std::fs::write(d.join("exflow.yaml"), &b.text).expect("write")
            });
        } else {
            // A part of exflow.yaml: merged into the standard one.
            validate_in_project(b, |d| {
                let path = d.join("exflow.yaml");
                let text = std::fs::read_to_string(&path).expect("read");
                let mut project: Mapping = serde_yaml::from_str(&text).expect("exflow.yaml");
                for (k, v) in m {
                    project.insert(k.clone(), v.clone());
                }
                let merged = serde_yaml::to_string(&project).expect("yaml");
                std::fs::write(path, merged).expect("write");
            });
        }
    }
    // The exceptions stay few; each one is a part of a larger example shown in full above it.
    assert!(
        fragments <= 2,
        "{fragments} README blocks are marked fragment"
    );
}
