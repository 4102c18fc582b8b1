//! Authentication (Basic, NTLMv2) and administration selection.

use crate::*;

#[tokio::test]
async fn authentication_is_required() {
    let sim = start(GlobeSimConfig::default()).await;
    let url = format!("{}{SVC}/Account", sim.base_url());
    let http = Client::new();
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
    assert!(challenges.iter().any(|h| h.to_str().unwrap() == "NTLM"));
    let r = http
        .get(&url)
        .basic_auth("exflow", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .get(&url)
        .basic_auth("EXACT\\exflow", Some("exflow"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn ntlm_handshake_authenticates_the_connection() {
    use base64::Engine;
    use exflow::sim::exact_globe::ntlm;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sim = start(GlobeSimConfig::default()).await;
    let url = format!("{}{SVC}/VAT?$top=1", sim.base_url());
    for (password, expected) in [
        ("exflow", StatusCode::OK),
        ("wrong", StatusCode::UNAUTHORIZED),
    ] {
        // One client, one pooled connection: NTLM authenticates the connection.
        let http = Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let r = http
            .get(&url)
            .header(
                "Authorization",
                format!("NTLM {}", b64.encode(ntlm::client_negotiate())),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        r.bytes().await.unwrap();
        let challenge = b64
            .decode(challenge.strip_prefix("NTLM ").unwrap())
            .unwrap();
        let answer =
            ntlm::client_authenticate(&challenge, "EXACT", "exflow", password, [7; 8]).unwrap();
        let r = http
            .get(&url)
            .header("Authorization", format!("NTLM {}", b64.encode(answer)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
        r.bytes().await.unwrap();
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(
            r.status(),
            expected,
            "the connection stays (un)authenticated"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn administration_headers_select_the_database() {
    let config = GlobeSimConfig {
        administrations: vec![
            ("localhost".into(), "500".into()),
            ("SRV01\\EXACT".into(), "700".into()),
        ],
        ..Default::default()
    };
    let sim = start(config).await;
    let mut api = Api::new(&sim);
    // The path is case-insensitive; the wrapper and the metadata are OData v2 verbose.
    let (s, v) = api.get("account?$top=1").await;
    assert_eq!(s, StatusCode::OK);
    let acc = &v["d"]["results"][0];
    assert_eq!(acc["__metadata"]["type"], "Exact.Metadata.Entity.Account");
    assert!(acc["__metadata"]["uri"]
        .as_str()
        .unwrap()
        .contains("/Account(guid'"));
    assert_eq!(acc["CompanyCode"], "500");

    let r = api
        .http
        .get(format!("{}{SVC}/Account?$top=1", sim.base_url()))
        .basic_auth("exflow", Some("exflow"))
        .header("ServerName", "srv01\\exact")
        .header("DatabaseName", "700")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["d"]["results"][0]["CompanyCode"], "700");

    api.database = "999".into();
    let (s, v) = api.get("Account").await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        error_text(&v).contains("Cannot open database \"999\""),
        "{v}"
    );
    assert!(v["error"]["innererror"]["internalexception"]["message"].is_string());
    sim.shutdown().await;
}

#[test]
fn the_password_stays_out_of_debug_output() {
    let config = GlobeSimConfig {
        password: "s3cret-Pa55".into(),
        ..Default::default()
    };
    assert!(!format!("{config:?}").contains("s3cret-Pa55"));
}
