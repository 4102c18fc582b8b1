//! Tests of the mapping language: data-driven cases (`cases.yaml`), the checker's
//! diagnostics, the rhai sandbox, and a property test that nothing panics.

mod cases;
mod checker;
mod fuzz;
mod script;

use super::{check, compile, parse, CheckEnv, Context, LangError, Tables};
use serde_json::{json, Value};

/// The tables every test may use.
pub(super) fn test_tables() -> Tables {
    let mut t = Tables::new();
    t.insert(
        "payment_conditions",
        [
            ("30".to_string(), json!("30D")),
            ("14".to_string(), json!("14D")),
        ]
        .into_iter()
        .collect(),
        Some(json!("00")),
    );
    t.insert(
        "vat_by_country",
        [
            ("NL".to_string(), json!("2")),
            ("BE".to_string(), json!("5")),
        ]
        .into_iter()
        .collect(),
        None,
    );
    t
}

/// Parse, check (with `env`), compile: all problems found.
pub(super) fn static_errors(src: &str, env: &CheckEnv) -> Vec<LangError> {
    let expr = match parse(src) {
        Ok(e) => e,
        Err(errs) => return errs,
    };
    let (_, mut errs) = check(&expr, env);
    if let Err(more) = compile(&expr) {
        errs.extend(more);
    }
    errs
}

/// Evaluates `src` against `record` with no bindings.
pub(super) fn eval_str(src: &str, record: &Value) -> Result<Value, String> {
    let expr = parse(src).map_err(|e| format!("{e:?}"))?;
    let program = compile(&expr).map_err(|e| format!("{e:?}"))?;
    let tables = test_tables();
    let vars = json!({});
    let ctx = Context {
        record,
        vars: &vars,
        tables: &tables,
        scripts: None,
        bindings: &[],
    };
    program.eval(&ctx).map_err(|e| e.message)
}

#[test]
fn every_function_example_evaluates_to_true() {
    let mut names = std::collections::BTreeSet::new();
    for f in super::functions() {
        assert!(names.insert(f.name), "duplicate function {}", f.name);
        assert!(!f.doc.is_empty() && !f.signature.is_empty());
        let errs = static_errors(f.example, &CheckEnv::default());
        assert!(
            errs.is_empty(),
            "{}: example does not check: {errs:?}",
            f.name
        );
        assert_eq!(
            eval_str(f.example, &json!({})),
            Ok(json!(true)),
            "{}: example `{}`",
            f.name,
            f.example
        );
        assert!(
            f.example.contains(f.name),
            "{}: example does not use it",
            f.name
        );
    }
    assert!(names.len() >= 60, "only {} functions", names.len());
}

#[test]
fn bindings_come_before_record_fields() {
    let expr = parse("customer.Name + '/' + Name").unwrap();
    let program = compile(&expr).unwrap();
    let tables = Tables::new();
    let customer = json!({ "Name": "Acme" });
    let record = json!({ "Name": "Order", "customer": { "Name": "wrong" } });
    let vars = json!({});
    let bindings = [("customer", &customer)];
    let ctx = Context {
        record: &record,
        vars: &vars,
        tables: &tables,
        scripts: None,
        bindings: &bindings,
    };
    assert_eq!(program.eval(&ctx).unwrap(), json!("Acme/Order"));
}

#[test]
fn eval_error_points_at_the_failing_sub_expression() {
    let src = "'x' + upper(n)";
    let program = compile(&parse(src).unwrap()).unwrap();
    let tables = Tables::new();
    let record = json!({ "n": 12 });
    let vars = json!({});
    let ctx = Context {
        record: &record,
        vars: &vars,
        tables: &tables,
        scripts: None,
        bindings: &[],
    };
    let err = program.eval(&ctx).unwrap_err();
    assert_eq!(err.message, "upper() expects text, got number 12");
    assert_eq!(&src[err.span.start..err.span.end], "upper(n)");
}

#[test]
fn error_codes_are_unique_and_explained() {
    let mut seen = std::collections::BTreeSet::new();
    for c in super::ErrorCode::ALL {
        assert!(seen.insert(c.as_str()));
        assert!(c.explain().len() > 40);
        assert_eq!(super::ErrorCode::parse(c.as_str()), Some(c));
    }
}

#[test]
fn shared_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<super::Program>();
    assert_send_sync::<super::ScriptHost>();
    assert_send_sync::<super::Tables>();
    assert_send_sync::<super::Type>();
    assert_send_sync::<super::LangError>();
    assert_send_sync::<super::EvalError>();
}

/// Evaluating over a projected record gives the same result or error, and `write_json` the
/// same text.
pub(super) fn same_over_views(
    program: &crate::lang::Program,
    ctx: &Context,
    want: &Result<Value, crate::lang::EvalError>,
) -> Result<(), String> {
    use crate::lang::{ProjectedValue, View, ViewContext};
    let projected = ProjectedValue::from_value(ctx.record);
    let vctx = ViewContext {
        record: View::of(&projected),
        vars: ctx.vars,
        tables: ctx.tables,
        scripts: ctx.scripts,
        bindings: &[],
    };
    let got = program.eval_view(&vctx);
    if &got != want {
        return Err(format!("over a view: {got:?}, over the value: {want:?}"));
    }
    let mut text = Vec::new();
    match (program.write_json(&vctx, &mut text), want) {
        (Ok(null), Ok(v)) => {
            let expected = serde_json::to_vec(v).map_err(|e| e.to_string())?;
            if text != expected || null != v.is_null() {
                return Err(format!(
                    "write_json gave {} (null: {null}), expected {v}",
                    String::from_utf8_lossy(&text)
                ));
            }
        }
        (Err(e), Err(w)) if e == *w => {}
        (got, want) => return Err(format!("write_json: {got:?}, eval: {want:?}")),
    }
    Ok(())
}
