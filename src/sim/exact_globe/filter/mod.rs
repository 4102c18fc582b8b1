//! `$filter`: a small recursive-descent parser for the OData v2 subset Globe clients use
//! (eq ne gt ge lt le, and or not, parentheses, substringof, startswith, endswith, tolower,
//! toupper, trim, and string/number/guid/datetime/true/false/null literals), and its evaluation
//! against stored records with SQL Server semantics: strings compare case-insensitively and
//! ignore trailing spaces, but leading spaces count, so an unpadded code finds nothing.
mod eval;
mod parse;

pub use eval::{matches, order_values};
pub use parse::parse;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// eq
    Eq,
    /// ne
    Ne,
    /// gt
    Gt,
    /// ge
    Ge,
    /// lt
    Lt,
    /// le
    Le,
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A property of the entity.
    Prop(String),
    /// A literal.
    Lit(Lit),
    /// a op b
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// a and b and ... (kept flat: long key batches must not nest deeply)
    And(Vec<Expr>),
    /// a or b or ... (kept flat)
    Or(Vec<Expr>),
    /// not a
    Not(Box<Expr>),
    /// A function call.
    Call(String, Vec<Expr>),
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// 'text'
    Str(String),
    /// 42, 1.5, 2M
    Num(f64),
    /// guid'...'
    Guid(String),
    /// datetime'...' (milliseconds since the epoch)
    Date(i64),
    /// true / false
    Bool(bool),
    /// null
    Null,
}

/// A filter error, with the message the service gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);
#[cfg(test)]
mod tests {
    use super::super::catalog::{Catalog, Entity};
    use super::*;
    use serde_json::{json, Map, Value};

    fn account() -> &'static Entity {
        Catalog::get().entity("Account").unwrap()
    }

    fn rec(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let e = parse(
            "AccountName eq 'a' or AccountName eq 'b' and Blocked eq true",
            account(),
        )
        .unwrap();
        assert!(matches!(e, Expr::Or(ref v) if v.len() == 2 && matches!(v[1], Expr::And(..))));
        let r = rec(json!({"AccountName": "a", "Blocked": false}));
        assert!(matches(&e, &r, account()));
    }

    #[test]
    fn padded_codes_need_padding_and_trailing_spaces_do_not_matter() {
        let r = rec(json!({"AccountCode": "            80004153"}));
        let a = account();
        assert!(!matches(
            &parse("AccountCode eq '80004153'", a).unwrap(),
            &r,
            a
        ));
        assert!(matches(
            &parse("AccountCode eq '            80004153'", a).unwrap(),
            &r,
            a
        ));
        assert!(!matches(
            &parse("startswith(AccountCode, '8000')", a).unwrap(),
            &r,
            a
        ));
        assert!(matches(
            &parse("substringof('8000', AccountCode)", a).unwrap(),
            &r,
            a
        ));
        let n = rec(json!({"AccountName": "Bakkerij Jansen  "}));
        assert!(matches(
            &parse("AccountName eq 'bakkerij jansen'", a).unwrap(),
            &n,
            a
        ));
    }

    #[test]
    fn guid_literals_with_or_without_braces() {
        let g = "e4e1b2c3-0000-4000-8000-000000000001";
        let r = rec(json!({ "ID": g }));
        let a = account();
        for f in [
            format!("ID eq guid'{g}'"),
            format!("ID eq guid'{{{}}}'", g.to_uppercase()),
        ] {
            assert!(matches(&parse(&f, a).unwrap(), &r, a), "{f}");
        }
        assert!(parse("ID eq guid'nope'", a).is_err());
    }

    #[test]
    fn unknown_property_is_refused_with_position() {
        let err = parse("AccountName eq 'x' and Itemcode eq 'y'", account()).unwrap_err();
        assert_eq!(
            err.0,
            "No property 'Itemcode' exists in type 'Exact.Metadata.Entity.Account' at position 23."
        );
    }

    #[test]
    fn dates_numbers_not_and_parentheses() {
        let a = account();
        let r = rec(json!({"ModifiedDate": "/Date(1581465600000)/", "CreditLine": 500}));
        assert!(matches(
            &parse("ModifiedDate ge datetime'2020-02-12T00:00:00'", a).unwrap(),
            &r,
            a
        ));
        assert!(!matches(
            &parse("ModifiedDate gt datetime'2020-02-12T00:00:00'", a).unwrap(),
            &r,
            a
        ));
        assert!(matches(
            &parse("ModifiedDate lt '2020-02-13'", a).unwrap(),
            &r,
            a
        ));
        assert!(matches(
            &parse("not (CreditLine lt 100) and (CreditLine le 500M)", a).unwrap(),
            &r,
            a
        ));
        assert!(matches(&parse("AccountName eq null", a).unwrap(), &r, a));
    }

    #[test]
    fn long_or_chains_are_fine_and_deep_nesting_is_refused() {
        let a = account();
        let many = (0..3000)
            .map(|i| format!("AccountName eq 'n{i}'"))
            .collect::<Vec<_>>()
            .join(" or ");
        let e = parse(&many, a).unwrap();
        assert!(matches(&e, &rec(json!({"AccountName": "n2999"})), a));
        let deep = format!("{}AccountName eq 'x'{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep, a).unwrap_err().0.contains("too deeply"));
        assert!(parse(&"not ".repeat(500), a).is_err());
    }

    #[test]
    fn syntax_and_type_errors() {
        let a = account();
        assert!(parse("AccountName eq", a).is_err());
        assert!(parse("AccountName eq 'x", a).is_err());
        assert!(parse("(AccountName eq 'x'", a).is_err());
        assert!(parse("AccountName eq 'x' 'y'", a).is_err());
        assert!(parse("frobnicate(AccountName)", a).is_err());
        let e = parse("DebtorNumber eq 123", a).unwrap_err();
        assert!(e.0.contains("incompatible"), "{}", e.0);
        assert_eq!(
            parse("AccountName eq 'O''Neil'", a).unwrap(),
            Expr::Cmp(
                CmpOp::Eq,
                Box::new(Expr::Prop("AccountName".into())),
                Box::new(Expr::Lit(Lit::Str("O'Neil".into())))
            )
        );
    }

    proptest::proptest! {
        #[test]
        fn the_parser_never_panics(src in "[A-Za-z0-9 '(),.{}$-]{0,120}") {
            let _ = parse(&src, account());
        }

        #[test]
        fn token_soup_never_panics(words in proptest::collection::vec(proptest::sample::select(vec![
            "AccountName", "ID", "ModifiedDate", "CreditLine", "Blocked", "eq", "ne", "gt", "le", "and",
            "or", "not", "(", ")", ",", "'x'", "''", "guid'{e4e1b2c3-0000-4000-8000-000000000001}'",
            "datetime'2026-01-01'", "12", "-1.5M", "true", "null", "substringof", "startswith", "tolower",
        ]), 0..40)) {
            let src = words.join(" ");
            if let Ok(e) = parse(&src, account()) {
                let r = rec(json!({"AccountName": "x", "CreditLine": 3, "Blocked": false}));
                let _ = matches(&e, &r, account());
            }
        }
    }
}
