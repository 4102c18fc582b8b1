//! The standard orders pipeline's map over one realistic order of 10 lines, with its joined
//! account, contact, delivery address, shipping method and resolved customer.
//! `cargo bench --bench orders_map`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use exflow::lang::View;
use exflow::pipeline::{
    self,
    apply::{apply_map, passes_where, passes_where_view, MapEnv, MapWriter},
    sparse::Projection,
};
use serde_json::Value;
use std::path::Path;

// As in the binary: mapping allocates many small strings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    // What `exflow map` does per record: scan only the fields read, evaluate over the
    // projected record, write the JSON line.
    let projection = Projection::new(&orders.reads);
    let writer = MapWriter::new(&orders.map);
    let mut line = Vec::with_capacity(4096);
    group.bench_function("scan, map and write one order (exflow map)", |b| {
        b.iter(|| {
            let rec = projection.scan(black_box(text.as_bytes())).expect("json");
            let record = View::of(&rec);
            let bindings: Vec<(&str, View)> = names.iter().map(|n| (*n, record.field(n))).collect();
            let ctx = env.view_context(record, &bindings);
            let ok = passes_where_view(orders, &ctx).expect("where");
            line.clear();
            writer.write(&ctx, &mut line).expect("map");
            black_box((ok, line.len()))
        })
    });
    group.finish();
}

criterion_group!(benches, orders_map);
criterion_main!(benches);
