//! Lexer, recursive-descent parser and type check of `$filter`.

use super::{CmpOp, Expr, FilterError, Lit};

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
                if i < chars.len()
                    && matches!(chars[i], 'L' | 'l' | 'M' | 'm' | 'd' | 'D' | 'f' | 'F')
                {
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
                                FilterError(format!(
                                    "Unrecognized 'Edm.Guid' literal 'guid'{s}'' at '{start}'."
                                ))
                            })?;
                            Lit::Guid(g.to_string())
                        }
                        "datetime" | "datetimeoffset" => {
                            Lit::DateTime(parse_datetime(&s).ok_or_else(|| {
                                FilterError(format!(
                                "Unrecognized 'Edm.DateTime' literal 'datetime'{s}'' at '{start}'."
                            ))
                            })?)
                        }
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

/// Parses an ISO date or date-time (no offset, or `Z`) into epoch milliseconds (UTC).
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

/// Deepest nesting of parentheses and `not` accepted (the recursion must stay bounded).
const MAX_DEPTH: usize = 100;

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
    depth: usize,
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
    fn deeper(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError("The filter is nested too deeply.".into()));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            self.deeper()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
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
        let tok = self
            .toks
            .get(self.pos)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| syntax(at))?;
        self.pos += 1;
        match tok {
            Tok::Open => {
                self.deeper()?;
                let e = self.or()?;
                self.depth -= 1;
                match self.peek() {
                    Some(Tok::Close) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err(FilterError(format!(
                        "')' or operator expected at position {}.",
                        self.at()
                    ))),
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
                        "Filtering on navigation properties is not supported for this resource."
                            .into(),
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
        _ => {
            return Err(FilterError(format!(
                "Unknown function '{name}' at position {at}."
            )))
        }
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
    let mut p = Parser {
        toks,
        pos: 0,
        len: src.chars().count(),
        depth: 0,
    };
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
pub fn check(
    e: &Expr,
    type_name: &str,
    type_of: &dyn Fn(&str) -> Option<String>,
) -> Result<(), FilterError> {
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
            let numeric = matches!(
                ty.as_str(),
                "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Double" | "Edm.Byte" | "Edm.Decimal"
            );
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
