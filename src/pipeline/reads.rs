//! Which parts of an input record a pipeline's `where` and `map` can observe, computed from
//! their syntax trees, so `exflow map` can parse only those parts (see `scan/`).
//!
//! The result is a tree of [`ReadSet`] nodes. A value that an expression only navigates
//! (`a.b`, `a[0]`, `a ?? b`, the branches of `if`/`match`, the list of `map`/`filter`, the
//! argument of `first`/`last`/`count`) needs no more than the parts later read from it; a
//! value used in any other way (returned, compared, computed with, passed to a function or a
//! script, interpolated, put into a literal) is kept whole. This is exact for every record:
//! projected and full parsing give the same results and the same errors.

use crate::lang::ast::{BinOp, Expr, ExprKind, InterpPart, UnOp};
use serde_json::Value;
use std::collections::BTreeMap;

/// What of a value must be kept. Object keys not named are dropped; list items are never
/// dropped (their count is observable) but each is projected by `items`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSet {
    /// Keep the value exactly as it is.
    pub whole: bool,
    /// When the value is an object, keep it exactly (its key count is observable).
    pub whole_if_object: bool,
    /// When the value is an object: the keys read and what of each.
    pub keys: BTreeMap<String, ReadSet>,
    /// When the value is a list: what of each item; `None` when no item is read.
    pub items: Option<Box<ReadSet>>,
}

/// One step from the record to a part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Item,
}

/// The record parts a value may be identical to (empty for computed values, which depend
/// only on parts already kept whole).
type Locs = Vec<Vec<Step>>;

/// The parts of a record that `exprs` can observe, when each result is used whole (a map
/// value, a `where` condition). Names resolve as in the evaluator: lambda parameters first,
/// then `vars`, then bindings and record fields (offline, bindings are record fields).
pub fn reads_of<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> ReadSet {
    let mut a = Analysis {
        root: ReadSet::default(),
        scopes: Vec::new(),
    };
    for e in exprs {
        let locs = a.expr(e);
        a.consume(&locs);
    }
    a.root
}

struct Analysis {
    root: ReadSet,
    /// Lambda parameters in scope, innermost last, with what they may be.
    scopes: Vec<(String, Locs)>,
}

impl ReadSet {
    /// The node at `path`, created when missing; `None` when an ancestor is kept whole
    /// (everything below is kept anyway).
    fn node_mut(&mut self, path: &[Step]) -> Option<&mut ReadSet> {
        let mut cur = self;
        for step in path {
            if cur.whole {
                return None;
            }
            cur = match step {
                Step::Key(k) => cur.keys.entry(k.clone()).or_default(),
                Step::Item => cur.items.get_or_insert_with(Box::default),
            };
        }
        if cur.whole {
            return None;
        }
        Some(cur)
    }
}

fn child(locs: &Locs, step: &Step) -> Locs {
    locs.iter()
        .map(|l| {
            let mut l = l.clone();
            l.push(step.clone());
            l
        })
        .collect()
}

impl Analysis {
    /// The value is used whole.
    fn consume(&mut self, locs: &Locs) {
        for l in locs {
            if let Some(n) = self.root.node_mut(l) {
                n.whole = true;
                n.keys.clear();
                n.items = None;
            }
        }
    }

    /// The value is used as a list (items iterated or counted): an object would be reported
    /// with its key count, so objects are kept whole.
    fn listed(&mut self, locs: &Locs) {
        for l in locs {
            if let Some(n) = self.root.node_mut(l) {
                n.whole_if_object = true;
            }
        }
    }

    /// Analyses `e` and returns the record parts its value may be.
    fn expr(&mut self, e: &Expr) -> Locs {
        match &e.kind {
            ExprKind::Literal(_) => Vec::new(),
            ExprKind::Interp(parts) => {
                for p in parts {
                    if let InterpPart::Expr(x) = p {
                        self.used(x);
                    }
                }
                Vec::new()
            }
            ExprKind::Name(n) => {
                if let Some((_, locs)) = self.scopes.iter().rev().find(|(s, _)| s == n) {
                    return locs.clone();
                }
                if n == "vars" {
                    return Vec::new();
                }
                vec![vec![Step::Key(n.clone())]]
            }
            ExprKind::Field(base, id) => {
                let b = self.expr(base);
                child(&b, &Step::Key(id.name.clone()))
            }
            ExprKind::Index(base, idx) => {
                let b = self.expr(base);
                match &idx.kind {
                    ExprKind::Literal(Value::String(s)) => child(&b, &Step::Key(s.clone())),
                    ExprKind::Literal(Value::Number(n)) if n.as_i64().is_some() => {
                        child(&b, &Step::Item)
                    }
                    _ => {
                        // A computed key or index may reach anything below.
                        self.used(idx);
                        self.consume(&b);
                        Vec::new()
                    }
                }
            }
            ExprKind::Unary(UnOp::Neg | UnOp::Not, x) => {
                self.used(x);
                Vec::new()
            }
            ExprKind::Binary(BinOp::Coalesce, a, b) => {
                let mut l = self.expr(a);
                l.extend(self.expr(b));
                l
            }
            ExprKind::Binary(_, a, b) => {
                self.used(a);
                self.used(b);
                Vec::new()
            }
            ExprKind::If(c, a, b) => {
                self.used(c);
                let mut l = self.expr(a);
                l.extend(self.expr(b));
                l
            }
            ExprKind::Match(x, arms) => {
                self.used(x);
                let mut l = Vec::new();
                for arm in arms {
                    l.extend(self.expr(&arm.body));
                }
                l
            }
            ExprKind::List(items) => {
                for i in items {
                    self.used(i);
                }
                Vec::new()
            }
            ExprKind::Object(entries) => {
                for (_, v) in entries {
                    self.used(v);
                }
                Vec::new()
            }
            ExprKind::Call(name, args) => self.call(&name.name, args),
            ExprKind::ScriptCall(_, args) => {
                for a in args {
                    self.used(a);
                }
                Vec::new()
            }
            ExprKind::Lambda(_, body) => {
                // Not valid outside a higher-order function (compile refuses it); be safe.
                self.used(body);
                Vec::new()
            }
        }
    }

    /// Analyses `e` and marks its value as used whole.
    fn used(&mut self, e: &Expr) {
        let l = self.expr(e);
        self.consume(&l);
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> Locs {
        match (name, args) {
            ("count", [list]) => {
                let l = self.expr(list);
                self.listed(&l);
                Vec::new()
            }
            ("first" | "last", [list]) => {
                let l = self.expr(list);
                self.listed(&l);
                child(&l, &Step::Item)
            }
            ("map" | "filter" | "any" | "all" | "find", [list, lambda]) => {
                let l = self.expr(list);
                self.listed(&l);
                let ExprKind::Lambda(param, body) = &lambda.kind else {
                    self.consume(&l);
                    self.used(lambda);
                    return Vec::new();
                };
                self.scopes
                    .push((param.name.clone(), child(&l, &Step::Item)));
                self.used(body);
                self.scopes.pop();
                match name {
                    // The kept items of the list itself.
                    "filter" => l,
                    "find" => child(&l, &Step::Item),
                    _ => Vec::new(),
                }
            }
            _ => {
                for a in args {
                    self.used(a);
                }
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse;

    fn reads(srcs: &[&str]) -> ReadSet {
        let exprs: Vec<Expr> = srcs.iter().map(|s| parse(s).expect("parses")).collect();
        reads_of(exprs.iter())
    }

    fn whole() -> ReadSet {
        ReadSet {
            whole: true,
            ..ReadSet::default()
        }
    }

    fn keys(entries: &[(&str, ReadSet)]) -> ReadSet {
        ReadSet {
            keys: entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ..ReadSet::default()
        }
    }

    #[test]
    fn fields_read_are_kept_whole_and_nothing_else() {
        assert_eq!(
            reads(&["left(account.Name, 50)", "OrderNumber"]),
            keys(&[
                ("account", keys(&[("Name", whole())])),
                ("OrderNumber", whole())
            ])
        );
    }

    #[test]
    fn coalesce_and_if_only_navigate() {
        let r = reads(&["(delivery ?? account).City", "if Flag then a.X else b.Y"]);
        let want = keys(&[
            ("delivery", keys(&[("City", whole())])),
            ("account", keys(&[("City", whole())])),
            ("Flag", whole()),
            ("a", keys(&[("X", whole())])),
            ("b", keys(&[("Y", whole())])),
        ]);
        assert_eq!(r, want);
    }

    #[test]
    fn lambda_parameters_read_items() {
        let r = reads(&[
            "Lines | map(l => { A: l.A, B: l.Sub.B })",
            "count(Lines) > 0",
        ]);
        let items = keys(&[("A", whole()), ("Sub", keys(&[("B", whole())]))]);
        let lines = ReadSet {
            whole_if_object: true,
            items: Some(Box::new(items)),
            ..ReadSet::default()
        };
        assert_eq!(r, keys(&[("Lines", lines)]));
    }

    #[test]
    fn first_find_and_filter_pass_items_through() {
        let r = reads(&[
            "first(L).A",
            "find(M, x => x.K == 1).B",
            "first(filter(N, x => x.K == 1)).C",
        ]);
        let l = r.keys["L"].clone();
        assert!(l.whole_if_object);
        assert_eq!(l.items.as_deref(), Some(&keys(&[("A", whole())])));
        assert_eq!(
            r.keys["M"].items.as_deref(),
            Some(&keys(&[("K", whole()), ("B", whole())]))
        );
        assert_eq!(
            r.keys["N"].items.as_deref(),
            Some(&keys(&[("K", whole()), ("C", whole())]))
        );
    }

    #[test]
    fn whole_values_fall_back_to_keeping_the_subtree() {
        for src in [
            "script.is_company(account)",
            "to_json(account)",
            "keys(account)",
            "values(account)",
            "merge(account, {})",
            "get(account, 'Name')",
            "len(account)",
            "type_of(account)",
            "is_empty(account)",
            "\"{account}\"",
            "account",
            "{ a: account }",
            "[account]",
            "jsonpath(account, '$.Name')",
            "account[Key]",
            "account == contact",
            "filter(account, x => true)",
        ] {
            let r = reads(&[src]);
            let acc = &r.keys["account"];
            assert!(
                acc.whole || (src.starts_with("filter") && acc.whole_if_object),
                "{src}: {r:?}"
            );
        }
    }

    #[test]
    fn lambda_parameters_shadow_and_vars_is_not_the_record() {
        let r = reads(&[
            "L | map(account => account.X)",
            "vars.home_country",
            "account.Y",
        ]);
        assert_eq!(r.keys.keys().collect::<Vec<_>>(), vec!["L", "account"]);
        assert_eq!(r.keys["account"], keys(&[("Y", whole())]));
        assert_eq!(r.keys["L"].items.as_deref(), Some(&keys(&[("X", whole())])));
    }

    #[test]
    fn a_whole_ancestor_absorbs_later_reads() {
        let r = reads(&["account", "account.Name"]);
        assert_eq!(r, keys(&[("account", whole())]));
        let r = reads(&["account.Name", "account"]);
        assert_eq!(r, keys(&[("account", whole())]));
    }
}
