//! Building HTML: escaping every value that came from data, the page layout, and the
//! inline SVG chart of runs.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use std::fmt::Write;

/// The stylesheet, in the binary.
const CSS: &str = include_str!("style.css");

/// `GET /dashboard.css`.
pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS)
}

/// `s` escaped for text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` escaped for a URL's path segment or query value.
pub fn url(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A whole page: the header with its links, the search box, then `body`.
pub fn page(title: &str, logout: bool, body: &str) -> Html<String> {
    let out = if logout {
        "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"logout\" \
         value=\"1\"><button>Log out</button></form>"
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t} · exflow</title><link rel=\"stylesheet\" href=\"/dashboard.css\"></head><body>\
         <header><strong>exflow</strong><a href=\"/\">Overview</a><a href=\"/failed\">Failed records</a><a href=\"/connections\">Connections</a>\
         <form method=\"get\" action=\"/search\"><input id=\"search\" name=\"q\" \
         placeholder=\"order number, item code, e-mail\"> <button id=\"search-go\">Search</button></form>{out}</header>\
         <main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title)
    ))
}

/// One run's numbers for the chart.
pub struct Bar {
    /// The run id.
    pub run: i64,
    /// Records handled.
    pub records: u64,
    /// API calls made.
    pub calls: u64,
}

/// Two rows of bars, records and calls per run, oldest left; each bar links to its run.
pub fn chart(bars: &[Bar]) -> String {
    if bars.is_empty() {
        return "<p>No runs yet.</p>".into();
    }
    let (w, h, gap) = (14u64, 60u64, 4u64);
    let width = (w + gap) * bars.len() as u64 + 110;
    let max_r = bars.iter().map(|b| b.records).max().unwrap_or(0).max(1);
    let max_c = bars.iter().map(|b| b.calls).max().unwrap_or(0).max(1);
    let mut s = format!(
        "<svg role=\"img\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">\
         <text x=\"0\" y=\"12\">records (max {max_r})</text>\
         <text x=\"0\" y=\"{}\">calls (max {max_c})</text>",
        2 * h + 40,
        2 * h + 40,
        h + 32
    );
    for (i, b) in bars.iter().enumerate() {
        let x = 110 + (w + gap) * i as u64;
        let rh = (b.records * h / max_r).max(1);
        let ch = (b.calls * h / max_c).max(1);
        let _ = write!(
            s,
            "<a href=\"/runs/{run}\"><title>run {run}: {r} records, {c} calls</title>\
             <rect x=\"{x}\" y=\"{ry}\" width=\"{w}\" height=\"{rh}\" fill=\"#3c78d8\"/>\
             <rect x=\"{x}\" y=\"{cy}\" width=\"{w}\" height=\"{ch}\" fill=\"#e69138\"/></a>",
            run = b.run,
            r = b.records,
            c = b.calls,
            ry = 16 + h - rh,
            cy = 36 + 2 * h - ch,
        );
    }
    s.push_str("</svg>");
    s
}

/// A JSON value, pretty and escaped, in a `<pre>` (a dash when absent).
pub fn json_block(id: &str, v: Option<&serde_json::Value>) -> String {
    let text = match v {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => "-".into(),
    };
    format!("<pre id=\"{id}\">{}</pre>", esc(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_open_a_tag() {
        assert_eq!(
            esc("<script>\"x\" & 'y'"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
        assert_eq!(url("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn the_chart_links_every_run() {
        let bars = [
            Bar {
                run: 1,
                records: 10,
                calls: 3,
            },
            Bar {
                run: 2,
                records: 0,
                calls: 0,
            },
        ];
        let svg = chart(&bars);
        assert!(svg.contains("/runs/1") && svg.contains("/runs/2"));
    }
}
