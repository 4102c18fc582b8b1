//! Two writers on the same systems: a record another process creates between this run's
//! existence check and its write is found by the re-check just before the write, and is
//! not created a second time.

use super::tests::{order, orders, run, world};
use crate::connectors::Connector;
use serde_json::json;

#[tokio::test]
async fn an_order_created_elsewhere_after_the_check_is_not_created_again() {
    let w = world(100);
    w.online
        .insert("SalesOrders", order(1, "known@x.nl", "Known BV", &["A"]));
    w.online
        .insert("SalesOrders", order(2, "known@x.nl", "Known BV", &["B"]));
    // Order 2 lands in Globe, written by another process, right after this run's check.
    let theirs = json!({"YourReference": "2", "OrderDebtor": "acc-1", "ID": "theirs"});
    let serde_json::Value::Object(theirs) = theirs else {
        unreachable!()
    };
    *w.globe.appears.lock() = Some(("SalesOrderHeader".into(), 1, theirs));
    let r = run(&w, &orders(), false).await.unwrap();
    let c = r.entities["SalesOrderHeader"];
    assert_eq!((c.created, c.skipped, c.failed), (1, 1, 0), "{r}");
    let headers = w.globe.records("SalesOrderHeader");
    let twos: Vec<_> = headers
        .iter()
        .filter(|h| h["YourReference"] == "2")
        .collect();
    assert_eq!(twos.len(), 1, "{headers:?}");
    assert_eq!(twos[0]["ID"], "theirs");
}

#[tokio::test]
async fn a_dry_run_counts_the_recheck_without_making_it() {
    let w = world(100);
    w.online
        .insert("SalesOrders", order(1, "known@x.nl", "Known BV", &["A"]));
    let before = w.globe.calls();
    let plan = run(&w, &orders(), true).await.unwrap();
    // The orders' check and the two requires; the re-check is counted, not made.
    assert_eq!(w.globe.calls().reads - before.reads, 3);
    // 3 reads, 1 re-check, a header and its line.
    assert_eq!(plan.calls(crate::connectors::System::ExactGlobe), 3 + 1 + 2);
}
