//! [`Program::write_json`](super::Program::write_json)'s evaluator: writes a value as JSON
//! text while evaluating it, so object literals and `map` results never become `Value`s.

use super::{
    ev, evv, fail, hof_items, memo_slots, truthy, Env, Ev, EvalError, Hof, Node, Scope, Span, View,
};

/// Writes the JSON text of `n`'s value; `Ok(true)` when it was null. Object literals with
/// distinct keys, `map` and the branches of `if` are written as they are evaluated, so no
/// `serde_json::Map` is built for them.
pub(super) fn write<'v>(
    n: &'v Node,
    cx: &'v Env<'v>,
    sc: Option<&'v Scope<'v>>,
    out: &mut Vec<u8>,
) -> Result<bool, EvalError> {
    match n {
        Node::Object(entries, true) => {
            out.push(b'{');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&e.json_key);
                write(&e.value, cx, sc, out)?;
            }
            out.push(b'}');
            Ok(false)
        }
        Node::Hof {
            op: Hof::Map,
            list,
            body,
            span,
            slots,
        } => {
            let lv = ev(list, cx, sc)?;
            let memo = memo_slots(*slots);
            let Some(items) = hof_items(Hof::Map, &lv, *span)? else {
                out.extend_from_slice(b"null");
                return Ok(true);
            };
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let s = Scope {
                    value: item,
                    parent: sc,
                    memo: &memo,
                };
                write(body, cx, Some(&s), out)?;
            }
            out.push(b']');
            Ok(false)
        }
        Node::If(c, a, b, span) => {
            let cond = truthy(&*evv(c, cx, sc)?, "if").map_err(|m| fail(m, *span))?;
            write(if cond { a } else { b }, cx, sc, out)
        }
        _ => {
            let v = ev(n, cx, sc)?;
            let written = match &v {
                Ev::View(View::Json(j)) => serde_json::to_writer(&mut *out, j),
                Ev::View(View::Projected(p)) => p.write_json(out),
                Ev::Owned(j) => serde_json::to_writer(&mut *out, j),
            };
            written.map_err(|e| fail(e.to_string(), Span::default()))?;
            Ok(v.is_null())
        }
    }
}
