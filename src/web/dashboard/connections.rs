//! The Connections page: how each system is reached and whether it answers. **Connect
//! Exact Online** runs the OAuth authorization-code flow from a button: the POST (CSRF)
//! opens a one-time `state`, the browser goes to Exact Online's authorize page, Exact
//! redirects to the project's `redirect_uri`, whose path `serve` answers (outside the
//! login: the browser arrives from Exact's site without the SameSite session cookie, so the
//! one-time state is what protects it), and the service exchanges the code and stores the
//! tokens as `exflow auth exact-online` does. **Test** asks Exact Globe for one record.

use super::html::{esc, url};
use super::pages::{problem, shown};
use super::Dashboard;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use parking_lot::Mutex;
use rand::RngCore;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// How long an authorization may take, from the click to the redirect back.
const LOGIN_WINDOW: Duration = Duration::from_secs(600);

/// One system's connection as the page shows it (never a secret).
#[derive(Debug, Clone)]
pub struct Connection {
    /// `Exact Online` or `Exact Globe`.
    pub system: String,
    /// Whether `exflow.yaml` connects it.
    pub configured: bool,
    /// Whether it answered (Exact Online: a token works and the division is known).
    pub ok: bool,
    /// What it stands at, in a sentence.
    pub status: String,
    /// Settings and facts worth seeing: base URL, division, redirect URI, token age.
    pub details: Vec<(String, String)>,
    /// What to do about a problem.
    pub hint: Option<String>,
}

/// The `state` values of authorizations in progress, each good once and for
/// [`LOGIN_WINDOW`].
#[derive(Default)]
pub struct PendingLogins(Mutex<HashMap<String, Instant>>);

impl PendingLogins {
    /// A new one-time state.
    pub fn open(&self) -> String {
        let mut b = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut b);
        let state: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let mut map = self.0.lock();
        map.retain(|_, at| at.elapsed() < LOGIN_WINDOW);
        map.insert(state.clone(), Instant::now());
        state
    }

    /// Whether `state` was opened here and is still fresh; it is used up either way.
    pub fn take(&self, state: &str) -> bool {
        self.0
            .lock()
            .remove(state)
            .is_some_and(|at| at.elapsed() < LOGIN_WINDOW)
    }
}

/// A message shown above the page (after a POST).
#[derive(Deserialize, Default)]
pub struct Message {
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /connections`.
pub async fn page(State(d): State<Dashboard>, Query(m): Query<Message>) -> Response {
    // The message of the last button stands above the cards, not as one of them.
    let mut message = String::new();
    if let Some(msg) = &m.msg {
        let _ = write!(message, "<p class=\"msg\" id=\"message\">{}</p>", esc(msg));
    }
    if let Some(e) = &m.error {
        let _ = write!(message, "<p class=\"reason\" id=\"message\">{}</p>", esc(e));
    }
    let mut body = String::new();
    let csrf = esc(&d.access.csrf());
    for c in d.actions.connections() {
        let id = if c.system == "Exact Online" {
            "exact-online"
        } else {
            "exact-globe"
        };
        let state = match (c.configured, c.ok) {
            (false, _) => "<span>not configured</span>",
            (true, true) => "<span class=\"created\">connected</span>",
            (true, false) => "<span class=\"failed\">not connected</span>",
        };
        let _ = write!(
            body,
            "<section class=\"card connection\" id=\"{id}\"><h2>{} {state}</h2><p class=\"status\">{}</p><table>",
            esc(&c.system),
            esc(&c.status)
        );
        for (k, v) in &c.details {
            let _ = write!(body, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        }
        body.push_str("</table>");
        if let Some(h) = &c.hint {
            let _ = write!(body, "<p class=\"hint\">{}</p>", esc(h));
        }
        if c.configured {
            let (action, label) = if id == "exact-online" {
                let label = if c.ok {
                    "Connect again"
                } else {
                    "Connect Exact Online"
                };
                ("/connections/exact-online", label)
            } else {
                ("/connections/exact-globe/test", "Test the connection")
            };
            let _ = write!(
                body,
                "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button id=\"{id}-button\">{label}</button></form>"
            );
        }
        body.push_str("</section>");
    }
    shown(
        &d,
        "Connections",
        &format!("{message}<div class=\"cards\">{body}</div>"),
    )
    .into_response()
}

/// A posted button: only its CSRF token.
#[derive(Deserialize)]
pub struct Button {
    #[serde(default)]
    csrf: String,
}

fn refused() -> Response {
    (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response()
}

fn back(key: &str, text: &str) -> Response {
    Redirect::to(&format!("/connections?{key}={}", url(text))).into_response()
}

/// `POST /connections/exact-online`: off to Exact Online's authorize page.
pub async fn connect_online(State(d): State<Dashboard>, Form(f): Form<Button>) -> Response {
    if !d.access.csrf_ok(&f.csrf) {
        return refused();
    }
    let state = d.logins.open();
    match d.actions.online_authorize_url(&state) {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => back("error", &e),
    }
}

/// What Exact Online sends back to the redirect URI.
#[derive(Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// `GET <redirect_uri's path>`: Exact Online's redirect, with the code.
pub async fn callback(State(d): State<Dashboard>, Query(c): Query<Callback>) -> Response {
    let fresh = c.state.as_deref().is_some_and(|s| d.logins.take(s));
    if !fresh {
        return problem(
            StatusCode::BAD_REQUEST,
            "This login was not started here, or it took longer than 10 minutes: start it again with Connect Exact Online on the Connections page.",
        );
    }
    let code = match (c.code, c.error) {
        (Some(code), _) if !code.is_empty() => code,
        (_, error) => {
            let why = c
                .error_description
                .or(error)
                .unwrap_or_else(|| "no authorization code".into());
            return done(
                &d,
                Err(format!("Exact Online did not authorize exflow: {why}")),
            );
        }
    };
    let result = d.actions.online_connect(&code).await;
    done(&d, result)
}

/// The callback's answer is a page of its own, not a redirect: the browser came from
/// Exact's site, so a login-protected page would not see the session cookie yet.
fn done(d: &Dashboard, result: Result<String, String>) -> Response {
    let (status, body) = match result {
        Ok(what) => (
            StatusCode::OK,
            format!("<p class=\"msg\" id=\"message\">Connected to Exact Online: {}. The pipelines that waited for it run now.</p>", esc(&what)),
        ),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            format!("<p class=\"reason\" id=\"message\">{}</p>", esc(&e)),
        ),
    };
    let body =
        format!("{body}<p><a id=\"back\" href=\"/connections\">Back to the connections</a></p>");
    (status, shown(d, "Exact Online", &body)).into_response()
}

/// `POST /connections/exact-globe/test`.
pub async fn test_globe(State(d): State<Dashboard>, Form(f): Form<Button>) -> Response {
    if !d.access.csrf_ok(&f.csrf) {
        return refused();
    }
    match d.actions.globe_test().await {
        Ok(what) => back("msg", &format!("Exact Globe answered: {what}")),
        Err(e) => back("error", &format!("Exact Globe did not answer: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_state_is_good_once() {
        let p = PendingLogins::default();
        let s = p.open();
        assert_eq!(s.len(), 48);
        assert!(!p.take("forged"));
        assert!(p.take(&s));
        assert!(!p.take(&s), "a state is used up");
    }
}
