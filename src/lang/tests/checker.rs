//! One test per kind of diagnostic, asserting the code and the span.

use crate::lang::{check, parse, CheckEnv, ErrorCode, LangError, RecordShape, Type};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug)]
struct Shape {
    name: &'static str,
    fields: Vec<(&'static str, Type)>,
}

impl RecordShape for Shape {
    fn name(&self) -> &str {
        self.name
    }
    fn field(&self, name: &str) -> Option<Type> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, t)| t.clone())
    }
    fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|(n, _)| n.to_string()).collect()
    }
}

fn env() -> CheckEnv {
    let line = Arc::new(Shape {
        name: "SalesOrderLines",
        fields: vec![("ItemCode", Type::Text), ("Quantity", Type::Number), ("UnitPrice", Type::Number)],
    });
    let order = Arc::new(Shape {
        name: "SalesOrders",
        fields: vec![
            ("OrderNumber", Type::Number),
            ("Description", Type::Text),
            ("OrderDate", Type::Date),
            ("PaymentCondition", Type::Text),
            ("SalesOrderLines", Type::List(Box::new(Type::Record(line)))),
        ],
    });
    let customer = Arc::new(Shape { name: "Accounts", fields: vec![("Name", Type::Text), ("Country", Type::Text)] });
    CheckEnv {
        root: Type::Record(order),
        bindings: vec![("customer".into(), Type::Record(customer))],
        vars: Some(BTreeSet::from(["default_debtor".to_string()])),
        tables: Some(BTreeSet::from(["payment_conditions".to_string(), "vat_by_country".to_string()])),
        scripts: BTreeMap::from([("fix_postcode".to_string(), 1)]),
    }
}

fn errors(src: &str) -> Vec<LangError> {
    match parse(src) {
        Ok(e) => check(&e, &env()).1,
        Err(e) => e,
    }
}

/// Asserts exactly one error, with this code, at the text `at` (first occurrence).
fn one(src: &str, code: ErrorCode, at: &str) -> LangError {
    let errs = errors(src);
    assert_eq!(errs.len(), 1, "{src}: {errs:#?}");
    let e = errs.into_iter().next().unwrap();
    assert_eq!(e.code, code, "{src}: {e:?}");
    let start = src.find(at).unwrap();
    assert_eq!((e.span.start, e.span.end), (start, start + at.len()), "{src}: {e:?}");
    e
}

#[test]
fn valid_mapping_has_no_errors() {
    let src = "{ OrderDebtor: vars.default_debtor ?? customer.Name, YourReference: text(OrderNumber),
        PaymentCondition: table('payment_conditions', PaymentCondition),
        Lines: SalesOrderLines | map(line => { Itemcode: line.ItemCode, Quantity: line.Quantity,
            Price: line.UnitPrice * 1.21, VATCode: table('vat_by_country', customer.Country) ?? 'X' }),
        Note: \"Order {OrderNumber}: {Description | upper}\", Postcode: script.fix_postcode('1234ab'),
        Total: SalesOrderLines | map(l => l.Quantity * l.UnitPrice) | sum | round(2),
        Date: format_date(OrderDate, '%d-%m-%Y') }";
    assert_eq!(errors(src), vec![]);
}

#[test]
fn syntax_error_has_span_and_hint() {
    let e = one("OrderNumber = 5", ErrorCode::Syntax, "=");
    assert_eq!(e.help.as_deref(), Some("use `==` to compare"));
}

#[test]
fn unknown_field_with_did_you_mean() {
    let e = one("upper(Descripton)", ErrorCode::UnknownField, "Descripton");
    assert_eq!(e.help.as_deref(), Some("did you mean `Description`?"));
    let e = one("SalesOrderLines | map(l => l.ItemCod)", ErrorCode::UnknownField, "ItemCod");
    assert_eq!(e.help.as_deref(), Some("did you mean `ItemCode`?"));
    one("customer.Nmae", ErrorCode::UnknownField, "Nmae");
    one("{ a: 1 }.b", ErrorCode::UnknownField, "b");
}

#[test]
fn unknown_function_with_did_you_mean() {
    let e = one("uppr(Description)", ErrorCode::UnknownFunction, "uppr");
    assert_eq!(e.help.as_deref(), Some("did you mean `upper`?"));
    let e = one("fix_postcode('x')", ErrorCode::UnknownFunction, "fix_postcode");
    assert!(e.help.unwrap().contains("script.fix_postcode"));
}

#[test]
fn wrong_arity() {
    let e = one("pad_left(Description)", ErrorCode::WrongArity, "pad_left(Description)");
    assert!(e.message.contains("2 to 3"), "{e:?}");
    one("Description | trim('x')", ErrorCode::WrongArity, "Description | trim('x')");
    one("script.fix_postcode(1, 2)", ErrorCode::WrongArity, "script.fix_postcode(1, 2)");
}

#[test]
fn unknown_table() {
    let e = one("table('payment_condition', PaymentCondition)", ErrorCode::UnknownTable, "'payment_condition'");
    assert_eq!(e.help.as_deref(), Some("did you mean `payment_conditions`?"));
}

#[test]
fn unknown_var() {
    let e = one("vars.default_debtr", ErrorCode::UnknownVar, "default_debtr");
    assert_eq!(e.help.as_deref(), Some("did you mean `default_debtor`?"));
}

#[test]
fn unknown_script_function() {
    let e = one("script.fix_postcod(Description)", ErrorCode::UnknownScriptFunction, "fix_postcod");
    assert_eq!(e.help.as_deref(), Some("did you mean `fix_postcode`?"));
}

#[test]
fn type_mismatches() {
    let e = one("upper(OrderNumber)", ErrorCode::TypeMismatch, "OrderNumber");
    assert_eq!(e.message, "upper() expects text, got number");
    one("Description * 2", ErrorCode::TypeMismatch, "Description");
    one("SalesOrderLines.ItemCode", ErrorCode::TypeMismatch, "ItemCode");
    one("if Description then 1 else 2", ErrorCode::TypeMismatch, "Description");
    one("OrderNumber < 'a'", ErrorCode::TypeMismatch, "OrderNumber < 'a'");
    one("OrderDate * 2", ErrorCode::TypeMismatch, "OrderDate");
    one("SalesOrderLines | filter(l => l.ItemCode)", ErrorCode::TypeMismatch, "l.ItemCode");
    one("first(SalesOrderLines).Quantity | upper", ErrorCode::TypeMismatch, "first(SalesOrderLines).Quantity");
}

#[test]
fn lambda_misuse() {
    one("SalesOrderLines | map(1)", ErrorCode::LambdaMisuse, "1");
    one("upper(x => x)", ErrorCode::LambdaMisuse, "x => x");
}

#[test]
fn invalid_literal_argument() {
    one("regex_match(Description, '[a-')", ErrorCode::InvalidArgument, "'[a-'");
    one("jsonpath(SalesOrderLines, '$[')", ErrorCode::InvalidArgument, "'$['");
    one("table(Description, 1)", ErrorCode::InvalidArgument, "Description");
}

#[test]
fn duplicate_key() {
    let errs = errors("{ A: 1, B: 2, A: 3 }");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::DuplicateKey);
    assert_eq!((errs[0].span.start, errs[0].span.end), (14, 15));
}

#[test]
fn too_deep() {
    let src = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    let errs = errors(&src);
    assert_eq!(errs[0].code, ErrorCode::TooDeep);
    let src = format!("x{}", " | trim".repeat(300));
    assert_eq!(errors(&src)[0].code, ErrorCode::TooDeep);
}

#[test]
fn reports_all_problems_not_just_the_first() {
    let errs = errors("{ a: uppr(Descripton), b: table('nope', 1), c: vars.nope, d: OrderNumber * 'x' }");
    let mut codes: Vec<&str> = errs.iter().map(|e| e.code.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["E002", "E003", "E005", "E006", "E008"]);
}

#[test]
fn object_literal_keys_are_returned_with_spans() {
    let src = "{ Itemcode: 'A', \"Odd Key\": 1 }";
    let (ty, errs) = check(&parse(src).unwrap(), &env());
    assert!(errs.is_empty());
    let Type::Object(fields) = ty else { panic!("not an object: {ty:?}") };
    assert_eq!(fields[0].name, "Itemcode");
    assert_eq!(&src[fields[0].span.start..fields[0].span.end], "Itemcode");
    assert!(matches!(fields[0].ty, Type::Text));
    assert_eq!(&src[fields[1].span.start..fields[1].span.end], "\"Odd Key\"");
    let (ty, _) = check(&parse("SalesOrderLines | map(l => { Q: l.Quantity })").unwrap(), &env());
    let Type::List(inner) = ty else { panic!("not a list") };
    assert!(matches!(*inner, Type::Object(ref f) if matches!(f[0].ty, Type::Number)));
}
