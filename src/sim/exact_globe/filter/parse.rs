//! Lexer and recursive-descent parser for `$filter` (precedence: or < and < not < comparison).

use super::super::catalog::{Entity, PropType};
use super::super::value::{normalize_guid, parse_date};
use super::{CmpOp, Expr, FilterError, Lit};

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
    depth: usize,
}

/// Deepest nesting accepted (recursion is bounded by it).
const MAX_DEPTH: usize = 64;

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
            match &mut left {
                Expr::Or(v) => v.push(self.and()?),
                _ => left = Expr::Or(vec![left, self.and()?]),
            }
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            match &mut left {
                Expr::And(v) => v.push(self.unary()?),
                _ => left = Expr::And(vec![left, self.unary()?]),
            }
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        // Every nesting (parentheses, not, function arguments) passes here.
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError(format!(
                "The $filter expression is nested too deeply at position {}.",
                self.at()
            )));
        }
        let e = if self.keyword("not") {
            self.pos += 1;
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else {
            self.comparison()
        };
        self.depth -= 1;
        e
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
        depth: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(FilterError(format!("Syntax error at position {}.", p.at())));
    }
    Ok(e)
}
