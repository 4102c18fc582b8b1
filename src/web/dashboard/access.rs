//! Who may use the dashboard. Bound to a loopback address it is open to the machine's own
//! users; bound elsewhere it asks for the password from `EXFLOW_DASHBOARD_PASSWORD`,
//! kept only as a keyed hash, and hands out a session cookie (HttpOnly, SameSite=Strict,
//! Secure behind HTTPS). Every form that acts carries a CSRF token, derived from a
//! per-process random secret and checked on each POST.

use super::html::{esc, page};
use super::Dashboard;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::Arc;

/// The environment variable holding the dashboard password.
pub const PASSWORD_ENV: &str = "EXFLOW_DASHBOARD_PASSWORD";
const COOKIE: &str = "exflow_session";

/// Login and CSRF state of one process.
pub struct Access {
    login: bool,
    key: [u8; 32],
    password: Option<Vec<u8>>,
    sessions: Mutex<HashSet<String>>,
}

fn random_hex() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Access {
    /// Access with a login when `login` (the password, if any, hashed at once).
    pub fn new(login: bool, password: Option<&str>) -> Access {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let mut a = Access {
            login,
            key,
            password: None,
            sessions: Mutex::default(),
        };
        a.password = password.filter(|p| !p.is_empty()).map(|p| a.mac(p));
        a
    }

    /// The rule: any address but a loopback one needs a login; the password from the
    /// environment.
    pub fn for_address(addr: std::net::SocketAddr, forced: bool) -> Access {
        let password = std::env::var(PASSWORD_ENV).ok();
        Access::new(forced || !addr.ip().is_loopback(), password.as_deref())
    }

    /// Whether a login is asked for.
    pub fn login_required(&self) -> bool {
        self.login
    }

    fn hasher(&self) -> Hmac<Sha256> {
        // An HMAC key of any length is accepted.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key")
    }

    fn mac(&self, text: &str) -> Vec<u8> {
        let mut m = self.hasher();
        m.update(text.as_bytes());
        m.finalize().into_bytes().to_vec()
    }

    fn matches(&self, text: &str, expected: &[u8]) -> bool {
        let mut m = self.hasher();
        m.update(text.as_bytes());
        m.verify_slice(expected).is_ok()
    }

    /// The CSRF token forms carry.
    pub fn csrf(&self) -> String {
        self.mac("csrf")
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    }

    /// Whether `token` is this process's CSRF token (in constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        let expected = self.csrf();
        token.len() == expected.len()
            && token
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
        let token = cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .map(|(_, v)| v.to_string())?;
        self.sessions.lock().contains(&token).then_some(token)
    }

    /// Whether this request may see the dashboard.
    pub fn allowed(&self, headers: &HeaderMap) -> bool {
        !self.login || self.session_of(headers).is_some()
    }
}

/// Lets a request through, or sends it to the login page (a POST gets 403).
pub async fn guard(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    if access.allowed(req.headers()) {
        return next.run(req).await;
    }
    if req.method() == axum::http::Method::GET {
        Redirect::to("/login").into_response()
    } else {
        (StatusCode::FORBIDDEN, "log in first\n").into_response()
    }
}

fn login_form(message: &str) -> String {
    let note = match std::env::var_os(PASSWORD_ENV) {
        Some(_) => String::new(),
        None => {
            format!("<p class=\"reason\">No password is set: start serve with {PASSWORD_ENV}.</p>")
        }
    };
    format!(
        "{note}{message}<form method=\"post\" action=\"/login\">\
         <label>Password <input id=\"password\" type=\"password\" name=\"password\" autofocus></label> \
         <button id=\"login\">Log in</button></form>"
    )
}

/// `GET /login`.
pub async fn login_page() -> Response {
    page("Log in", false, &login_form("")).into_response()
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    logout: Option<String>,
}

/// `POST /login`: checks the password and opens a session, or closes one (`logout`).
pub async fn login(
    State(d): State<Dashboard>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let a = &d.access;
    if f.logout.is_some() {
        if let Some(t) = a.session_of(&headers) {
            a.sessions.lock().remove(&t);
        }
        return (
            [(
                header::SET_COOKIE,
                format!("{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"),
            )],
            Redirect::to("/login"),
        )
            .into_response();
    }
    let ok = match &a.password {
        Some(hash) => a.matches(&f.password, hash),
        None => false,
    };
    if !ok {
        // Slows guessing down.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let msg = format!("<p class=\"reason\">{}</p>", esc("Wrong password."));
        return (
            StatusCode::UNAUTHORIZED,
            page("Log in", false, &login_form(&msg)),
        )
            .into_response();
    }
    let token = random_hex();
    a.sessions.lock().insert(token.clone());
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let secure = if https { "; Secure" } else { "" };
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        )],
        Redirect::to("/"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_checked_and_the_password_only_kept_hashed() {
        let a = Access::new(true, Some("s3cret"));
        assert!(a.csrf_ok(&a.csrf()));
        assert!(!a.csrf_ok("") && !a.csrf_ok(&"0".repeat(64)));
        let hash = a.password.clone().unwrap();
        assert_ne!(hash, b"s3cret".to_vec());
        assert!(a.matches("s3cret", &hash) && !a.matches("wrong", &hash));
        assert!(!a.allowed(&HeaderMap::new()));
        assert!(Access::new(false, None).allowed(&HeaderMap::new()));
    }
}
