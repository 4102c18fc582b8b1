//! Creates, partial updates and deletes, as the Entity Services apply them: unknown properties
//! refused, values converted and padded, defaults and server-assigned fields filled, mandatory
//! fields and references checked, numbering (debtor numbers, keys) and the Account's embedded
//! main contact person. Header/line documents are in `documents.rs`.

use super::catalog::{Catalog, Entity, PropType};
use super::documents;
use super::store::{record_key, text, Admin, ApiError, Record};
use super::value::{coerce, date_out, pad};
use serde_json::{Map, Value};

/// The resource id of the integration user (what `Creator`/`Modifier` hold).
pub const USER_ID: i64 = 1001;

/// Audit fields the service maintains itself on every write (client values are overwritten).
const CREATED: &[&str] = &["CreatedDate", "ContactCreatedDate", "SDDateModified"];
const MODIFIED: &[&str] = &["ModifiedDate", "ContactModifiedDate", "SDDateModified"];
const USERS: &[&str] = &[
    "Creator",
    "Modifier",
    "ContactCreator",
    "ContactModifier",
    "SDCreatedBy",
    "SDModifiedBy",
];

/// (entity, property) -> (entity, property) that must hold the value, when it is given.
const REFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "Account",
        "PaymentCondition",
        "PaymentCondition",
        "PaymentConditionCode",
    ),
    ("Account", "ClassificationID", "Classification", "ID"),
    (
        "Account",
        "DeliveryMethod",
        "ShippingMethod",
        "ShippingMethodProperty",
    ),
    ("Item", "Assortment", "ItemAssortment", "Assortment"),
    ("Item", "SalesVATCode", "VAT", "VATCode"),
    ("Item", "Warehouse", "Warehouse", "Code"),
    ("Address", "Account", "Account", "ID"),
    ("ContactPerson", "AccountID", "Account", "ID"),
];

/// (entity deleted, its property, entity that may use it, the using property).
const IN_USE: &[(&str, &str, &str, &str)] = &[
    ("Account", "DebtorNumber", "SalesOrderHeader", "OrderDebtor"),
    ("Account", "DebtorNumber", "InvoiceHeader", "OrderDebtor"),
    ("Account", "DebtorNumber", "FinancialHeader", "DebtorNumber"),
    ("Item", "ItemCode", "SalesOrderLine", "Itemcode"),
    ("Item", "ItemCode", "InvoiceLine", "ItemCode"),
    ("VAT", "VATCode", "Item", "SalesVATCode"),
    ("VAT", "VATCode", "SalesOrderLine", "VATCode"),
    (
        "PaymentCondition",
        "PaymentConditionCode",
        "Account",
        "PaymentCondition",
    ),
    (
        "ShippingMethod",
        "ShippingMethodProperty",
        "Account",
        "DeliveryMethod",
    ),
    ("Classification", "ID", "Account", "ClassificationID"),
    ("ItemAssortment", "Assortment", "Item", "Assortment"),
    ("Warehouse", "Code", "Item", "Warehouse"),
];

/// Checks property names and converts every value of a request body to its stored form.
pub fn prepare(entity: &Entity, body: &Value) -> Result<Record, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad(
            "Error processing request stream. The request body must be a JSON object.",
        ));
    };
    let mut rec = Map::new();
    for (name, value) in obj {
        if name == "__metadata" {
            continue;
        }
        let Some(prop) = entity.property(name) else {
            return Err(ApiError::bad(format!(
                "No property '{name}' exists in type '{}'",
                entity.type_name()
            )));
        };
        rec.insert(
            name.clone(),
            coerce(&entity.name, prop, value).map_err(ApiError::bad)?,
        );
    }
    Ok(rec)
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// A value the service fills itself for a mandatory field the client left out.
fn server_fill(admin: &Admin, entity: &str, prop: &str, now: i64) -> Option<Value> {
    let v = match (entity, prop) {
        (_, "CompanyCode") => Value::from(admin.company.clone()),
        ("Item", "CostPriceCurrency" | "SalesCurrency") => Value::from("EUR"),
        ("Item", "CountrySpecificAvailableFrom") => Value::from(date_out(now)),
        ("Item", "SalesPriceType") => Value::from(0),
        ("Item", "SecurityLevel") => Value::from(10),
        ("CostCenter", "Class1" | "Class2" | "Class3" | "Class4") => Value::from(""),
        ("GeneralLedgerAccount", p) if p.starts_with("Class") => Value::from(""),
        ("Account", "ContactID") => Value::from(admin.new_guid()),
        _ => return None,
    };
    Some(v)
}

/// Fields that are mandatory in PU415 but only on another operation, or filled later.
fn exempt(entity: &str, prop: &str) -> bool {
    matches!(
        (entity, prop),
        ("SalesOrderHeader", "DeletionReason" | "SalesOrderNumber")
            | ("CostCenter", "Class1" | "Class2" | "Class3" | "Class4")
            | ("GeneralLedgerAccount", _)
    )
}

/// Applies keys, defaults, computed defaults and audit fields; then checks mandatory fields.
pub fn complete(
    admin: &Admin,
    entity: &Entity,
    rec: &mut Record,
    now: i64,
) -> Result<(), ApiError> {
    let key = entity.key_property();
    if is_empty(rec.get(&key.name)) {
        match key.ty {
            PropType::Guid => {
                rec.insert(key.name.clone(), Value::from(admin.new_guid()));
            }
            PropType::Number | PropType::Integer | PropType::Double => {
                let n = admin.next_number(&entity.name, &key.name, 1);
                rec.insert(key.name.clone(), Value::from(n));
            }
            _ => {}
        }
    }
    for p in &entity.properties {
        if !is_empty(rec.get(&p.name)) {
            continue;
        }
        let value = if let Some(d) = &p.default {
            Some(match (p.ty, d) {
                (PropType::String, Value::String(s)) if p.right_aligned => {
                    Value::from(pad(s, p.length))
                }
                _ => d.clone(),
            })
        } else {
            match p.fill.as_deref() {
                Some("now") => Some(Value::from(date_out(now))),
                Some("user") => Some(Value::from(USER_ID)),
                Some("company") => Some(Value::from(admin.company.clone())),
                Some("next") => Some(Value::from(admin.next_number(&entity.name, &p.name, 1))),
                Some(f) => f
                    .strip_prefix("copy:")
                    .and_then(|src| rec.get(src).cloned())
                    .filter(|v| !v.is_null())
                    .map(|v| match (p.ty, v) {
                        (PropType::String, Value::String(s)) if p.length > 0 => {
                            Value::from(s.trim().chars().take(p.length).collect::<String>())
                        }
                        (_, v) => v,
                    }),
                None if p.auto_increment => {
                    Some(Value::from(admin.next_number(&entity.name, &p.name, 1)))
                }
                None if p.mandatory => server_fill(admin, &entity.name, &p.name, now),
                None => None,
            }
        };
        if let Some(v) = value {
            rec.insert(p.name.clone(), v);
        }
    }
    stamp(entity, rec, now, true);
    check_mandatory(entity, rec)
}

/// Sets the audit fields the service maintains.
pub fn stamp(entity: &Entity, rec: &mut Record, now: i64, created: bool) {
    let dates: &[&str] = if created { CREATED } else { &[] };
    for name in dates.iter().chain(MODIFIED) {
        if entity.has(name) {
            rec.insert((*name).to_string(), Value::from(date_out(now)));
        }
    }
    for name in USERS {
        if entity.has(name) && (created || name.contains("Modifier") || name.contains("ModifiedBy"))
        {
            rec.insert((*name).to_string(), Value::from(USER_ID));
        }
    }
}

/// Every mandatory field must hold a value.
pub fn check_mandatory(entity: &Entity, rec: &Record) -> Result<(), ApiError> {
    for p in &entity.properties {
        if p.mandatory && !exempt(&entity.name, &p.name) && is_empty(rec.get(&p.name)) {
            return Err(ApiError::bad(format!(
                "Mandatory property '{}' of entity '{}' has no value.",
                p.name, entity.name
            )));
        }
    }
    Ok(())
}

/// Checks that codes given in `rec` exist where they point to.
pub fn check_references(admin: &Admin, entity: &Entity, rec: &Record) -> Result<(), ApiError> {
    for (e, prop, target, target_prop) in REFERENCES {
        if *e != entity.name {
            continue;
        }
        let Some(v) = rec.get(*prop).filter(|v| !is_empty(Some(v))).and_then(text) else {
            continue;
        };
        if admin.find_by(target, target_prop, &v).is_none() {
            return Err(ApiError::bad(format!(
                "Invalid value '{}' for property '{prop}': no {target} with {target_prop} '{}' exists.",
                v.trim(),
                v.trim()
            )));
        }
    }
    Ok(())
}

/// Creates a record (POST): documents go through the line-then-header protocol.
pub fn create(
    admin: &mut Admin,
    entity: &Entity,
    body: &Value,
    now: i64,
) -> Result<Record, ApiError> {
    if documents::is_line(&entity.name) {
        return documents::stage_line(admin, entity, body, now);
    }
    if documents::is_header(&entity.name) {
        return documents::commit(admin, entity, body, now);
    }
    let mut rec = prepare(entity, body)?;
    if entity.name == "Account" {
        number_debtor(admin, &mut rec)?;
    }
    if entity.name == "ContactPerson" {
        // A contact takes the code and name of its account, as the Globe card shows them.
        if let Some(acc) = rec
            .get("AccountID")
            .and_then(text)
            .and_then(|id| admin.find_by("Account", "ID", &id))
        {
            for p in ["AccountCode", "AccountName"] {
                if is_empty(rec.get(p)) {
                    if let Some(v) = acc.get(p).cloned() {
                        rec.insert(p.into(), v);
                    }
                }
            }
        }
    }
    if entity.name == "Address" && is_empty(rec.get("ContactPerson")) {
        if let Some(contact) = rec
            .get("Account")
            .and_then(text)
            .and_then(|id| admin.find_by("Account", "ID", &id))
            .and_then(|a| a.get("ContactID").cloned())
        {
            rec.insert("ContactPerson".into(), contact);
        }
    }
    complete(admin, entity, &mut rec, now)?;
    check_references(admin, entity, &rec)?;
    let key = record_key(entity, &rec).ok_or_else(|| {
        ApiError::bad(format!("Mandatory property '{}' has no value.", entity.key))
    })?;
    if admin
        .table(&entity.name)
        .is_some_and(|t| t.contains_key(&key))
    {
        return Err(ApiError::bad(format!(
            "Cannot insert duplicate key in entity '{}': {} '{}' already exists.",
            entity.name,
            entity.key,
            key.trim()
        )));
    }
    admin
        .table_mut(&entity.name)
        .insert(key.clone(), rec.clone());
    after_write(admin, entity, &rec, now, true);
    Ok(rec)
}

/// Assigns DebtorNumber/DebtorCode/AccountCode to a new debtor and refuses duplicates.
fn number_debtor(admin: &Admin, rec: &mut Record) -> Result<(), ApiError> {
    let is_debtor = rec.get("CustomerType").and_then(Value::as_str) == Some("C")
        || !is_empty(rec.get("DebtorNumber"))
        || !is_empty(rec.get("DebtorCode"));
    if is_debtor && is_empty(rec.get("DebtorNumber")) {
        // A numeric debtor code that is still free becomes the number, as in Globe's card.
        let from_code = rec
            .get("DebtorCode")
            .and_then(text)
            .map(|c| c.trim().to_string())
            .filter(|c| c.len() <= 6 && !c.is_empty() && c.chars().all(|x| x.is_ascii_digit()))
            .filter(|c| {
                admin
                    .find_by("Account", "DebtorNumber", &pad(c, 6))
                    .is_none()
            });
        let n = from_code
            .unwrap_or_else(|| admin.next_number("Account", "DebtorNumber", 1).to_string());
        if n.len() > 6 {
            return Err(ApiError::server(
                "No free debtor number left (DebtorNumber has 6 digits).",
            ));
        }
        rec.insert("DebtorNumber".into(), Value::from(pad(&n, 6)));
    }
    if let Some(n) = rec
        .get("DebtorNumber")
        .and_then(text)
        .filter(|s| !s.trim().is_empty())
    {
        if is_empty(rec.get("DebtorCode")) {
            rec.insert("DebtorCode".into(), Value::from(pad(&n, 20)));
        }
        if admin.find_by("Account", "DebtorNumber", &n).is_some() {
            return Err(ApiError::bad(format!(
                "Debtor number '{}' is already in use.",
                n.trim()
            )));
        }
    }
    if is_empty(rec.get("AccountCode")) {
        if let Some(code) = rec.get("DebtorCode").cloned() {
            rec.insert("AccountCode".into(), code);
        }
    }
    if let Some(code) = rec
        .get("AccountCode")
        .and_then(text)
        .filter(|s| !s.trim().is_empty())
    {
        if admin.find_by("Account", "AccountCode", &code).is_some() {
            return Err(ApiError::bad(format!(
                "Account code '{}' is already in use.",
                code.trim()
            )));
        }
    }
    Ok(())
}

/// Account property -> ContactPerson property of its embedded main contact (one cicntp row).
const MAIN_CONTACT: [(&str, &str); 13] = [
    ("ID", "AccountID"),
    ("AccountCode", "AccountCode"),
    ("AccountName", "AccountName"),
    ("ContactFullName", "FullName"),
    ("ContactLastName", "LastName"),
    ("ContactFirstName", "FirstName"),
    ("ContactInitials", "Initials"),
    ("ContactTitle", "Title"),
    ("ContactGender", "Gender"),
    ("ContactEmail", "EmailAddress"),
    ("ContactPhoneNumber", "PhoneNumber"),
    ("ContactMobileNumber", "MobileNumber"),
    ("JobDescription", "JobDescription"),
];

/// Side effects of a write: the Account's main contact (both ways) and the Item's catalogue row.
fn after_write(admin: &mut Admin, entity: &Entity, rec: &Record, now: i64, created: bool) {
    let catalog = Catalog::get();
    match entity.name.as_str() {
        "Account" => {
            let (Some(contact_entity), Some(contact_id)) = (
                catalog.entity("ContactPerson"),
                rec.get("ContactID").and_then(text),
            ) else {
                return;
            };
            let pairs = MAIN_CONTACT;
            let table = admin.table_mut("ContactPerson");
            let mut contact = table.get(&contact_id).cloned().unwrap_or_default();
            contact.insert("ContactID".into(), Value::from(contact_id.clone()));
            for (from, to) in pairs {
                if let Some(v) = rec.get(from).filter(|v| !v.is_null()) {
                    if contact_entity.has(to) {
                        contact.insert(to.into(), v.clone());
                    }
                }
            }
            contact.insert("MainContact".into(), Value::Bool(true));
            contact.entry("Active").or_insert(Value::Bool(true));
            stamp(contact_entity, &mut contact, now, created);
            table.insert(contact_id, contact);
        }
        "ContactPerson" if rec.get("MainContact") == Some(&Value::Bool(true)) => {
            // The account shows its main contact's fields; only ContactModifiedDate moves
            // (cicmpy's own modification date does not), as in Globe.
            let (Some(account_id), Some(contact_id)) = (
                rec.get("AccountID").and_then(text),
                rec.get("ContactID").cloned(),
            ) else {
                return;
            };
            let Some(acc) = admin.table_mut("Account").get_mut(&account_id) else {
                return;
            };
            if acc.get("ContactID") != Some(&contact_id) {
                return;
            }
            for (to, from) in MAIN_CONTACT.iter().skip(3) {
                if let Some(v) = rec.get(*from).filter(|v| !v.is_null()) {
                    acc.insert((*to).to_string(), v.clone());
                }
            }
            acc.insert("ContactModifiedDate".into(), Value::from(date_out(now)));
        }
        "Item" if created => {
            if let Some(code) = rec.get("ItemCode").and_then(text) {
                let mut row = Map::new();
                row.insert("ItemCode".into(), Value::from(code.clone()));
                for (k, v) in [
                    ("AvailableStock", 0),
                    ("FreeStock", 0),
                    ("ShelfStock", 0),
                    ("ToBeDelivered", 0),
                    ("ToBeReceived", 0),
                ] {
                    row.insert(k.into(), Value::from(v));
                }
                if let Some(p) = rec.get("SalesPrice") {
                    row.insert("SalesPrice".into(), p.clone());
                }
                admin.table_mut("ItemCatalog").entry(code).or_insert(row);
            }
        }
        _ => {}
    }
}

/// Partial update (MERGE, PUT, or POST with `X-HTTP-Method: MERGE`): only the given fields change.
pub fn update(
    admin: &mut Admin,
    entity: &Entity,
    key: &str,
    body: &Value,
    now: i64,
) -> Result<(), ApiError> {
    let changes = prepare(entity, body)?;
    let Some(existing) = admin.table(&entity.name).and_then(|t| t.get(key)).cloned() else {
        return Err(not_found(entity));
    };
    if let Some(k) = changes.get(&entity.key) {
        if text(k).as_deref() != Some(key) {
            return Err(ApiError::bad(format!(
                "The key property '{}' of entity '{}' cannot be changed.",
                entity.key, entity.name
            )));
        }
    }
    let mut rec = existing.clone();
    for (k, v) in &changes {
        rec.insert(k.clone(), v.clone());
    }
    if entity.name == "Account" {
        for unique in ["AccountCode", "DebtorNumber"] {
            if let Some(v) = changes
                .get(unique)
                .and_then(text)
                .filter(|v| !v.trim().is_empty())
            {
                let taken = admin
                    .find_by("Account", unique, &v)
                    .is_some_and(|r| r.get("ID") != existing.get("ID"));
                if taken {
                    return Err(ApiError::bad(format!(
                        "{unique} '{}' is already in use.",
                        v.trim()
                    )));
                }
            }
        }
    }
    check_mandatory(entity, &rec)?;
    check_references(admin, entity, &rec)?;
    stamp(entity, &mut rec, now, false);
    admin
        .table_mut(&entity.name)
        .insert(key.to_string(), rec.clone());
    after_write(admin, entity, &rec, now, false);
    Ok(())
}

/// DELETE by key.
pub fn delete(admin: &mut Admin, entity: &Entity, key: &str) -> Result<(), ApiError> {
    let Some(existing) = admin.table(&entity.name).and_then(|t| t.get(key)) else {
        return Err(not_found(entity));
    };
    // Master data that transactions or other records use cannot be deleted.
    for (deleted, prop, user, user_prop) in IN_USE {
        if *deleted != entity.name {
            continue;
        }
        let Some(v) = existing
            .get(*prop)
            .and_then(text)
            .filter(|v| !v.trim().is_empty())
        else {
            continue;
        };
        if admin.find_by(user, user_prop, &v).is_some() {
            return Err(ApiError::bad(format!(
                "{} '{}' cannot be deleted: it is in use by {user}.",
                entity.name,
                v.trim()
            )));
        }
    }
    let Some(rec) = admin.table_mut(&entity.name).shift_remove(key) else {
        return Err(not_found(entity));
    };
    if let Some(s) = admin.staged.get_mut(&entity.name) {
        s.remove(key);
    }
    match entity.name.as_str() {
        "Account" => {
            let id = rec.get("ID").cloned();
            admin
                .table_mut("ContactPerson")
                .retain(|_, c| c.get("AccountID") != id.as_ref());
        }
        "Item" => {
            admin.table_mut("ItemCatalog").shift_remove(key);
        }
        _ => documents::after_header_delete(admin, &entity.name, &rec),
    }
    Ok(())
}

/// The 404 the service gives for a key that does not exist.
pub fn not_found(entity: &Entity) -> ApiError {
    ApiError::not_found(format!(
        "Resource not found for the segment '{}'.",
        entity.name
    ))
}

#[cfg(test)]
mod tests {
    use super::super::store::empty_tables;
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)),
            "[ -~]{0,40}".prop_map(Value::from),
            Just(serde_json::json!([1, 2])),
        ]
    }

    proptest! {
        #[test]
        fn no_body_makes_a_write_panic(
            entity in proptest::sample::select(vec!["Account", "Item", "SalesOrderLine", "SalesOrderHeader", "FinancialLine", "VAT", "Address"]),
            fields in proptest::collection::vec((0usize..400, value()), 0..12),
        ) {
            let e = Catalog::get().entity(entity).unwrap();
            let mut body = Map::new();
            for (i, v) in fields {
                let name = e.properties.get(i).map(|p| p.name.clone()).unwrap_or_else(|| format!("Bogus{i}"));
                body.insert(name, v);
            }
            let mut admin = Admin { company: "500".into(), tables: empty_tables(), ..Default::default() };
            let body = Value::Object(body);
            if let Ok(rec) = create(&mut admin, e, &body, 1) {
                let key = record_key(e, &rec).unwrap();
                let _ = update(&mut admin, e, &key, &body, 2);
                let _ = delete(&mut admin, e, &key);
            }
        }
    }
}
