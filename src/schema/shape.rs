//! The catalogue as the mapping language's checker sees it: an entity is a record shape whose
//! fields have types, so `validate` can catch unknown source fields and type mismatches.

use super::catalogue::{catalogue, Entity, FieldType};
use crate::lang::{RecordShape, Type};
use std::sync::Arc;

/// One entity seen as a record type.
#[derive(Debug)]
pub struct EntityShape {
    entity: &'static Entity,
    label: String,
}

impl EntityShape {
    /// The shape of `entity`.
    pub fn new(entity: &'static Entity) -> EntityShape {
        EntityShape {
            label: format!("{} {}", entity.system, entity.name),
            entity,
        }
    }
}

/// The record type of an entity.
pub fn record_type(entity: &'static Entity) -> Type {
    Type::Record(Arc::new(EntityShape::new(entity)))
}

fn field_type(entity: &Entity, ty: FieldType, item: Option<&str>) -> Type {
    match ty {
        FieldType::Text | FieldType::Guid | FieldType::Binary => Type::Text,
        FieldType::Number | FieldType::Int => Type::Number,
        FieldType::Bool => Type::Bool,
        FieldType::Date => Type::Date,
        FieldType::List => {
            let inner = item
                .and_then(|i| catalogue().entity(entity.system, i))
                .map(record_type)
                .unwrap_or(Type::Any);
            Type::List(Box::new(inner))
        }
    }
}

impl RecordShape for EntityShape {
    fn name(&self) -> &str {
        &self.label
    }

    fn field(&self, name: &str) -> Option<Type> {
        if let Some(f) = self.entity.field(name) {
            return Some(field_type(self.entity, f.ty, f.item.as_deref()));
        }
        // Records read through a sync endpoint carry its rowversion too.
        if name == "Timestamp" && self.entity.sync.is_some() {
            return Some(Type::Number);
        }
        None
    }

    fn field_names(&self) -> Vec<String> {
        self.entity.fields.iter().map(|f| f.name.clone()).collect()
    }
}
