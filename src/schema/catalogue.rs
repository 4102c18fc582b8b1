//! Loading the embedded catalogue and answering questions about it.

use super::System;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The type of a field as both systems put it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text, possibly with a maximum length.
    Text,
    /// A decimal number.
    Number,
    /// A whole number.
    Int,
    /// True or false.
    Bool,
    /// A date or date-time.
    Date,
    /// A GUID.
    Guid,
    /// Binary content (base64 on the wire).
    Binary,
    /// A list of records of another entity (lines).
    List,
}

impl FieldType {
    /// The name used in diagnostics and `exflow schema`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Int => "int",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::Guid => "guid",
            FieldType::Binary => "binary",
            FieldType::List => "list",
        }
    }
}

/// One property of an entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Field {
    /// Property name, with the system's exact casing.
    pub name: String,
    /// Wire type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// For lists: the entity of the items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Maximum length in characters, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Must be given on create.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Cannot be written.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Can be written on create, never on update.
    #[serde(default, skip_serializing_if = "is_false")]
    pub create_only: bool,
    /// The entity's key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub key: bool,
    /// A code stored right-aligned, padded with spaces to `length`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub padded: bool,
    /// The value the system fills in when the field is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The allowed codes, where the system has a fixed list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Field {
    /// Whether a pipeline may write this field at all.
    pub fn writable(&self) -> bool {
        !self.read_only
    }
}

/// One entity of one system.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entity {
    /// Name as pipelines use it (`SalesOrders`, `Account`, ...), filled in on load.
    #[serde(default)]
    pub name: String,
    /// Which system it belongs to, filled in on load.
    #[serde(skip_deserializing, default = "default_system")]
    pub system: System,
    /// Exact Online: the REST path below `/api/v1/{division}/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Exact Online: the sync endpoint that mirrors this entity, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
    /// Exact Online: the bulk endpoint, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk: Option<String>,
    /// Exact Online: fields of this entity that the sync endpoint does not return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_lacks: Vec<String>,
    /// Exact Online: fields of this entity that the bulk endpoint does not return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bulk_lacks: Vec<String>,
    /// The key property.
    #[serde(default)]
    pub key: Option<String>,
    /// Other names the key goes by in some feeds (sync rows of orders carry `ID` beside
    /// `OrderID`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_aliases: Vec<String>,
    /// Exact Globe: the line entity of a header/line document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<String>,
    /// Properties that identify a record across systems, best first.
    #[serde(default)]
    pub match_keys: Vec<String>,
    /// The properties.
    pub fields: Vec<Field>,
}

fn default_system() -> System {
    System::ExactOnline
}

impl Entity {
    /// The field called exactly `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field whose name equals `name` ignoring case (Globe accepts any casing on input).
    pub fn field_ignore_case(&self, name: &str) -> Option<&Field> {
        self.field(name).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    /// The endpoint a plain incremental read uses, and the fields it does not deliver: the
    /// sync endpoint where there is one (Exact Online), else the entity's own path.
    pub fn read_endpoint(&self, filtered: bool) -> ReadEndpoint<'_> {
        match (&self.sync, filtered) {
            (Some(sync), false) => ReadEndpoint {
                path: sync,
                lacks: &self.sync_lacks,
            },
            _ => ReadEndpoint {
                path: self.path.as_deref().unwrap_or(&self.name),
                lacks: &[],
            },
        }
    }

    /// Where a field the read endpoint lacks can be had for a batch of keys: the bulk
    /// endpoint (1,000 rows a call) when it has the field, else the entity's own path.
    pub fn complement_endpoint(&self, field: &str) -> Option<&str> {
        self.field(field)?;
        match &self.bulk {
            Some(bulk) if !self.bulk_lacks.iter().any(|f| f == field) => Some(bulk),
            _ => self.path.as_deref(),
        }
    }

    /// The key property and the other names it goes by.
    pub fn key_names(&self) -> impl Iterator<Item = &str> {
        self.key
            .as_deref()
            .into_iter()
            .chain(self.key_aliases.iter().map(String::as_str))
    }

    /// Fields that must be given on create.
    pub fn required_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.required)
    }

    /// The closest field name to a misspelt one, for "did you mean".
    pub fn suggest(&self, name: &str) -> Option<&str> {
        suggest(name, self.fields.iter().map(|f| f.name.as_str()))
    }
}

/// An endpoint records are read from, and the entity's fields it does not return.
#[derive(Debug, Clone, Copy)]
pub struct ReadEndpoint<'a> {
    /// The path below `/api/v1/{division}/` (`sync/Logistics/Items`).
    pub path: &'a str,
    /// Fields of the entity this endpoint leaves out.
    pub lacks: &'a [String],
}

/// The closest of `candidates` to `name`, if any is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = if c.to_lowercase() == lower {
            1.0
        } else {
            strsim::jaro_winkler(&lower, &c.to_lowercase())
        };
        if score >= 0.85 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The entities of one system.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemCatalogue {
    /// Entities by name.
    pub entities: BTreeMap<String, Entity>,
}

/// Both systems' entities.
#[derive(Debug)]
pub struct Catalogue {
    online: SystemCatalogue,
    globe: SystemCatalogue,
}

impl Catalogue {
    /// The catalogue of one system.
    pub fn system(&self, system: System) -> &SystemCatalogue {
        match system {
            System::ExactOnline => &self.online,
            System::ExactGlobe => &self.globe,
        }
    }

    /// The entity `name` of `system`.
    pub fn entity(&self, system: System, name: &str) -> Option<&Entity> {
        self.system(system).entities.get(name)
    }

    /// The closest entity name of `system` to a misspelt one.
    pub fn suggest_entity(&self, system: System, name: &str) -> Option<&str> {
        suggest(
            name,
            self.system(system).entities.keys().map(String::as_str),
        )
    }
}

fn load(system: System, json: &str) -> SystemCatalogue {
    // The data is compiled in and covered by tests; a broken file is a build defect.
    let mut cat: SystemCatalogue = match serde_json::from_str(json) {
        Ok(c) => c,
        Err(e) => panic!("embedded {system} catalogue is invalid: {e}"),
    };
    for (name, entity) in cat.entities.iter_mut() {
        entity.name = name.clone();
        entity.system = system;
    }
    cat
}

/// The catalogue compiled into the binary.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue {
        online: load(System::ExactOnline, include_str!("exact_online.json")),
        globe: load(System::ExactGlobe, include_str!("exact_globe.json")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_load_with_the_entities_the_flows_need() {
        let c = catalogue();
        for name in [
            "SalesOrders",
            "SalesOrderLines",
            "Accounts",
            "Items",
            "ItemGroups",
        ] {
            assert!(c.entity(System::ExactOnline, name).is_some(), "{name}");
        }
        for name in [
            "Account",
            "ContactPerson",
            "Item",
            "SalesOrderHeader",
            "SalesOrderLine",
            "VAT",
            "PaymentCondition",
        ] {
            assert!(c.entity(System::ExactGlobe, name).is_some(), "{name}");
        }
    }

    #[test]
    fn globe_keeps_its_irregular_casing() {
        let line = catalogue()
            .entity(System::ExactGlobe, "SalesOrderLine")
            .expect("SalesOrderLine");
        assert!(line.field("Itemcode").is_some());
        assert!(line.field("ItemCode").is_none());
        assert_eq!(
            line.field_ignore_case("ITEMCODE").map(|f| f.name.as_str()),
            Some("Itemcode")
        );
    }

    #[test]
    fn flags_come_through() {
        let c = catalogue();
        let acc = c.entity(System::ExactOnline, "Accounts").expect("Accounts");
        let code = acc.field("Code").expect("Code");
        assert!(code.padded);
        assert_eq!(code.length, Some(18));
        let orders = c
            .entity(System::ExactOnline, "SalesOrders")
            .expect("SalesOrders");
        assert!(orders.field("OrderedBy").expect("OrderedBy").create_only);
        assert!(orders.field("AmountDC").expect("AmountDC").read_only);
        assert_eq!(
            orders.field("SalesOrderLines").map(|f| f.ty),
            Some(FieldType::List)
        );
        let debtor = c
            .entity(System::ExactGlobe, "SalesOrderHeader")
            .and_then(|e| e.field("OrderDebtor"))
            .expect("OrderDebtor");
        assert!(debtor.padded && debtor.required);
        assert_eq!(debtor.length, Some(6));
    }

    #[test]
    fn suggestions_catch_typos() {
        let c = catalogue();
        let hdr = c
            .entity(System::ExactGlobe, "SalesOrderHeader")
            .expect("hdr");
        assert_eq!(hdr.suggest("YourRefernce"), Some("YourReference"));
        assert_eq!(hdr.suggest("Zzzzzz"), None);
        assert_eq!(
            c.suggest_entity(System::ExactOnline, "SalesOrder"),
            Some("SalesOrders")
        );
    }
}
