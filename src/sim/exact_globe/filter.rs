//! `$filter`: a small recursive-descent parser for the OData v2 subset Globe clients use
//! (eq ne gt ge lt le, and or not, parentheses, substringof, startswith, endswith, tolower,
//! toupper, trim, and string/number/guid/datetime/true/false/null literals), and its evaluation
//! against stored records with SQL Server semantics: strings compare case-insensitively and
//! ignore trailing spaces, but leading spaces count, so an unpadded code finds nothing.

use super::catalog::{Entity, PropType};
use super::value::{normalize_guid, parse_date};
use serde_json::{Map, Value};
use std::cmp::Ordering;

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
    /// a and b
    And(Box<Expr>, Box<Expr>),
    /// a or b
    Or(Box<Expr>, Box<Expr>),
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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Guid(String),
    Date(i64),
    LParen,
    RParen,
    Comma,
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            '\'' => {
                let (s, next) = quoted(&chars, i)?;
                out.push((start, Tok::Str(s)));
                i = next;
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let n: f64 = text.parse().map_err(|_| {
                    FilterError(format!("Syntax error at position {start}: '{text}'."))
                })?;
                // Type suffixes: 2M (decimal), 2L (long), 2d, 2f.
                if j < chars.len()
                    && matches!(chars[j], 'M' | 'm' | 'L' | 'l' | 'd' | 'D' | 'f' | 'F')
                {
                    j += 1;
                }
                out.push((start, Tok::Num(n)));
                i = j;
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '.')
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                if j < chars.len() && chars[j] == '\'' {
                    let (s, next) = quoted(&chars, j)?;
                    let tok = match word.to_ascii_lowercase().as_str() {
                        "guid" => Tok::Guid(normalize_guid(&s).ok_or_else(|| {
                            FilterError(format!("Unrecognized 'Edm.Guid' literal 'guid'{s}'' at position {start}."))
                        })?),
                        "datetime" | "datetimeoffset" => Tok::Date(parse_date(&s).ok_or_else(|| {
                            FilterError(format!("Unrecognized 'Edm.DateTime' literal 'datetime'{s}'' at position {start}."))
                        })?),
                        _ => return Err(FilterError(format!("Syntax error at position {start}."))),
                    };
                    out.push((start, tok));
                    i = next;
                } else {
                    out.push((start, Tok::Ident(word)));
                    i = j;
                }
            }
            _ => {
                return Err(FilterError(format!(
                    "Syntax error: character '{c}' is not valid at position {start}."
                )))
            }
        }
    }
    Ok(out)
}

/// Reads a quoted literal starting at `open`; `''` inside is one quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), FilterError> {
    let mut s = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(FilterError(format!(
                    "There is an unterminated string literal at position {open}."
                )))
            }
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

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    entity: &'a Entity,
    len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|(p, _)| *p).unwrap_or(self.len)
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == kw)
    }
    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), FilterError> {
        if self.peek() == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(FilterError(format!(
                "{what} expected at position {}.",
                self.at()
            )))
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let left_at = self.at();
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Tok::Ident(w)) => match w.as_str() {
                "eq" => Some(CmpOp::Eq),
                "ne" => Some(CmpOp::Ne),
                "gt" => Some(CmpOp::Gt),
                "ge" => Some(CmpOp::Ge),
                "lt" => Some(CmpOp::Lt),
                "le" => Some(CmpOp::Le),
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else { return Ok(left) };
        let op_at = self.at();
        self.pos += 1;
        let right = self.primary()?;
        check_operands(self.entity, op, &left, &right, op_at.max(left_at))?;
        let (l2, r2) = (left.clone(), right.clone());
        let (left, right) = (self.as_date(&r2, left), self.as_date(&l2, right));
        Ok(Expr::Cmp(op, Box::new(left), Box::new(right)))
    }

    /// A text literal compared with a Date property is read as a date.
    fn as_date(&self, other: &Expr, e: Expr) -> Expr {
        match (other, &e) {
            (Expr::Prop(p), Expr::Lit(Lit::Str(s)))
                if self.entity.property(p).map(|p| p.ty) == Some(PropType::Date) =>
            {
                parse_date(s)
                    .map(|ms| Expr::Lit(Lit::Date(ms)))
                    .unwrap_or(e)
            }
            _ => e,
        }
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let at = self.at();
        let Some((_, tok)) = self.toks.get(self.pos).cloned() else {
            return Err(FilterError(format!(
                "Expression expected at position {at}."
            )));
        };
        self.pos += 1;
        match tok {
            Tok::LParen => {
                let e = self.or()?;
                self.expect(Tok::RParen, "')' or operator")?;
                Ok(e)
            }
            Tok::Str(s) => Ok(Expr::Lit(Lit::Str(s))),
            Tok::Num(n) => Ok(Expr::Lit(Lit::Num(n))),
            Tok::Guid(g) => Ok(Expr::Lit(Lit::Guid(g))),
            Tok::Date(d) => Ok(Expr::Lit(Lit::Date(d))),
            Tok::Ident(w) => match w.as_str() {
                "true" => Ok(Expr::Lit(Lit::Bool(true))),
                "false" => Ok(Expr::Lit(Lit::Bool(false))),
                "null" => Ok(Expr::Lit(Lit::Null)),
                _ if self.peek() == Some(&Tok::LParen) => {
                    let arity = match w.as_str() {
                        "substringof" | "startswith" | "endswith" => 2,
                        "tolower" | "toupper" | "trim" | "length" => 1,
                        _ => {
                            return Err(FilterError(format!(
                                "Unknown function '{w}' at position {at}."
                            )))
                        }
                    };
                    self.pos += 1;
                    let mut args = vec![self.or()?];
                    while self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        args.push(self.or()?);
                    }
                    self.expect(Tok::RParen, "')' or ','")?;
                    if args.len() != arity {
                        return Err(FilterError(format!(
                            "No applicable function found for '{w}' at position {at} with the specified arguments."
                        )));
                    }
                    Ok(Expr::Call(w, args))
                }
                _ => {
                    if self.entity.has(&w) {
                        Ok(Expr::Prop(w))
                    } else {
                        Err(FilterError(format!(
                            "No property '{w}' exists in type '{}' at position {at}.",
                            self.entity.type_name()
                        )))
                    }
                }
            },
            Tok::RParen | Tok::Comma => Err(FilterError(format!(
                "Expression expected at position {at}."
            ))),
        }
    }
}

fn check_operands(
    entity: &Entity,
    op: CmpOp,
    left: &Expr,
    right: &Expr,
    at: usize,
) -> Result<(), FilterError> {
    let (prop, lit) = match (left, right) {
        (Expr::Prop(p), Expr::Lit(l)) | (Expr::Lit(l), Expr::Prop(p)) => (p, l),
        _ => return Ok(()),
    };
    let Some(p) = entity.property(prop) else {
        return Ok(());
    };
    let ok = match (p.ty, lit) {
        (_, Lit::Null) => true,
        (PropType::String, Lit::Str(_)) => true,
        (t, Lit::Num(_)) if t.is_numeric() => true,
        (PropType::Boolean, Lit::Bool(_)) => true,
        (PropType::Guid, Lit::Guid(_)) => true,
        (PropType::Date, Lit::Date(_) | Lit::Str(_)) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let edm = |t: PropType| match t {
        PropType::String => "System.String",
        PropType::Number | PropType::Double => "System.Decimal",
        PropType::Integer => "System.Int32",
        PropType::Boolean => "System.Boolean",
        PropType::Date => "System.DateTime",
        PropType::Guid => "System.Guid",
    };
    let lit_ty = match lit {
        Lit::Str(_) => "System.String",
        Lit::Num(_) => "System.Int32",
        Lit::Guid(_) => "System.Guid",
        Lit::Date(_) => "System.DateTime",
        Lit::Bool(_) => "System.Boolean",
        Lit::Null => "null",
    };
    let op = format!("{op:?}").to_ascii_lowercase();
    Err(FilterError(format!(
        "Operator '{op}' incompatible with operand types '{}' and '{lit_ty}' at position {at}.",
        edm(p.ty)
    )))
}

/// Parses `$filter` for `entity`, refusing unknown properties with the service's message.
pub fn parse(src: &str, entity: &Entity) -> Result<Expr, FilterError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        entity,
        len: src.chars().count(),
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(FilterError(format!("Syntax error at position {}.", p.at())));
    }
    Ok(e)
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

fn to_v(value: Option<&Value>) -> V {
    match value {
        None | Some(Value::Null) => V::Null,
        Some(Value::Bool(b)) => V::Bool(*b),
        Some(Value::Number(n)) => V::Num(n.as_f64().unwrap_or(0.0)),
        Some(Value::String(s)) => V::Str(s.clone()),
        Some(other) => V::Str(other.to_string()),
    }
}

fn eval_v(e: &Expr, rec: &Map<String, Value>, entity: &Entity) -> V {
    match e {
        Expr::Prop(p) => {
            let v = to_v(rec.get(p));
            // Dates compare as instants.
            match (entity.property(p).map(|p| p.ty), &v) {
                (Some(PropType::Date), V::Str(s)) => {
                    parse_date(s).map(|ms| V::Num(ms as f64)).unwrap_or(V::Null)
                }
                _ => v,
            }
        }
        Expr::Lit(l) => match l {
            Lit::Str(s) => V::Str(s.clone()),
            Lit::Num(n) => V::Num(*n),
            Lit::Guid(g) => V::Str(g.clone()),
            Lit::Date(d) => V::Num(*d as f64),
            Lit::Bool(b) => V::Bool(*b),
            Lit::Null => V::Null,
        },
        Expr::Cmp(..) | Expr::And(..) | Expr::Or(..) | Expr::Not(..) => {
            V::Bool(matches(e, rec, entity))
        }
        Expr::Call(f, args) => {
            let a: Vec<V> = args.iter().map(|x| eval_v(x, rec, entity)).collect();
            let s = |v: &V| match v {
                V::Str(s) => Some(s.clone()),
                V::Num(n) => Some(n.to_string()),
                V::Bool(b) => Some(b.to_string()),
                V::Null => None,
            };
            match (f.as_str(), a.as_slice()) {
                ("substringof", [needle, hay]) => match (s(needle), s(hay)) {
                    (Some(n), Some(h)) => V::Bool(h.to_lowercase().contains(&n.to_lowercase())),
                    _ => V::Bool(false),
                },
                ("startswith", [hay, needle]) => match (s(hay), s(needle)) {
                    (Some(h), Some(n)) => V::Bool(h.to_lowercase().starts_with(&n.to_lowercase())),
                    _ => V::Bool(false),
                },
                ("endswith", [hay, needle]) => match (s(hay), s(needle)) {
                    (Some(h), Some(n)) => V::Bool(
                        h.trim_end()
                            .to_lowercase()
                            .ends_with(n.trim_end().to_lowercase().as_str()),
                    ),
                    _ => V::Bool(false),
                },
                ("tolower", [x]) => s(x).map(|x| V::Str(x.to_lowercase())).unwrap_or(V::Null),
                ("toupper", [x]) => s(x).map(|x| V::Str(x.to_uppercase())).unwrap_or(V::Null),
                ("trim", [x]) => s(x)
                    .map(|x| V::Str(x.trim().to_string()))
                    .unwrap_or(V::Null),
                ("length", [x]) => s(x)
                    .map(|x| V::Num(x.chars().count() as f64))
                    .unwrap_or(V::Null),
                _ => V::Null,
            }
        }
    }
}

/// SQL Server comparison: case-insensitive, trailing spaces ignored, leading spaces kept.
fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Str(x), V::Str(y)) => Some(
            x.trim_end()
                .to_lowercase()
                .cmp(&y.trim_end().to_lowercase()),
        ),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Num(y)) => (if *x { 1.0 } else { 0.0 }).partial_cmp(y),
        (V::Num(x), V::Bool(y)) => x.partial_cmp(&(if *y { 1.0 } else { 0.0 })),
        _ => None,
    }
}

/// True when `rec` satisfies the filter.
pub fn matches(e: &Expr, rec: &Map<String, Value>, entity: &Entity) -> bool {
    match e {
        Expr::And(a, b) => matches(a, rec, entity) && matches(b, rec, entity),
        Expr::Or(a, b) => matches(a, rec, entity) || matches(b, rec, entity),
        Expr::Not(a) => !matches(a, rec, entity),
        Expr::Cmp(op, a, b) => {
            let (x, y) = (eval_v(a, rec, entity), eval_v(b, rec, entity));
            match (op, &x, &y) {
                (CmpOp::Eq, V::Null, V::Null) => true,
                (CmpOp::Ne, V::Null, V::Null) => false,
                (CmpOp::Eq, V::Null, _) | (CmpOp::Eq, _, V::Null) => false,
                (CmpOp::Ne, V::Null, _) | (CmpOp::Ne, _, V::Null) => true,
                _ => match compare(&x, &y) {
                    None => false,
                    Some(o) => match op {
                        CmpOp::Eq => o == Ordering::Equal,
                        CmpOp::Ne => o != Ordering::Equal,
                        CmpOp::Gt => o == Ordering::Greater,
                        CmpOp::Ge => o != Ordering::Less,
                        CmpOp::Lt => o == Ordering::Less,
                        CmpOp::Le => o != Ordering::Greater,
                    },
                },
            }
        }
        other => eval_v(other, rec, entity) == V::Bool(true),
    }
}

/// Orders two stored values the way `$orderby` does (nulls first).
pub fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let (x, y) = (to_v(a), to_v(b));
    match (&x, &y) {
        (V::Null, V::Null) => Ordering::Equal,
        (V::Null, _) => Ordering::Less,
        (_, V::Null) => Ordering::Greater,
        _ => compare(&x, &y).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::Catalog;
    use super::*;
    use serde_json::json;

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
        assert!(matches!(e, Expr::Or(_, ref r) if matches!(**r, Expr::And(..))));
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
}
