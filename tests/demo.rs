//! `exflow demo`, the real binary: both simulators in-process on port 0, the embedded
//! standard pipelines, two passes.

use serde_json::Value;

fn exflow(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::cargo_bin("exflow")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn count(run: &Value, key: &str) -> u64 {
    run[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a count in {run}"))
}

#[test]
fn the_demo_creates_everything_once_and_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let project_arg = project.display().to_string();
    let (code, out, err) = exflow(&[
        "demo",
        "--format",
        "json",
        "--orders",
        "60",
        "--dir",
        &project_arg,
    ]);
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let top: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(top, ["runs"]);
    let runs = doc["runs"].as_array().unwrap();
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r["pipeline"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "products",
            "customers",
            "customer_contacts",
            "orders",
            "products",
            "customers",
            "customer_contacts",
            "orders"
        ]
    );
    for run in runs {
        let keys: Vec<&String> = run.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "pipeline",
                "created",
                "updated",
                "skipped",
                "failed",
                "api_calls",
                "required"
            ],
            "{run}"
        );
        let calls: Vec<&String> = run["api_calls"].as_object().unwrap().keys().collect();
        assert_eq!(calls, ["exact_online", "exact_globe"], "{run}");
        count(&run["api_calls"], "exact_online");
        count(&run["api_calls"], "exact_globe");
        assert_eq!(count(run, "failed"), 0, "{run}");
    }
    for first in &runs[..4] {
        assert!(
            count(first, "created") > 0,
            "the first pass creates: {first}"
        );
    }
    for second in &runs[4..] {
        assert_eq!(
            count(second, "created"),
            0,
            "the second pass creates nothing: {second}"
        );
    }
    // The records made through `requires` are counted too: the debtors the orders need,
    // the assortments of the products.
    let required_created = |run: &Value| -> u64 {
        run["required"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| count(c, "created"))
            .sum()
    };
    assert!(required_created(&runs[0]) > 0, "{}", runs[0]);
    assert!(runs[3]["required"]["Account"].is_object(), "{}", runs[3]);
    assert!(required_created(&runs[3]) > 0, "{}", runs[3]);
    // The second pass reads every order again (cursors forgotten) and skips them all.
    assert_eq!(
        count(&runs[7], "skipped"),
        count(&runs[3], "created") + count(&runs[3], "skipped")
    );
    // Reading orders stays cheap on Exact Online: a few batched calls, never one per order.
    assert!(
        count(&runs[3]["api_calls"], "exact_online") < 20,
        "{}",
        runs[3]
    );

    // The project is kept, with the standard pipelines and its state store; the credentials
    // stay in the environment, and no token is printed.
    let yaml = std::fs::read_to_string(project.join("exflow.yaml")).unwrap();
    assert!(yaml.contains("${EXACT_GLOBE_PASSWORD}"), "{yaml}");
    assert!(!yaml.contains("exflow-sim-secret"), "{yaml}");
    for file in [
        "orders.yaml",
        "customers.yaml",
        "products.yaml",
        "scripts/address.rhai",
    ] {
        assert!(project.join("pipelines").join(file).is_file(), "{file}");
    }
    assert!(project.join(".exflow/state.db").is_file());
    assert!(!out.to_lowercase().contains("token") && !err.to_lowercase().contains("token"));

    // A folder that is not empty is refused: its state would point at gone simulators.
    let (code, _, err) = exflow(&["demo", "--dir", &project_arg]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn the_text_summary_names_the_passes_and_the_calls_per_order() {
    let (code, out, err) = exflow(&["demo", "--orders", "40", "--seed", "7"]);
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    for expected in [
        "First pass",
        "Second pass",
        "run products:",
        "run customers:",
        "run orders:",
        "Exact Online",
        "beyond the protocol's writes",
        "Result: ok",
    ] {
        assert!(out.contains(expected), "{expected} missing in:\n{out}");
    }
    // The demo's own result is not called a failure to meet a target.
    assert!(!out.contains("over target"), "{out}");
}

/// The command lines the demo printed under "To go on with it", without `exflow` and the
/// comments.
fn printed(out: &str, starting: &str) -> Vec<String> {
    let line = out
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(starting))
        .unwrap_or_else(|| panic!("no `{starting}` line in:\n{out}"));
    let command = line.split('#').next().unwrap();
    command.split_whitespace().map(str::to_string).collect()
}

#[test]
fn a_kept_demo_project_runs_against_exflow_sim_as_printed() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let project_arg = project.display().to_string();
    let (code, out, err) = exflow(&["demo", "--orders", "40", "--dir", &project_arg]);
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    // The simulator as printed, on free ports (the printed defaults may be taken here).
    let mut sim_args = printed(&out, "exflow sim")[1..].to_vec();
    sim_args.extend(["--online", "127.0.0.1:0", "--globe", "127.0.0.1:0"].map(String::from));
    let mut sim = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(&sim_args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(sim.stdout.take().unwrap()).lines();
    let mut url = |system: &str| {
        let line = lines.next().unwrap().unwrap();
        line.strip_prefix(&format!("{system} "))
            .unwrap_or_else(|| panic!("{line}"))
            .to_string()
    };
    let online = url("exact_online");
    let globe = url("exact_globe");
    let mut vars: Vec<(String, String)> = printed(&out, "export ")[1..]
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    vars.push(("EXACT_ONLINE_BASE_URL".into(), online));
    vars.push(("EXACT_GLOBE_BASE_URL".into(), globe));
    let in_project = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("exflow")
            .unwrap()
            .current_dir(&project)
            .args(args)
            .envs(vars.clone())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let plan_args = printed(&out, "exflow plan");
    let plan_args: Vec<&str> = plan_args[1..].iter().map(String::as_str).collect();
    let (plan_code, plan, plan_err) = in_project(&plan_args);
    let (run_code, run, run_err) = in_project(&["run", "--format", "json"]);
    // The cursor now stands at the end; `--since` reads from that date all the same.
    let skipped = |args: &[&str]| -> u64 {
        let (code, out, err) = in_project(args);
        assert_eq!(
            code, 0,
            "{err}
{out}"
        );
        let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        count(&doc["runs"][0], "skipped")
    };
    let again = skipped(&["run", "products", "--format", "json"]);
    let since = skipped(&[
        "run",
        "products",
        "--since",
        "2000-01-01",
        "--format",
        "json",
    ]);
    sim.kill().unwrap();
    sim.wait().unwrap();
    assert_eq!(plan_code, 0, "{plan_err}\n{plan}");
    // The demo's cursors and id map are gone: the fresh simulator's records are read again.
    assert!(plan.contains("  create  Item"), "{plan}");
    assert_eq!(run_code, 0, "{run_err}\n{run}");
    let doc: Value = serde_json::from_str(&run).unwrap_or_else(|e| panic!("{e}: {run}"));
    let orders = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pipeline"] == "orders")
        .unwrap();
    assert!(count(orders, "created") > 0, "{orders}");
    assert_eq!(again, 0, "a second run reads nothing new");
    assert!(since > 0, "--since read nothing past the cursor");
}
