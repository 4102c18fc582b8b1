//! `$filter`: a recursive-descent parser of the OData v2 filter subset Exact Online accepts,
//! and its evaluator over stored rows.
//!
//! Grammar (lowest precedence first):
//! `or := and ("or" and)*`, `and := unary ("and" unary)*`, `unary := "not" unary | cmp`,
//! `cmp := primary (("eq"|"ne"|"gt"|"ge"|"lt"|"le") primary)?`,
//! `primary := "(" or ")" | literal | function "(" args ")" | property`.

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A property of the entity.
    Prop(String),
    /// A literal.
    Lit(Lit),
    /// `not e`.
    Not(Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `a op b`.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// `substringof(..)`, `startswith(..)`, ...
    Call(String, Vec<Expr>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number (`12`, `12.5`, `123L`).
    Num(f64),
    /// `'text'`
    Str(String),
    /// `guid'..'` (lower-cased).
    Guid(String),
    /// `datetime'..'` as epoch milliseconds.
    DateTime(i64),
}

/// A filter the service refuses; the text is the message of the 400 answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

mod eval;
mod parse;

pub use eval::{eval, val_of, Val};
pub use parse::{check, parse, parse_datetime, properties};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(filter: &str, row: serde_json::Value) -> bool {
        let e = parse(filter).expect("parses");
        let get = |p: &str| row.get(p).map(val_of).unwrap_or(Val::Null);
        eval(&e, &get) == Val::Bool(true)
    }

    #[test]
    fn precedence_and_over_or_and_not() {
        let e = parse("A eq 1 or B eq 2 and not C eq 3").expect("parses");
        match e {
            Expr::Or(_, right) => assert!(matches!(*right, Expr::And(_, _))),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn literals() {
        assert_eq!(
            parse("Timestamp gt 123L").ok(),
            Some(Expr::Cmp(
                CmpOp::Gt,
                Box::new(Expr::Prop("Timestamp".into())),
                Box::new(Expr::Lit(Lit::Num(123.0)))
            ))
        );
        let g = parse("ID eq guid'5B3DEBEF-0000-0000-0000-000000000001'").expect("guid");
        assert!(
            matches!(g, Expr::Cmp(_, _, ref r) if **r == Expr::Lit(Lit::Guid("5b3debef-0000-0000-0000-000000000001".into())))
        );
        let d = parse("Modified ge datetime'2024-01-01T00:00:00'").expect("date");
        assert!(
            matches!(d, Expr::Cmp(_, _, ref r) if **r == Expr::Lit(Lit::DateTime(1_704_067_200_000)))
        );
        assert!(
            matches!(parse("Name eq 'O''Brien'"), Ok(Expr::Cmp(_, _, ref r)) if **r == Expr::Lit(Lit::Str("O'Brien".into())))
        );
    }

    proptest::proptest! {
        /// Whatever arrives in `$filter`, the parser answers Ok or Err, never panics.
        #[test]
        fn parser_never_panics(src in "[ a-zA-Z0-9_'()/,.:-]{0,80}") {
            let _ = parse(&src);
        }

        /// Generated well-formed filters parse, and evaluate without panicking.
        #[test]
        fn generated_filters_parse(
            field in "[A-Z][a-z]{1,8}",
            op in proptest::sample::select(vec!["eq", "ne", "gt", "ge", "lt", "le"]),
            text in "[a-z ]{0,10}",
            n in -1000i64..1000,
        ) {
            let src = format!("({field} {op} '{text}' or {field} {op} {n}L) and not substringof('{text}', {field})");
            let e = parse(&src).expect("well-formed");
            let _ = eval(&e, &|_| Val::Str(text.clone()));
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}Name eq 'x'{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&deep).is_err());
        let nots = format!("{}Name eq 'x'", "not ".repeat(5000));
        assert!(parse(&nots).is_err());
        let ok = format!("{}Name eq 'x'{}", "(".repeat(20), ")".repeat(20));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn syntax_errors_are_refused() {
        for bad in [
            "Name eq",
            "(Name eq 'x'",
            "Name eq 'x' and",
            "Name eq 'open",
            "foo(Name)",
            "Name eq guid'nope'",
            "Account/Name eq 'x'",
            "Name eq 'a' 'b'",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn evaluation() {
        let row = json!({"Name": "Bakkerij de Vries", "Code": "              1234", "Amount": 10.5, "Modified": "/Date(1704067200000)/", "Blocked": false, "Email": null});
        assert!(run("Name eq 'bakkerij de vries'", row.clone()));
        assert!(run("substringof('vries', Name) eq true", row.clone()));
        assert!(run("startswith(Name, 'Bakk')", row.clone()));
        assert!(!run("Code eq '1234'", row.clone()));
        assert!(run("Code eq '              1234'", row.clone()));
        assert!(run("Amount gt 10 and Amount le 10.5", row.clone()));
        assert!(run(
            "Modified ge datetime'2024-01-01T00:00:00' and not (Blocked eq true)",
            row.clone()
        ));
        assert!(run("Email eq null", row.clone()));
        assert!(run("Email eq 'x' or Name ne 'y'", row));
    }

    #[test]
    fn type_checks() {
        let types = |p: &str| match p {
            "ID" => Some("Edm.Guid".to_string()),
            "Name" => Some("Edm.String".to_string()),
            _ => None,
        };
        let t = "Exact.Web.Api.Models.Account";
        assert!(check(
            &parse("ID eq guid'5b3debef-0000-0000-0000-000000000001'").expect("p"),
            t,
            &types
        )
        .is_ok());
        assert!(check(
            &parse("ID eq '5b3debef-0000-0000-0000-000000000001'").expect("p"),
            t,
            &types
        )
        .is_err());
        assert!(check(&parse("Name eq ID").expect("p"), t, &types).is_err());
        assert!(check(&parse("Nope eq 1").expect("p"), t, &types).is_err());
    }
}
