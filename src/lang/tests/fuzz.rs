//! Property test: arbitrary text and mutations of valid expressions never panic anywhere
//! in parse -> check -> compile -> eval.

use crate::lang::{check, compile, parse, CheckEnv, Context, Tables};
use proptest::prelude::*;
use serde_json::json;

const SEEDS: &[&str] = &[
    "\"Order {OrderNumber} for {customer.Name}\"",
    "SalesOrderLines | filter(l => l.Quantity > 0) | map(l => { Itemcode: l.ItemCode, Q: l.Quantity * 2 })",
    "match Status { 12 => 'open', 20 | 21 => 'done', _ => null }",
    "if a.b[0].c >= 1 and not x then table('t', k) ?? 'd' else vars.v",
    "pad_left(text(OrderNumber), 8, '0') + substr(Description, 1, 3) | upper",
    "round(sum(map(SalesOrderLines, l => l.Quantity * l.UnitPrice)), 2) / 0",
    "jsonpath(SalesOrderLines, '$..ItemCode') | join(',') | regex_replace('[A-Z]', '#')",
    "date('/Date(1709251200000)/') | add_days(3) | format_date('%d %m %Y')",
    "{ a: [1, 2.5, -3e2, 'x', \"y\", null, true], 'b': { c: script.f(1) } }",
    "first(SalesOrderLines).ItemCode + text(count(SalesOrderLines)) + text(count(a.b))",
    "{ l: last(SalesOrderLines), f: find(SalesOrderLines, l => l.Quantity == 0), n: SalesOrderLines[-1].ItemCode ?? a }",
    "{ c: customer['Name'], b: a.b | map(x => x), k: SalesOrderLines | filter(l => l.Quantity > 0) }",
    "any(SalesOrderLines, l => l.Quantity > 1) and all(a.b, x => x.c == 2) or SalesOrderLines[0]",
    "if count(customer) > 0 then customer else (a ?? customer).b",
    "SalesOrderLines | map(l => { q: l.Quantity * 2, d: upper(Description) + text(OrderNumber), n: count(a.b) })",
    "map(SalesOrderLines, l => if l.Quantity > 1 then upper(OrderNumber) ?? 'x' else map(a.b, y => y.c + l.Quantity + Status))",
];

fn run(src: &str) {
    let Ok(expr) = parse(src) else { return };
    let _ = check(&expr, &CheckEnv::default());
    let Ok(program) = compile(&expr) else { return };
    let record = json!({
        "OrderNumber": 12, "Description": "Desk", "Status": 12, "a": { "b": [ { "c": 2 } ] },
        "SalesOrderLines": [ { "ItemCode": "A", "Quantity": 2, "UnitPrice": 1.5 }, { "ItemCode": "B", "Quantity": 0 } ],
        "customer": { "Name": "Acme" }
    });
    let vars = json!({ "v": 1 });
    let tables = Tables::new();
    let ctx = Context {
        record: &record,
        vars: &vars,
        tables: &tables,
        scripts: None,
        bindings: &[],
    };
    let result = program.eval(&ctx);
    if let Err(e) = super::same_over_views(&program, &ctx, &result) {
        panic!("{src}: {e}");
    }
    // Hoisting invariant parts out of lambdas changes no result and no error.
    if let Ok(plain) = crate::lang::compile::compile_with(&expr, false) {
        assert_eq!(plain.eval(&ctx), result, "{src}: hoisted and plain differ");
    }
}

fn mutate(seed: &str, ops: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(pos, kind, c) in ops {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let i = pos % chars.len();
        match kind % 3 {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, c),
            _ => chars[i] = c,
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,60}") {
        run(&src);
    }

    #[test]
    fn token_soup_never_panics(src in "([a-z_.]{1,6}|[0-9.]{1,4}|'[^']{0,3}'|\"[^\"]{0,4}\"|[ ()\\[\\]{},:|?=<>!+*/%#-]|=>|\\?\\?| and | or | not | if | then | else | match ){0,25}") {
        run(&src);
    }

    #[test]
    fn mutated_expressions_never_panic(
        seed in prop::sample::select(SEEDS),
        ops in prop::collection::vec((any::<usize>(), any::<u8>(), prop::sample::select(&['(', ')', '{', '}', '[', ']', '"', '\'', '|', '.', ',', ' ', 'x', '0', '-', '=', '>', '?', '\\'][..])), 1..6),
    ) {
        run(&mutate(seed, &ops));
    }
}
