//! Static types the checker assigns to expressions, and the record shapes it checks
//! field names against (implemented by the entity catalogue).

use super::ast::Span;
use std::sync::Arc;

/// The static type of an expression. `Any` means "not known": it never causes an error.
#[derive(Debug, Clone)]
pub enum Type {
    /// Unknown; accepted everywhere.
    Any,
    /// Always null.
    Null,
    /// true / false.
    Bool,
    /// A number.
    Number,
    /// Text.
    Text,
    /// ISO-8601 date or date-time text.
    Date,
    /// A list of elements of one type.
    List(Box<Type>),
    /// An object literal with known keys.
    Object(Vec<ObjectField>),
    /// A record of a known entity (fields checked by name).
    Record(Arc<dyn RecordShape>),
}

/// One key of an object literal and the type of its value.
#[derive(Debug, Clone)]
pub struct ObjectField {
    /// The key as written.
    pub name: String,
    /// Where the key was written (so callers can check target field names there).
    pub span: Span,
    /// The value's type.
    pub ty: Type,
}

/// The fields of an entity, as the checker needs them.
pub trait RecordShape: Send + Sync + std::fmt::Debug {
    /// A display name, e.g. "exact_online SalesOrders".
    fn name(&self) -> &str;
    /// The type of a field; `None` means the field does not exist.
    fn field(&self, name: &str) -> Option<Type>;
    /// All field names (for "did you mean").
    fn field_names(&self) -> Vec<String>;
}

impl Type {
    /// A short name for messages: "number", "list of text", "SalesOrders record".
    pub fn describe(&self) -> String {
        match self {
            Type::Any => "any value".into(),
            Type::Null => "null".into(),
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::Text => "text".into(),
            Type::Date => "date".into(),
            Type::List(t) => match **t {
                Type::Any => "list".into(),
                ref t => format!("list of {}", t.describe()),
            },
            Type::Object(_) => "object".into(),
            Type::Record(r) => format!("{} record", r.name()),
        }
    }

    /// Whether two types are certainly the same kind (used to merge branch types).
    fn same_kind(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::List(a), Type::List(b)) => a.same_kind(b),
            (Type::Record(a), Type::Record(b)) => a.name() == b.name(),
            (Type::Object(_), Type::Object(_)) => false,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }

    /// The type of a value that is either `self` or `other`.
    pub fn merge(&self, other: &Type) -> Type {
        match (self, other) {
            (Type::Null, t) | (t, Type::Null) => t.clone(),
            (a, b) if a.same_kind(b) => a.clone(),
            (Type::Date, Type::Text) | (Type::Text, Type::Date) => Type::Text,
            _ => Type::Any,
        }
    }

    /// True for `Any` and `Null`: types that give no ground for an error.
    pub fn is_open(&self) -> bool {
        matches!(self, Type::Any | Type::Null)
    }

    /// True for text and dates (dates are text at run time).
    pub fn is_textual(&self) -> bool {
        matches!(self, Type::Text | Type::Date)
    }
}
