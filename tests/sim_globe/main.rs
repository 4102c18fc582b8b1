//! The Exact Globe simulator seen by a plain HTTP client (reqwest, not the exflow client):
//! real HTTP on 127.0.0.1 port 0. One test binary, one file per concept.

mod access;
mod cli;
mod documents;
mod faults;
mod reads;
mod writes;

use exflow::sim::exact_globe::{Faults, GlobeSim, GlobeSimConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

pub const SVC: &str = "/services/Exact.Entity.REST.EG";

pub async fn start(config: GlobeSimConfig) -> GlobeSim {
    GlobeSim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub struct Api {
    pub http: Client,
    pub base: String,
    pub database: String,
}

impl Api {
    pub fn new(sim: &GlobeSim) -> Self {
        Api {
            http: Client::new(),
            base: sim.base_url(),
            database: "500".into(),
        }
    }

    pub fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{SVC}/{path}", self.base)
        };
        self.http
            .request(method, url)
            .basic_auth("exflow", Some("exflow"))
            .header("ServerName", "localhost")
            .header("DatabaseName", &self.database)
            .header("Accept", "application/json")
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.req(Method::GET, path).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(&self, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .req(Method::from_bytes(method.as_bytes()).unwrap(), path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        let text = r.text().await.unwrap();
        (s, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn results(&self, path: &str) -> Vec<Value> {
        let (s, v) = self.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v["d"]["results"].as_array().cloned().unwrap_or_default()
    }
}

pub fn error_text(v: &Value) -> String {
    v["error"]["message"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
