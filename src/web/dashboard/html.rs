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

/// Calls per day to each system over the last days, oldest left, with the Exact Online daily
/// limit drawn as a line when known: how close the runs come to the budget.
pub fn daily_calls_chart(days: &[crate::state::DayUsage], online_limit: Option<u64>) -> String {
    if days.iter().all(|d| d.runs == 0) {
        return "<p>No runs in the last days.</p>".into();
    }
    let (w, gap, h, left) = (12u64, 10u64, 90u64, 40u64);
    let width = left + (2 * w + gap) * days.len() as u64;
    let busiest = days
        .iter()
        .map(|d| d.exact_online_calls.max(d.exact_globe_calls))
        .max()
        .unwrap_or(0);
    // Scale to the limit only when the runs come near it, or the bars would be invisible.
    let top = match online_limit {
        Some(l) if busiest * 4 >= l => busiest.max(l),
        _ => busiest,
    }
    .max(1);
    let mut s = format!(
        "<svg id=\"daily-calls\" role=\"img\" width=\"{width}\" height=\"{hh}\" viewBox=\"0 0 {width} {hh}\">\
         <text x=\"0\" y=\"12\">calls per day (max {top})</text>\
         <rect x=\"{lx}\" y=\"4\" width=\"10\" height=\"10\" fill=\"#3c78d8\"/><text x=\"{tx}\" y=\"13\">Exact Online</text>\
         <rect x=\"{lx2}\" y=\"4\" width=\"10\" height=\"10\" fill=\"#6aa84f\"/><text x=\"{tx2}\" y=\"13\">Exact Globe</text>",
        hh = h + 44,
        lx = 170,
        tx = 184,
        lx2 = 280,
        tx2 = 294,
    );
    let base = 20 + h;
    for (i, d) in days.iter().enumerate() {
        let x = left + (2 * w + gap) * i as u64;
        let oh = d.exact_online_calls * h / top;
        let gh = d.exact_globe_calls * h / top;
        let _ = write!(
            s,
            "<g><title>{day}: {o} Exact Online calls, {g} Exact Globe calls, {r} records, {n} runs</title>\
             <rect x=\"{x}\" y=\"{oy}\" width=\"{w}\" height=\"{oh}\" fill=\"#3c78d8\"/>\
             <rect x=\"{x2}\" y=\"{gy}\" width=\"{w}\" height=\"{gh}\" fill=\"#6aa84f\"/>\
             <text x=\"{x}\" y=\"{ty}\" font-size=\"9\">{label}</text></g>",
            day = d.day,
            o = d.exact_online_calls,
            g = d.exact_globe_calls,
            r = d.records,
            n = d.runs,
            oy = base - oh,
            x2 = x + w,
            gy = base - gh,
            ty = base + 14,
            label = d.day.format("%m-%d"),
        );
    }
    if let Some(limit) = online_limit.filter(|l| *l <= top) {
        let y = base - limit * h / top;
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\" stroke=\"#cc0000\" stroke-dasharray=\"4 3\"/>\
             <text x=\"0\" y=\"{ly}\" font-size=\"9\" fill=\"#cc0000\">limit {limit}</text>",
            ly = y + 3,
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

/// The field diff of an update as a table: property, value before, value after. A redacted
/// property shows as redacted on both sides.
pub fn changes_table(v: Option<&serde_json::Value>) -> String {
    let Some(serde_json::Value::Object(fields)) = v else {
        return String::new();
    };
    let shown = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => esc(s),
        Some(v) => esc(&v.to_string()),
        None => "-".into(),
    };
    let mut s = String::from(
        "<h2>Changes</h2><table id=\"changes\"><tr><th>Field</th><th>Before</th><th>After</th></tr>",
    );
    for (field, pair) in fields {
        let (old, new) = match pair {
            serde_json::Value::Object(p) => (shown(p.get("old")), shown(p.get("new"))),
            other => (shown(Some(other)), shown(Some(other))),
        };
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td class=\"old\">{old}</td><td class=\"new\">{new}</td></tr>",
            esc(field)
        );
    }
    s.push_str("</table>");
    s
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

    #[test]
    fn changes_show_before_and_after_escaped() {
        let v = serde_json::json!({
            "Description": {"old": "Old <b>", "new": "New"},
            "Price": {"old": 1.5, "new": 2},
            "DeliveryName": "[redacted]"
        });
        let t = changes_table(Some(&v));
        assert!(t.contains("<code>Description</code></td><td class=\"old\">Old &lt;b&gt;</td><td class=\"new\">New</td>"));
        assert!(t.contains("<td class=\"old\">1.5</td><td class=\"new\">2</td>"));
        assert!(t.contains("<td class=\"old\">[redacted]</td><td class=\"new\">[redacted]</td>"));
        assert_eq!(changes_table(None), "");
    }

    #[test]
    fn the_daily_limit_line_shows_once_the_runs_come_near_it() {
        let day = |n: u32, online: u64| crate::state::DayUsage {
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, n).unwrap(),
            runs: 1,
            records: 10,
            exact_online_calls: online,
            exact_globe_calls: 3,
        };
        let quiet = daily_calls_chart(&[day(1, 20), day(2, 30)], Some(5000));
        assert!(quiet.contains("12-02") && quiet.contains("30 Exact Online calls"));
        assert!(
            !quiet.contains("limit 5000"),
            "far below the limit: no line"
        );
        let busy = daily_calls_chart(&[day(1, 2000), day(2, 4800)], Some(5000));
        assert!(busy.contains("limit 5000"));
        assert_eq!(
            daily_calls_chart(&[], None),
            "<p>No runs in the last days.</p>"
        );
    }
}
