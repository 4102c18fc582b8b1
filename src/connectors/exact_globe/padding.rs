//! Right-aligned codes: Globe stores codes such as `AccountCode` (20), `DebtorNumber` (6),
//! `SalesOrderNumber` (8) and GL accounts (9) left-padded with spaces to their length, and an
//! unpadded value in a `$filter` finds nothing. Every code the client sends, in a filter, a
//! key or a body, goes through here; the lengths come from the catalogue.

use serde_json::Value;

use super::catalogue::{EntityDef, PropertyDef, PropertyType};
use crate::connectors::Record;

/// Longest right-aligned string that is a code. The reference also sets the flag on long
/// free-text fields (`AdditionalField01`, 225) where padding would only corrupt the text.
pub const MAX_CODE_LENGTH: u32 = 20;

/// Whether values of `prop` are right-aligned codes that must be padded.
pub fn is_padded(prop: &PropertyDef) -> bool {
    prop.kind == PropertyType::String
        && prop.right_aligned
        && prop.length > 0
        && prop.length <= MAX_CODE_LENGTH
}

/// `code` right-aligned in `length` characters: surrounding spaces removed, then left-padded.
/// An empty code stays empty; a value longer than `length` is returned trimmed and unpadded
/// (the service refuses it).
pub fn pad_code(code: &str, length: u32) -> String {
    let trimmed = code.trim();
    let width = length as usize;
    let chars = trimmed.chars().count();
    if chars >= width || chars == 0 {
        return trimmed.to_string();
    }
    let mut out = String::with_capacity(width);
    out.extend(std::iter::repeat_n(' ', width - chars));
    out.push_str(trimmed);
    out
}

/// The value to send for `prop`: codes (given as text or as a number) padded, anything else
/// unchanged.
pub fn pad_value(prop: &PropertyDef, value: &Value) -> Value {
    if !is_padded(prop) {
        return value.clone();
    }
    match value {
        Value::String(s) => Value::String(pad_code(s, prop.length)),
        Value::Number(n) => Value::String(pad_code(&n.to_string(), prop.length)),
        other => other.clone(),
    }
}

/// `record` ready to write to `entity`: property names in the catalogue's casing and codes
/// padded. Properties the catalogue does not know are passed through as given (newer product
/// updates add properties; the service itself refuses what it does not know).
pub fn prepare_record(entity: Option<&EntityDef>, record: &Record) -> Record {
    let Some(entity) = entity else {
        return record.clone();
    };
    record
        .iter()
        .map(|(name, value)| match entity.property(name) {
            Some(prop) => (prop.name.clone(), pad_value(prop, value)),
            None => (name.clone(), value.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::exact_globe::catalogue::Catalogue;
    use serde_json::json;

    #[test]
    fn pads_to_the_left_with_spaces() {
        assert_eq!(pad_code("80004153", 20), "            80004153");
        assert_eq!(pad_code("  1234 ", 6), "  1234");
        assert_eq!(pad_code("123456", 6), "123456");
        assert_eq!(pad_code("1234567", 6), "1234567");
        assert_eq!(pad_code("  ", 3), "");
    }

    #[test]
    fn only_short_right_aligned_strings_are_codes() {
        let cat = Catalogue::get().unwrap();
        let account = cat.entity("Account").unwrap();
        assert!(is_padded(account.property("AccountCode").unwrap()));
        assert!(is_padded(account.property("DebtorNumber").unwrap()));
        assert!(!is_padded(account.property("AccountName").unwrap()));
        let item = cat.entity("Item").unwrap();
        assert!(
            !is_padded(item.property("ItemCode").unwrap()),
            "ItemCode is not right-aligned"
        );
        let order = cat.entity("SalesOrderHeader").unwrap();
        assert!(is_padded(order.property("SalesOrderNumber").unwrap()));
        assert!(is_padded(order.property("OrderDebtor").unwrap()));
        assert!(!is_padded(order.property("AdditionalField01").unwrap()));
    }

    #[test]
    fn numbers_given_for_codes_become_padded_text() {
        let cat = Catalogue::get().unwrap();
        let order = cat.entity("SalesOrderHeader").unwrap();
        let prop = order.property("OrderDebtor").unwrap();
        assert_eq!(pad_value(prop, &json!(4711)), json!("  4711"));
        assert_eq!(pad_value(prop, &json!("4711")), json!("  4711"));
        assert_eq!(pad_value(prop, &Value::Null), Value::Null);
    }

    #[test]
    fn prepare_record_fixes_casing_and_pads() {
        let cat = Catalogue::get().unwrap();
        let line = cat.entity("SalesOrderLine").unwrap();
        let rec: Record =
            json!({"ITEMCODE": "A-1", "quantity": 2, "SalesOrderNumber": "17", "Custom": 1})
                .as_object()
                .unwrap()
                .clone();
        let out = prepare_record(Some(line), &rec);
        assert_eq!(out["Itemcode"], json!("A-1"));
        assert_eq!(out["Quantity"], json!(2));
        assert_eq!(out["SalesOrderNumber"], json!("      17"));
        assert_eq!(out["Custom"], json!(1));
        assert!(!out.contains_key("ITEMCODE"));
    }
}
