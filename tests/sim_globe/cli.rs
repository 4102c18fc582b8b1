//! `exflow sim` starts both simulators.

use crate::*;

#[tokio::test]
async fn exflow_sim_prints_both_simulators_and_serves_globe() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args([
            "sim",
            "--online",
            "127.0.0.1:0",
            "--globe",
            "127.0.0.1:0",
            "--globe-items",
            "3",
        ])
        .args([
            "--globe-admin",
            "localhost/500",
            "--globe-admin",
            "SRV01\\EXACT/700",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .take(2)
            .map(|l| l.unwrap())
            .collect()
    })
    .await
    .unwrap();
    assert!(
        lines[0].starts_with("exact_online http://127.0.0.1:"),
        "{lines:?}"
    );
    let url = lines[1].strip_prefix("exact_globe ").unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{lines:?}");
    let r = Client::new()
        .get(format!("{url}{SVC}/Item"))
        .basic_auth("exflow", Some("exflow"))
        .header("ServerName", "SRV01\\EXACT")
        .header("DatabaseName", "700")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["d"]["results"].as_array().unwrap().len(), 3);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args([
            "sim",
            "--online",
            "127.0.0.1:0",
            "--globe",
            "127.0.0.1:0",
            "--globe-faults",
            "explode=1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--globe-faults"));
}
