//! `exflow auth exact-online`: connect exflow to an Exact Online app. Runs the OAuth2
//! authorization-code flow (prints the authorize URL, catches the redirect on a one-shot
//! listener on 127.0.0.1), or imports a `--code` or a `--refresh-token`, and stores the
//! token pair in the state store. Tokens are never printed.

use crate::connectors::exact_online::token::TokenManager;
use crate::connectors::exact_online::{ExactOnlineClient, OnlineConfig};
use crate::connectors::ConnectorError;
use crate::state::tokens::TokenStore;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `exflow auth ...`
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// Which system to connect.
    #[command(subcommand)]
    pub target: AuthTarget,
}

/// Systems that need a login.
#[derive(Debug, Subcommand)]
pub enum AuthTarget {
    /// Connect to Exact Online (OAuth2 authorization code; tokens go to the state store).
    ExactOnline(ExactOnlineAuthArgs),
}

/// Options of `exflow auth exact-online`.
#[derive(Debug, Args)]
pub struct ExactOnlineAuthArgs {
    /// The project whose `exflow.yaml` gives `base_url`, `redirect_uri`, the credentials and
    /// `state` (flags and the environment override it).
    #[arg(long, default_value = ".")]
    pub project: PathBuf,
    /// Exact Online host (per country), or the simulator's URL (default: the project's,
    /// else `https://start.exactonline.nl`).
    #[arg(long, env = "EXACT_ONLINE_BASE_URL")]
    pub base_url: Option<String>,
    /// The app's client id (default: the project's).
    #[arg(long, env = "EXACT_ONLINE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The app's client secret (default: the project's).
    #[arg(long, env = "EXACT_ONLINE_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Redirect URI registered for the app; the listener binds its host and port (default:
    /// the project's `redirect_uri`, else `http://127.0.0.1:8787/callback`).
    #[arg(long, env = "EXACT_ONLINE_REDIRECT_URI")]
    pub redirect_uri: Option<String>,
    /// The state store (default: the project's `state`, else `.exflow/state.db`).
    #[arg(long = "state")]
    pub state: Option<PathBuf>,
    /// Exchange this authorization code (from a redirect URL) instead of listening.
    #[arg(long, conflicts_with = "refresh_token")]
    pub code: Option<String>,
    /// Import this refresh token (it is used once at once, and the rotated pair stored).
    #[arg(long)]
    pub refresh_token: Option<String>,
    /// Seconds to wait for the browser redirect.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

/// How to obtain the first token pair.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Print the authorize URL and wait this long for the redirect on 127.0.0.1.
    Browser {
        /// How long to wait.
        timeout: Duration,
    },
    /// Exchange an authorization code (URL-encoded or not).
    Code(String),
    /// Import a refresh token.
    RefreshToken(String),
}

/// What `run_auth` achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthOutcome {
    /// The division `current/Me` reports.
    pub division: i32,
    /// Where the pair is stored.
    pub token_key: String,
}

/// Why the login failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthRunError {
    /// The redirect URI cannot be listened on.
    #[error("redirect URI {0} must be http://127.0.0.1:PORT/... or http://localhost:PORT/...")]
    RedirectUri(String),
    /// The local listener failed or timed out.
    #[error("waiting for the redirect: {0}")]
    Listener(String),
    /// The redirect carried an error or no code.
    #[error("the authorization redirect carried no code: {0}")]
    NoCode(String),
    /// The state store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::state::tokens::TokenStoreError),
    /// Exact Online refused.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
}

/// Runs the login for `config` and stores the pair in the store at `state_path`.
/// `show_url` receives the authorize URL in browser mode (print it, or open it).
pub async fn run_auth(
    mut config: OnlineConfig,
    state_path: &Path,
    mode: AuthMode,
    show_url: &(dyn Fn(&str) + Send + Sync),
) -> Result<AuthOutcome, AuthRunError> {
    let store = TokenStore::open(state_path)?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| AuthRunError::Listener(e.to_string()))?;
    match mode {
        AuthMode::RefreshToken(t) => {
            let tokens = TokenManager::new(http, config.clone(), store.clone());
            tokens.import_refresh_token(&t).await?;
        }
        AuthMode::Code(code) => {
            let code = decode(&code);
            let tokens = TokenManager::new(http, config.clone(), store.clone());
            tokens.exchange_code(&code).await?;
        }
        AuthMode::Browser { timeout } => {
            let listener = bind_redirect(&config.redirect_uri).await?;
            let local = listener
                .local_addr()
                .map_err(|e| AuthRunError::Listener(e.to_string()))?;
            // Port 0 in the redirect URI means "any free port": use the real one.
            if let Ok(mut u) = url::Url::parse(&config.redirect_uri) {
                if u.port() == Some(0) {
                    let _ = u.set_port(Some(local.port()));
                    config.redirect_uri = u.to_string();
                }
            }
            let state = uuid::Uuid::new_v4().simple().to_string();
            show_url(&authorize_url(&config, &state));
            let code = tokio::time::timeout(timeout, accept_code(listener, &state))
                .await
                .map_err(|_| AuthRunError::Listener("timed out".into()))??;
            let tokens = TokenManager::new(http, config.clone(), store.clone());
            tokens.exchange_code(&code).await?;
        }
    }
    let client = ExactOnlineClient::new(config.clone(), store).await?;
    Ok(AuthOutcome {
        division: client.division(),
        token_key: config.token_key,
    })
}

/// Where a browser logs in to Exact Online and approves the app; Exact then redirects to
/// `config.redirect_uri` with a `code` and this `state`.
pub fn authorize_url(config: &OnlineConfig, state: &str) -> String {
    format!(
        "{}/api/oauth2/auth?client_id={}&redirect_uri={}&response_type=code&force_login=0&state={}",
        config.base(),
        enc(&config.client_id),
        enc(&config.redirect_uri),
        enc(state)
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Codes arrive URL-encoded (`!` as `%21`); a pasted one may be either.
fn decode(code: &str) -> String {
    percent_encoding::percent_decode_str(code.trim())
        .decode_utf8_lossy()
        .into_owned()
}

async fn bind_redirect(redirect_uri: &str) -> Result<tokio::net::TcpListener, AuthRunError> {
    let bad = || AuthRunError::RedirectUri(redirect_uri.to_string());
    let u = url::Url::parse(redirect_uri).map_err(|_| bad())?;
    let host = match u.host_str() {
        Some("127.0.0.1") | Some("localhost") => "127.0.0.1",
        _ => return Err(bad()),
    };
    if u.scheme() != "http" {
        return Err(bad());
    }
    let port = u.port().unwrap_or(80);
    tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| AuthRunError::Listener(format!("cannot listen on {host}:{port}: {e}")))
}

/// Accepts connections until one carries `code` (and our `state`); answers each.
async fn accept_code(
    listener: tokio::net::TcpListener,
    state: &str,
) -> Result<String, AuthRunError> {
    loop {
        let (mut sock, _) = listener
            .accept()
            .await
            .map_err(|e| AuthRunError::Listener(e.to_string()))?;
        let mut buf = vec![0u8; 16 * 1024];
        let mut len = 0;
        while len < buf.len() {
            let n = sock
                .read(&mut buf[len..])
                .await
                .map_err(|e| AuthRunError::Listener(e.to_string()))?;
            len += n;
            if n == 0 || buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]).into_owned();
        let target = head.split_whitespace().nth(1).unwrap_or("/");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (status, text, result) = match (get("code"), get("state"), get("error")) {
            (Some(code), Some(s), _) if s == state => (
                "200 OK",
                "exflow is connected to Exact Online. You can close this window.",
                Some(Ok(code)),
            ),
            (_, _, Some(err)) => (
                "400 Bad Request",
                "Exact Online did not authorize exflow.",
                Some(Err(AuthRunError::NoCode(err))),
            ),
            // Favicon requests and the like: answer and keep waiting.
            _ => (
                "404 Not Found",
                "Waiting for the Exact Online redirect.",
                None,
            ),
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
        let _ = sock.shutdown().await;
        if let Some(r) = result {
            return r;
        }
    }
}

/// Runs the command.
pub fn run(args: AuthArgs) -> ExitCode {
    let AuthTarget::ExactOnline(a) = args.target;
    let settings = match Settings::resolve(&a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_INVALID);
        }
    };
    let mut config = OnlineConfig::new(
        &settings.base_url,
        &settings.client_id,
        &settings.client_secret,
    );
    config.redirect_uri = settings.redirect_uri.clone();
    let state = settings.state;
    let mode = match (a.code, a.refresh_token) {
        (Some(c), _) => AuthMode::Code(c),
        (None, Some(t)) => AuthMode::RefreshToken(t),
        (None, None) => AuthMode::Browser {
            timeout: Duration::from_secs(a.timeout),
        },
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(super::EXIT_FAILED);
        }
    };
    let show = |url: &str| {
        println!("Open this URL in a browser and log in to Exact Online:\n\n  {url}\n");
        println!("Waiting for the redirect...");
    };
    match runtime.block_on(run_auth(config, &state, mode, &show)) {
        Ok(out) => {
            println!(
                "Connected to Exact Online division {}; tokens stored as `{}` in {}.",
                out.division,
                out.token_key,
                state.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            let code = match e {
                AuthRunError::RedirectUri(_) => super::EXIT_INVALID,
                _ => super::EXIT_FAILED,
            };
            ExitCode::from(code)
        }
    }
}

/// What `exflow auth exact-online` connects with: flags and the environment first, then the
/// project file, then the defaults (the same as `exflow.yaml`'s).
struct Settings {
    base_url: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    state: PathBuf,
}

impl Settings {
    fn resolve(a: &ExactOnlineAuthArgs) -> Result<Settings, String> {
        let found = crate::pipeline::read_connections(&a.project);
        let online = found.as_ref().and_then(|(_, c)| c.exact_online.as_ref());
        let pick = super::fetch::given_or;
        let needed = |what: &str, env: &str| {
            format!(
                "exact_online needs {what}: --{}, {env} or its value in exflow.yaml",
                what.replace(' ', "-")
            )
        };
        let state = match (&a.state, &found) {
            (Some(s), _) => s.clone(),
            (None, Some((_, c))) if c.state.is_absolute() => c.state.clone(),
            (None, Some((root, c))) => root.join(&c.state),
            (None, None) => PathBuf::from(".exflow/state.db"),
        };
        Ok(Settings {
            base_url: pick(&a.base_url, online.map(|c| &c.base_url))
                .unwrap_or_else(|| "https://start.exactonline.nl".into()),
            client_id: pick(&a.client_id, online.map(|c| &c.client_id))
                .ok_or_else(|| needed("client id", "EXACT_ONLINE_CLIENT_ID"))?,
            client_secret: pick(&a.client_secret, online.map(|c| &c.client_secret))
                .ok_or_else(|| needed("client secret", "EXACT_ONLINE_CLIENT_SECRET"))?,
            redirect_uri: pick(&a.redirect_uri, online.map(|c| &c.redirect_uri))
                .unwrap_or_else(|| DEFAULT_REDIRECT_URI.into()),
            state,
        })
    }
}

/// The redirect URI `exflow.yaml` and the README name: register this one in the App Center.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8787/callback";

/// An error and its causes, each said once.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
