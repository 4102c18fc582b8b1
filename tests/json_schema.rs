//! `exflow schema --json-schema`: the written schemas accept every pipeline and project file
//! in the repository and reject a misspelt field or key, as an editor would flag them.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The schema the real binary writes for `kind`, through `--out`.
fn schema(kind: &str) -> jsonschema::Validator {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join(format!("{kind}.schema.json"));
    Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(["schema", "--json-schema", kind, "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).expect("schema written");
    let value: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft7::new(&value).expect("a valid draft-07 schema")
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("valid YAML")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Pipeline files: `pipelines/*.yaml` and `examples/*/pipelines/*.yaml`, without test files.
fn pipeline_files() -> Vec<PathBuf> {
    let mut dirs = vec![root().join("pipelines")];
    for e in std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .flatten()
    {
        if e.path().join("pipelines").is_dir() {
            dirs.push(e.path().join("pipelines"));
        }
    }
    let mut files = Vec::new();
    for d in dirs {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".yaml") && !name.ends_with(".test.yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn check_accepts(v: &jsonschema::Validator, file: &Path) {
    let doc = yaml(&std::fs::read_to_string(file).expect("read"));
    let errs = errors(v, &doc);
    assert!(errs.is_empty(), "{} rejected: {errs:#?}", file.display());
}

#[test]
fn every_standard_and_example_pipeline_is_accepted() {
    let v = schema("pipeline");
    let files = pipeline_files();
    assert!(files.len() >= 6, "found only {files:?}");
    for f in &files {
        check_accepts(&v, f);
    }
}

#[test]
fn every_project_file_is_accepted() {
    let v = schema("project");
    let mut files = vec![root().join("exflow.yaml")];
    for e in std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .flatten()
    {
        if e.path().join("exflow.yaml").is_file() {
            files.push(e.path().join("exflow.yaml"));
        }
    }
    for f in &files {
        check_accepts(&v, f);
    }
}

fn orders() -> String {
    std::fs::read_to_string(root().join("pipelines/orders.yaml")).expect("read")
}

#[test]
fn a_misspelt_target_field_is_rejected() {
    let v = schema("pipeline");
    let text = std::fs::read_to_string(root().join("pipelines/products.yaml")).expect("read");
    let doc = yaml(&text);
    let field = doc["map"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("a mapped field");
    let broken = text.replacen(&format!("\n  {field}:"), "\n  SalesPrise:", 1);
    assert_ne!(text, broken);
    let errs = errors(&v, &yaml(&broken));
    assert!(
        errs.iter().any(|e| e.contains("SalesPrise")),
        "not flagged: {errs:#?}"
    );
}

#[test]
fn a_misspelt_field_of_a_required_record_is_rejected() {
    let v = schema("pipeline");
    let text = orders();
    let broken = text.replacen("      AccountName:", "      AcountName:", 1);
    assert_ne!(text, broken);
    let errs = errors(&v, &yaml(&broken));
    assert!(errs.iter().any(|e| e.contains("AcountName")), "{errs:#?}");
}

#[test]
fn an_unknown_top_level_key_and_an_unknown_entity_are_rejected() {
    let v = schema("pipeline");
    let text = orders();
    let errs = errors(&v, &yaml(&format!("{text}\nschedul: \"*/5 * * * *\"\n")));
    assert!(errs.iter().any(|e| e.contains("schedul")), "{errs:#?}");
    let broken = text.replacen("entity: SalesOrderHeader", "entity: SalesOrderHeadr", 1);
    assert_ne!(text, broken);
    assert!(!v.is_valid(&yaml(&broken)));
}

#[test]
fn an_unknown_connection_key_is_rejected() {
    let v = schema("project");
    let text = std::fs::read_to_string(root().join("exflow.yaml")).expect("read");
    let broken = text.replacen("    daily_reserve:", "    daily_reserv:", 1);
    assert_ne!(text, broken);
    assert!(!v.is_valid(&yaml(&broken)));
}

#[test]
fn the_yaml_language_server_comment_is_harmless() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(root().join("exflow.yaml"), dir.path().join("exflow.yaml")).expect("copy");
    let pipelines = dir.path().join("pipelines");
    std::fs::create_dir_all(&pipelines).expect("mkdir");
    for sub in ["tables", "scripts"] {
        std::fs::create_dir_all(pipelines.join(sub)).expect("mkdir");
        for e in std::fs::read_dir(root().join("pipelines").join(sub))
            .expect("dir")
            .flatten()
        {
            std::fs::copy(e.path(), pipelines.join(sub).join(e.file_name())).expect("copy");
        }
    }
    let text = format!(
        "# yaml-language-server: $schema=../exflow.pipeline.schema.json\n{}",
        orders()
    );
    std::fs::write(pipelines.join("orders.yaml"), text).expect("write");
    Command::new(env!("CARGO_BIN_EXE_exflow"))
        .current_dir(dir.path())
        .args(["validate", "pipelines/orders.yaml"])
        .assert()
        .success();
}
