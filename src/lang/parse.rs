//! Text to syntax tree: runs the pest grammar (`grammar/mapping.pest`) and folds its pairs
//! into [`Expr`]. Never panics; every syntax error carries a span and a hint.

use super::ast::{BinOp, Expr, ExprKind, Ident, InterpPart, MatchArm, Span, UnOp};
use super::error::{ErrorCode, LangError};
use super::syntax_error::syntax_error;
use pest::iterators::Pair;
use pest::Parser;
use serde_json::Value;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mapping.pest"]
pub(super) struct Grammar;

/// Deepest nesting accepted; deeper input is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// Parses one expression.
pub fn parse(src: &str) -> Result<Expr, Vec<LangError>> {
    if let Some(err) = nesting_guard(src) {
        return Err(vec![err]);
    }
    let mut pairs = Grammar::parse(Rule::program, src).map_err(|e| vec![syntax_error(src, e)])?;
    let program = pairs.next().and_then(|p| p.into_inner().next());
    let Some(expr) = program else {
        return Err(vec![LangError::new(
            ErrorCode::Syntax,
            Span::new(0, src.len()),
            "empty expression",
        )]);
    };
    let mut errors = Vec::new();
    let expr = build_expr(expr, &mut errors);
    if expr.depth() > MAX_DEPTH {
        errors.push(
            LangError::new(
                ErrorCode::TooDeep,
                expr.span,
                "the expression nests too deeply",
            )
            .with_help("split it into several fields or simpler expressions"),
        );
    }
    if errors.is_empty() {
        Ok(expr)
    } else {
        Err(errors)
    }
}

/// Longest expression accepted (a mapping expression is a few lines).
const MAX_LEN: usize = 64 * 1024;

/// Refuses input whose nesting could exhaust the stack in the recursive stages: deep
/// brackets, or more `if`s and lambdas than any real mapping needs.
fn nesting_guard(src: &str) -> Option<LangError> {
    if src.len() > MAX_LEN {
        return Some(LangError::new(
            ErrorCode::TooDeep,
            Span::new(MAX_LEN, src.len()),
            format!("the expression is longer than {MAX_LEN} bytes"),
        ));
    }
    let ifs = src
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| *w == "if")
        .count();
    let nesting_words = ifs + src.matches("=>").count();
    if nesting_words > MAX_DEPTH {
        return Some(LangError::new(
            ErrorCode::TooDeep,
            Span::new(0, src.len()),
            "the expression has too many `if`s and lambdas",
        ));
    }
    // Brackets inside string literals are text, not nesting; an interpolation `{..}` in a
    // double-quoted string is nesting again.
    #[derive(PartialEq)]
    enum In {
        Code,
        Single,
        Double,
    }
    let mut stack = vec![In::Code];
    let mut depth = 0usize;
    let mut chars = src.char_indices();
    while let Some((i, c)) = chars.next() {
        let opens = match stack.last() {
            Some(In::Single) => {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => {
                        stack.pop();
                    }
                    _ => {}
                }
                false
            }
            Some(In::Double) => match c {
                '\\' => {
                    chars.next();
                    false
                }
                '"' => {
                    stack.pop();
                    false
                }
                '{' => true,
                _ => false,
            },
            _ => match c {
                '\'' => {
                    stack.push(In::Single);
                    false
                }
                '"' => {
                    stack.push(In::Double);
                    false
                }
                '(' | '[' | '{' => true,
                ')' | ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    if stack.len() > 1 {
                        stack.pop();
                    }
                    false
                }
                _ => false,
            },
        };
        if opens {
            depth += 1;
            stack.push(In::Code);
            if depth > MAX_DEPTH / 4 {
                return Some(
                    LangError::new(
                        ErrorCode::TooDeep,
                        Span::new(i, i + 1),
                        "brackets nest too deeply",
                    )
                    .with_help("split the expression up"),
                );
            }
        }
    }
    None
}

fn span_of(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn mk(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

fn join(a: Span, b: Span) -> Span {
    Span::new(a.start.min(b.start), a.end.max(b.end))
}

fn placeholder(span: Span) -> Expr {
    mk(ExprKind::Literal(Value::Null), span)
}

/// Skips precedence levels that only wrap a single operand, so each bracket level costs one
/// stack frame here instead of ten.
fn descend(mut p: Pair<Rule>) -> Pair<Rule> {
    loop {
        let wrapper = matches!(
            p.as_rule(),
            Rule::expr
                | Rule::coalesce
                | Rule::or_expr
                | Rule::and_expr
                | Rule::not_expr
                | Rule::cmp_expr
                | Rule::add_expr
                | Rule::mul_expr
                | Rule::unary
                | Rule::postfix
        );
        if !wrapper {
            return p;
        }
        let mut inner = p.clone().into_inner();
        match (inner.next(), inner.next()) {
            (Some(only), None) => p = only,
            _ => return p,
        }
    }
}

/// Folds a pair of any expression-level rule into an [`Expr`].
fn build_expr(p: Pair<Rule>, errs: &mut Vec<LangError>) -> Expr {
    let p = descend(p);
    let span = span_of(&p);
    match p.as_rule() {
        Rule::expr => {
            let mut it = p.into_inner();
            let Some(first) = it.next() else {
                return placeholder(span);
            };
            let mut acc = build_expr(first, errs);
            for call in it {
                let cspan = join(acc.span, span_of(&call));
                let mut inner = call.into_inner();
                let (name, script) = match inner.next() {
                    Some(q) => qualified(q, errs),
                    None => continue,
                };
                let mut args = vec![acc];
                if let Some(a) = inner.next() {
                    args.extend(a.into_inner().map(|x| build_expr(x, errs)));
                }
                acc = mk(
                    if script {
                        ExprKind::ScriptCall(name, args)
                    } else {
                        ExprKind::Call(name, args)
                    },
                    cspan,
                );
            }
            acc
        }
        Rule::coalesce | Rule::or_expr | Rule::and_expr => {
            let op = match p.as_rule() {
                Rule::coalesce => BinOp::Coalesce,
                Rule::or_expr => BinOp::Or,
                _ => BinOp::And,
            };
            let mut it = p
                .into_inner()
                .filter(|x| !matches!(x.as_rule(), Rule::kw_and | Rule::kw_or));
            let Some(first) = it.next() else {
                return placeholder(span);
            };
            let mut acc = build_expr(first, errs);
            for rhs in it {
                let rhs = build_expr(rhs, errs);
                let s = join(acc.span, rhs.span);
                acc = mk(ExprKind::Binary(op, Box::new(acc), Box::new(rhs)), s);
            }
            acc
        }
        Rule::add_expr | Rule::mul_expr | Rule::cmp_expr => {
            let mut it = p.into_inner();
            let Some(first) = it.next() else {
                return placeholder(span);
            };
            let mut acc = build_expr(first, errs);
            while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
                let op = match op.as_str() {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "/" => BinOp::Div,
                    "%" => BinOp::Rem,
                    "==" => BinOp::Eq,
                    "!=" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    _ => BinOp::Ge,
                };
                let rhs = build_expr(rhs, errs);
                let s = join(acc.span, rhs.span);
                acc = mk(ExprKind::Binary(op, Box::new(acc), Box::new(rhs)), s);
            }
            acc
        }
        Rule::not_expr | Rule::unary => {
            let mut ops = Vec::new();
            let mut operand = None;
            for x in p.into_inner() {
                match x.as_rule() {
                    Rule::not_op => ops.push((UnOp::Not, span_of(&x))),
                    Rule::neg => ops.push((UnOp::Neg, span_of(&x))),
                    _ => operand = Some(build_expr(x, errs)),
                }
            }
            let mut acc = operand.unwrap_or_else(|| placeholder(span));
            for (op, s) in ops.into_iter().rev() {
                let s = join(s, acc.span);
                acc = mk(ExprKind::Unary(op, Box::new(acc)), s);
            }
            acc
        }
        Rule::postfix => {
            let mut it = p.into_inner();
            let Some(first) = it.next() else {
                return placeholder(span);
            };
            let mut acc = build_expr(first, errs);
            for post in it {
                let pspan = span_of(&post);
                let s = join(acc.span, pspan);
                let rule = post.as_rule();
                let Some(inner) = post.into_inner().next() else {
                    continue;
                };
                acc = if rule == Rule::field {
                    let id = Ident {
                        name: inner.as_str().to_string(),
                        span: span_of(&inner),
                    };
                    mk(ExprKind::Field(Box::new(acc), id), s)
                } else {
                    let idx = build_expr(inner, errs);
                    mk(ExprKind::Index(Box::new(acc), Box::new(idx)), s)
                };
            }
            acc
        }
        Rule::if_expr => {
            let mut it = p
                .into_inner()
                .filter(|x| !matches!(x.as_rule(), Rule::kw_if | Rule::kw_then | Rule::kw_else))
                .map(|x| build_expr(x, errs));
            let c = it.next().unwrap_or_else(|| placeholder(span));
            let a = it.next().unwrap_or_else(|| placeholder(span));
            let b = it.next().unwrap_or_else(|| placeholder(span));
            mk(ExprKind::If(Box::new(c), Box::new(a), Box::new(b)), span)
        }
        Rule::match_expr => {
            let mut scrutinee = None;
            let mut arms = Vec::new();
            for x in p.into_inner() {
                match x.as_rule() {
                    Rule::kw_match => {}
                    Rule::arm => {
                        let mut patterns = Vec::new();
                        let mut body = None;
                        for y in x.into_inner() {
                            if y.as_rule() == Rule::pattern {
                                let ps = span_of(&y);
                                let Some(lit) = y.into_inner().next() else {
                                    continue;
                                };
                                let value = if lit.as_rule() == Rule::wildcard {
                                    None
                                } else {
                                    match build_expr(lit, errs).kind {
                                        ExprKind::Literal(v) => Some(v),
                                        _ => {
                                            errs.push(
                                                LangError::new(
                                                    ErrorCode::Syntax,
                                                    ps,
                                                    "a match pattern must be a plain literal",
                                                )
                                                .with_help("use 'text' without {..}, a number, true, false or null"),
                                            );
                                            None
                                        }
                                    }
                                };
                                patterns.push((value, ps));
                            } else {
                                body = Some(build_expr(y, errs));
                            }
                        }
                        let body = body.unwrap_or_else(|| placeholder(span));
                        arms.push(MatchArm { patterns, body });
                    }
                    _ => scrutinee = Some(build_expr(x, errs)),
                }
            }
            let x = scrutinee.unwrap_or_else(|| placeholder(span));
            mk(ExprKind::Match(Box::new(x), arms), span)
        }
        Rule::call => {
            let mut it = p.into_inner();
            let (name, script) = match it.next() {
                Some(q) => qualified(q, errs),
                None => return placeholder(span),
            };
            let args = it
                .next()
                .map(|a| a.into_inner().map(|x| build_expr(x, errs)).collect())
                .unwrap_or_default();
            if script {
                mk(ExprKind::ScriptCall(name, args), span)
            } else {
                mk(ExprKind::Call(name, args), span)
            }
        }
        Rule::lambda => {
            let mut it = p.into_inner();
            let (Some(param), Some(body)) = (it.next(), it.next()) else {
                return placeholder(span);
            };
            let id = Ident {
                name: param.as_str().to_string(),
                span: span_of(&param),
            };
            mk(ExprKind::Lambda(id, Box::new(build_expr(body, errs))), span)
        }
        Rule::list => mk(
            ExprKind::List(p.into_inner().map(|x| build_expr(x, errs)).collect()),
            span,
        ),
        Rule::object => {
            let mut entries = Vec::new();
            for entry in p.into_inner() {
                let mut it = entry.into_inner();
                let (Some(k), Some(v)) = (it.next(), it.next()) else {
                    continue;
                };
                let kspan = span_of(&k);
                let name = match k.as_rule() {
                    Rule::ident => k.as_str().to_string(),
                    _ => match build_expr(k, errs).kind {
                        ExprKind::Literal(Value::String(s)) => s,
                        _ => {
                            errs.push(
                                LangError::new(
                                    ErrorCode::InvalidArgument,
                                    kspan,
                                    "an object key cannot be interpolated",
                                )
                                .with_help("write the key as plain text; escape a brace as `\\{`"),
                            );
                            String::new()
                        }
                    },
                };
                entries.push((Ident { name, span: kspan }, build_expr(v, errs)));
            }
            mk(ExprKind::Object(entries), span)
        }
        Rule::sstring => {
            let raw = p.into_inner().next().map(|x| x.as_str()).unwrap_or("");
            mk(ExprKind::Literal(Value::String(unescape(raw))), span)
        }
        Rule::dstring => {
            let mut parts = Vec::new();
            for x in p.into_inner() {
                if x.as_rule() == Rule::dtext {
                    parts.push(InterpPart::Text(unescape(x.as_str())));
                } else if let Some(e) = x.into_inner().next() {
                    parts.push(InterpPart::Expr(build_expr(e, errs)));
                }
            }
            match parts.as_slice() {
                [] => mk(ExprKind::Literal(Value::String(String::new())), span),
                [InterpPart::Text(t)] => mk(ExprKind::Literal(Value::String(t.clone())), span),
                _ => mk(ExprKind::Interp(parts), span),
            }
        }
        Rule::number => {
            let text = p.as_str();
            let value = if let Ok(i) = text.parse::<i64>() {
                Value::from(i)
            } else {
                match text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    Some(n) => Value::Number(n),
                    None => {
                        errs.push(LangError::new(
                            ErrorCode::Syntax,
                            span,
                            "number out of range",
                        ));
                        Value::Null
                    }
                }
            };
            mk(ExprKind::Literal(value), span)
        }
        Rule::kw_null => mk(ExprKind::Literal(Value::Null), span),
        Rule::kw_true => mk(ExprKind::Literal(Value::Bool(true)), span),
        Rule::kw_false => mk(ExprKind::Literal(Value::Bool(false)), span),
        Rule::name => mk(ExprKind::Name(p.as_str().to_string()), span),
        _ => {
            // Every rule that can reach here is listed above; a new grammar rule would land
            // here and surface as a syntax error instead of a panic.
            errs.push(LangError::new(
                ErrorCode::Syntax,
                span,
                format!("unsupported construct `{}`", p.as_str()),
            ));
            placeholder(span)
        }
    }
}

/// `name` or `script.name`; any other `a.b(..)` is an error.
fn qualified(q: Pair<Rule>, errs: &mut Vec<LangError>) -> (Ident, bool) {
    let qspan = span_of(&q);
    let parts: Vec<Pair<Rule>> = q.into_inner().collect();
    match parts.as_slice() {
        [one] => (
            Ident {
                name: one.as_str().to_string(),
                span: span_of(one),
            },
            false,
        ),
        [ns, f] => {
            if ns.as_str() != "script" {
                errs.push(
                    LangError::new(
                        ErrorCode::UnknownFunction,
                        qspan,
                        format!("`{}.{}(..)` is not a function", ns.as_str(), f.as_str()),
                    )
                    .with_help(format!(
                        "functions are called as `{f}({ns}, ..)` or `{ns} | {f}(..)`; rhai functions as `script.{f}(..)`",
                        f = f.as_str(),
                        ns = ns.as_str()
                    )),
                );
            }
            (
                Ident {
                    name: f.as_str().to_string(),
                    span: span_of(f),
                },
                ns.as_str() == "script",
            )
        }
        _ => (
            Ident {
                name: String::new(),
                span: qspan,
            },
            false,
        ),
    }
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(q @ ('\\' | '\'' | '"' | '{' | '}')) => out.push(q),
            // Unknown escapes keep their backslash, so regexes like '\d+' read naturally.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    #[test]
    fn brackets_inside_string_literals_are_not_nesting() {
        let brackets = "(".repeat(40);
        for src in [
            format!("\"{brackets}\""),
            format!("'{brackets}'"),
            format!("\"a {{x}} {brackets} \\\" ({brackets}\" + '\\' {brackets}'"),
        ] {
            assert!(nesting_guard(&src).is_none(), "{src}");
            assert!(parse(&src).is_ok(), "{src}");
        }
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert!(nesting_guard(&deep).is_some());
        // Interpolations nest like any bracket.
        let interp = format!("\"{}x{}\"", "{(".repeat(20), ")}".repeat(20));
        assert!(nesting_guard(&interp).is_some());
    }
}
