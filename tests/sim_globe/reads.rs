//! Reads: paging, query options, padded-code filters, seed and fixtures.

use crate::writes::new_debtor;
use crate::*;

#[tokio::test]
async fn paging_follows_next_links_and_query_options_apply() {
    let sim = start(GlobeSimConfig {
        items: 23,
        ..Default::default()
    })
    .await;
    let api = Api::new(&sim);
    let mut url = "Item?$top=5&$select=ItemCode,SalesPrice&$orderby=ItemCode desc".to_string();
    let mut codes = Vec::new();
    let mut pages = 0;
    loop {
        let (s, v) = api.get(&url).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        pages += 1;
        for r in v["d"]["results"].as_array().unwrap() {
            assert_eq!(
                r.as_object().unwrap().len(),
                3,
                "only the selected fields: {r}"
            );
            codes.push(r["ItemCode"].as_str().unwrap().to_string());
        }
        match v["d"]["__next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(codes.len(), 23);
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(codes, sorted);
    assert_eq!(codes.len(), sim.records("Item").len());

    let skipped = api.results("Item?$orderby=ItemCode&$skip=20").await;
    assert_eq!(skipped.len(), 3);
    let (_, v) = api.get("Item?$top=2&$inlinecount=allpages").await;
    assert_eq!(v["d"]["__count"], "23");
    let r = api.req(Method::GET, "$metadata").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csdl = r.text().await.unwrap();
    assert!(
        csdl.contains("<EntityType Name=\"SalesOrderLine\"><Key><PropertyRef Name=\"ID\"/></Key>")
    );
    assert!(csdl.contains(
        "<Property Name=\"Itemcode\" Type=\"Edm.String\" Nullable=\"true\" MaxLength=\"30\"/>"
    ));
    let (s, v) = api.get("").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["d"]["EntitySets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "SalesOrderLine"));
    let (s, v) = api.get("Item?$select=Nope").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        error_text(&v).contains("No property 'Nope' exists in type 'Exact.Metadata.Entity.Item'")
    );
    let stats = sim.stats();
    assert_eq!(stats["calls"]["GET /services/Exact.Entity.REST.EG/Item"], 8);
    sim.shutdown().await;
}

#[tokio::test]
async fn filters_need_padded_codes() {
    let sim = start(GlobeSimConfig::default()).await;
    let api = Api::new(&sim);
    let email = "inkoop@korenschoof.nl";
    let hits = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("EmailAddress eq '{email}'"))
        ))
        .await;
    assert_eq!(hits.len(), 1);
    let acc = &hits[0];
    let code = acc["DebtorCode"].as_str().unwrap();
    assert_eq!(code.len(), 20);
    assert!(code.starts_with(' '));
    let number = acc["DebtorNumber"].as_str().unwrap();
    assert_eq!(number.len(), 6);
    assert_eq!(acc["AccountCode"], acc["DebtorCode"]);

    let unpadded = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("DebtorCode eq '{}'", code.trim()))
        ))
        .await;
    assert!(unpadded.is_empty(), "an unpadded code finds nothing");
    let padded = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("DebtorCode eq '{code}'"))
        ))
        .await;
    assert_eq!(padded.len(), 1);
    let either = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("(DebtorNumber eq '{number}' or AccountName eq 'Nobody') and substringof('korenschoof', EmailAddress)"))
        ))
        .await;
    assert_eq!(either.len(), 1);

    // Keys by GUID, with or without braces.
    let id = acc["ID"].as_str().unwrap();
    for key in [
        format!("guid'{id}'"),
        format!("guid'{{{}}}'", id.to_uppercase()),
    ] {
        let (s, v) = api.get(&format!("Account({key})")).await;
        assert_eq!(s, StatusCode::OK, "{key}: {v}");
        assert_eq!(v["d"]["ID"], id);
    }
    let by_id = api
        .results(&format!(
            "Account?$filter={}",
            enc(&format!("ID eq guid'{{{id}}}'"))
        ))
        .await;
    assert_eq!(by_id.len(), 1);

    let (s, v) = api
        .get(&format!("Account?$filter={}", enc("Itemcode eq 'X'")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_text(&v),
        "No property 'Itemcode' exists in type 'Exact.Metadata.Entity.Account' at position 0."
    );
    let (s, _) = api
        .get("Account(guid'00000000-0000-4000-8000-000000000000')")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_seed_decides_the_data() {
    let a = start(GlobeSimConfig::default()).await;
    let b = start(GlobeSimConfig::default()).await;
    let c = start(GlobeSimConfig {
        seed: 7,
        ..Default::default()
    })
    .await;
    let strip = |sim: &GlobeSim| -> Vec<(Value, Value, Value)> {
        sim.records("Account")
            .into_iter()
            .map(|r| {
                (
                    r["ID"].clone(),
                    r["AccountName"].clone(),
                    r["EmailAddress"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&a), strip(&b));
    assert_ne!(strip(&a), strip(&c));
    assert_eq!(a.records("Account").len(), 12);
    assert_eq!(a.records("Item").len(), 20);
    for sim in [a, b, c] {
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn fixtures_and_insert() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Item.json"),
        r#"[{"ItemCode": "FIX-1", "CountrySpecificDescription": "Uit fixture", "SalesPrice": 10, "SalesVATCode": "2"}]"#,
    )
    .unwrap();
    let sim = start(GlobeSimConfig {
        fixtures: Some(dir.path().to_path_buf()),
        items: 0,
        debtors: 0,
        ..Default::default()
    })
    .await;
    assert_eq!(sim.records("Item").len(), 1);
    assert!(sim.records("Account").is_empty());
    let acc = sim
        .insert("Account", new_debtor("Via API", "api@example.nl"))
        .unwrap();
    assert_eq!(acc["DebtorNumber"], "     1");
    assert_eq!(acc["DebtorCode"], format!("{}1", " ".repeat(19)));
    assert!(sim
        .insert("Account", json!({"Nope": 1}))
        .unwrap_err()
        .contains("No property 'Nope'"));
    sim.shutdown().await;

    std::fs::write(
        dir.path().join("Account.json"),
        r#"[{"AccountName": "zonder rest"}]"#,
    )
    .unwrap();
    let err = GlobeSim::start(
        GlobeSimConfig {
            fixtures: Some(dir.path().to_path_buf()),
            ..Default::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("Account.json"), "{err}");
}
