//! Source files and positions: every value of a pipeline file remembers where it was written,
//! so an error inside an expression points at its own line and column in the YAML file.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A text file a user wrote (pipeline, table, project file, rhai script).
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given (shown in diagnostics).
    pub path: PathBuf,
    /// The text, with the file's name, for miette.
    pub named: miette::NamedSource<String>,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps `text` read from `path`.
    pub fn new(path: impl AsRef<Path>, text: String) -> Arc<SourceFile> {
        let path = path.as_ref().to_path_buf();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Arc::new(SourceFile {
            named: miette::NamedSource::new(path.display().to_string(), text.clone()),
            path,
            text,
            line_starts,
        })
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Byte offset of a 1-based line and 1-based character column (as YAML markers give them).
    pub fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let line_text = rest.split('\n').next().unwrap_or("");
        let byte = line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map(|(b, _)| b)
            .unwrap_or(line_text.len());
        start + byte
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }
}

/// Where a value was written: a byte range in a source file.
#[derive(Debug, Clone)]
pub struct Loc {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Byte range in the file.
    pub span: Range<usize>,
}

impl Loc {
    /// 1-based line and column of the start.
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.span.start)
    }
}

/// The text of an expression written inside a YAML scalar, with the way back from a byte
/// offset in the expression to a byte offset in the file.
#[derive(Debug, Clone)]
pub struct ExprSource {
    /// The expression text as YAML delivered it.
    pub text: String,
    /// The file it came from.
    pub file: Arc<SourceFile>,
    /// File byte offset of the start of each line of `text`.
    line_offsets: Vec<usize>,
}

impl ExprSource {
    /// An expression whose first character sits at file byte `start`. Literal block scalars
    /// (`|`) keep their lines: line `i` of the text starts at the block's indentation on the
    /// `i`-th line below; quoted scalars start after the quote.
    pub fn new(file: Arc<SourceFile>, start: usize, text: String) -> ExprSource {
        let src = file.text();
        let mut start = start.min(src.len());
        if let Some(c) = src[start..].chars().next() {
            if (c == '"' || c == '\'') && !text.starts_with(c) {
                start += 1;
            }
        }
        ExprSource::at(file, start, text)
    }

    /// An expression whose first character sits exactly at file byte `start`.
    pub fn at(file: Arc<SourceFile>, start: usize, text: String) -> ExprSource {
        let src = file.text();
        let start = start.min(src.len());
        let (_, first_col) = file.line_col(start);
        let mut line_offsets = vec![start];
        let mut line_start = start;
        for _ in text.match_indices('\n') {
            // Next line of the file, same indentation as the block's first line.
            let next = match src[line_start..].find('\n') {
                Some(i) => line_start + i + 1,
                None => src.len(),
            };
            let (line, _) = file.line_col(next);
            let indented = file.offset(line, first_col);
            line_offsets.push(indented);
            line_start = next;
        }
        ExprSource {
            text,
            file,
            line_offsets,
        }
    }

    /// The file byte offset of byte `offset` of the expression text.
    pub fn file_offset(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count();
        let line_start_in_text = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let base = self.line_offsets.get(line).copied().unwrap_or(0);
        (base + (offset - line_start_in_text)).min(self.file.text().len())
    }

    /// The location of a byte range of the expression text.
    pub fn loc(&self, range: Range<usize>) -> Loc {
        let start = self.file_offset(range.start);
        let end = self.file_offset(range.end).max(start);
        Loc {
            file: self.file.clone(),
            span: start..end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_line_columns_round_trip() {
        let f = SourceFile::new("p.yaml", "a: 1\nbé: x + 1\n".to_string());
        // `x` is the 5th character of line 2, after a two-byte `é`.
        assert_eq!(f.offset(2, 5), 10);
        assert_eq!(f.line_col(10), (2, 5));
        assert_eq!(f.line_col(0), (1, 1));
    }

    #[test]
    fn block_scalar_lines_map_to_their_file_lines() {
        let text = "map:\n  X: |\n    first\n    second + oops\n";
        let f = SourceFile::new("p.yaml", text.to_string());
        let start = f.offset(3, 5);
        let e = ExprSource::new(f.clone(), start, "first\nsecond + oops\n".to_string());
        let off = e.text.find("oops").expect("oops");
        assert_eq!(f.line_col(e.file_offset(off)), (4, 14));
    }

    #[test]
    fn quoted_scalar_skips_the_quote() {
        let f = SourceFile::new("p.yaml", "X: \"a + b\"\n".to_string());
        let e = ExprSource::new(f.clone(), 3, "a + b".to_string());
        assert_eq!(f.line_col(e.file_offset(4)), (1, 9));
    }
}
