//! Walks `cases.yaml`: every grammar rule and every function, good and failing.

use super::{static_errors, test_tables};
use crate::lang::value::equal;
use crate::lang::{compile, parse, CheckEnv, Context};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    expr: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    vars: Option<Value>,
    #[serde(default)]
    expect: Option<Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    span: Option<[usize; 2]>,
    #[serde(default)]
    eval_error: Option<String>,
    #[serde(default)]
    env: Option<String>,
}

fn env_named(name: Option<&str>) -> CheckEnv {
    let mut env = CheckEnv {
        tables: Some(
            ["payment_conditions", "vat_by_country"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        ..CheckEnv::default()
    };
    match name {
        Some("known_vars") => env.vars = Some(BTreeSet::from(["debtor".to_string()])),
        Some("unchecked_scripts") => env.scripts = BTreeMap::from([("f".to_string(), 1)]),
        _ => {}
    }
    env
}

#[test]
fn cases() {
    let text = include_str!("cases.yaml");
    let raw: Vec<serde_yaml::Value> = serde_yaml::from_str(text).expect("cases.yaml parses");
    let mut failures = Vec::new();
    for item in raw {
        let has_expect = item.get("expect").is_some();
        let case: Case = serde_yaml::from_value(item).expect("case shape");
        if let Err(msg) = run(&case, has_expect) {
            failures.push(format!("`{}`: {msg}", case.expr));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn run(case: &Case, has_expect: bool) -> Result<(), String> {
    let env = env_named(case.env.as_deref());
    let errs = static_errors(&case.expr, &env);
    if let Some(code) = &case.error {
        let hit = errs.iter().find(|e| e.code.as_str() == code);
        let Some(hit) = hit else {
            return Err(format!("expected {code}, got {errs:?}"));
        };
        if let Some([s, e]) = case.span {
            if (hit.span.start, hit.span.end) != (s, e) {
                return Err(format!(
                    "{code} at {:?}, expected [{s}, {e}]: {}",
                    hit.span, hit.message
                ));
            }
        }
        return Ok(());
    }
    if !errs.is_empty() {
        return Err(format!("unexpected static errors {errs:?}"));
    }
    let expr = parse(&case.expr).map_err(|e| format!("{e:?}"))?;
    let program = compile(&expr).map_err(|e| format!("{e:?}"))?;
    let record = case.input.clone().unwrap_or_else(|| json!({}));
    let vars = case.vars.clone().unwrap_or_else(|| json!({}));
    let tables = test_tables();
    let ctx = Context {
        record: &record,
        vars: &vars,
        tables: &tables,
        scripts: None,
        bindings: &[],
    };
    let result = program.eval(&ctx);
    super::same_over_views(&program, &ctx, &result)?;
    let plain = crate::lang::compile::compile_with(&expr, false).map_err(|e| format!("{e:?}"))?;
    if plain.eval(&ctx) != result {
        return Err("hoisted and plain evaluation differ".into());
    }
    match (&case.eval_error, result) {
        (Some(want), Err(e)) if e.message.contains(want.as_str()) => Ok(()),
        (Some(want), Err(e)) => Err(format!("error `{}` does not contain `{want}`", e.message)),
        (Some(want), Ok(v)) => Err(format!("expected error `{want}`, got {v}")),
        (None, Err(e)) => Err(format!("unexpected eval error: {}", e.message)),
        (None, Ok(v)) => {
            if !has_expect {
                return Err("case has no expect/error/eval_error".into());
            }
            let want = case.expect.clone().unwrap_or(Value::Null);
            if equal(&v, &want) {
                Ok(())
            } else {
                Err(format!("got {v}, expected {want}"))
            }
        }
    }
}
