//! Starting `exflow serve` on any address, with a dashboard password.

use super::Serve;
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

/// `exflow serve --listen ADDR` with `EXFLOW_DASHBOARD_PASSWORD`; the URL it gives
/// points at 127.0.0.1 whatever it is bound to.
pub fn start_listening(dir: &Path, listen: &str, password: &str) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_exflow"))
        .args(["serve", "--listen", listen, "--project"])
        .arg(dir)
        .env("EXFLOW_DASHBOARD_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("exflow serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .replace("0.0.0.0", "127.0.0.1");
    Serve { child, url }
}

/// An HTTP client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token of a page's forms.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in {html}"))
        .to_string()
}

/// The body of `GET url`.
pub async fn page_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}
