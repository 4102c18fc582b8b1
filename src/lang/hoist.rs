//! Loop-invariant hoisting: in the body of a `map`/`filter`/... lambda, a sub-expression
//! that does not read the lambda's parameter gives the same value for every item. Lines of
//! an order typically look up order-level values (`table("vat_by_country",
//! delivery.Country)`); such a sub-expression is marked [`Node::Hoisted`] and evaluated once
//! per call of the higher-order function, on first use (so an error, or the lack of one,
//! happens exactly where it would without hoisting), and its result reused.

use super::compile::{Node, Part, PathArg, Root, Seg};

/// Marks the invariant sub-expressions of a lambda body; returns how many slots the
/// higher-order function must keep for their values.
pub(crate) fn hoist(body: &mut Node) -> usize {
    let mut slots = 0;
    if !scan(body, 0, Some(&mut slots)) {
        wrap(body, &mut slots);
    }
    slots
}

/// Whether hoisting `n` saves work: not for constants and plain paths (reading them is
/// cheaper than keeping a copy).
fn worth(n: &Node) -> bool {
    !matches!(n, Node::Const(_) | Node::Path(..) | Node::Hoisted(..))
}

/// Hoists `n`, which does not read the parameter; when that saves nothing (a path), the
/// parts of it that are worth it (a computed key).
fn wrap(n: &mut Node, slots: &mut usize) {
    if worth(n) {
        let inner = std::mem::replace(n, Node::Const(serde_json::Value::Null));
        *n = Node::Hoisted(*slots, Box::new(inner));
        *slots += 1;
    } else if !matches!(n, Node::Hoisted(..)) {
        for_each_child_mut(n, &mut |c| wrap(c, slots));
    }
}

/// Whether `n` reads the lambda parameter `k` levels out (0: the innermost). With `slots`,
/// each largest part of `n` that does not is hoisted (only parts evaluated in `n`'s own
/// scope: a nested lambda's body has its own slots, hoisted when it was compiled).
fn scan(n: &mut Node, k: usize, mut slots: Option<&mut usize>) -> bool {
    let mut reads = matches!(n, Node::Path(Root::Local(j), _) if *j == k);
    let mut child_reads = Vec::new();
    match &mut *n {
        Node::Hof { list, body, .. } => {
            child_reads.push(scan(list, k, slots.as_deref_mut()));
            reads |= scan(body, k + 1, None);
        }
        other => for_each_child_mut(other, &mut |c| {
            child_reads.push(scan(c, k, slots.as_deref_mut()))
        }),
    }
    reads |= child_reads.iter().any(|r| *r);
    if let (true, Some(slots)) = (reads, slots) {
        // This part reads the parameter: its children that do not are hoisted, whole.
        let mut at = 0;
        let mut hoist_child = |c: &mut Node| {
            if !child_reads.get(at).copied().unwrap_or(true) {
                wrap(c, slots);
            }
            at += 1;
        };
        match n {
            Node::Hof { list, .. } => hoist_child(list),
            other => for_each_child_mut(other, &mut hoist_child),
        }
    }
    reads
}

/// Calls `f` on every direct child of `n` evaluated in `n`'s own scope (a lambda body is
/// not one; paths' dynamic segments are), in a fixed order.
fn for_each_child_mut(n: &mut Node, f: &mut dyn FnMut(&mut Node)) {
    match n {
        Node::Const(_) => {}
        Node::Path(_, segs) => segs.iter_mut().for_each(|s| {
            if let Seg::Dyn(d) = s {
                f(d)
            }
        }),
        Node::Get(base, segs) => {
            f(base);
            segs.iter_mut().for_each(|s| {
                if let Seg::Dyn(d) = s {
                    f(d)
                }
            })
        }
        Node::Interp(parts) => parts.iter_mut().for_each(|p| {
            if let Part::Expr(e) = p {
                f(e)
            }
        }),
        Node::Neg(x, _) | Node::Not(x, _) | Node::Hoisted(_, x) => f(x),
        Node::Arith(_, a, b, _)
        | Node::Cmp(_, a, b, _)
        | Node::And(a, b, _)
        | Node::Or(a, b, _)
        | Node::Coalesce(a, b) => {
            f(a);
            f(b)
        }
        Node::If(c, a, b, _) => {
            f(c);
            f(a);
            f(b)
        }
        Node::Match(x, arms) => {
            f(x);
            arms.iter_mut().for_each(|(_, body)| f(body))
        }
        Node::List(items) => items.iter_mut().for_each(f),
        Node::Object(entries, _) => entries.iter_mut().for_each(|e| f(&mut e.value)),
        Node::Call { args, .. } | Node::Script { args, .. } => args.iter_mut().for_each(f),
        Node::Hof { list, .. } => f(list),
        Node::Table { key, default, .. } => {
            f(key);
            if let Some(d) = default {
                f(d)
            }
        }
        Node::JsonPath { value, path, .. } => {
            f(value);
            if let PathArg::Dynamic(p) = path {
                f(p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::compile::{compile_with, Program};
    use super::super::{parse, Context, Tables};
    use super::*;
    use serde_json::{json, Value};

    fn program(src: &str, hoist: bool) -> Program {
        compile_with(&parse(src).expect("parses"), hoist).expect("compiles")
    }

    fn slots(p: &Program) -> usize {
        match &*p.root {
            Node::Hof { slots, .. } => *slots,
            other => panic!("not a higher-order function: {other:?}"),
        }
    }

    fn eval(p: &Program, record: &Value) -> Result<Value, String> {
        let (vars, tables) = (json!({"k": "b"}), Tables::new());
        let ctx = Context {
            record,
            vars: &vars,
            tables: &tables,
            scripts: None,
            bindings: &[],
        };
        p.eval(&ctx).map_err(|e| e.message)
    }

    #[test]
    fn only_what_ignores_the_parameter_is_hoisted() {
        let cases = [
            ("map(L, x => x.a)", 0),
            ("map(L, x => upper(Name) + x.a)", 1),
            (
                "map(L, x => { a: x.a, b: lower(Name), c: Name, d: 'k' })",
                1,
            ),
            ("map(L, x => map(x.s, y => upper(Name) + y))", 0),
            ("map(L, x => count(filter(L, y => y.a == 1)) + x.a)", 1),
            ("map(L, x => count(filter(L, y => y.a == x.a)))", 0),
            ("map(L, x => M[vars.k ?? 'a'] ?? x)", 1),
        ];
        for (src, want) in cases {
            assert_eq!(slots(&program(src, true)), want, "{src}");
            assert_eq!(slots(&program(src, false)), 0, "{src}");
        }
    }

    #[test]
    fn hoisted_parts_run_lazily_and_fail_as_before() {
        // upper(Name) fails (Name is a number), but only for items that reach it.
        let src = "map(L, x => if x > 5 then upper(Name) else x)";
        for list in [json!([1, 2]), json!([1, 9, 7]), json!([])] {
            let record = json!({"L": list, "Name": 12});
            assert_eq!(
                eval(&program(src, true), &record),
                eval(&program(src, false), &record),
                "{record}"
            );
        }
        let record = json!({"L": [1, 9], "Name": 12});
        assert!(eval(&program(src, true), &record).is_err());
        let ok = json!({"L": [1, 9, 8], "Name": "ab"});
        assert_eq!(eval(&program(src, true), &ok), Ok(json!([1, "AB", "AB"])));
        // Caught by `??` on every item alike.
        let caught = "map(L, x => upper(Name) ?? x)";
        let record = json!({"L": [1, 2], "Name": 12});
        assert_eq!(eval(&program(caught, true), &record), Ok(json!([1, 2])));
    }
}
