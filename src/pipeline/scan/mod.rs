//! The JSON parser behind `exflow map`: reads one document into a [`ProjectedValue`],
//! keeping what a [`Projection`] says expressions can observe and stepping over the rest
//! without building it.
//!
//! Why not serde_json here: through serde, every skipped value still goes through the
//! visitor machinery and every kept key is matched after being decoded; this parser finds
//! keys and skips values with `memchr` over the raw bytes, and checks UTF-8 once per
//! document. It accepts and rejects exactly what `serde_json` does (strict RFC 8259, nesting
//! up to 128 levels), and gives the same values; `sparse_equiv_tests.rs` and the property
//! tests below hold it to that.

use super::sparse::{Node, Projection};
use crate::lang::ProjectedValue;
use serde_json::{Map, Value};

mod literals;
#[cfg(test)]
mod tests;

/// Nesting deeper than this is refused (as serde_json does), so no input can exhaust the stack.
const MAX_DEPTH: usize = 128;

/// Why a document is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line} column {column}")]
pub struct ScanError {
    /// What is wrong, in serde_json's words.
    pub message: &'static str,
    /// 1-based line in the document.
    pub line: usize,
    /// 1-based column (in bytes) in that line.
    pub column: usize,
}

impl Projection {
    /// Parses one JSON document keeping the parts read.
    pub fn scan<'p>(&'p self, bytes: &[u8]) -> Result<ProjectedValue<'p>, ScanError> {
        let mut p = Parser::new(bytes)?;
        let v = p.value(self.root(), 0)?;
        p.end()?;
        Ok(v)
    }

    /// Parses a JSON array of documents, each keeping the parts read.
    pub fn scan_array<'p>(&'p self, bytes: &[u8]) -> Result<Vec<ProjectedValue<'p>>, ScanError> {
        let mut p = Parser::new(bytes)?;
        p.ws();
        if p.peek() != Some(b'[') {
            return Err(p.error("invalid type: expected a JSON array"));
        }
        let items = p.list(self.root(), 0)?;
        p.end()?;
        Ok(items)
    }
}

struct Parser<'b> {
    text: &'b str,
    b: &'b [u8],
    i: usize,
}

impl<'b> Parser<'b> {
    fn new(bytes: &'b [u8]) -> Result<Parser<'b>, ScanError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Parser {
                text,
                b: bytes,
                i: 0,
            }),
            Err(e) => {
                let p = Parser {
                    text: "",
                    b: bytes,
                    i: e.valid_up_to(),
                };
                Err(p.error("invalid unicode code point"))
            }
        }
    }

    fn error(&self, message: &'static str) -> ScanError {
        let upto = &self.b[..self.i.min(self.b.len())];
        let line = 1 + upto.iter().filter(|&&c| c == b'\n').count();
        let column = match upto.iter().rposition(|&c| c == b'\n') {
            Some(nl) => upto.len() - nl,
            None => upto.len() + 1,
        };
        ScanError {
            message,
            line,
            column,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn end(&mut self) -> Result<(), ScanError> {
        self.ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    fn expect(&mut self, c: u8, message: &'static str) -> Result<(), ScanError> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else if self.peek().is_none() {
            // Only the colon of an object entry is expected this way.
            Err(self.error("EOF while parsing an object"))
        } else {
            Err(self.error(message))
        }
    }

    /// A value, projected by `node`.
    fn value<'r>(&mut self, node: &'r Node, depth: usize) -> Result<ProjectedValue<'r>, ScanError> {
        self.ws();
        match self.peek() {
            Some(b'{') if node.whole || node.whole_if_object => {
                self.whole(depth).map(ProjectedValue::Whole)
            }
            Some(b'[') if node.whole => self.whole(depth).map(ProjectedValue::Whole),
            Some(b'{') => self.object(node, depth),
            Some(b'[') => self
                .list(node.items_node(), depth)
                .map(ProjectedValue::List),
            _ => self.scalar().map(ProjectedValue::Whole),
        }
    }

    fn enter(&mut self, depth: usize) -> Result<usize, ScanError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        self.i += 1;
        Ok(depth + 1)
    }

    /// `[ ... ]`, each item projected by `items`.
    fn list<'r>(
        &mut self,
        items: &'r Node,
        depth: usize,
    ) -> Result<Vec<ProjectedValue<'r>>, ScanError> {
        let depth = self.enter(depth)?;
        let mut out = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(out);
        }
        loop {
            out.push(self.value(items, depth)?);
            if self.list_next()? {
                return Ok(out);
            }
        }
    }

    /// After a list item: `true` at the closing bracket.
    fn list_next(&mut self) -> Result<bool, ScanError> {
        self.next_in(b']', "EOF while parsing a list", "expected `,` or `]`")
    }

    /// After an object entry: `true` at the closing brace.
    fn object_next(&mut self) -> Result<bool, ScanError> {
        self.next_in(b'}', "EOF while parsing an object", "expected `,` or `}`")
    }

    /// After an item of a list or object closed by `close`: `true` at the close.
    fn next_in(
        &mut self,
        close: u8,
        eof: &'static str,
        expected: &'static str,
    ) -> Result<bool, ScanError> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(close) {
                    return Err(self.error("trailing comma"));
                }
                Ok(false)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            None => Err(self.error(eof)),
            Some(_) => Err(self.error(expected)),
        }
    }

    /// The key of an entry, up to and including the colon. Borrowed when it has no escapes.
    fn key(&mut self) -> Result<std::borrow::Cow<'b, str>, ScanError> {
        self.ws();
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.error("EOF while parsing an object")),
            Some(_) => return Err(self.error("key must be a string")),
        }
        let k = self.string()?;
        self.expect(b':', "expected `:`")?;
        Ok(k)
    }

    /// `{ ... }` keeping the keys `node` reads.
    fn object<'r>(
        &mut self,
        node: &'r Node,
        depth: usize,
    ) -> Result<ProjectedValue<'r>, ScanError> {
        let depth = self.enter(depth)?;
        let mut out = Vec::with_capacity(node.keys.len());
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(ProjectedValue::Object(out));
        }
        // Keys seen so far, by their place in the projection: a key given twice (legal JSON,
        // last value wins) is the only case that needs a search.
        let mut seen = 0u64;
        loop {
            let key = self.key()?;
            match node.position(&key) {
                Some(at) => {
                    let (k, sub) = &node.keys[at];
                    let v = self.value(sub, depth)?;
                    let bit = 1u64.checked_shl(at as u32).unwrap_or(0);
                    if bit != 0 && seen & bit == 0 {
                        seen |= bit;
                        out.push((k.as_str(), v));
                    } else {
                        ProjectedValue::push_entry(&mut out, k.as_str(), v);
                    }
                }
                None => self.skip(depth)?,
            }
            if self.object_next()? {
                return Ok(ProjectedValue::Object(out));
            }
        }
    }

    /// A whole value as `serde_json` builds it.
    fn whole(&mut self, depth: usize) -> Result<Value, ScanError> {
        self.ws();
        match self.peek() {
            Some(b'{') => {
                let depth = self.enter(depth)?;
                let mut m = Map::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Value::Object(m));
                }
                loop {
                    let k = self.key()?.into_owned();
                    let v = self.whole(depth)?;
                    m.insert(k, v);
                    if self.object_next()? {
                        return Ok(Value::Object(m));
                    }
                }
            }
            Some(b'[') => {
                let depth = self.enter(depth)?;
                let mut a = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Value::Array(a));
                }
                loop {
                    a.push(self.whole(depth)?);
                    if self.list_next()? {
                        return Ok(Value::Array(a));
                    }
                }
            }
            _ => self.scalar(),
        }
    }

    /// Steps over a value, checking it.
    fn skip(&mut self, depth: usize) -> Result<(), ScanError> {
        self.ws();
        match self.peek() {
            Some(b'{') => {
                let depth = self.enter(depth)?;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.key()?;
                    self.skip(depth)?;
                    if self.object_next()? {
                        return Ok(());
                    }
                }
            }
            Some(b'[') => {
                let depth = self.enter(depth)?;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip(depth)?;
                    if self.list_next()? {
                        return Ok(());
                    }
                }
            }
            Some(b'"') => self.skip_string(),
            Some(b'-' | b'0'..=b'9') => {
                let (text, _, exponent) = self.number_text()?;
                // A number too large for a float is refused even where it is not kept; only
                // an exponent or over 300 digits can make one.
                if (exponent || text.len() > 300) && !text.parse::<f64>().is_ok_and(f64::is_finite)
                {
                    return Err(self.error("number out of range"));
                }
                Ok(())
            }
            _ => self.scalar().map(|_| ()),
        }
    }

    /// A string, number, `true`, `false` or `null`.
    fn scalar(&mut self) -> Result<Value, ScanError> {
        match self.peek() {
            Some(b'"') => Ok(Value::String(self.string()?.into_owned())),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.word(b"true", Value::Bool(true)),
            Some(b'f') => self.word(b"false", Value::Bool(false)),
            Some(b'n') => self.word(b"null", Value::Null),
            None => Err(self.error("EOF while parsing a value")),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn word(&mut self, w: &[u8], v: Value) -> Result<Value, ScanError> {
        for (k, want) in w.iter().enumerate() {
            match self.b.get(self.i + k) {
                Some(c) if c == want => {}
                None => {
                    self.i += k;
                    return Err(self.error("EOF while parsing a value"));
                }
                Some(_) => {
                    self.i += k;
                    return Err(self.error("expected ident"));
                }
            }
        }
        self.i += w.len();
        Ok(v)
    }
}
