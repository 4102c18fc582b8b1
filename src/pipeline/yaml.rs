//! Reading YAML with a position for every value (marked-yaml, since serde_yaml keeps none),
//! and typed accessors that report what is wrong as diagnostics instead of failing.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::source::{ExprSource, Loc, SourceFile};
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoaderOptions, Node};
use std::sync::Arc;

/// A value with where it was written.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where.
    pub loc: Loc,
}

/// Parses a YAML file whose top level must be a mapping.
pub fn parse(file: &Arc<SourceFile>) -> Result<Node, Box<Diagnostic>> {
    let opts = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    marked_yaml::parse_yaml_with_options(0, file.text(), opts).map_err(|e| {
        use marked_yaml::LoadError as E;
        let (marker, message) = match &e {
            E::TopLevelMustBeMapping(m) => (Some(*m), "the top level must be a mapping of keys to values".to_string()),
            E::TopLevelMustBeSequence(m) => (Some(*m), "the top level must be a list".to_string()),
            E::UnexpectedAnchor(m) => (Some(*m), "anchors and aliases are not supported".to_string()),
            E::MappingKeyMustBeScalar(m) => (Some(*m), "a mapping key must be a plain name".to_string()),
            E::UnexpectedTag(m) => (Some(*m), "YAML tags are not supported".to_string()),
            E::ScanError(m, s) => (Some(*m), format!("YAML syntax: {}", s.info())),
            E::DuplicateKey(d) => (d.key.span().start().copied(), format!("duplicate key `{}`", d.key.as_str())),
        };
        let offset = marker
            .map(|m| file.offset(m.line(), m.column()))
            .unwrap_or(0);
        let help = if message.contains("mapping values are not allowed") {
            "an expression with `: ` in it (an object literal) must be a block: write `Field: |` and the expression on the lines below"
        } else {
            "check indentation (spaces, not tabs) and that quotes and brackets are closed"
        };
        Box::new(Diagnostic::error("E100", Loc { file: file.clone(), span: offset..offset }, message).with_help(help))
    })
}

/// Typed access to the nodes of one file, collecting diagnostics.
pub struct Reader<'a> {
    /// The file being read.
    pub file: Arc<SourceFile>,
    /// Where problems go.
    pub diags: &'a mut Diagnostics,
}

impl<'a> Reader<'a> {
    /// A reader for `file`.
    pub fn new(file: Arc<SourceFile>, diags: &'a mut Diagnostics) -> Reader<'a> {
        Reader { file, diags }
    }

    /// Where a node starts; a scalar's span covers its text.
    pub fn loc(&self, node: &Node) -> Loc {
        let start = node
            .span()
            .start()
            .map(|m| self.file.offset(m.line(), m.column()))
            .unwrap_or(0);
        let len = match node {
            Node::Scalar(s) => first_line_len(s.as_str()).max(1),
            _ => 1,
        };
        Loc {
            file: self.file.clone(),
            span: start..(start + len).min(self.file.text().len()),
        }
    }

    /// Where a mapping key is.
    pub fn key_loc(&self, key: &MarkedScalarNode) -> Loc {
        let start = key
            .span()
            .start()
            .map(|m| self.file.offset(m.line(), m.column()))
            .unwrap_or(0);
        let len = key.as_str().len().max(1);
        Loc {
            file: self.file.clone(),
            span: start..(start + len).min(self.file.text().len()),
        }
    }

    /// The node as a mapping, or a diagnostic.
    pub fn mapping<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(m) => Some(m),
            _ => {
                let loc = self.loc(node);
                self.diags.push(Diagnostic::error(
                    "E101",
                    loc,
                    format!("{what} must be a mapping (`key: value` lines)"),
                ));
                None
            }
        }
    }

    /// Reports every key of `map` that is not in `allowed`, with the closest as a hint.
    pub fn check_keys(&mut self, map: &MarkedMappingNode, allowed: &[&str], what: &str) {
        for (k, _) in map.iter() {
            if !allowed.contains(&k.as_str()) {
                let hint = crate::schema::catalogue_suggest(k.as_str(), allowed.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("{what} takes: {}", allowed.join(", ")));
                let loc = self.key_loc(k);
                self.diags.push(
                    Diagnostic::error(
                        "E102",
                        loc,
                        format!("unknown key `{}` in {what}", k.as_str()),
                    )
                    .with_help(hint),
                );
            }
        }
    }

    /// The key node and value of `key`.
    pub fn entry<'n>(
        &self,
        map: &'n MarkedMappingNode,
        key: &str,
    ) -> Option<(&'n MarkedScalarNode, &'n Node)> {
        map.iter().find(|(k, _)| k.as_str() == key)
    }

    /// A text value; reports a missing required one at `parent`.
    pub fn text(
        &mut self,
        map: &MarkedMappingNode,
        key: &str,
        required: Option<&Loc>,
    ) -> Option<Spanned<String>> {
        match self.entry(map, key) {
            Some((_, Node::Scalar(s))) => Some(Spanned {
                value: s.as_str().to_string(),
                loc: self.loc(&Node::Scalar(s.clone())),
            }),
            Some((_, node)) => {
                let loc = self.loc(node);
                self.diags.push(Diagnostic::error(
                    "E101",
                    loc,
                    format!("`{key}` must be a text value"),
                ));
                None
            }
            None => {
                if let Some(parent) = required {
                    self.diags.push(Diagnostic::error(
                        "E103",
                        parent.clone(),
                        format!("missing `{key}`"),
                    ));
                }
                None
            }
        }
    }

    /// A boolean value (true/false).
    pub fn boolean(&mut self, map: &MarkedMappingNode, key: &str) -> Option<bool> {
        let (_, node) = self.entry(map, key)?;
        match node.as_scalar().and_then(|s| s.as_bool()) {
            Some(b) => Some(b),
            None => {
                let loc = self.loc(node);
                self.diags.push(Diagnostic::error(
                    "E101",
                    loc,
                    format!("`{key}` must be true or false"),
                ));
                None
            }
        }
    }

    /// An expression written in a scalar, with its way back to file positions.
    pub fn expr(&mut self, node: &Node, what: &str) -> Option<ExprSource> {
        match node {
            Node::Scalar(s) => {
                let start = self.loc(node).span.start;
                Some(ExprSource::new(
                    self.file.clone(),
                    start,
                    s.as_str().to_string(),
                ))
            }
            _ => {
                let loc = self.loc(node);
                self.diags.push(Diagnostic::error("E101", loc, format!("{what} must be an expression (a text value)")).with_help("write lists and objects inside the expression, e.g. `[a, b]` or `{ Field: x }`; quote the whole expression if YAML reads it as a list or mapping"));
                None
            }
        }
    }

    /// A map value: unquoted it is an expression; in YAML quotes it is text, with `{expr}`
    /// parts interpolated (`Status: "C"`, `Description: "Order {OrderNumber}"`), because that
    /// is what a quoted value means to anyone who writes YAML.
    pub fn map_value(&mut self, node: &Node, what: &str) -> Option<ExprSource> {
        if let Node::Scalar(s) = node {
            let start = self.loc(node).span.start;
            let quote = self.file.text()[start..].chars().next();
            if matches!(quote, Some('"') | Some('\'')) && !s.as_str().contains('\n') {
                let mut text = String::with_capacity(s.as_str().len() + 2);
                text.push('"');
                for c in s.as_str().chars() {
                    match c {
                        '"' => text.push_str("\\\""),
                        '\\' => text.push_str("\\\\"),
                        c => text.push(c),
                    }
                }
                text.push('"');
                return Some(ExprSource::at(self.file.clone(), start, text));
            }
        }
        self.expr(node, what)
    }

    /// A list of names, written `[A, B]` or as a YAML list; a single name is accepted too.
    pub fn names(&mut self, map: &MarkedMappingNode, key: &str) -> Vec<Spanned<String>> {
        let Some((_, node)) = self.entry(map, key) else {
            return Vec::new();
        };
        match node {
            Node::Sequence(seq) => seq
                .iter()
                .filter_map(|n| match n {
                    Node::Scalar(s) => Some(Spanned {
                        value: s.as_str().to_string(),
                        loc: self.loc(n),
                    }),
                    other => {
                        let loc = self.loc(other);
                        self.diags.push(Diagnostic::error(
                            "E101",
                            loc,
                            format!("`{key}` must be a list of names"),
                        ));
                        None
                    }
                })
                .collect(),
            Node::Scalar(s) => vec![Spanned {
                value: s.as_str().to_string(),
                loc: self.loc(node),
            }],
            Node::Mapping(_) => {
                let loc = self.loc(node);
                self.diags.push(Diagnostic::error(
                    "E101",
                    loc,
                    format!("`{key}` must be a list of names"),
                ));
                Vec::new()
            }
        }
    }
}

fn first_line_len(s: &str) -> usize {
    s.split('\n').next().map(str::len).unwrap_or(0)
}

/// Converts a YAML node to JSON (vars, tables, fixtures): scalars become numbers, booleans or
/// null where YAML would read them so, text otherwise.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match node {
        Node::Scalar(s) => {
            let raw = s.as_str();
            if !s.may_coerce() {
                return Value::String(raw.to_string());
            }
            match raw {
                "null" | "~" | "" => Value::Null,
                _ => {
                    if let Some(b) = s.as_bool() {
                        return Value::Bool(b);
                    }
                    if let Ok(i) = raw.parse::<i64>() {
                        return Value::from(i);
                    }
                    if let Ok(f) = raw.parse::<f64>() {
                        if f.is_finite() {
                            return serde_json::Number::from_f64(f)
                                .map(Value::Number)
                                .unwrap_or(Value::Null);
                        }
                    }
                    Value::String(raw.to_string())
                }
            }
        }
        Node::Sequence(seq) => Value::Array(seq.iter().map(to_json).collect()),
        Node::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().to_string(), to_json(v)))
                .collect(),
        ),
    }
}
