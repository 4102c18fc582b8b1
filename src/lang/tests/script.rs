//! The rhai sandbox: limits hold, forbidden things fail, errors carry positions.

use crate::lang::{compile, parse, Context, ScriptHost, Tables};
use serde_json::json;

fn host(src: &str) -> ScriptHost {
    ScriptHost::load(&[("scripts/t.rhai".to_string(), src.to_string())]).expect("script compiles")
}

#[test]
fn functions_are_listed_with_arity_and_callable_from_expressions() {
    let h = host("fn fix_postcode(p) { let s = p.to_upper(); s.replace(\" \", \"\"); s }\nfn two(a, b) { a + b }");
    assert_eq!(h.functions().get("fix_postcode"), Some(&1));
    assert_eq!(h.functions().get("two"), Some(&2));
    let program = compile(&parse("script.fix_postcode(pc) + text(script.two(1, 2))").unwrap()).unwrap();
    let record = json!({ "pc": "1234 ab" });
    let (vars, tables) = (json!({}), Tables::new());
    let ctx = Context { record: &record, vars: &vars, tables: &tables, scripts: Some(&h), bindings: &[] };
    assert_eq!(program.eval(&ctx).unwrap(), json!("1234AB3"));
}

#[test]
fn values_round_trip() {
    let h = host("fn id(x) { x }");
    let v = json!({ "a": [1, 2.5, "x", null, true, { "b": [] }] });
    assert_eq!(h.call("id", std::slice::from_ref(&v)).unwrap(), v);
}

#[test]
fn endless_loop_ends_with_an_error() {
    let h = host("fn spin() { loop { } }");
    let err = h.call("spin", &[]).unwrap_err();
    assert!(err.contains("script.spin()"), "{err}");
}

#[test]
fn deep_recursion_ends_with_an_error() {
    let h = host("fn down(n) { down(n + 1) }");
    assert!(h.call("down", &[json!(0)]).is_err());
}

#[test]
fn huge_strings_and_arrays_are_refused() {
    let h = host("fn big() { let s = \"x\"; loop { s += s; } }\nfn arr() { let a = []; loop { a.push(1); } }");
    assert!(h.call("big", &[]).is_err());
    assert!(h.call("arr", &[]).is_err());
}

#[test]
fn import_and_eval_are_not_available() {
    let err = ScriptHost::load(&[("a.rhai".into(), "import \"x\" as y;\nfn f() { 1 }".into())]).unwrap_err();
    assert_eq!(err[0].file, "a.rhai");
    let err = ScriptHost::load(&[("b.rhai".into(), "fn f() { eval(\"1\") }".into())]);
    match err {
        Err(e) => assert_eq!(e[0].file, "b.rhai"),
        Ok(h) => assert!(h.call("f", &[]).is_err()),
    }
}

#[test]
fn no_file_access_functions() {
    let h = host("fn f() { open_file(\"/etc/passwd\") }");
    assert!(h.call("f", &[]).unwrap_err().contains("not found"));
}

#[test]
fn compile_errors_have_file_line_and_column() {
    let errs = ScriptHost::load(&[
        ("ok.rhai".into(), "fn a() { 1 }".into()),
        ("bad.rhai".into(), "fn b() {\n  let x = ;\n}".into()),
    ])
    .unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].file.as_str(), errs[0].line), ("bad.rhai", 2));
    assert!(errs[0].column > 0);
}

#[test]
fn runtime_errors_become_eval_errors() {
    let h = host("fn boom(x) { throw \"bad \" + x; }");
    let program = compile(&parse("script.boom('input')").unwrap()).unwrap();
    let (record, vars, tables) = (json!({}), json!({}), Tables::new());
    let ctx = Context { record: &record, vars: &vars, tables: &tables, scripts: Some(&h), bindings: &[] };
    let err = program.eval(&ctx).unwrap_err();
    assert!(err.message.contains("bad input"), "{}", err.message);
}
