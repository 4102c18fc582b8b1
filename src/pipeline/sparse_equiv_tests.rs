//! Projected parsing (`sparse`) against full parsing on the standard pipelines: the same
//! `where` verdicts, mapped records and errors, over generated orders including odd shapes.

use crate::lang::{ProjectedValue, View};
use crate::pipeline::apply::{apply_map, passes_where, passes_where_view, MapEnv, MapWriter};
use crate::pipeline::sparse::Projection;
use crate::pipeline::{load, sparse, Pipeline};
use serde_json::{json, Value};
use std::path::PathBuf;

/// A small deterministic generator (no dependency on `rand`'s value stability).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// An order like `benches/compare/gen_orders.py` writes, sometimes with parts missing,
/// null, or of an unexpected type.
fn order(i: u64, r: &mut Lcg) -> Value {
    fn odd(r: &mut Lcg, normal: Value) -> Value {
        match r.next(12) {
            0 => Value::Null,
            1 => json!({"X": 1, "Y": [1, 2]}),
            2 => json!([normal.clone(), 3]),
            3 => json!(7.25),
            _ => normal,
        }
    }
    let mut lines = Vec::new();
    for j in 0..r.next(4) {
        let (d, price, disc, cc, dd) = (
            odd(r, json!(format!("Artikel {j}"))),
            odd(r, json!(12.5)),
            odd(r, json!(0.05)),
            odd(r, json!("100")),
            odd(r, json!("2026-12-02T00:00:00")),
        );
        let (code, qty) = (r.next(9000) + 1000, r.next(12) + 1);
        let line = json!({
            "ID": format!("id-{i}-{j}"), "LineNumber": j + 1, "ItemCode": format!("ART-{code}"),
            "Description": d, "ItemDescription": "Item", "Quantity": qty, "UnitPrice": price, "Discount": disc,
            "AmountFC": 1.5, "VATCode": "2", "CostCenter": cc, "CostUnit": null, "DeliveryDate": dd, "Extra": {"Deep": [1, {"ItemCode": "no"}]}
        });
        lines.push(odd(r, line));
    }
    let country = ["NL", "BE", "DE"][r.next(3) as usize];
    let (name, email, acountry) = (
        odd(r, json!("Visser NV")),
        odd(r, json!("A@B.nl ")),
        odd(r, json!(country)),
    );
    let account = odd(
        r,
        json!({"ID": "a", "Name": name, "Email": email, "AddressLine1": "Damrak 1", "Postcode": "1017AB",
        "City": "Amsterdam", "Country": acountry, "VATNumber": null, "Phone": "+31"}),
    );
    let cemail = odd(r, json!("jan@x.nl"));
    let contact = odd(
        r,
        json!({"FirstName": "Jan", "LastName": "Visser", "Email": cemail}),
    );
    let delivery = odd(
        r,
        json!({"AddressLine1": "Meir 2", "Postcode": "2000", "City": "Antwerpen", "Country": country}),
    );
    let code = odd(r, json!("DHL"));
    let shipping = odd(r, json!({"Code": code, "Name": "DHL Express"}));
    let debtor = odd(r, json!("  4711"));
    let customer = odd(r, json!({"DebtorNumber": debtor, "Other": 1}));
    let lines = if r.next(10) == 0 {
        odd(r, json!([]))
    } else {
        json!(lines)
    };
    json!({
        "OrderID": format!("o-{i}"), "OrderNumber": odd(r, json!(100000 + i)), "Status": odd(r, json!(12)),
        "OrderDate": "2026-11-16T00:00:00", "DeliveryDate": odd(r, json!("2026-12-10T00:00:00")),
        "Description": odd(r, json!(format!("Webshop order {i}"))), "Currency": odd(r, json!("EUR")),
        "PaymentCondition": odd(r, json!("14")), "PaymentReference": format!("PR{i:08}"), "Remarks": odd(r, json!("bellen")),
        "SalesOrderLines": lines, "account": account, "contact": contact, "delivery": delivery, "shipping": shipping,
        "customer": customer
    })
}

/// One record's outcome as text: the where verdict and the mapped line, or the error.
fn outcome(p: &Pipeline, record: &Value, env: &MapEnv) -> String {
    let names = p.binding_names();
    let bindings: Vec<(&str, &Value)> = names
        .iter()
        .map(|n| (*n, record.get(*n).unwrap_or(&Value::Null)))
        .collect();
    let verdict = match passes_where(p, record, &bindings, env) {
        Ok(b) => b.to_string(),
        Err(e) => format!("where error {e}"),
    };
    let mapped = match apply_map(&p.map, record, &bindings, env) {
        Ok(m) => serde_json::to_string(&m).expect("json"),
        Err(e) => format!("error {e}"),
    };
    format!("{verdict} {mapped}")
}

/// [`outcome`] over a [`ProjectedValue`], the way `exflow map` evaluates.
fn outcome_view(p: &Pipeline, rec: &ProjectedValue, env: &MapEnv) -> String {
    let record = View::of(rec);
    let names = p.binding_names();
    let bindings: Vec<(&str, View)> = names.iter().map(|n| (*n, record.field(n))).collect();
    let ctx = env.view_context(record, &bindings);
    let verdict = match passes_where_view(p, &ctx) {
        Ok(b) => b.to_string(),
        Err(e) => format!("where error {e}"),
    };
    let mut out = Vec::new();
    let mapped = match MapWriter::new(&p.map).write(&ctx, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => format!("error {e}"),
    };
    format!("{verdict} {mapped}")
}

#[test]
fn projected_parsing_maps_the_standard_pipelines_like_full_parsing() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (project, diags) = load(&[root], false);
    let project = project.unwrap_or_else(|| panic!("standard project loads: {diags:?}"));
    let mut r = Lcg(42);
    let records: Vec<String> = (0..400).map(|i| order(i, &mut r).to_string()).collect();
    assert!(!project.pipelines.is_empty());
    let mut kept_less = false;
    for p in &project.pipelines {
        let vars = project.vars_for(&p.name);
        let env = MapEnv {
            vars: &vars,
            tables: &project.tables,
            scripts: project.scripts.as_ref(),
        };
        let mut errors = 0;
        let projection = Projection::new(&p.reads);
        for text in &records {
            let full: Value = serde_json::from_str(text).expect("json");
            let projected =
                sparse::reference::from_slice(text.as_bytes(), &p.reads).expect("sparse json");
            kept_less |= projected.to_string().len() < text.len();
            let (a, b) = (outcome(p, &full, &env), outcome(p, &projected, &env));
            assert_eq!(a, b, "pipeline {}, record {text}", p.name);
            let view = projection.scan(text.as_bytes()).expect("projected json");
            assert_eq!(view.to_value(), projected, "record {text}");
            let c = outcome_view(p, &view, &env);
            assert_eq!(a, c, "view, pipeline {}, record {text}", p.name);
            errors += usize::from(a.contains("error"));
        }
        // The odd shapes reach the error paths too, not only the happy one.
        if p.name == "orders" {
            assert!(errors > 0 && errors < records.len(), "{errors} errors");
        }
    }
    assert!(kept_less, "projection keeps less than the whole record");
}
