//! How to reach one Exact Online app + division.

/// Connection settings for one Exact Online app (and optionally a fixed division).
#[derive(Clone)]
pub struct OnlineConfig {
    /// `https://start.exactonline.nl` (or another country's host, or the simulator).
    pub base_url: String,
    /// The division to work in; `None` reads `CurrentDivision` from `/api/v1/current/Me`.
    pub division: Option<i32>,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// The redirect URI registered for the app (used by the authorization-code flow).
    pub redirect_uri: String,
    /// Daily calls kept in reserve: the client stops with `BudgetExhausted` when only this
    /// many are left.
    pub daily_reserve: u32,
    /// Key of the token pair in the token store, e.g. `exact_online:<client_id>`.
    pub token_key: String,
}

impl OnlineConfig {
    /// The default daily reserve.
    pub const DEFAULT_DAILY_RESERVE: u32 = 500;

    /// A config with the defaults: no fixed division, reserve 500,
    /// token key `exact_online:<client_id>`, redirect to a local listener.
    pub fn new(base_url: &str, client_id: &str, client_secret: &str) -> OnlineConfig {
        OnlineConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            division: None,
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            redirect_uri: "http://127.0.0.1:8787/callback".to_string(),
            daily_reserve: Self::DEFAULT_DAILY_RESERVE,
            token_key: format!("exact_online:{client_id}"),
        }
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

impl std::fmt::Debug for OnlineConfig {
    // The client secret never reaches logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineConfig")
            .field("base_url", &self.base_url)
            .field("division", &self.division)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field("daily_reserve", &self.daily_reserve)
            .field("token_key", &self.token_key)
            .finish()
    }
}
