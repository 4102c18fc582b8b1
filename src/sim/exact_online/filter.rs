//! `$filter`: a recursive-descent parser of the OData v2 filter subset Exact Online accepts,
//! and its evaluator over stored rows.
//!
//! Grammar (lowest precedence first):
//! `or := and ("or" and)*`, `and := unary ("and" unary)*`, `unary := "not" unary | cmp`,
//! `cmp := primary (("eq"|"ne"|"gt"|"ge"|"lt"|"le") primary)?`,
//! `primary := "(" or ")" | literal | function "(" args ")" | property`.

use std::cmp::Ordering;

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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Lit),
    Open,
    Close,
    Comma,
    Slash,
}

fn syntax(pos: usize) -> FilterError {
    FilterError(format!("Syntax error at position {pos}."))
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push((start, Tok::Open));
                i += 1
            }
            ')' => {
                out.push((start, Tok::Close));
                i += 1
            }
            ',' => {
                out.push((start, Tok::Comma));
                i += 1
            }
            '/' => {
                out.push((start, Tok::Slash));
                i += 1
            }
            '\'' => {
                let (s, next) = quoted(&chars, i)?;
                out.push((start, Tok::Lit(Lit::Str(s))));
                i = next;
            }
            c if c.is_ascii_digit() || c == '-' => {
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if i < chars.len() && matches!(chars[i], 'L' | 'l' | 'M' | 'm' | 'd' | 'D' | 'f' | 'F') {
                    i += 1;
                }
                let n: f64 = text.parse().map_err(|_| syntax(start))?;
                out.push((start, Tok::Lit(Lit::Num(n))));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if i < chars.len() && chars[i] == '\'' {
                    let (s, next) = quoted(&chars, i)?;
                    i = next;
                    let lit = match word.as_str() {
                        "guid" => {
                            let g = uuid::Uuid::parse_str(&s).map_err(|_| {
                                FilterError(format!("Unrecognized 'Edm.Guid' literal 'guid'{s}'' at '{start}'."))
                            })?;
                            Lit::Guid(g.to_string())
                        }
                        "datetime" | "datetimeoffset" => Lit::DateTime(parse_datetime(&s).ok_or_else(|| {
                            FilterError(format!(
                                "Unrecognized 'Edm.DateTime' literal 'datetime'{s}'' at '{start}'."
                            ))
                        })?),
                        _ => return Err(syntax(start)),
                    };
                    out.push((start, Tok::Lit(lit)));
                } else {
                    let tok = match word.as_str() {
                        "true" => Tok::Lit(Lit::Bool(true)),
                        "false" => Tok::Lit(Lit::Bool(false)),
                        "null" => Tok::Lit(Lit::Null),
                        _ => Tok::Ident(word),
                    };
                    out.push((start, tok));
                }
            }
            _ => return Err(syntax(start)),
        }
    }
    Ok(out)
}

fn quoted(chars: &[char], open: usize) -> Result<(String, usize), FilterError> {
    let mut s = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => return Err(FilterError(format!("There is an unterminated string literal at position {open}."))),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(c) => {
                s.push(*c);
                i += 1;
            }
        }
    }
}

/// Parses an ISO date or date-time (no offset, or `Z`) into epoch milliseconds (UTC).
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim_end_matches('Z');
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|(p, _)| *p).unwrap_or(self.len)
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, FilterError> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Tok::Ident(w)) => match w.as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.primary()?;
        Ok(Expr::Cmp(op, Box::new(left), Box::new(right)))
    }
    fn primary(&mut self) -> Result<Expr, FilterError> {
        let at = self.at();
        let tok = self.toks.get(self.pos).map(|(_, t)| t.clone()).ok_or_else(|| syntax(at))?;
        self.pos += 1;
        match tok {
            Tok::Open => {
                let e = self.or()?;
                match self.peek() {
                    Some(Tok::Close) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err(FilterError(format!("')' or operator expected at position {}.", self.at()))),
                }
            }
            Tok::Lit(l) => Ok(Expr::Lit(l)),
            Tok::Ident(name) => {
                if matches!(self.peek(), Some(Tok::Open)) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if !matches!(self.peek(), Some(Tok::Close)) {
                        loop {
                            args.push(self.or()?);
                            match self.peek() {
                                Some(Tok::Comma) => self.pos += 1,
                                Some(Tok::Close) => break,
                                _ => return Err(syntax(self.at())),
                            }
                        }
                    }
                    self.pos += 1;
                    check_function(&name, args.len(), at)?;
                    Ok(Expr::Call(name, args))
                } else if matches!(self.peek(), Some(Tok::Slash)) {
                    Err(FilterError(
                        "Filtering on navigation properties is not supported for this resource.".into(),
                    ))
                } else {
                    Ok(Expr::Prop(name))
                }
            }
            _ => Err(syntax(at)),
        }
    }
}

fn check_function(name: &str, arity: usize, at: usize) -> Result<(), FilterError> {
    let want = match name {
        "substringof" | "startswith" | "endswith" => 2,
        "tolower" | "toupper" | "trim" | "length" => 1,
        _ => return Err(FilterError(format!("Unknown function '{name}' at position {at}."))),
    };
    if arity == want {
        Ok(())
    } else {
        Err(FilterError(format!("No applicable function found for '{name}' at position {at} with the specified arguments.")))
    }
}

/// Parses a `$filter` value.
pub fn parse(src: &str) -> Result<Expr, FilterError> {
    let toks = lex(src)?;
    let mut p = Parser { toks, pos: 0, len: src.chars().count() };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(syntax(p.at()));
    }
    Ok(e)
}

/// Every property the expression mentions.
pub fn properties(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Prop(p) => out.push(p.clone()),
        Expr::Lit(_) => {}
        Expr::Not(a) => properties(a, out),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
            properties(a, out);
            properties(b, out)
        }
        Expr::Call(_, args) => args.iter().for_each(|a| properties(a, out)),
    }
}

/// Checks the expression against the entity's property types (`type_of` gives the `Edm.*`
/// type of a property, `None` when it does not exist): unknown properties, field-to-field
/// comparisons and literals of the wrong type are refused, as WCF Data Services does.
pub fn check(e: &Expr, type_name: &str, type_of: &dyn Fn(&str) -> Option<String>) -> Result<(), FilterError> {
    match e {
        Expr::Prop(p) => type_of(p)
            .map(|_| ())
            .ok_or_else(|| FilterError(format!("No property '{p}' exists in type '{type_name}'."))),
        Expr::Lit(_) => Ok(()),
        Expr::Not(a) => check(a, type_name, type_of),
        Expr::And(a, b) | Expr::Or(a, b) => {
            check(a, type_name, type_of)?;
            check(b, type_name, type_of)
        }
        Expr::Call(_, args) => args.iter().try_for_each(|a| check(a, type_name, type_of)),
        Expr::Cmp(op, a, b) => {
            check(a, type_name, type_of)?;
            check(b, type_name, type_of)?;
            if let (Expr::Prop(x), Expr::Prop(y)) = (a.as_ref(), b.as_ref()) {
                return Err(FilterError(format!(
                    "Comparing two properties ('{x}' and '{y}') is not supported for this resource."
                )));
            }
            let (prop, lit) = match (a.as_ref(), b.as_ref()) {
                (Expr::Prop(p), Expr::Lit(l)) | (Expr::Lit(l), Expr::Prop(p)) => (p, l),
                _ => return Ok(()),
            };
            let ty = type_of(prop).unwrap_or_default();
            let lit_ty = match lit {
                Lit::Null => return Ok(()),
                Lit::Bool(_) => "Edm.Boolean",
                Lit::Num(_) => "number",
                Lit::Str(_) => "Edm.String",
                Lit::Guid(_) => "Edm.Guid",
                Lit::DateTime(_) => "Edm.DateTime",
            };
            let numeric = matches!(ty.as_str(), "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Double" | "Edm.Byte" | "Edm.Decimal");
            let ok = match lit_ty {
                "number" => numeric,
                other => other == ty,
            };
            if ok {
                Ok(())
            } else {
                let op = format!("{op:?}").to_lowercase();
                Err(FilterError(format!(
                    "Operator '{op}' incompatible with operand types '{ty}' and '{lit_ty}'."
                )))
            }
        }
    }
}

/// A runtime value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// No value.
    Null,
    /// Boolean.
    Bool(bool),
    /// Any number.
    Num(f64),
    /// Text (also GUIDs, lower-case).
    Str(String),
    /// Date-time in epoch ms.
    Date(i64),
}

impl From<&Lit> for Val {
    fn from(l: &Lit) -> Val {
        match l {
            Lit::Null => Val::Null,
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Num(n) => Val::Num(*n),
            Lit::Str(s) | Lit::Guid(s) => Val::Str(s.clone()),
            Lit::DateTime(ms) => Val::Date(*ms),
        }
    }
}

/// Converts a stored JSON value to a runtime value (dates are stored as `/Date(ms)/`).
pub fn val_of(v: &serde_json::Value) -> Val {
    match v {
        serde_json::Value::Null => Val::Null,
        serde_json::Value::Bool(b) => Val::Bool(*b),
        serde_json::Value::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => match s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
            Some(ms) => ms.parse().map(Val::Date).unwrap_or(Val::Str(s.clone())),
            None => Val::Str(s.clone()),
        },
        _ => Val::Null,
    }
}

/// Evaluates the expression on one row; `get` returns a property's stored value.
pub fn eval(e: &Expr, get: &dyn Fn(&str) -> Val) -> Val {
    match e {
        Expr::Prop(p) => get(p),
        Expr::Lit(l) => l.into(),
        Expr::Not(a) => Val::Bool(!truthy(&eval(a, get))),
        Expr::And(a, b) => Val::Bool(truthy(&eval(a, get)) && truthy(&eval(b, get))),
        Expr::Or(a, b) => Val::Bool(truthy(&eval(a, get)) || truthy(&eval(b, get))),
        Expr::Cmp(op, a, b) => Val::Bool(compare(*op, &eval(a, get), &eval(b, get))),
        Expr::Call(name, args) => {
            let a: Vec<Val> = args.iter().map(|x| eval(x, get)).collect();
            let text = |v: &Val| match v {
                Val::Str(s) => Some(s.to_lowercase()),
                _ => None,
            };
            match (name.as_str(), a.as_slice()) {
                ("substringof", [needle, hay]) => match (text(needle), text(hay)) {
                    (Some(n), Some(h)) => Val::Bool(h.contains(&n)),
                    _ => Val::Bool(false),
                },
                ("startswith", [hay, needle]) => match (text(hay), text(needle)) {
                    (Some(h), Some(n)) => Val::Bool(h.starts_with(&n)),
                    _ => Val::Bool(false),
                },
                ("endswith", [hay, needle]) => match (text(hay), text(needle)) {
                    (Some(h), Some(n)) => Val::Bool(h.ends_with(&n)),
                    _ => Val::Bool(false),
                },
                ("tolower", [Val::Str(s)]) => Val::Str(s.to_lowercase()),
                ("toupper", [Val::Str(s)]) => Val::Str(s.to_uppercase()),
                ("trim", [Val::Str(s)]) => Val::Str(s.trim().to_string()),
                ("length", [Val::Str(s)]) => Val::Num(s.chars().count() as f64),
                _ => Val::Null,
            }
        }
    }
}

fn truthy(v: &Val) -> bool {
    matches!(v, Val::Bool(true))
}

/// SQL Server semantics: text compares case-insensitively and ignores trailing spaces
/// (leading spaces count, which is why Account codes must be padded).
fn order(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Num(y)) | (Val::Num(y), Val::Str(x)) if x.parse::<f64>().is_ok() => {
            let xv: f64 = x.parse().ok()?;
            let o = xv.partial_cmp(y)?;
            Some(if matches!(a, Val::Str(_)) { o } else { o.reverse() })
        }
        (Val::Str(x), Val::Str(y)) => Some(x.trim_end().to_lowercase().cmp(&y.trim_end().to_lowercase())),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(op: CmpOp, a: &Val, b: &Val) -> bool {
    if matches!(a, Val::Null) || matches!(b, Val::Null) {
        let both = matches!(a, Val::Null) && matches!(b, Val::Null);
        return match op {
            CmpOp::Eq => both,
            CmpOp::Ne => !both,
            _ => false,
        };
    }
    match order(a, b) {
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
        },
        None => op == CmpOp::Ne,
    }
}

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
        assert_eq!(parse("Timestamp gt 123L").ok(), Some(Expr::Cmp(CmpOp::Gt, Box::new(Expr::Prop("Timestamp".into())), Box::new(Expr::Lit(Lit::Num(123.0))))));
        let g = parse("ID eq guid'5B3DEBEF-0000-0000-0000-000000000001'").expect("guid");
        assert!(matches!(g, Expr::Cmp(_, _, ref r) if **r == Expr::Lit(Lit::Guid("5b3debef-0000-0000-0000-000000000001".into()))));
        let d = parse("Modified ge datetime'2024-01-01T00:00:00'").expect("date");
        assert!(matches!(d, Expr::Cmp(_, _, ref r) if **r == Expr::Lit(Lit::DateTime(1_704_067_200_000))));
        assert!(matches!(parse("Name eq 'O''Brien'"), Ok(Expr::Cmp(_, _, ref r)) if **r == Expr::Lit(Lit::Str("O'Brien".into()))));
    }

    #[test]
    fn syntax_errors_are_refused() {
        for bad in ["Name eq", "(Name eq 'x'", "Name eq 'x' and", "Name eq 'open", "foo(Name)", "Name eq guid'nope'", "Account/Name eq 'x'", "Name eq 'a' 'b'"] {
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
        assert!(run("Modified ge datetime'2024-01-01T00:00:00' and not (Blocked eq true)", row.clone()));
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
        assert!(check(&parse("ID eq guid'5b3debef-0000-0000-0000-000000000001'").expect("p"), t, &types).is_ok());
        assert!(check(&parse("ID eq '5b3debef-0000-0000-0000-000000000001'").expect("p"), t, &types).is_err());
        assert!(check(&parse("Name eq ID").expect("p"), t, &types).is_err());
        assert!(check(&parse("Nope eq 1").expect("p"), t, &types).is_err());
    }
}
