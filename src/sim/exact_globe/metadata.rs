//! `GET /services/Exact.Entity.REST.EG/$metadata`: the CSDL (EDMX 1.0, OData v2) of every
//! entity in the catalogue, as WCF Data Services publish it. The reference marks the real
//! document as likely but unseen; this one is generated from the same catalogue the
//! simulator enforces.

use super::catalog::{Catalog, PropType};

fn edm(ty: PropType) -> &'static str {
    match ty {
        PropType::String => "Edm.String",
        PropType::Number => "Edm.Decimal",
        PropType::Double => "Edm.Double",
        PropType::Integer => "Edm.Int32",
        PropType::Boolean => "Edm.Boolean",
        PropType::Date => "Edm.DateTime",
        PropType::Guid => "Edm.Guid",
    }
}

/// The metadata document.
pub fn document() -> String {
    let catalog = Catalog::get();
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n\
         <edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\">\n\
         <edmx:DataServices m:DataServiceVersion=\"1.0\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\">\n\
         <Schema Namespace=\"Exact.Metadata.Entity\" xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\">\n",
    );
    for e in catalog.entities() {
        x.push_str(&format!(
            "<EntityType Name=\"{}\"><Key><PropertyRef Name=\"{}\"/></Key>",
            e.name, e.key
        ));
        for p in &e.properties {
            let nullable = if p.name == e.key { "false" } else { "true" };
            x.push_str(&format!(
                "<Property Name=\"{}\" Type=\"{}\" Nullable=\"{nullable}\"",
                p.name,
                edm(p.ty)
            ));
            if p.ty == PropType::String && p.length > 0 {
                x.push_str(&format!(" MaxLength=\"{}\"", p.length));
            }
            x.push_str("/>");
        }
        x.push_str("</EntityType>\n");
    }
    x.push_str(
        "</Schema>\n<Schema Namespace=\"Exact.Entity.REST.EG\" xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\">\n\
         <EntityContainer Name=\"EntityContainer\" m:IsDefaultEntityContainer=\"true\">\n",
    );
    for e in catalog.entities() {
        x.push_str(&format!(
            "<EntitySet Name=\"{0}\" EntityType=\"Exact.Metadata.Entity.{0}\"/>\n",
            e.name
        ));
    }
    x.push_str("</EntityContainer>\n</Schema>\n</edmx:DataServices>\n</edmx:Edmx>\n");
    x
}
