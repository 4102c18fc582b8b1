//! Strings and numbers: where they end, what they say, and what JSON refuses in them.

use super::{Parser, ScanError};
use serde_json::{Number, Value};
use std::borrow::Cow;

impl<'b> Parser<'b> {
    /// Finds the end of the string starting at the quote under the cursor: the index of the
    /// closing quote, and whether there are escapes. Refuses raw control characters.
    fn string_end(&mut self) -> Result<(usize, bool), ScanError> {
        let b = self.b;
        let mut at = self.i + 1;
        let mut escaped = false;
        loop {
            // Eight bytes at a time: most strings in records are short and plain.
            let found = match b.get(at..at + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
                Some(chunk) => {
                    let mask = special_bytes(u64::from_le_bytes(chunk));
                    if mask == 0 {
                        at += 8;
                        continue;
                    }
                    at + (mask.trailing_zeros() / 8) as usize
                }
                None => match b[at.min(b.len())..]
                    .iter()
                    .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                {
                    Some(off) => at + off,
                    None => {
                        self.i = b.len();
                        return Err(self.error("EOF while parsing a string"));
                    }
                },
            };
            match b[found] {
                b'"' => return Ok((found, escaped)),
                b'\\' => {
                    // Step over the escaped character; `unescape` checks the escape.
                    escaped = true;
                    at = found + 2;
                }
                _ => {
                    self.i = found;
                    return Err(self.error(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
            }
        }
    }

    pub(super) fn skip_string(&mut self) -> Result<(), ScanError> {
        let (end, escaped) = self.string_end()?;
        if escaped {
            self.unescape(end)?;
        }
        self.i = end + 1;
        Ok(())
    }

    /// The string under the cursor, unescaped.
    pub(super) fn string(&mut self) -> Result<Cow<'b, str>, ScanError> {
        let (end, escaped) = self.string_end()?;
        let s = if escaped {
            Cow::Owned(self.unescape(end)?)
        } else {
            let raw = self.text.get(self.i + 1..end).unwrap_or_default();
            Cow::Borrowed(raw)
        };
        self.i = end + 1;
        Ok(s)
    }

    /// Decodes the escapes of the string from the cursor's quote to `end`.
    fn unescape(&mut self, end: usize) -> Result<String, ScanError> {
        let mut out = String::with_capacity(end - self.i);
        let mut at = self.i + 1;
        while at < end {
            let Some(off) = memchr::memchr(b'\\', &self.b[at..end]) else {
                out.push_str(self.text.get(at..end).unwrap_or_default());
                break;
            };
            out.push_str(self.text.get(at..at + off).unwrap_or_default());
            at += off + 1;
            let c = match self.b.get(at) {
                Some(b'"') => '"',
                Some(b'\\') => '\\',
                Some(b'/') => '/',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => {
                    at += 1;
                    let c = self.unicode_escape(&mut at)?;
                    out.push(c);
                    continue;
                }
                _ => {
                    self.i = at;
                    return Err(self.error("invalid escape"));
                }
            };
            out.push(c);
            at += 1;
        }
        Ok(out)
    }

    /// `XXXX` (after `\u`), and the low half of a surrogate pair.
    fn unicode_escape(&mut self, at: &mut usize) -> Result<char, ScanError> {
        let hi = self.hex4(at)?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.b.get(*at..*at + 2) != Some(b"\\u") {
                    self.i = *at;
                    return Err(self.error("unexpected end of hex escape"));
                }
                *at += 2;
                let lo = self.hex4(at)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    self.i = *at;
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                self.i = *at;
                return Err(self.error("lone leading surrogate in hex escape"));
            }
            c => c,
        };
        char::from_u32(code).ok_or_else(|| {
            self.i = *at;
            self.error("invalid unicode code point")
        })
    }

    fn hex4(&mut self, at: &mut usize) -> Result<u32, ScanError> {
        let mut n = 0u32;
        for _ in 0..4 {
            let d = match self.b.get(*at) {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                None => {
                    self.i = *at;
                    return Err(self.error("EOF while parsing a string"));
                }
                Some(_) => {
                    self.i = *at;
                    return Err(self.error("invalid escape"));
                }
            };
            n = n * 16 + u32::from(d);
            *at += 1;
        }
        Ok(n)
    }

    /// The text of the number under the cursor, checked against JSON's grammar, whether it
    /// has a fraction or exponent, and whether an exponent.
    pub(super) fn number_text(&mut self) -> Result<(&'b str, bool, bool), ScanError> {
        let start = self.i;
        let b = self.b;
        let mut at = self.i;
        let digits = |at: &mut usize| {
            let from = *at;
            while let Some(b'0'..=b'9') = b.get(*at) {
                *at += 1;
            }
            *at - from
        };
        if b.get(at) == Some(&b'-') {
            at += 1;
        }
        match b.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            None => {
                self.i = at;
                return Err(self.error("EOF while parsing a value"));
            }
            Some(_) => {
                self.i = at;
                return Err(self.error("invalid number"));
            }
        }
        let mut float = false;
        if b.get(at) == Some(&b'.') {
            at += 1;
            float = true;
            if digits(&mut at) == 0 {
                return Err(self.missing_digits(at));
            }
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = b.get(at) {
            at += 1;
            float = true;
            exponent = true;
            if let Some(b'+' | b'-') = b.get(at) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                return Err(self.missing_digits(at));
            }
        }
        self.i = at;
        Ok((
            self.text.get(start..at).unwrap_or_default(),
            float,
            exponent,
        ))
    }

    /// A fraction or exponent without digits, at `at`.
    fn missing_digits(&mut self, at: usize) -> ScanError {
        self.i = at;
        self.error(if at >= self.b.len() {
            "EOF while parsing a value"
        } else {
            "invalid number"
        })
    }

    /// A number as serde_json reads it: an integer when it fits 64 bits, else a float.
    pub(super) fn number(&mut self) -> Result<Value, ScanError> {
        let (text, float, _) = self.number_text()?;
        if !float {
            if let Some(digits) = text.strip_prefix('-') {
                if let Ok(n) = digits.parse::<u64>() {
                    if n == 0 {
                        // serde_json reads `-0` as the float -0.0.
                        return Ok(Number::from_f64(-0.0).map_or(Value::Null, Value::Number));
                    }
                    if let Some(i) = 0i64.checked_sub_unsigned(n) {
                        return Ok(Value::Number(i.into()));
                    }
                }
            } else if let Ok(n) = text.parse::<u64>() {
                return Ok(Value::Number(n.into()));
            }
        }
        match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(self.error("number out of range")),
        }
    }
}

/// A mask with the high bit set in the lowest byte of `w` that is `"`, a backslash or below 0x20
/// (bytes above the first may be flagged falsely; only the lowest counts).
#[inline]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero(quote) | zero(backslash) | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
}
