//! Diagnostics about what a user wrote: every one names its file, line and column, carries a
//! stable code (`E1xx` for pipeline files, `E0xx` from the mapping language) and, where one
//! fits, a hint. Rendered by miette in a terminal, or as JSON for CI.

use super::source::{Loc, SourceFile};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// How bad a diagnostic is: errors fail `validate` (exit 2), warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The pipeline cannot run.
    Error,
    /// Probably a mistake, but the pipeline can run.
    Warning,
}

/// The stable codes of pipeline-file diagnostics, with their long explanations.
pub const CODES: &[(&str, &str, &str)] = &[
    ("E100", "YAML syntax error", "The file is not valid YAML. Check indentation (spaces, not tabs), that every `key: value` has a space after the colon, and that quotes and brackets are closed."),
    ("E101", "wrong kind of value", "A key expects a different kind of value: a text, a list or a mapping. For example `create_only` is a list (`[A, B]`), `map` is a mapping of target field to expression."),
    ("E102", "unknown key", "The pipeline file has a key exflow does not know. It is usually a typo; the hint names the closest known key."),
    ("E103", "missing key", "A key that every pipeline needs is missing, such as `pipeline`, `source`, `target` or `map`."),
    ("E104", "unknown system", "Systems are `exact_online` and `exact_globe`."),
    ("E105", "unknown entity", "The entity is not in the catalogue of that system. `exflow schema SYSTEM` lists them."),
    ("E106", "unknown target field", "The map writes a field the target entity does not have. Field names are case-sensitive and spelt as the system spells them (Exact Globe's `SalesOrderLine.Itemcode`, for instance). `exflow schema SYSTEM ENTITY` lists them."),
    ("E107", "required field not mapped", "The target system refuses a create without this field. Map it, or give it a constant."),
    ("E108", "read-only field mapped", "The target system does not accept this field on create or update; remove it from the map."),
    ("E109", "type mismatch", "The expression gives a value of a type the target field cannot hold, such as text into a number field. Convert it (`number(x)`, `text(x)`)."),
    ("E110", "value too long", "The value can be longer than the target field allows; the target would refuse or cut it. Use `substr`/`left` to shorten it."),
    ("E112", "unknown field in a list", "`create_only`, `match` or `lines` names a field the entity does not have."),
    ("E113", "invalid choice", "The value must be one of a fixed set, such as `on_match: skip | update | fail` or `on_missing: create | fail | skip_record`."),
    ("E114", "duplicate pipeline", "Two pipeline files use the same `pipeline:` name; names identify cursors and state, so they must be unique."),
    ("E115", "invalid mapping table", "A mapping table file must be a YAML mapping of key to value, optionally with `default:` and `entries:`."),
    ("E116", "rhai script error", "A script under `scripts/` does not compile. The position is the script's own line and column."),
    ("E117", "missing environment variable", "`exflow.yaml` uses `${NAME}` but NAME is not set in the environment. Secrets belong in the environment, never in files under version control."),
    ("E118", "invalid match", "`match` is written `TargetField == expression`, for example `match: YourReference == text(OrderNumber)`, where TargetField is a field of the target entity."),
    ("E119", "invalid lines", "A document target (Globe sales order, invoice, financial entry) writes its lines from the map field named by `lines.field`, a list of objects whose keys are fields of `lines.entity`."),
    ("E121", "invalid schedule", "`schedule:` is a cron expression in UTC: 5 fields (minute hour day-of-month month day-of-week, e.g. `*/15 * * * *`) or 6 with seconds first (`*/30 * * * * *`). `exflow validate --verbose` prints the next three run times."),
    ("E122", "invalid service settings", "`serve:` or `notifications:` in exflow.yaml has an unknown key or a value of the wrong kind. See README, \"Running as a service\"."),
    ("E120", "field possibly too long", "The source field can be longer than the target field; long values will be refused by the target. Shorten with `left(x, n)` if that matters."),
    ("E123", "literal secret", "A password or client secret is written in `exflow.yaml`, which is kept in git. Read it from the environment instead: `password: ${EXACT_GLOBE_PASSWORD}`."),
    ("E130", "field read from a second endpoint", "The endpoint exflow reads the source records from (an Exact Online sync endpoint) does not return this field. Rather than let it arrive empty, exflow fetches it for each page of records from an endpoint that has it (the bulk or the regular endpoint), in batched calls of about 100 keys. The warning says which endpoint and what it costs; drop the field if the pipeline does not need it."),
];

/// The long explanation of a code, for `exflow explain`.
pub fn explain(code: &str) -> Option<(&'static str, &'static str)> {
    CODES
        .iter()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, title, text)| (*title, *text))
}

/// One problem in one file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable code, `E0xx` (language) or `E1xx` (pipeline files).
    pub code: String,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, where a hint fits ("did you mean ...").
    pub help: Option<String>,
    /// Where.
    pub loc: Loc,
    /// Short text under the pointer.
    pub label: String,
    /// The file as quoted, when the text under the pointer must not be shown (a secret).
    pub masked: Option<Arc<miette::NamedSource<String>>>,
}

impl Diagnostic {
    /// An error at `loc`.
    pub fn error(code: &str, loc: Loc, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        Diagnostic {
            code: code.to_string(),
            severity: Severity::Error,
            label: short_label(code),
            message,
            help: None,
            loc,
            masked: None,
        }
    }

    /// A warning at `loc`.
    pub fn warning(code: &str, loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, loc, message)
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Quotes the file with the text under the pointer starred out (a secret never reaches a
    /// terminal or a CI log); offsets stay valid since every byte becomes one `*`.
    pub fn masking_value(mut self) -> Diagnostic {
        let text = self.loc.file.text();
        let span = self.loc.span.start.min(text.len())..self.loc.span.end.min(text.len());
        let mut quoted = text.to_string();
        quoted.replace_range(span.clone(), &"*".repeat(span.len()));
        let name = self.loc.file.path.display().to_string();
        self.masked = Some(Arc::new(miette::NamedSource::new(name, quoted)));
        self
    }

    /// Adds a hint when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// The file.
    pub fn file(&self) -> &Arc<SourceFile> {
        &self.loc.file
    }

    /// 1-based line and column.
    pub fn line_col(&self) -> (usize, usize) {
        self.loc.line_col()
    }

    /// The JSON form for `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        let (line, column) = self.line_col();
        serde_json::json!({
            "file": self.loc.file.path.display().to_string(),
            "line": line,
            "column": column,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "help": self.help,
        })
    }

    /// One line: `file:line:column: error[E106]: message`.
    pub fn one_line(&self) -> String {
        let (line, column) = self.line_col();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{}:{}:{}: {}[{}]: {}",
            self.loc.file.path.display(),
            line,
            column,
            sev,
            self.code,
            self.message
        )
    }
}

fn short_label(code: &str) -> String {
    CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, title, _)| title.to_string())
        .unwrap_or_else(|| "here".to_string())
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match &self.masked {
            Some(m) => Some(m.as_ref()),
            None => Some(&self.loc.file.named),
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let len = self.loc.span.end.saturating_sub(self.loc.span.start);
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some(self.label.clone()),
            self.loc.span.start,
            len,
        ))))
    }
}

/// Every problem found, in the order found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    /// Sorted by file, then position, for stable output.
    pub fn sorted(mut self) -> Diagnostics {
        self.0.sort_by(|a, b| {
            (a.loc.file.path.clone(), a.loc.span.start, a.code.clone()).cmp(&(
                b.loc.file.path.clone(),
                b.loc.span.start,
                b.code.clone(),
            ))
        });
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{}", d.one_line())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
