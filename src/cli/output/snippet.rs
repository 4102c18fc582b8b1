//! Snippets that fit: a quoted source line longer than [`MAX_LINE`] bytes is cut around its
//! label before miette renders it. miette's renderer panics on a line past 65,535 characters,
//! and such a line (minified JSON, generated text) is unreadable whole anyway. Line numbers
//! and columns stay those of the original file.

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, Severity, SourceCode, SourceSpan,
    SpanContents,
};
use std::fmt;

/// Longest source line quoted as it is.
const MAX_LINE: usize = 400;
/// Bytes kept before the label on a cut line.
const BEFORE: usize = 120;
/// Stands for the cut part of a line.
const MARK: &str = "…";

/// The quoted lines of a diagnostic, long ones cut.
struct Window {
    text: String,
    name: Option<String>,
    /// 0-based line of the file where `text` begins.
    first_line: usize,
    /// Per line of `text`: bytes of the original line before the kept part, minus the mark
    /// that stands for them (added to columns read from `text`).
    column_shift: Vec<usize>,
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        let shift = self.column_shift.get(inner.line()).copied().unwrap_or(0);
        let (line, column) = (self.first_line + inner.line(), inner.column() + shift);
        let contents = match &self.name {
            Some(name) => MietteSpanContents::new_named(
                name.clone(),
                inner.data(),
                *inner.span(),
                line,
                column,
                inner.line_count(),
            ),
            None => MietteSpanContents::new(
                inner.data(),
                *inner.span(),
                line,
                column,
                inner.line_count(),
            ),
        };
        Ok(Box::new(contents))
    }
}

/// A diagnostic shown with its long lines cut; everything else is the original's.
pub(super) struct Fitted<'a> {
    inner: &'a dyn Diagnostic,
    source: Window,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for Fitted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for Fitted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for Fitted<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for Fitted<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.help()
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.url()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        self.inner.related()
    }
    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.inner.diagnostic_source()
    }
}

/// A kept piece of the quoted text: original range (relative to the quote), the end of its
/// line, and where it starts in the cut text.
struct Piece {
    start: usize,
    end: usize,
    line_end: usize,
    at: usize,
}

/// `d` with its long quoted lines cut, or `None` when every quoted line is short enough.
pub(super) fn fit(d: &dyn Diagnostic) -> Option<Fitted<'_>> {
    let source = d.source_code()?;
    let labels: Vec<LabeledSpan> = d.labels()?.collect();
    let lo = labels.iter().map(LabeledSpan::offset).min()?;
    let hi = labels.iter().map(|l| l.offset() + l.len()).max()?;
    // One line of context each side, as miette quotes it.
    let quote = source.read_span(&SourceSpan::from(lo..hi), 1, 1).ok()?;
    let data = std::str::from_utf8(quote.data()).ok()?;
    if data.split('\n').all(|l| l.len() <= MAX_LINE) {
        return None;
    }
    let base = quote.span().offset();
    let (lo, hi) = (lo.saturating_sub(base), hi.saturating_sub(base));
    let mut text = String::with_capacity(data.len().min(8 * MAX_LINE));
    let mut pieces = Vec::new();
    let mut column_shift = Vec::new();
    let mut start = 0;
    for line in data.split_inclusive('\n') {
        let end = start + line.len();
        let body_end = start + line.trim_end_matches(['\n', '\r']).len();
        if body_end - start <= MAX_LINE {
            pieces.push(Piece {
                start,
                end,
                line_end: end,
                at: text.len(),
            });
            column_shift.push(0);
            text.push_str(line);
        } else {
            let focus = if lo <= body_end && hi >= start {
                lo.max(start)
            } else {
                start
            };
            let mut a = data.floor_char_boundary(focus.saturating_sub(BEFORE).max(start));
            if a - start <= MARK.len() {
                // Not worth a mark, and the column shift below stays positive.
                a = start;
            }
            let b = data.floor_char_boundary((a + MAX_LINE).min(body_end));
            let mut shift = 0;
            if a > start {
                text.push_str(MARK);
                // miette counts columns in bytes.
                shift = (a - start) - MARK.len();
            }
            column_shift.push(shift);
            pieces.push(Piece {
                start: a,
                end: b,
                line_end: end,
                at: text.len(),
            });
            text.push_str(&data[a..b]);
            if b < body_end {
                text.push_str(MARK);
            }
            text.push_str(&data[body_end..end]);
        }
        start = end;
    }
    let map = |o: usize| -> usize {
        for p in &pieces {
            if o < p.start {
                return p.at;
            }
            if o <= p.end {
                return p.at + (o - p.start);
            }
            if o < p.line_end {
                return p.at + (p.end - p.start);
            }
        }
        text.len()
    };
    let labels = labels
        .iter()
        .map(|l| {
            let from = map(l.offset().saturating_sub(base));
            let to = map((l.offset() + l.len()).saturating_sub(base)).max(from);
            let span = SourceSpan::from(from..to);
            let label = l.label().map(String::from);
            if l.primary() {
                LabeledSpan::new_primary_with_span(label, span)
            } else {
                LabeledSpan::new_with_span(label, span)
            }
        })
        .collect();
    Some(Fitted {
        inner: d,
        source: Window {
            text,
            name: quote.name().map(String::from),
            first_line: quote.line(),
            column_shift,
        },
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("bad")]
    struct Bad(String, usize);

    impl Diagnostic for Bad {
        fn source_code(&self) -> Option<&dyn SourceCode> {
            Some(&self.0)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            Some(Box::new(std::iter::once(LabeledSpan::new(
                Some("here".into()),
                self.1,
                3,
            ))))
        }
    }

    #[test]
    fn a_long_line_is_cut_around_the_label_and_keeps_its_position() {
        let long = format!("b: \"{}BAD{}\"", "x".repeat(70_000), "y".repeat(70_000));
        let src = format!("a: 1\n{long}\nc: 3\n");
        let at = src.find("BAD").unwrap();
        let d = Bad(src, at);
        let fitted = fit(&d).expect("cut");
        assert!(fitted.source.text.len() < 2 * MAX_LINE + 20);
        let label = &fitted.labels[0];
        let shown = &fitted.source.text[label.offset()..label.offset() + label.len()];
        assert_eq!(shown, "BAD");
        let contents = fitted.source.read_span(label.inner(), 0, 0).unwrap();
        assert_eq!((contents.line(), contents.column()), (1, 70_004));
        assert!(fit(&Bad("a: 1\nb: BAD\n".into(), 8)).is_none());
    }
}
