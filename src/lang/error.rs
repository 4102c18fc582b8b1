//! Every error the mapping language reports before running, each with a stable code.

use super::ast::Span;

/// Stable codes of language diagnostics (`exflow explain E0xx` prints [`ErrorCode::explain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// E001: the text is not a valid expression.
    Syntax,
    /// E002: a field that the record (or object) does not have.
    UnknownField,
    /// E003: a function that does not exist.
    UnknownFunction,
    /// E004: a function called with the wrong number of arguments.
    WrongArity,
    /// E005: a mapping table that is not defined.
    UnknownTable,
    /// E006: a variable that is not defined.
    UnknownVar,
    /// E007: a `script.*` function that no script defines.
    UnknownScriptFunction,
    /// E008: a value of a type that cannot work here.
    TypeMismatch,
    /// E009: a lambda where none is allowed, or a missing lambda.
    LambdaMisuse,
    /// E010: a literal argument that is invalid (bad regex, bad JSONPath, non-literal table name).
    InvalidArgument,
    /// E011: the same key twice in an object literal.
    DuplicateKey,
    /// E012: the expression nests too deeply.
    TooDeep,
}

impl ErrorCode {
    /// Every code, in order.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Syntax,
        ErrorCode::UnknownField,
        ErrorCode::UnknownFunction,
        ErrorCode::WrongArity,
        ErrorCode::UnknownTable,
        ErrorCode::UnknownVar,
        ErrorCode::UnknownScriptFunction,
        ErrorCode::TypeMismatch,
        ErrorCode::LambdaMisuse,
        ErrorCode::InvalidArgument,
        ErrorCode::DuplicateKey,
        ErrorCode::TooDeep,
    ];

    /// The stable code, e.g. `"E001"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Syntax => "E001",
            ErrorCode::UnknownField => "E002",
            ErrorCode::UnknownFunction => "E003",
            ErrorCode::WrongArity => "E004",
            ErrorCode::UnknownTable => "E005",
            ErrorCode::UnknownVar => "E006",
            ErrorCode::UnknownScriptFunction => "E007",
            ErrorCode::TypeMismatch => "E008",
            ErrorCode::LambdaMisuse => "E009",
            ErrorCode::InvalidArgument => "E010",
            ErrorCode::DuplicateKey => "E011",
            ErrorCode::TooDeep => "E012",
        }
    }

    /// The code for a string like `"E004"`.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(code))
    }

    /// The long explanation of the code.
    pub fn explain(self) -> &'static str {
        match self {
            ErrorCode::Syntax => "The expression could not be parsed. Check for unbalanced brackets or quotes, \
                a missing operator, `=` where `==` was meant, or a keyword (if, then, else, match, and, or, not, \
                true, false, null) used as a field name; write such a field as `record[\"name\"]`.",
            ErrorCode::UnknownField => "The field does not exist on the source entity (or on the object it is read \
                from). Field names are case-sensitive and spelled as the system spells them. A misspelled field \
                would silently read null at run time, so it is refused before running.",
            ErrorCode::UnknownFunction => "There is no built-in function with this name. `exflow eval --help` and \
                the README list them all; functions written in rhai are called as `script.name(..)`.",
            ErrorCode::WrongArity => "The function was called with too few or too many arguments. Remember that a \
                pipe `x | f(a)` passes `x` as the first argument, so it is the same as `f(x, a)`.",
            ErrorCode::UnknownTable => "`table(name, key)` names a mapping table that is not defined. Tables are \
                YAML files next to the pipelines; the name is the file name without extension.",
            ErrorCode::UnknownVar => "`vars.name` reads a variable from exflow.yaml (`vars:` section) that is not \
                defined there.",
            ErrorCode::UnknownScriptFunction => "`script.name(..)` calls a rhai function, but no loaded script \
                defines a function with that name (or with that many parameters).",
            ErrorCode::TypeMismatch => "The value cannot be used this way: for example `upper(12)` (upper needs \
                text; write `upper(text(12))`), `'a' * 2`, or reading a field of a list (use `map(..)` or `[0]`).",
            ErrorCode::LambdaMisuse => "A lambda `x => ..` is only valid as the function argument of map, filter, \
                any, all and find, and those need one: `lines | map(l => l.ItemCode)`.",
            ErrorCode::InvalidArgument => "A literal argument is invalid: a regular expression or JSONPath that \
                does not compile, a table name that is not a literal string, or an interpolated object key.",
            ErrorCode::DuplicateKey => "An object literal names the same key twice; the second would silently \
                overwrite the first.",
            ErrorCode::TooDeep => "The expression nests too deeply to be evaluated safely; split it up.",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem found in an expression before it runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct LangError {
    /// The stable code.
    pub code: ErrorCode,
    /// One line saying what is wrong.
    pub message: String,
    /// Where in the expression.
    pub span: Span,
    /// How to fix it, e.g. "did you mean `OrderNumber`?".
    pub help: Option<String>,
}

impl LangError {
    /// An error without help.
    pub fn new(code: ErrorCode, span: Span, message: impl Into<String>) -> Self {
        LangError {
            code,
            message: message.into(),
            span,
            help: None,
        }
    }

    /// The same error with a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same error with an optional help text.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// "did you mean `x`?" for the candidate closest to `name`, if one is close enough.
pub fn did_you_mean<S: AsRef<str>>(name: &str, candidates: &[S]) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let c = c.as_ref();
        let score = if c.to_lowercase() == lower {
            1.0
        } else {
            strsim::jaro_winkler(&lower, &c.to_lowercase())
        };
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

impl miette::Diagnostic for LangError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn std::fmt::Display + 'a>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let len = self.span.end.saturating_sub(self.span.start);
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some(self.message.clone()),
            self.span.start,
            len,
        ))))
    }
}
