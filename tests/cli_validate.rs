//! The real `exflow` binary on the standard pipelines: clean, broken, and machine-readable.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn exflow() -> Command {
    Command::cargo_bin("exflow").expect("binary")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the standard project (exflow.yaml + pipelines/) in a temporary folder.
fn copy_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("pipelines"), &dir.path().join("pipelines"));
    std::fs::copy(root().join("exflow.yaml"), dir.path().join("exflow.yaml")).expect("copy");
    dir
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

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn the_standard_pipelines_validate_cleanly() {
    exflow()
        .current_dir(root())
        .args(["validate", "pipelines/"])
        .assert()
        .success()
        .stdout(predicates::str::contains("4 pipeline(s) valid"));
}

#[test]
fn a_typo_in_a_target_field_names_the_file_the_line_and_the_fix() {
    let dir = copy_project();
    let orders = dir.path().join("pipelines/orders.yaml");
    let text = std::fs::read_to_string(&orders).expect("read");
    let broken = text.replace(
        "  YourReference: text(OrderNumber)",
        "  YourRefernce: text(OrderNumber)",
    );
    assert_ne!(text, broken);
    std::fs::write(&orders, &broken).expect("write");
    let line = line_of(&broken, "YourRefernce:");

    let out = exflow()
        .current_dir(dir.path())
        .args(["validate", "pipelines/", "--format", "json"])
        .assert()
        .code(2);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    let diags = json["diagnostics"].as_array().expect("list");
    let d = diags.iter().find(|d| d["code"] == "E106").expect("E106");
    assert!(d["file"].as_str().expect("file").ends_with("orders.yaml"));
    assert_eq!(d["line"], line);
    assert_eq!(d["column"], 3);
    assert!(d["help"].as_str().expect("help").contains("YourReference"));

    // Text output for people names the same place.
    let out = exflow()
        .current_dir(dir.path())
        .args(["validate", "pipelines/"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains(&format!("orders.yaml:{line}:3")),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `YourReference`?"), "{stderr}");
}

#[test]
fn a_broken_expression_is_reported_at_its_own_line_and_column() {
    let dir = copy_project();
    let orders = dir.path().join("pipelines/orders.yaml");
    let text = std::fs::read_to_string(&orders).expect("read");
    let broken = text.replace("Quantity: line.Quantity,", "Quantity: line.Quantity *,");
    assert_ne!(text, broken);
    std::fs::write(&orders, &broken).expect("write");
    let line = line_of(&broken, "line.Quantity *,");
    let out = exflow()
        .current_dir(dir.path())
        .args(["validate", "pipelines/", "--format", "json"])
        .assert()
        .code(2);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    let d = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["code"] == "E001")
        .cloned()
        .expect("E001");
    assert_eq!(d["line"], line, "{d}");
    assert!(d["file"].as_str().expect("file").ends_with("orders.yaml"));
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let dir = copy_project();
    let orders = dir.path().join("pipelines/orders.yaml");
    let text = std::fs::read_to_string(&orders).expect("read");
    let broken = text
        .replace(
            "  YourReference: text(OrderNumber)",
            "  YourRefernce: text(OrderNumber)",
        )
        .replace("table(\"shipping_methods\"", "table(\"shiping_methods\"")
        .replace("upper(", "uper(");
    std::fs::write(&orders, &broken).expect("write");
    let out = exflow()
        .current_dir(dir.path())
        .args(["validate", "pipelines/", "--format", "json"])
        .assert()
        .code(2);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    let codes: Vec<String> = json["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(codes.contains(&"E106".to_string()), "{codes:?}");
    assert!(codes.contains(&"E005".to_string()), "{codes:?}");
}

#[test]
fn schema_prints_the_catalogue_as_text_and_json() {
    exflow()
        .args(["schema", "exact_globe", "SalesOrderLine"])
        .assert()
        .success()
        .stdout(predicates::str::contains("Itemcode"));
    let out = exflow()
        .args(["schema", "exact_online", "Accounts", "--format", "json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    let code = json["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "Code")
        .cloned()
        .expect("Code");
    assert_eq!(code["length"], 18);
    assert_eq!(code["padded"], true);
    exflow()
        .args(["schema", "exact_online", "SalesOrder"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("SalesOrders"));
}

#[test]
fn explain_prints_the_long_form_of_a_code() {
    exflow()
        .args(["explain", "E106"])
        .assert()
        .success()
        .stdout(predicates::str::contains("unknown target field"));
    exflow().args(["explain", "E999"]).assert().code(2);
}

#[test]
fn the_standard_pipeline_tests_pass() {
    exflow()
        .current_dir(root())
        .args(["test"])
        .assert()
        .success()
        .stdout(predicates::str::contains(" 0 failed"));
}

#[test]
fn map_applies_the_orders_pipeline_to_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("orders.jsonl");
    let order = serde_json::json!({
        "OrderNumber": 7, "Status": 12, "Description": "Order seven", "PaymentCondition": "IN",
        "SalesOrderLines": [{"ItemCode": "A-1", "Quantity": 2, "UnitPrice": 3.5}],
        "account": {"Name": "Bakker BV", "Email": "INFO@bakker.nl", "Country": "NL"},
        "customer": {"DebtorNumber": "  4711"}
    });
    std::fs::write(&input, format!("{order}\n{order}\nnot json\n")).expect("write");
    let out = exflow()
        .current_dir(root())
        .args(["map", "orders", "--input"])
        .arg(&input)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["YourReference"], "7");
    assert_eq!(lines[0]["PaymentCondition"], "IN");
    assert_eq!(lines[0]["OrderDebtor"], "  4711");
    assert_eq!(lines[0]["Lines"][0]["Itemcode"], "A-1");
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("line 3"));
}

#[test]
fn map_reads_arrays_standard_input_and_empty_files_and_a_bad_record_fails_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let order = |n: u32| {
        serde_json::json!({
            "OrderNumber": n, "Status": 12, "Description": "Escaped \"quote\" \u{e9}",
            "SalesOrderLines": [{"ItemCode": "A-1", "Quantity": 2, "UnitPrice": 3.5}],
            "account": {"Name": "Bakker BV", "Country": "NL"}, "customer": {"DebtorNumber": "1"}
        })
    };
    // A JSON array of records, pretty-printed over many lines.
    let array = dir.path().join("orders.json");
    let text = serde_json::to_string_pretty(&vec![order(1), order(2)]).expect("json");
    std::fs::write(&array, text).expect("write");
    let out = exflow()
        .current_dir(root())
        .args(["map", "orders", "--input"])
        .arg(&array)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let mapped: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(mapped.len(), 2);
    for (v, n) in mapped.iter().zip(["1", "2"]) {
        assert_eq!(v["YourReference"], n);
        assert_eq!(v["Description1"], "Escaped \"quote\" é");
    }

    // Standard input, with a record whose map fails (a number where text is needed) between
    // two good ones: it is reported with its line, the others are printed.
    let mut bad = order(4);
    bad["account"]["Name"] = serde_json::json!(12);
    let lines = format!("{}\n{bad}\n\n{}\n", order(3), order(5));
    let out = exflow()
        .current_dir(root())
        .args(["map", "orders"])
        .write_stdin(lines)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("line 2") && stderr.contains("1 record(s) failed"),
        "{stderr}"
    );

    // A record that is not JSON names its line and column.
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, format!("{}\n{{\"OrderNumber\": 7,,}}\n", order(6))).expect("write");
    let out = exflow()
        .current_dir(root())
        .args(["map", "orders", "--input"])
        .arg(&broken)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("line 2, column 19: not JSON: key must be a string"),
        "{stderr}"
    );

    // An empty file maps to nothing.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    exflow()
        .current_dir(root())
        .args(["map", "orders", "--input"])
        .arg(&empty)
        .assert()
        .success()
        .stdout("");
}

#[test]
fn every_example_project_validates() {
    let examples = root().join("examples");
    let mut count = 0;
    for e in std::fs::read_dir(&examples).expect("examples").flatten() {
        if e.path().join("exflow.yaml").is_file() {
            count += 1;
            exflow()
                .current_dir(e.path())
                .args(["validate", "."])
                .assert()
                .success();
        }
    }
    assert!(count >= 2, "examples: {count}");
}

#[test]
fn a_pipeline_test_that_expects_the_wrong_thing_fails_and_says_why() {
    let dir = copy_project();
    std::fs::write(
        dir.path().join("pipelines/extra.test.yaml"),
        r#"pipeline: products
tests:
  - name: wrong price
    input: { Code: KOF-9, Description: Koffie, StandardSalesPrice: 10, IsSalesItem: true, IsStockItem: true }
    expect: { decision: create, map: { SalesPrice: 11 } }
  - name: a filtered record cannot check its map
    input: { Code: TMP-1, Description: Test, IsSalesItem: true, IsStockItem: true }
    expect: { map: { ItemCode: TMP-1 } }
"#,
    )
    .expect("write");
    let out = exflow()
        .current_dir(dir.path())
        .args(["test", "pipelines/extra.test.yaml"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("map.SalesPrice: expected 11, got 10"),
        "{stdout}"
    );
    assert!(stdout.contains("map: not evaluated"), "{stdout}");
    assert!(stdout.contains("0 passed, 2 failed"), "{stdout}");
}

#[test]
fn a_folder_without_pipelines_is_an_error_not_an_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    exflow()
        .current_dir(dir.path())
        .args(["validate"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no pipeline files"));
    exflow()
        .current_dir(dir.path())
        .args(["run"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no pipeline files"));
}

/// Log lines written to a pipe carry no ANSI colour escapes (they end up in files and CI logs).
#[test]
fn piped_logs_have_no_colour_escapes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(["demo", "--format", "json"])
        .env("EXFLOW_LOG", "exflow::connectors=debug")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEBUG"), "something was logged: {err}");
    assert!(!err.contains('\u{1b}'), "{err}");
}
