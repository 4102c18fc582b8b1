//! The entity catalogue the simulator enforces: properties, types, lengths, mandatory flags,
//! padding and defaults per entity, compacted from the PU415 reference into `entities.json`
//! (regenerate with `gen_entities.py`). The build never reads `../shared`.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

const ENTITIES_JSON: &str = include_str!("entities.json");

/// The property types PU415 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PropType {
    /// Text, with a maximum length.
    String,
    /// Numeric (integer or decimal).
    Number,
    /// Floating point.
    Double,
    /// Integer.
    Integer,
    /// true/false.
    Boolean,
    /// Date (and time); `/Date(ms)/` on the wire.
    Date,
    /// GUID.
    #[serde(rename = "GUID")]
    Guid,
}

impl PropType {
    /// True for the numeric types.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            PropType::Number | PropType::Double | PropType::Integer
        )
    }
}

/// One property of an entity, as the REST service names it.
#[derive(Debug, Clone, Deserialize)]
pub struct Property {
    /// REST name, with its exact (sometimes irregular) casing.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub ty: PropType,
    /// Maximum length in characters (strings only; 0 = unlimited).
    #[serde(default)]
    pub length: usize,
    /// Mandatory per PU415.
    #[serde(default)]
    pub mandatory: bool,
    /// A code stored left-padded with spaces to `length`.
    #[serde(default)]
    pub right_aligned: bool,
    /// Stored upper-cased.
    #[serde(default)]
    pub upper_case: bool,
    /// Only digits allowed (after trimming the padding).
    #[serde(default)]
    pub numeric_string: bool,
    /// Numbered by the server.
    #[serde(default)]
    pub auto_increment: bool,
    /// Literal default value.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Computed default: `now`, `user`, `company`, `next` or `copy:Property`.
    #[serde(default)]
    pub fill: Option<String>,
    /// Allowed codes, when PU415 lists them.
    #[serde(default)]
    pub values: Vec<String>,
}

/// The REST capabilities of an entity.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct RestFlags {
    /// POST allowed.
    pub create: bool,
    /// GET allowed.
    pub retrieve: bool,
    /// MERGE/PUT allowed.
    pub update: bool,
    /// DELETE allowed.
    pub delete: bool,
}

#[derive(Deserialize)]
struct RawEntity {
    key: String,
    rest: RestFlags,
    properties: Vec<Property>,
}

/// One entity: its key and properties.
#[derive(Debug)]
pub struct Entity {
    /// Canonical name (`SalesOrderHeader`).
    pub name: String,
    /// Key property.
    pub key: String,
    /// REST capabilities.
    pub rest: RestFlags,
    /// Properties in catalogue order.
    pub properties: Vec<Property>,
    index: HashMap<String, usize>,
}

impl Entity {
    /// The property with exactly this name (names are case-sensitive, as on the real service).
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.index.get(name).map(|&i| &self.properties[i])
    }

    /// The key property.
    pub fn key_property(&self) -> &Property {
        // The catalogue is ours and checked by a unit test: every key is a property.
        &self.properties[self.index[&self.key]]
    }

    /// OData type name: `Exact.Metadata.Entity.Account`.
    pub fn type_name(&self) -> String {
        format!("Exact.Metadata.Entity.{}", self.name)
    }

    /// True when the entity has this property.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
}

/// All entities, looked up case-insensitively by name.
#[derive(Debug)]
pub struct Catalog {
    entities: Vec<Entity>,
    by_lower: HashMap<String, usize>,
}

impl Catalog {
    /// The catalogue embedded in the binary.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::parse(ENTITIES_JSON).expect("embedded entities.json is valid (unit-tested)")
        })
    }

    fn parse(text: &str) -> Result<Catalog, serde_json::Error> {
        let raw: indexmap::IndexMap<String, RawEntity> = serde_json::from_str(text)?;
        let mut entities = Vec::new();
        let mut by_lower = HashMap::new();
        for (name, e) in raw {
            let index = e
                .properties
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.clone(), i))
                .collect();
            by_lower.insert(name.to_ascii_lowercase(), entities.len());
            entities.push(Entity {
                name,
                key: e.key,
                rest: e.rest,
                properties: e.properties,
                index,
            });
        }
        Ok(Catalog { entities, by_lower })
    }

    /// The entity with this name, ignoring case (URLs are case-insensitive).
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.by_lower
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.entities[i])
    }

    /// Every entity.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.entities.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_parses_and_keys_exist() {
        let c = Catalog::parse(ENTITIES_JSON).unwrap();
        for e in c.entities() {
            assert!(e.has(&e.key), "{} key {}", e.name, e.key);
        }
        let line = c.entity("salesorderline").unwrap();
        assert!(line.has("Itemcode") && !line.has("ItemCode"));
        assert!(c.entity("InvoiceLine").unwrap().has("ItemCode"));
        let acc = c.entity("Account").unwrap();
        let code = acc.property("AccountCode").unwrap();
        assert!(code.right_aligned && code.length == 20 && code.mandatory);
    }
}
