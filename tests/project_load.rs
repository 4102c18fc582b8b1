//! Diagnostics that need more than one file: duplicate pipelines, broken tables and scripts,
//! and missing environment variables when a run loads the project.

use exflow::pipeline;
use std::path::Path;

const PIPELINE: &str = "pipeline: NAME
source: { system: exact_globe, entity: Account }
target: { system: exact_online, entity: Accounts, match: Email == EmailAddress }
map:
  Name: AccountName
";

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn codes(dir: &Path, strict: bool) -> Vec<(String, String, usize, usize)> {
    let (_, diags) = pipeline::load(&[dir.to_path_buf()], strict);
    diags
        .0
        .iter()
        .map(|d| {
            let (l, c) = d.line_col();
            let file = d
                .loc
                .file
                .path
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            (d.code.clone(), file, l, c)
        })
        .collect()
}

#[test]
fn two_pipelines_with_one_name_are_refused_at_the_second() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "pipelines/a.yaml",
        &PIPELINE.replace("NAME", "same"),
    );
    write(
        dir.path(),
        "pipelines/b.yaml",
        &PIPELINE.replace("NAME", "same"),
    );
    assert_eq!(
        codes(&dir.path().join("pipelines"), false),
        vec![("E114".to_string(), "b.yaml".to_string(), 1, 11)]
    );
}

#[test]
fn a_table_that_is_not_a_mapping_is_reported_in_the_table_file() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "pipelines/a.yaml",
        &PIPELINE.replace("NAME", "a"),
    );
    write(
        dir.path(),
        "pipelines/tables/codes.yaml",
        "description: x\nentries:\n  - a\n  - b\n",
    );
    assert_eq!(
        codes(&dir.path().join("pipelines"), false),
        vec![("E115".to_string(), "codes.yaml".to_string(), 3, 3)]
    );
}

#[test]
fn a_rhai_error_points_into_the_script() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "pipelines/a.yaml",
        &PIPELINE.replace("NAME", "a"),
    );
    write(
        dir.path(),
        "pipelines/scripts/bad.rhai",
        "fn ok(x) { x }\n\nfn broken(x) {\n  let y = ;\n}\n",
    );
    let got = codes(&dir.path().join("pipelines"), false);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "E116");
    assert_eq!(got[0].1, "bad.rhai");
    assert_eq!(got[0].2, 4);
}

#[test]
fn a_run_needs_the_environment_variables_that_validation_does_not() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "pipelines/a.yaml",
        &PIPELINE.replace("NAME", "a"),
    );
    write(
        dir.path(),
        "exflow.yaml",
        "connections:\n  exact_globe:\n    password: ${EXFLOW_TEST_SURELY_UNSET_VAR}\n",
    );
    // Validation warns (E117 as a warning, the run would refuse); a run refuses.
    let (project, diags) = pipeline::load(&[dir.path().to_path_buf()], false);
    assert!(project.is_some() && !diags.has_errors(), "{diags}");
    assert_eq!(
        codes(dir.path(), false),
        vec![("E117".to_string(), "exflow.yaml".to_string(), 3, 15)]
    );
    assert_eq!(
        codes(dir.path(), true),
        vec![("E117".to_string(), "exflow.yaml".to_string(), 3, 15)]
    );
    let err = pipeline::load_project(dir.path()).expect_err("refused");
    assert!(err.to_string().contains("EXFLOW_TEST_SURELY_UNSET_VAR"));
}

#[test]
fn the_project_file_gives_connections_and_vars() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "pipelines/a.yaml",
        &PIPELINE
            .replace("NAME", "a")
            .replace("Name: AccountName", "Name: AccountName ?? vars.fallback"),
    );
    write(
        dir.path(),
        "exflow.yaml",
        "state: state/x.db\nretention_days: 7\nconnections:\n  exact_globe:\n    base_url: http://globe:8020\n    database_name: \"200\"\n    user: ${EXFLOW_TEST_USER:-svc}\nvars:\n  fallback: Onbekend\n",
    );
    let project = pipeline::load_project(dir.path()).expect("loads");
    assert_eq!(project.config.retention_days, 7);
    assert!(project.state_path().ends_with("state/x.db"));
    let globe = project.config.exact_globe.clone().expect("globe");
    assert_eq!(globe.base_url, "http://globe:8020");
    assert_eq!(globe.database_name, "200");
    assert_eq!(globe.user, "svc");
    assert_eq!(project.vars_for("a")["fallback"], "Onbekend");
}

#[test]
fn the_retry_settings_are_read_and_checked() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "pipelines/a.yaml",
        &PIPELINE.replace("NAME", "a"),
    );
    write(
        dir.path(),
        "exflow.yaml",
        "retry:\n  max_attempts: 3\n  backoff_minutes: 5\n",
    );
    let project = pipeline::load_project(dir.path()).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(project.config.retry.max_attempts, 3);
    assert_eq!(project.config.retry.backoff, chrono::Duration::minutes(5));
    write(
        dir.path(),
        "exflow.yaml",
        "retry:\n  max_attempts: many\n  backof_minutes: 5\n",
    );
    let found: Vec<String> = codes(dir.path(), false).into_iter().map(|c| c.0).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|c| c.starts_with("E1")), "{found:?}");
}
