//! Which source fields an expression names, and which of them only feed a `??` default: what
//! the engine must fetch from the source, and what `exflow plan` must flag when it is absent.

use crate::lang::ast::{BinOp, Expr, ExprKind, Span};

/// A path from the record (or a binding) to a value: `["StandardSalesPrice"]`,
/// `["account", "Email"]`.
pub type FieldPath = Vec<String>;

/// Names that expressions resolve before record fields.
fn shadowed(name: &str, bound: &[&str], params: &[String]) -> bool {
    name == "vars" || bound.contains(&name) || params.iter().any(|p| p == name)
}

/// The record's own fields that `expr` names (not bindings, vars or lambda parameters),
/// each with the span of its first use.
pub fn record_fields(expr: &Expr, bound: &[&str]) -> Vec<(String, Span)> {
    let mut out: Vec<(String, Span)> = Vec::new();
    walk(expr, &mut Vec::new(), &mut |e, params| {
        if let ExprKind::Name(n) = &e.kind {
            if !shadowed(n, bound, params) && !out.iter().any(|(o, _)| o == n) {
                out.push((n.clone(), e.span));
            }
        }
    });
    out
}

/// The paths on the left of every `??` in `expr` that start at a record field or a binding
/// (`StandardSalesPrice ?? 0`, `delivery.City ?? account.City`): when such a path is absent,
/// the value comes from the default.
pub fn coalesced_paths(expr: &Expr) -> Vec<FieldPath> {
    let mut out: Vec<FieldPath> = Vec::new();
    walk(expr, &mut Vec::new(), &mut |e, params| {
        if let ExprKind::Binary(BinOp::Coalesce, left, _) = &e.kind {
            if let Some(path) = plain_path(left) {
                let first = path[0].as_str();
                let lambda = params.iter().any(|p| p == first);
                if first != "vars" && !lambda && !out.contains(&path) {
                    out.push(path);
                }
            }
        }
    });
    out
}

/// `a.b.c` as its names; `None` for anything computed.
fn plain_path(e: &Expr) -> Option<FieldPath> {
    match &e.kind {
        ExprKind::Name(n) => Some(vec![n.clone()]),
        ExprKind::Field(base, name) => {
            let mut p = plain_path(base)?;
            p.push(name.name.clone());
            Some(p)
        }
        _ => None,
    }
}

/// Visits every node with the lambda parameters in scope at it.
fn walk(e: &Expr, params: &mut Vec<String>, f: &mut impl FnMut(&Expr, &[String])) {
    f(e, params);
    if let ExprKind::Lambda(p, body) = &e.kind {
        params.push(p.name.clone());
        walk(body, params, f);
        params.pop();
        return;
    }
    for c in e.children() {
        walk(c, params, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse;

    fn names(src: &str, bound: &[&str]) -> Vec<String> {
        let e = parse(src).expect("parses");
        record_fields(&e, bound)
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn record_fields_leave_out_bindings_vars_and_parameters() {
        assert_eq!(
            names(
                "if vars.x then round(StandardSalesPrice ?? 0, 2) else Lines | map(l => l.Qty + Extra)",
                &[]
            ),
            ["StandardSalesPrice", "Lines", "Extra"]
        );
        assert_eq!(names("account.Name ?? Name", &["account"]), ["Name"]);
    }

    #[test]
    fn coalesced_paths_are_the_left_sides_of_defaults() {
        let e = parse("round(StandardSalesPrice ?? 0, 2) + (delivery.City ?? account.City ?? 'x') + (vars.y ?? 1)")
            .expect("parses");
        let paths = coalesced_paths(&e);
        assert!(paths.contains(&vec!["StandardSalesPrice".to_string()]));
        assert!(paths.contains(&vec!["delivery".to_string(), "City".to_string()]));
        assert!(!paths.iter().any(|p| p[0] == "vars"));
        let e = parse("Lines | map(l => l.Price ?? 0)").expect("parses");
        assert!(coalesced_paths(&e).is_empty());
    }
}
