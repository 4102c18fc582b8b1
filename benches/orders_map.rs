//! The standard orders pipeline's map over one realistic order of 10 lines, with its joined
//! account, contact, delivery address, shipping method and resolved customer.
//! `cargo bench --bench orders_map`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use exflow::pipeline::{
    self,
    apply::{apply_map, passes_where, MapEnv},
};
use serde_json::Value;
use std::path::Path;

fn orders_map(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (project, diags) = pipeline::load(&[root.join("pipelines")], false);
    let project = match project {
        Some(p) => p,
        None => panic!("pipelines do not validate: {diags}"),
    };
    let orders = project.pipeline("orders").expect("orders pipeline");
    let text =
        std::fs::read_to_string(root.join("benches/compare/order.json")).expect("order.json");
    let order: Value = serde_json::from_str(&text).expect("order json");
    let vars = project.vars_for("orders");
    let env = MapEnv {
        vars: &vars,
        tables: &project.tables,
        scripts: project.scripts.as_ref(),
    };
    let names = ["account", "contact", "delivery", "shipping", "customer"];
    let bindings: Vec<(&str, &Value)> = names
        .iter()
        .map(|n| (*n, order.get(*n).unwrap_or(&Value::Null)))
        .collect();

    let mut group = c.benchmark_group("orders");
    group.throughput(Throughput::Elements(1));
    group.bench_function("map one 10-line order", |b| {
        b.iter(|| {
            let ok = passes_where(orders, black_box(&order), &bindings, &env).expect("where");
            let mapped = apply_map(&orders.map, black_box(&order), &bindings, &env).expect("map");
            black_box((ok, mapped))
        })
    });
    group.bench_function("parse, map and print one order", |b| {
        b.iter(|| {
            let order: Value = serde_json::from_str(black_box(&text)).expect("json");
            let bindings: Vec<(&str, &Value)> = names
                .iter()
                .map(|n| (*n, order.get(*n).unwrap_or(&Value::Null)))
                .collect();
            let mapped = apply_map(&orders.map, &order, &bindings, &env).expect("map");
            black_box(serde_json::to_vec(&mapped).expect("json"))
        })
    });
    group.finish();
}

criterion_group!(benches, orders_map);
criterion_main!(benches);
