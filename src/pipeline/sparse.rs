//! A [`ReadSet`] prepared for parsing records keeping only what expressions can observe
//! (the parser is `scan/`; `reference` does the same through serde_json, for tests).

use super::reads::ReadSet;

/// A [`ReadSet`] prepared for parsing many records.
#[derive(Debug, Clone)]
pub struct Projection(Node);

/// A read set node with its keys in a list, matched by length first (cheaper than an
/// ordered map for the few keys an object has).
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    pub(super) whole: bool,
    pub(super) whole_if_object: bool,
    pub(super) keys: Vec<(String, Node)>,
    pub(super) items: Option<Box<Node>>,
}

static NOTHING: Node = Node {
    whole: false,
    whole_if_object: false,
    keys: Vec::new(),
    items: None,
};

impl Node {
    fn new(r: &ReadSet) -> Node {
        Node {
            whole: r.whole,
            whole_if_object: r.whole_if_object,
            keys: r
                .keys
                .iter()
                .map(|(k, v)| (k.clone(), Node::new(v)))
                .collect(),
            items: r.items.as_deref().map(|i| Box::new(Node::new(i))),
        }
    }

    /// What of each list item to keep.
    pub(super) fn items_node(&self) -> &Node {
        self.items.as_deref().unwrap_or(&NOTHING)
    }

    /// Where `key` is among the keys read.
    pub(super) fn position(&self, key: &str) -> Option<usize> {
        self.keys
            .iter()
            .position(|(k, _)| k.len() == key.len() && k.as_bytes() == key.as_bytes())
    }
}

impl Projection {
    /// Prepares `reads`.
    pub fn new(reads: &ReadSet) -> Projection {
        Projection(Node::new(reads))
    }

    pub(super) fn root(&self) -> &Node {
        &self.0
    }
}

/// The same projection through serde_json (`IgnoredAny` for skipped keys): slower, kept as
/// the reference the scanner (`scan/`) is tested against.
#[cfg(test)]
#[path = "sparse_reference.rs"]
pub(crate) mod reference;

#[cfg(test)]
#[path = "sparse_equiv_tests.rs"]
mod equiv_tests;
