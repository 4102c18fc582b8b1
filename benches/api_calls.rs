//! API-call efficiency of the orders flow (`cargo bench --bench api_calls`): 1,000 open orders
//! of 1 to 10 product lines (plus a shipping line on about two in three), 10% of them from
//! customers Exact Globe does not know yet, run once between the two simulators. Prints the
//! calls per order each simulator counted (`/_sim/stats`) against the targets, and the
//! wall time. It measures calls, not time, so it is a plain program, not a criterion bench.
//!
//! The products flow is measured first, over 1,000 items (`EXFLOW_BENCH_ITEMS=N`): the sync
//! feed of items lacks `StandardSalesPrice`, so each page costs one batched read more.
//!
//! `EXFLOW_BENCH_ORDERS=N` changes the number of orders.

use exflow::cli::demo::calls::{delta, OrderCalls, GLOBE_TARGET, ONLINE_TARGET};
use exflow::cli::demo::project::{export_credentials, write_project, Sims};
use exflow::cli::demo::sim_configs;
use exflow::engine::{run_pipeline, Decision, RunOptions};
use exflow::sim::exact_globe::GlobeSim;
use exflow::sim::exact_online::OnlineSim;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;
use std::time::Instant;

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn left(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Opens every order (the seed closes and invoices the older ones): the flow takes open
/// orders only, and the benchmark wants all of them taken. Returns how many stayed closed.
fn open_all(online: &OnlineSim) -> usize {
    let mut refused = 0;
    for o in online.records("SalesOrders") {
        if o["Status"] == 12 {
            continue;
        }
        let id = text(&o["OrderID"]);
        let open = json!({"Status": 12, "DeliveryStatus": 12, "InvoiceStatus": 12});
        if online.update("SalesOrders", &id, open).is_err() {
            refused += 1;
        }
    }
    refused
}

/// Puts the customers of about 90% of the open orders into Globe as debtors, so that 10% of
/// the orders come from new customers (the ones with the fewest orders: the most customer
/// creations). Returns (orders, their lines, orders from new customers, new customers).
fn existing_customers(online: &OnlineSim, globe: &GlobeSim) -> (usize, Vec<usize>, usize, usize) {
    let lines = online.records("SalesOrderLines");
    let mut lines_per_order: BTreeMap<String, usize> = BTreeMap::new();
    for l in &lines {
        *lines_per_order.entry(text(&l["OrderID"])).or_default() += 1;
    }
    let mut per_customer: BTreeMap<String, usize> = BTreeMap::new();
    let mut counts = Vec::new();
    for o in online.records("SalesOrders") {
        let n = lines_per_order
            .get(&text(&o["OrderID"]))
            .copied()
            .unwrap_or(0);
        if o["Status"] != 12 || n == 0 {
            continue;
        }
        counts.push(n);
        *per_customer.entry(text(&o["OrderedBy"])).or_default() += 1;
    }
    let orders = counts.len();
    let in_globe: HashSet<String> = globe
        .records("Account")
        .iter()
        .map(|a| text(&a["EmailAddress"]).to_lowercase())
        .collect();
    let accounts = online.records("Accounts");
    let email_of = |id: &str| {
        accounts
            .iter()
            .find(|a| text(&a["ID"]) == id)
            .map(|a| text(&a["Email"]).to_lowercase())
            .unwrap_or_default()
    };
    let mut by_orders: Vec<(usize, String)> = per_customer
        .iter()
        .map(|(id, n)| (*n, id.clone()))
        .collect();
    by_orders.sort();
    let mut shared: BTreeMap<String, usize> = BTreeMap::new();
    for id in per_customer.keys() {
        *shared.entry(email_of(id)).or_default() += 1;
    }
    let mut new = HashSet::new();
    let mut new_orders = 0;
    for (n, id) in &by_orders {
        if new_orders + n > orders / 10 {
            continue;
        }
        // A new customer: Globe does not know the e-mail, and no other account shares it.
        let email = email_of(id);
        if !in_globe.contains(&email) && shared.get(&email) == Some(&1) {
            new_orders += n;
            new.insert(id.clone());
        }
    }
    for (i, (id, _)) in per_customer.iter().enumerate() {
        let Some(a) = accounts.iter().find(|a| text(&a["ID"]) == *id) else {
            continue;
        };
        let email = text(&a["Email"]).to_lowercase();
        if new.contains(id) || in_globe.contains(&email) {
            continue;
        }
        let name = text(&a["Name"]);
        let (first, last) = name
            .split_once(' ')
            .unwrap_or((name.as_str(), name.as_str()));
        let debtor = json!({
            "DebtorNumber": (20001 + i).to_string(),
            "AccountName": left(&name, 50),
            "CustomerType": "C", "CustomerStatus": "A",
            "CompanySize": "UNKNOWN", "SectorCode": "UNKNOWN", "Rating": "N",
            "EmailAddress": email,
            "ContactFirstName": left(first, 30), "ContactLastName": left(last, 50),
            "ContactFullName": left(&name, 100), "ContactEmail": email,
            "ContactTitle": "DHR", "ContactGender": "O", "PaymentCondition": "30",
            "DeliveryCountry": text(&a["Country"]), "MailingCountry": text(&a["Country"]),
            "PostalCountry": text(&a["Country"]),
            "InvoiceAddress": left(&text(&a["AddressLine1"]), 100),
            "InvoiceAddressPostCode": text(&a["Postcode"]),
            "InvoiceCity": text(&a["City"]),
            "InvoiceCountry": text(&a["Country"]),
        });
        if let Err(e) = globe.insert("Account", debtor) {
            eprintln!("debtor {email} not put in Globe: {e}");
        }
    }
    // Accounts may share an e-mail address: they are one debtor in Globe.
    let existing: HashSet<String> = per_customer
        .keys()
        .filter(|id| !new.contains(*id))
        .map(|id| email_of(id))
        .collect();
    let new_emails: HashSet<String> = new
        .iter()
        .map(|id| email_of(id))
        .filter(|e| !existing.contains(e))
        .collect();
    (orders, counts, new_orders, new_emails.len())
}

fn main() -> ExitCode {
    let orders: usize = std::env::var("EXFLOW_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let (mut online, globe) = sim_configs(42, orders);
    online.customers = (orders / 4).clamp(12, 1000);
    online.products = std::env::var("EXFLOW_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    online.daily_limit = 5000;
    // Before the runtime's threads exist: the project reads credentials from the environment.
    export_credentials(&online, &globe);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(online, globe)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("api_calls: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(
    online: exflow::sim::exact_online::OnlineSimConfig,
    globe: exflow::sim::exact_globe::GlobeSimConfig,
) -> Result<bool, String> {
    let sims = Sims::start(online, globe)
        .await
        .map_err(|e| e.to_string())?;
    let closed = open_all(&sims.online);
    let (orders, lines, new_orders, new_customers) = existing_customers(&sims.online, &sims.globe);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let project = write_project(dir.path(), &sims).map_err(|e| e.to_string())?;
    let (products, flow) = match (project.pipeline("products"), project.pipeline("orders")) {
        (Some(p), Some(o)) => (p, o),
        _ => return Err("the standard pipelines are missing".into()),
    };
    let conns = exflow::cli::connect::connectors(&project, &[products, flow])
        .await
        .map_err(|e| e.to_string())?;
    let store = exflow::cli::connect::state_store(&project).map_err(|e| e.to_string())?;
    // The items first: every order's products exist in Globe. Exact Online calls per item.
    let online_before = sims.online.stats();
    let items = run_pipeline(&project, products, &conns, &store, RunOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let item_calls = total_calls(&online_before, &sims.online.stats());
    let per_item = item_calls as f64 / items.records_read.max(1) as f64;
    println!("{items}");
    println!(
        "  products: {} items, {item_calls} Exact Online calls ({} of them for fields the sync feed lacks): {per_item:.4} per item (target <= {ONLINE_TARGET})",
        items.records_read, items.complement_calls
    );
    for (pattern, n) in delta(&online_before, &sims.online.stats()) {
        println!("    {n:>6}  {pattern}");
    }

    let before = (sims.online.stats(), sims.globe.stats());
    let started = Instant::now();
    let options = RunOptions {
        keep_decisions: true,
        ..RunOptions::default()
    };
    let report = run_pipeline(&project, flow, &conns, &store, options)
        .await
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    let after = (sims.online.stats(), sims.globe.stats());
    let taken = report
        .decisions
        .iter()
        .filter(|d| d.entity == report.entity)
        .filter(|d| !matches!(&d.decision, Decision::Skip { reason } if reason.contains("filtered out")))
        .count() as u64;
    let calls = OrderCalls::measure(
        taken,
        report.records_read,
        &before.0,
        &after.0,
        &before.1,
        &after.1,
    );

    let (min, max) = (
        lines.iter().min().copied().unwrap_or(0),
        lines.iter().max().copied().unwrap_or(0),
    );
    let total: usize = lines.iter().sum();
    println!(
        "api_calls: {orders} open orders ({closed} stayed closed), {min} to {max} lines each, \
         {total} lines; {new_orders} orders ({:.1}%) from {new_customers} customer e-mail addresses new to Globe",
        100.0 * new_orders as f64 / orders.max(1) as f64
    );
    println!("{report}");
    println!("{calls}");
    println!("  Exact Online calls:");
    for (pattern, n) in delta(&before.0, &after.0) {
        println!("    {n:>6}  {pattern}");
    }
    println!("  Exact Globe calls:");
    for (pattern, n) in delta(&before.1, &after.1) {
        println!("    {n:>6}  {pattern}");
    }
    println!(
        "  wall time of the orders run: {:.2}s",
        elapsed.as_secs_f64()
    );
    println!(
        "  targets: Exact Online <= {ONLINE_TARGET} per order: {:.4}; Exact Globe beyond the protocol's writes <= {GLOBE_TARGET} per order: {:.4}",
        calls.online_per_order(),
        calls.globe_extra_per_order()
    );
    sims.shutdown().await;
    Ok(report.total_failed() == 0 && items.total_failed() == 0 && per_item <= ONLINE_TARGET)
}

/// Calls a simulator answered between two `/_sim/stats` readings.
fn total_calls(before: &Value, after: &Value) -> u64 {
    delta(before, after).values().sum()
}
