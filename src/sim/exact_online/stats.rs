//! Call counters for `GET /_sim/stats`: per method and path pattern, per status, 429s sent.

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The counters.
#[derive(Default)]
pub struct Stats {
    total: u64,
    calls: BTreeMap<String, u64>,
    statuses: BTreeMap<u16, u64>,
    throttled: u64,
}

impl Stats {
    /// Counts one answered request.
    pub fn record(&mut self, pattern: &str, status: u16) {
        self.total += 1;
        *self.calls.entry(pattern.to_string()).or_default() += 1;
        *self.statuses.entry(status).or_default() += 1;
        if status == 429 {
            self.throttled += 1;
        }
    }

    /// The JSON of `/_sim/stats`.
    pub fn json(&self) -> Value {
        let statuses: BTreeMap<String, u64> = self.statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        json!({"total": self.total, "calls": self.calls, "status": statuses, "throttled": self.throttled})
    }
}

/// The pattern of a request path: the division and keys replaced, e.g.
/// `GET /api/v1/{division}/crm/Accounts(guid)`.
pub fn pattern(method: &str, path: &str) -> String {
    let mut out = String::new();
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if i == 3 && path.starts_with("/api/v1/") && seg.parse::<i64>().is_ok() {
            out.push_str("{division}");
        } else if let Some(p) = seg.find('(') {
            out.push_str(&seg[..p]);
            out.push_str(if seg.contains("guid") || seg.contains("%27") || seg.contains('\'') { "(guid)" } else { "(key)" });
        } else {
            out.push_str(seg);
        }
    }
    format!("{method} {out}")
}
