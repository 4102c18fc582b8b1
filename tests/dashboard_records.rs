//! The dashboard's record page shows the field diff of an update (and `exflow activity
//! --show` carries it too), and a Retry clicked while the scheduler (or another process)
//! runs the same pipeline waits its turn: refused with a reason, nothing written twice.

mod serve_support;

use exflow::sim::exact_globe::GlobeSimConfig;
use exflow::state::{SqliteStore, StateStore};
use serde_json::Value;
use serve_support::dashboard::{client, csrf_of, page_text};
use serve_support::*;

/// Clicks Retry on one record and returns the message the redirect shows.
async fn retry(http: &reqwest::Client, base: &str, key: &str, csrf: &str) -> String {
    let r = http
        .post(format!("{base}/failed/retry"))
        .form(&[("pipeline", "orders"), ("key", key), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let page = page_text(http, &format!("{base}{to}")).await;
    page.split("id=\"message\">")
        .nth(1)
        .and_then(|m| m.split("</p>").next())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_update_shows_each_changed_field_before_and_after() {
    let env = env(
        small_online(2),
        GlobeSimConfig::default(),
        &[("products", None)],
        "",
    )
    .await;
    let dir = env.dir.path();
    let (code, out, err) = exflow(&["run", "products"], dir);
    assert_eq!(code, 0, "{out}{err}");
    // An item Globe has, renamed in Exact Online.
    let globe_codes: Vec<String> = env
        .globe
        .records("Item")
        .iter()
        .map(|i| text(&i["ItemCode"]))
        .collect();
    let item = env
        .online
        .records("Items")
        .into_iter()
        .find(|i| globe_codes.contains(&text(&i["Code"])))
        .expect("an item written to Globe");
    let (code_of_item, before) = (text(&item["Code"]), text(&item["Description"]));
    assert!(!before.is_empty());
    let after = "Renamed in Exact Online";
    env.online
        .update(
            "Items",
            &text(&item["ID"]),
            serde_json::json!({ "Description": after }),
        )
        .unwrap();
    let (code, out, err) = exflow(&["run", "products"], dir);
    assert_eq!(code, 0, "{out}{err}");

    let (_, json, _) = exflow(
        &[
            "activity",
            "products",
            "--record",
            &code_of_item,
            "--outcome",
            "updated",
            "--show",
            "--format",
            "json",
        ],
        dir,
    );
    let json: Value = serde_json::from_str(&json).unwrap();
    let line = json["activity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["entity"] == "Item")
        .unwrap_or_else(|| panic!("the update of {code_of_item}: {json}"))
        .clone();
    let changes = &line["changes"];
    for field in ["CountrySpecificDescription", "Description0"] {
        assert_eq!(changes[field]["old"], before.as_str(), "{changes}");
        assert_eq!(changes[field]["new"], after, "{changes}");
    }
    // What was sent holds the new values only; the diff keeps the old ones beside them.
    assert_eq!(line["sent_payload"]["Description0"], after);

    let serve = Serve::start(dir);
    let page = page_text(&client(), &format!("{}/records/{}", serve.url, line["id"])).await;
    let table = page
        .split("<table id=\"changes\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no changes table: {page}"));
    let row = table
        .split("<tr>")
        .find(|r| r.contains("<code>Description0</code>"))
        .unwrap_or_else(|| panic!("no Description0 row: {table}"));
    assert!(
        row.contains(&format!("<td class=\"old\">{before}</td>"))
            && row.contains(&format!("<td class=\"new\">{after}</td>")),
        "{row}"
    );
    // A create has no diff to show.
    let (_, created, _) = exflow(
        &[
            "activity",
            "products",
            "--outcome",
            "created",
            "--format",
            "json",
        ],
        dir,
    );
    let created: Value = serde_json::from_str(&created).unwrap();
    let first = &created["activity"][0]["id"];
    let page = page_text(&client(), &format!("{}/records/{first}", serve.url)).await;
    assert!(!page.contains("id=\"changes\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_while_the_pipeline_runs_waits_and_writes_nothing_twice() {
    // Orders before products: Globe lacks their items, so they fail.
    let env = env(
        small_online(6),
        GlobeSimConfig::default(),
        &[("products", None), ("orders", None)],
        "",
    )
    .await;
    let dir = env.dir.path();
    let (code, _, _) = exflow(&["run", "orders"], dir);
    assert_ne!(code, 0, "some orders should fail");
    let (code, out, err) = exflow(&["run", "products"], dir);
    assert_eq!(code, 0, "{out}{err}");
    let (_, list, _) = exflow(&["failed", "list", "orders", "--format", "json"], dir);
    let list: Value = serde_json::from_str(&list).unwrap();
    let failed = &list["failed"][0];
    let (key, number) = (text(&failed["source_key"]), text(&failed["business_key"]));
    assert!(!globe_orders(&env.globe).contains_key(&number));

    let serve = Serve::start(dir);
    let http = client();
    let html = page_text(&http, &format!("{}/failed", serve.url)).await;
    let csrf = csrf_of(&html);

    // Another run of orders holds the pipeline's lock (as a scheduled run or a second
    // process does).
    let other = SqliteStore::open(&dir.join(".exflow/state.db"), false).unwrap();
    let running = other.lock_pipeline("orders").unwrap();
    let message = retry(&http, &serve.url, &key, &csrf).await;
    assert!(message.contains("already running"), "{message}");
    assert!(
        !globe_orders(&env.globe).contains_key(&number),
        "written while another run held orders"
    );
    let (_, still, _) = exflow(&["failed", "list", "orders", "--format", "json"], dir);
    assert!(still.contains(&key), "the record must still wait: {still}");

    drop(running);
    drop(other);
    let message = retry(&http, &serve.url, &key, &csrf).await;
    assert!(message.contains("1 created"), "{message}");
    assert_eq!(globe_orders(&env.globe).get(&number), Some(&1));
    // A second click finds nothing waiting and writes nothing.
    retry(&http, &serve.url, &key, &csrf).await;
    assert_eq!(globe_orders(&env.globe).get(&number), Some(&1));
    let (_, after, _) = exflow(&["failed", "list", "orders", "--format", "json"], dir);
    assert!(!after.contains(&key), "{key} {number}: {after}");
}
