//! A raw HTTP client for the Exact Online simulator tests (`tests/sim_online_*.rs`): reqwest
//! against the simulator on 127.0.0.1 port 0, never exflow's own client.
#![allow(dead_code)]

use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use serde_json::Value;

/// Starts a simulator on a free loopback port.
pub async fn start(config: OnlineSimConfig) -> OnlineSim {
    OnlineSim::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sim starts")
}

/// A small division without tight rate limits.
pub fn small() -> OnlineSimConfig {
    OnlineSimConfig {
        orders: 130,
        customers: 20,
        products: 15,
        minutely_limit: 100_000,
        daily_limit: 1_000_000,
        ..OnlineSimConfig::default()
    }
}

/// A client with a valid token, as an app after consent.
pub struct Api {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/api/v1/{division}/`.
    pub base: String,
    token: String,
}

impl Api {
    /// A client for this simulator.
    pub fn new(sim: &OnlineSim) -> Api {
        let (token, _) = sim.issue_tokens();
        Api {
            http: reqwest::Client::new(),
            base: format!("{}/api/v1/{}/", sim.base_url(), sim.division()),
            token,
        }
    }

    /// GET a path below the division (or an absolute `__next` URL): status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.call(self.http.get(url)).await
    }

    /// POST (with `Prefer: return=representation`), PUT or DELETE a JSON body.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Prefer", "return=representation")
            .json(body);
        self.call(req).await
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The rows of a collection answer (`d.results` or the bare `d` array).
    pub fn rows(body: &Value) -> Vec<Value> {
        body.pointer("/d/results")
            .or_else(|| body.get("d"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
}

/// The `error.message.value` of an error answer.
pub fn message(v: &Value) -> &str {
    v.pointer("/error/message/value")
        .and_then(Value::as_str)
        .unwrap_or("<no error message>")
}
