//! Header/line documents (sales orders, invoices, financial entries) as the Entity Services
//! process them: each line POST is staged under a `TransactionKey` (the first line gets a new
//! one, later lines pass it; an unknown client-made GUID is accepted, as Portway does); the
//! header POST with that key validates the whole document and books it. A header that fails
//! leaves its staged lines behind (visible through GET and deletable), as the real one does.

use super::catalog::{Catalog, Entity};
use super::store::{record_key, text, Admin, ApiError, Record};
use super::value::{number, pad};
use super::write::{check_mandatory, complete, prepare};
use serde_json::Value;

/// How one kind of document is put together.
struct Doc {
    header: &'static str,
    line: &'static str,
    /// The number the header gets on commit, and its padded length (0 = not padded).
    number: &'static str,
    number_len: usize,
    /// The line property that names the item (note `Itemcode` on sales order lines).
    item: &'static str,
    item_required: bool,
    /// The header property holding the debtor number.
    debtor: &'static str,
    /// Header totals: (excl. VAT, VAT, incl. VAT).
    totals: Option<(&'static str, &'static str, &'static str)>,
}

const DOCS: &[Doc] = &[
    Doc {
        header: "SalesOrderHeader",
        line: "SalesOrderLine",
        number: "SalesOrderNumber",
        number_len: 8,
        item: "Itemcode",
        item_required: true,
        debtor: "OrderDebtor",
        totals: Some(("TotalAmountExcludingVAT", "TotalVATAmount", "TotalAmount")),
    },
    Doc {
        header: "InvoiceHeader",
        line: "InvoiceLine",
        number: "OurReference",
        number_len: 0,
        item: "ItemCode",
        item_required: false,
        debtor: "OrderDebtor",
        totals: Some(("TotalAmountExclVAT", "TotalVAT", "TotalAmount")),
    },
    Doc {
        header: "FinancialHeader",
        line: "FinancialLine",
        number: "EntryNumber",
        number_len: 0,
        item: "ItemCode",
        item_required: false,
        debtor: "DebtorNumber",
        totals: None,
    },
];

/// True for SalesOrderLine, InvoiceLine and FinancialLine.
pub fn is_line(entity: &str) -> bool {
    DOCS.iter().any(|d| d.line == entity)
}

/// True for SalesOrderHeader, InvoiceHeader and FinancialHeader.
pub fn is_header(entity: &str) -> bool {
    DOCS.iter().any(|d| d.header == entity)
}

/// Every line entity.
pub fn line_entities() -> impl Iterator<Item = &'static str> {
    DOCS.iter().map(|d| d.line)
}

/// Stages one line under its TransactionKey (a new one when it has none).
pub fn stage_line(
    admin: &mut Admin,
    entity: &Entity,
    body: &Value,
    now: i64,
) -> Result<Record, ApiError> {
    let mut rec = prepare(entity, body)?;
    let tk = match rec.get("TransactionKey").and_then(text) {
        Some(tk) => tk,
        None => {
            let tk = admin.new_guid();
            rec.insert("TransactionKey".into(), Value::from(tk.clone()));
            tk
        }
    };
    if admin.committed_keys.contains(&tk) {
        return Err(ApiError::bad(format!(
            "The transaction with TransactionKey '{tk}' has already been processed."
        )));
    }
    complete(admin, entity, &mut rec, now)?;
    let key = record_key(entity, &rec)
        .ok_or_else(|| ApiError::server("The line could not be numbered."))?;
    admin
        .table_mut(&entity.name)
        .insert(key.clone(), rec.clone());
    admin
        .staged
        .entry(entity.name.clone())
        .or_default()
        .insert(key);
    Ok(rec)
}

fn exists(
    admin: &Admin,
    entity: &str,
    prop: &str,
    value: Option<&Value>,
    what: &str,
) -> Result<(), ApiError> {
    let Some(v) = value.and_then(text).filter(|v| !v.trim().is_empty()) else {
        return Ok(());
    };
    if admin.find_by(entity, prop, &v).is_some() {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "{what} '{}' does not exist.",
            v.trim()
        )))
    }
}

/// GL account codes are stored padded to 9 (`GeneralLedgerCode` is right-aligned); the
/// financial entities take them padded or not, so compare the codes without the padding.
fn gl_exists(admin: &Admin, value: Option<&Value>) -> Result<(), ApiError> {
    let Some(code) = value
        .and_then(text)
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
    else {
        return Ok(());
    };
    if admin
        .find_by("GeneralLedgerAccount", "GeneralLedgerCode", &pad(&code, 9))
        .is_some()
    {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "General ledger account '{code}' does not exist."
        )))
    }
}

/// Validates and books the document whose lines were staged under the header's TransactionKey.
pub fn commit(
    admin: &mut Admin,
    entity: &Entity,
    body: &Value,
    now: i64,
) -> Result<Record, ApiError> {
    let Some(doc) = DOCS.iter().find(|d| d.header == entity.name) else {
        return Err(ApiError::server("Not a document header."));
    };
    let catalog = Catalog::get();
    let line_entity = catalog
        .entity(doc.line)
        .ok_or_else(|| ApiError::server("Line entity missing from the catalogue."))?;
    let mut header = prepare(entity, body)?;
    let Some(tk) = header.get("TransactionKey").and_then(text) else {
        return Err(ApiError::bad(format!(
            "Mandatory property 'TransactionKey' of entity '{}' has no value.",
            entity.name
        )));
    };
    if admin.committed_keys.contains(&tk) {
        return Err(ApiError::bad(format!(
            "The transaction with TransactionKey '{tk}' has already been processed."
        )));
    }
    let line_keys: Vec<String> = admin
        .table(doc.line)
        .into_iter()
        .flat_map(|t| t.iter())
        .filter(|(k, r)| {
            admin.is_staged(doc.line, k)
                && r.get("TransactionKey").and_then(text).as_deref() == Some(tk.as_str())
        })
        .map(|(k, _)| k.clone())
        .collect();
    if line_keys.is_empty() {
        return Err(ApiError::bad(format!(
            "No lines found to process for TransactionKey '{tk}'."
        )));
    }

    // The debtor, and what the header takes from it when the client leaves it out.
    let debtor = match header
        .get(doc.debtor)
        .and_then(text)
        .filter(|d| !d.trim().is_empty())
    {
        Some(d) => match admin.find_by("Account", "DebtorNumber", &d) {
            Some(acc) if acc.get("Blocked") == Some(&Value::Bool(true)) => {
                return Err(ApiError::bad(format!("Debtor '{}' is blocked.", d.trim())))
            }
            Some(acc) => Some(acc.clone()),
            None => {
                return Err(ApiError::bad(format!(
                    "Debtor '{}' does not exist.",
                    d.trim()
                )))
            }
        },
        None => None,
    };
    if let Some(acc) = &debtor {
        for (from, to) in [
            ("PaymentCondition", "PaymentCondition"),
            ("DeliveryMethod", "ShippingVia"),
        ] {
            if entity.has(to)
                && header
                    .get(to)
                    .and_then(text)
                    .is_none_or(|s| s.trim().is_empty())
            {
                if let Some(v) = acc.get(from).filter(|v| !v.is_null()) {
                    header.insert(to.into(), v.clone());
                }
            }
        }
    }
    exists(
        admin,
        "Account",
        "DebtorNumber",
        header.get("InvoiceDebtor"),
        "Debtor",
    )?;
    exists(
        admin,
        "Account",
        "DebtorNumber",
        header.get("DeliveryDebtor"),
        "Debtor",
    )?;
    exists(
        admin,
        "PaymentCondition",
        "PaymentConditionCode",
        header.get("PaymentCondition"),
        "Payment condition",
    )?;
    exists(
        admin,
        "ShippingMethod",
        "ShippingMethodProperty",
        header.get("ShippingVia"),
        "Shipping method",
    )?;
    exists(
        admin,
        "Warehouse",
        "Code",
        header.get("Warehouse"),
        "Warehouse",
    )?;
    exists(
        admin,
        "CostCenter",
        "Code",
        header.get("CostCenter"),
        "Cost center",
    )?;
    exists(
        admin,
        "CostUnit",
        "Code",
        header.get("CostUnit"),
        "Cost unit",
    )?;
    gl_exists(admin, header.get("JournalAccount"))?;

    let mut lines = Vec::new();
    for k in &line_keys {
        let Some(line) = admin.table(doc.line).and_then(|t| t.get(k)).cloned() else {
            continue;
        };
        let item = line
            .get(doc.item)
            .and_then(text)
            .filter(|s| !s.trim().is_empty());
        let item_rec = match &item {
            Some(code) => Some(
                admin
                    .find_by("Item", "ItemCode", code)
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::bad(format!("Item '{}' does not exist.", code.trim()))
                    })?,
            ),
            None if doc.item_required => {
                return Err(ApiError::bad(format!(
                    "Mandatory property '{}' of entity '{}' has no value.",
                    doc.item, doc.line
                )))
            }
            None => None,
        };
        exists(admin, "VAT", "VATCode", line.get("VATCode"), "VAT code")?;
        exists(
            admin,
            "Warehouse",
            "Code",
            line.get("Warehouse"),
            "Warehouse",
        )?;
        exists(
            admin,
            "CostCenter",
            "Code",
            line.get("CostCenter"),
            "Cost center",
        )?;
        exists(admin, "CostUnit", "Code", line.get("CostUnit"), "Cost unit")?;
        gl_exists(admin, line.get("GLAccount"))?;
        check_mandatory(line_entity, &line)?;
        lines.push((k.clone(), line, item_rec));
    }

    // Valid: number and book it. A number the client chose is kept when it is free (manual
    // numbering); a taken one is the numbering conflict integrations run into.
    let chosen = header
        .get(doc.number)
        .and_then(text)
        .filter(|n| !n.trim().is_empty());
    let number_value = match chosen {
        Some(n) if admin.find_by(doc.header, doc.number, &n).is_some() => {
            return Err(ApiError::bad(format!(
                "{} '{}' already exists.",
                doc.number,
                n.trim()
            )))
        }
        Some(n) => n,
        None => {
            let n = admin.next_number(doc.header, doc.number, 1).to_string();
            if doc.number_len > 0 {
                pad(&n, doc.number_len)
            } else {
                n
            }
        }
    };
    header.insert(doc.number.into(), Value::from(number_value.clone()));
    if entity.has("SalesOrderDate") && header.get("SalesOrderDate").is_none_or(Value::is_null) {
        header.insert(
            "SalesOrderDate".into(),
            Value::from(super::value::date_out(now)),
        );
    }
    complete(admin, entity, &mut header, now)?;
    let (mut excl, mut vat) = (0.0, 0.0);
    for (i, (k, mut line, item)) in lines.into_iter().enumerate() {
        if line_entity.has("LineNumber") {
            line.insert("LineNumber".into(), Value::from(i as i64 + 1));
        }
        if doc.header != "FinancialHeader" {
            line.insert(
                "SalesOrderNumber".into(),
                Value::from(if doc.header == "SalesOrderHeader" {
                    number_value.clone()
                } else {
                    header
                        .get("SalesOrderNumber")
                        .and_then(text)
                        .unwrap_or_default()
                }),
            );
        } else {
            line.insert("EntryNumber".into(), Value::from(number_value.clone()));
        }
        if let Some(item) = &item {
            for (from, to) in [
                ("CountrySpecificDescription", "Description"),
                ("SalesPrice", "Price"),
                ("SalesVATCode", "VATCode"),
                ("SalesUnit", "Unit"),
            ] {
                if line_entity.has(to) && line.get(to).is_none_or(Value::is_null) {
                    if let Some(v) = item.get(from).filter(|v| !v.is_null()) {
                        line.insert(to.into(), v.clone());
                    }
                }
            }
        }
        if line_entity.has("Warehouse") && line.get("Warehouse").is_none_or(Value::is_null) {
            if let Some(w) = header.get("Warehouse").filter(|v| !v.is_null()) {
                line.insert("Warehouse".into(), w.clone());
            }
        }
        if doc.totals.is_some() {
            let num = |v: Option<&Value>| v.and_then(Value::as_f64);
            let qty = num(line.get("Quantity")).unwrap_or(1.0);
            line.insert("Quantity".into(), number(qty));
            let price = num(line.get("Price")).unwrap_or(0.0);
            let disc = num(line.get("DiscountPercentage")).unwrap_or(0.0);
            let net = num(line.get("NetPrice")).unwrap_or(price * (1.0 - disc / 100.0));
            line.insert("NetPrice".into(), number(round2(net)));
            let pct = line
                .get("VATCode")
                .and_then(text)
                .and_then(|c| admin.find_by("VAT", "VATCode", &c))
                .and_then(|v| v.get("Percentage").and_then(Value::as_f64))
                .unwrap_or(0.0);
            excl += qty * net;
            vat += qty * net * pct / 100.0;
            if doc.header == "SalesOrderHeader" {
                reserve(admin, item.as_ref(), qty);
            }
        }
        admin.table_mut(doc.line).insert(k.clone(), line);
        if let Some(s) = admin.staged.get_mut(doc.line) {
            s.remove(&k);
        }
    }
    if let Some((e, v, t)) = doc.totals {
        header.insert(e.into(), number(round2(excl)));
        header.insert(v.into(), number(round2(vat)));
        header.insert(t.into(), number(round2(excl + vat)));
    }
    let key = record_key(entity, &header)
        .ok_or_else(|| ApiError::server("The header could not be numbered."))?;
    admin.table_mut(doc.header).insert(key, header.clone());
    admin.committed_keys.insert(tk);
    Ok(header)
}

/// A sales order line reserves stock: ToBeDelivered up, FreeStock down (ItemCatalog).
fn reserve(admin: &mut Admin, item: Option<&Record>, qty: f64) {
    let Some(code) = item.and_then(|i| i.get("ItemCode")).and_then(text) else {
        return;
    };
    let stock_item = item.and_then(|i| i.get("IsStockItem")) == Some(&Value::Bool(true));
    let Some(row) = admin.table_mut("ItemCatalog").get_mut(&code) else {
        return;
    };
    if !stock_item {
        return;
    }
    for (field, delta) in [("ToBeDelivered", qty), ("FreeStock", -qty)] {
        let v = row.get(field).and_then(Value::as_f64).unwrap_or(0.0) + delta;
        row.insert(field.into(), number(v));
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Deleting a committed header deletes its lines.
pub fn after_header_delete(admin: &mut Admin, entity: &str, header: &Record) {
    let Some(doc) = DOCS.iter().find(|d| d.header == entity) else {
        return;
    };
    let Some(tk) = header.get("TransactionKey").cloned() else {
        return;
    };
    let staged = admin.staged.get(doc.line).cloned().unwrap_or_default();
    admin
        .table_mut(doc.line)
        .retain(|k, l| staged.contains(k) || l.get("TransactionKey") != Some(&tk));
}
