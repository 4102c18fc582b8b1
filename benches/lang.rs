//! The orders mapping (about ten header fields, table lookups, interpolation, a `map` over
//! ten lines building objects) over a realistic Exact Online order: evaluation alone, and
//! end to end with JSON parse and print, as the engine does per record.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use exflow::lang::{compile, parse, Context, Tables};
use serde_json::{json, Value};

const MAPPING: &str = r#"{
  OrderDebtor: vars.default_debtor ?? customer.DebtorNumber,
  YourReference: text(OrderNumber),
  Description: "Order {OrderNumber} for {customer.Name}" | left(60),
  OrderDate: date(OrderDate),
  DeliveryDate: date(DeliveryDate) ?? date(OrderDate),
  PaymentCondition: table('payment_conditions', PaymentCondition),
  ShippingMethod: table('shipping_methods', ShippingMethod) ?? 'STD',
  Currency: Currency ?? 'EUR',
  Warehouse: vars.warehouse,
  Remarks: trim(Remarks ?? ''),
  Lines: SalesOrderLines | map(line => {
    Itemcode: line.Item,
    Description: line.Description,
    Quantity: line.Quantity,
    Price: line.UnitPrice,
    Discount: line.Discount ?? 0,
    VATCode: table('vat_by_country', customer.Country) ?? line.VATCode,
    DeliveryDate: date(line.DeliveryDate) ?? null
  })
}"#;

fn order(n: i64) -> Value {
    let lines: Vec<Value> = (0..10)
        .map(|i| {
            json!({
                "ID": format!("5b8a7c2e-1d3f-4e6a-9b0c-{:012}", n * 100 + i),
                "Item": format!("0c6b2f1e-9a8d-4c7b-8e5f-{:012}", i),
                "ItemCode": format!("ART-{:05}", 1000 + i),
                "Description": format!("Office chair model {i}, black"),
                "Quantity": 1 + i,
                "UnitPrice": 49.95 + i as f64,
                "Discount": 0.0,
                "VATCode": "2",
                "VATPercentage": 0.21,
                "AmountDC": (1 + i) as f64 * (49.95 + i as f64),
                "DeliveryDate": "/Date(1709251200000)/",
                "UnitCode": "pc",
                "Notes": null
            })
        })
        .collect();
    json!({
        "OrderID": format!("9f1c2d3e-4b5a-6c7d-8e9f-{:012}", n),
        "OrderNumber": 10000 + n,
        "OrderDate": "/Date(1709251200000)/",
        "DeliveryDate": "/Date(1709856000000)/",
        "OrderedBy": "a1b2c3d4-0000-0000-0000-000000000001",
        "OrderedByName": "Acme B.V.",
        "Description": "Webshop order",
        "Currency": "EUR",
        "PaymentCondition": "30",
        "ShippingMethod": "PostNL",
        "Remarks": "  Leave at reception ",
        "Status": 12,
        "AmountDC": 1234.5,
        "Division": 123456,
        "Timestamp": 8123456789i64,
        "SalesOrderLines": lines
    })
}

fn tables() -> Tables {
    let mut t = Tables::new();
    t.insert("payment_conditions", [("30".into(), json!("30D")), ("14".into(), json!("14D"))].into_iter().collect(), Some(json!("00")));
    t.insert("shipping_methods", [("PostNL".into(), json!("PNL"))].into_iter().collect(), None);
    t.insert("vat_by_country", [("NL".into(), json!("2")), ("BE".into(), json!("5"))].into_iter().collect(), None);
    t
}

fn bench(c: &mut Criterion) {
    let program = compile(&parse(MAPPING).expect("mapping parses")).expect("mapping compiles");
    let tables = tables();
    let vars = json!({ "warehouse": "1" });
    let customer = json!({ "DebtorNumber": 20001, "Name": "Acme B.V.", "Country": "NL" });
    let bindings = [("customer", &customer)];
    let record = order(1);
    let text = serde_json::to_string(&record).expect("serialises");

    let mut g = c.benchmark_group("orders_mapping");
    g.throughput(Throughput::Elements(1));
    g.bench_function("eval", |b| {
        b.iter(|| {
            let ctx = Context { record: &record, vars: &vars, tables: &tables, scripts: None, bindings: &bindings };
            program.eval(&ctx).expect("evaluates")
        })
    });
    g.bench_function("parse_eval_print", |b| {
        b.iter_batched_ref(
            Vec::new,
            |out: &mut Vec<u8>| {
                let record: Value = serde_json::from_str(&text).expect("parses");
                let ctx = Context { record: &record, vars: &vars, tables: &tables, scripts: None, bindings: &bindings };
                let v = program.eval(&ctx).expect("evaluates");
                serde_json::to_writer(&mut *out, &v).expect("prints");
                out.push(b'\n');
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
