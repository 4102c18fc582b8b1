//! `exflow eval` driven through the real binary.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;

fn exflow() -> Command {
    Command::cargo_bin("exflow").expect("binary builds")
}

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).expect("temp file");
    f.write_all(text.as_bytes()).expect("write");
    path.display().to_string()
}

#[test]
fn maps_json_lines_with_vars_and_tables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = file(&dir, "in.jsonl", "{\"n\": 1, \"c\": \"NL\"}\n{\"n\": 2, \"c\": \"XX\"}\n");
    let vars = file(&dir, "vars.yaml", "prefix: SO\n");
    let vat = file(&dir, "vat.yaml", "entries:\n  NL: '2'\ndefault: '0'\n");
    exflow()
        .args(["eval", "{ ref: \"{vars.prefix}-{n}\", vat: table('vat', c) }", "--input", &input, "--vars", &vars])
        .args(["--table", &format!("vat={vat}")])
        .assert()
        .success()
        .stdout("{\"ref\":\"SO-1\",\"vat\":\"2\"}\n{\"ref\":\"SO-2\",\"vat\":\"0\"}\n");
}

#[test]
fn reads_stdin_and_pretty_prints() {
    exflow()
        .args(["eval", "{ a: x * 2 }", "--pretty", "-i", "-"])
        .write_stdin("{\"x\": 21}")
        .assert()
        .success()
        .stdout("{\n  \"a\": 42\n}\n");
}

#[test]
fn invalid_expression_exits_2_with_a_diagnostic() {
    exflow()
        .args(["eval", "uppr(Name)", "-i", "-"])
        .write_stdin("{}")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("E003").and(predicate::str::contains("did you mean `upper`?")));
    exflow()
        .args(["eval", "table('nope', 1)", "-i", "-"])
        .write_stdin("{}")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("E005"));
}

#[test]
fn failing_records_name_their_line_and_others_still_print() {
    exflow()
        .args(["eval", "upper(x)", "-i", "-"])
        .write_stdin("{\"x\": \"a\"}\n{\"x\": 12}\n\n{\"x\": \"c\"}\n")
        .assert()
        .code(1)
        .stdout("\"A\"\n\"C\"\n")
        .stderr(predicate::str::contains("input line 2").and(predicate::str::contains("upper() expects text, got number 12")));
}

#[test]
fn calls_rhai_scripts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = file(&dir, "pc.rhai", "fn fix_postcode(p) { let s = p.to_upper(); s.replace(\" \", \"\"); s }");
    exflow()
        .args(["eval", "script.fix_postcode(pc)", "--script", &script, "-i", "-"])
        .write_stdin("{\"pc\": \"1234 ab\"}")
        .assert()
        .success()
        .stdout("\"1234AB\"\n");
}
