//! The scanner against serde_json: same values kept, same documents refused, no panic.

use super::*;
use crate::lang::parse;
use crate::pipeline::reads::{reads_of, ReadSet};
use crate::pipeline::sparse;
use proptest::prelude::*;
use serde_json::json;

fn set(srcs: &[&str]) -> ReadSet {
    let exprs: Vec<_> = srcs.iter().map(|s| parse(s).expect("parses")).collect();
    reads_of(exprs.iter())
}

/// Scans `text` and checks the result against serde_json: the same acceptance, and when
/// accepted the same projected value as the serde-based projection.
fn agree(reads: &ReadSet, text: &[u8]) -> Result<(), String> {
    let projection = Projection::new(reads);
    let ours = projection.scan(text);
    let full = serde_json::from_slice::<Value>(text);
    match (&ours, &full) {
        (Ok(v), Ok(_)) => {
            let oracle = sparse::reference::from_slice(text, reads).map_err(|e| e.to_string())?;
            if v.to_value() != oracle {
                return Err(format!("scan kept {:?}, serde {oracle}", v.to_value()));
            }
            Ok(())
        }
        (Err(_), Err(_)) => Ok(()),
        (Ok(v), Err(e)) => Err(format!("scan accepted ({v:?}) what serde refuses: {e}")),
        (Err(e), Ok(_)) => Err(format!("scan refused what serde accepts: {e}")),
    }
}

#[test]
fn keeps_what_is_read_and_decodes_like_serde() {
    let r = set(&["a.b", "L | map(x => x.k)", "count(M)", "s", "n"]);
    let text =
        br#" {"a":{"b":[1,{"z":2}],"c":3},"z":{"q":[1,"\"",{}]},"L":[{"k":1,"j":2},3,[{"k":4}]],
        "M":{"p":1},"N":[1],"s":"tab\t\u00e9\ud83d\ude00\/","n":-0} "#;
    let projection = Projection::new(&r);
    let got = projection.scan(text).expect("parses");
    assert_eq!(
        got.to_value(),
        json!({"a":{"b":[1,{"z":2}]},"L":[{"k":1},3,[{}]],"M":{"p":1},"s":"tab\té😀/","n":-0.0})
    );
    agree(&r, text).expect("agrees");
}

#[test]
fn a_repeated_key_keeps_its_first_place_and_last_value() {
    let r = set(&["a", "b", "c.d"]);
    for text in [
        r#"{"a":1,"b":2,"a":3}"#,
        r#"{"c":{"d":1},"x":0,"c":{"e":2}}"#,
        r#"{"c":{"d":1,"d":[2]},"b":null,"b":"x"}"#,
    ] {
        agree(&r, text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    let projection = Projection::new(&r);
    let got = projection.scan(br#"{"a":1,"b":2,"a":3}"#).expect("parses");
    assert_eq!(
        serde_json::to_string(&got.to_value()).expect("json"),
        r#"{"a":3,"b":2}"#
    );
}

#[test]
fn numbers_read_as_serde_reads_them() {
    let r = set(&["n"]);
    for n in [
        "0",
        "-0",
        "7",
        "-7",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "1.5",
        "-2.25e-3",
        "1E400",
        "1e-400",
        "123456789012345678901234567890",
        "0.1",
        "2.2250738585072014e-308",
        "9007199254740993",
        "1.7976931348623157e308",
    ] {
        let text = format!(r#"{{"n":{n}}}"#);
        agree(&r, text.as_bytes()).unwrap_or_else(|e| panic!("{n}: {e}"));
    }
}

#[test]
fn refuses_what_serde_refuses_with_the_place() {
    let r = set(&["a"]);
    for bad in [
        r#"{"a":1,}"#,
        r#"{"a":[1,]}"#,
        r#"{"a":1} x"#,
        r#"{"a":01}"#,
        r#"{"a":1.}"#,
        r#"{"a":-}"#,
        r#"{"b":"x\q"}"#,
        r#"{"b":"\ud800"}"#,
        r#"{"b":"\udc00x"}"#,
        r#"{"a":tru}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{"a":"open"#,
        r#"{"b":[1 2]}"#,
        "{\"b\":\"tab\tinside\"}",
        r#"{"a":1"#,
        r#"{"b":1e}"#,
        r#"{"b":+1}"#,
        r#"{"b":.5}"#,
        r#"{"b":"\u12"}"#,
        "",
        " ",
        r#"{"a":nul}"#,
    ] {
        agree(&r, bad.as_bytes()).unwrap_or_else(|e| panic!("{bad}: {e}"));
        assert!(Projection::new(&r).scan(bad.as_bytes()).is_err(), "{bad}");
    }
    let e = Projection::new(&r)
        .scan(b"{\"z\":1,\n \"a\":[1,,2]}")
        .expect_err("bad");
    assert_eq!((e.line, e.column), (2, 9), "{e}");
    let e = Projection::new(&r)
        .scan(b"{\"a\":\"\xff\"}")
        .expect_err("bad utf-8");
    assert_eq!(e.message, "invalid unicode code point");
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let r = set(&["a"]);
    for key in ["a", "skipped"] {
        let deep = format!(
            r#"{{"{key}":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = Projection::new(&r)
            .scan(deep.as_bytes())
            .expect_err("too deep");
        assert_eq!(e.message, "recursion limit exceeded");
    }
    let ok = format!(r#"{{"a":{}{}}}"#, "[".repeat(100), "]".repeat(100));
    agree(&r, ok.as_bytes()).expect("100 levels are fine");
}

#[test]
fn arrays_of_records() {
    let r = set(&["a"]);
    let projection = Projection::new(&r);
    let got = projection
        .scan_array(br#" [ {"a":1,"b":2}, {"b":3} ] "#)
        .expect("parses");
    let values: Vec<Value> = got.iter().map(ProjectedValue::to_value).collect();
    assert_eq!(values, vec![json!({"a":1}), json!({})]);
    assert!(Projection::new(&r).scan_array(br#"{"a":1}"#).is_err());
    assert!(Projection::new(&r).scan_array(br#"[{"a":1}] ]"#).is_err());
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-c]{0,2}|\\PC{0,6}|[\"\\\\/\\n\\t\\u{1}]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-d]|[A-Z][a-z]{0,5}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

const READS: &[&[&str]] = &[
    &["a", "b.c"],
    &["L | map(x => x.a)", "count(b)", "first(c).d"],
    &["a.b.c ?? d", "if b then c.a else L[0].b"],
    &["x => x"],
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_scan_like_serde(v in arb_json(), pick in 0..READS.len(), pretty in any::<bool>()) {
        let reads = READS[pick];
        let r = if reads == ["x => x"] { ReadSet::default() } else { set(reads) };
        let text = if pretty {
            serde_json::to_vec_pretty(&v).expect("json")
        } else {
            serde_json::to_vec(&v).expect("json")
        };
        prop_assert!(agree(&r, &text).is_ok(), "{}", agree(&r, &text).unwrap_err());
    }

    #[test]
    fn damaged_documents_are_refused_like_serde(
        v in arb_json(),
        edits in prop::collection::vec((any::<usize>(), prop::sample::select(&b"{}[]\",:\\ -.0e1tnu\x01"[..])), 1..4),
        pick in 0..READS.len(),
    ) {
        let mut text = serde_json::to_vec(&v).expect("json");
        for (at, c) in edits {
            let i = at % (text.len() + 1);
            text.insert(i, c);
        }
        let r = set(READS[pick.min(2)]);
        prop_assert!(agree(&r, &text).is_ok(), "{}: {}", String::from_utf8_lossy(&text), agree(&r, &text).unwrap_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let r = set(&["a", "b.c", "L | map(x => x.k)"]);
        let _ = Projection::new(&r).scan(&bytes);
        let _ = Projection::new(&r).scan_array(&bytes);
    }
}
