//! Connection settings for one Globe administration.

use std::time::Duration;

use crate::connectors::ConnectorError;

/// How the client proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GlobeAuth {
    /// HTTP Basic on every request (hosts or proxies that accept it).
    #[default]
    Basic,
    /// NTLMv2 (Windows authentication, the service's own scheme): one handshake per
    /// connection, requests serialised over one kept-alive connection.
    Ntlm,
}

impl GlobeAuth {
    /// Parses `basic` / `ntlm`.
    pub fn parse(s: &str) -> Option<GlobeAuth> {
        match s.trim().to_ascii_lowercase().as_str() {
            "basic" => Some(GlobeAuth::Basic),
            "ntlm" | "windows" => Some(GlobeAuth::Ntlm),
            _ => None,
        }
    }
}

/// Where and as whom to reach one Globe administration through its Entity Services.
///
/// `Debug` never shows the password.
#[derive(Clone)]
pub struct GlobeConfig {
    /// Root of the Entity Services REST host, e.g. `http://server:8020` (no path).
    pub base_url: String,
    /// SQL Server instance holding the administration (`ServerName` header), e.g. `SRV01\EXACT`.
    pub server_name: String,
    /// The administration's database (`DatabaseName` header), usually its number, e.g. `500`.
    pub database_name: String,
    /// Integration user: must be an active employee in Globe with function rights
    /// (`DOMAIN\user` for NTLM).
    pub user: String,
    /// Its password.
    pub password: String,
    /// Basic (default) or NTLM.
    pub auth: GlobeAuth,
    /// Records per page (`$top` on every set read).
    pub page_size: u32,
    /// Send updates as `POST` with `X-HTTP-Method: MERGE` instead of the `MERGE` verb
    /// (for proxies that drop unknown verbs).
    pub merge_via_post: bool,
    /// Longest request URL the client builds; batched lookups split to stay under it.
    pub max_url_length: usize,
    /// How many times a safe request is retried after a transient failure.
    pub max_retries: u32,
    /// First backoff delay; it doubles on each retry.
    pub retry_delay: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl GlobeConfig {
    /// Settings with the defaults for everything but the connection itself.
    pub fn new(
        base_url: impl Into<String>,
        server_name: impl Into<String>,
        database_name: impl Into<String>,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        GlobeConfig {
            base_url: base_url.into(),
            server_name: server_name.into(),
            database_name: database_name.into(),
            user: user.into(),
            password: password.into(),
            ..GlobeConfig::default()
        }
    }

    /// Reads `EXACT_GLOBE_BASE_URL`, `EXACT_GLOBE_SERVER`, `EXACT_GLOBE_DATABASE`,
    /// `EXACT_GLOBE_USER` and `EXACT_GLOBE_PASSWORD` (and optionally
    /// `EXACT_GLOBE_AUTH` = `basic`/`ntlm` and `EXACT_GLOBE_PAGE_SIZE`) from the environment.
    pub fn from_env() -> Result<Self, ConnectorError> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| {
                ConnectorError::Config(format!("environment variable {name} is not set"))
            })
        };
        let mut config = GlobeConfig::new(
            var("EXACT_GLOBE_BASE_URL")?,
            var("EXACT_GLOBE_SERVER")?,
            var("EXACT_GLOBE_DATABASE")?,
            var("EXACT_GLOBE_USER")?,
            var("EXACT_GLOBE_PASSWORD")?,
        );
        if let Ok(auth) = std::env::var("EXACT_GLOBE_AUTH") {
            config.auth = GlobeAuth::parse(&auth).ok_or_else(|| {
                ConnectorError::Config(format!(
                    "EXACT_GLOBE_AUTH must be basic or ntlm, not {auth:?}"
                ))
            })?;
        }
        if let Ok(size) = std::env::var("EXACT_GLOBE_PAGE_SIZE") {
            config.page_size = size.trim().parse().map_err(|_| {
                ConnectorError::Config(format!("EXACT_GLOBE_PAGE_SIZE is not a number: {size:?}"))
            })?;
        }
        Ok(config)
    }

    /// Checks what can be checked without a request.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let url = url::Url::parse(&self.base_url).map_err(|e| {
            ConnectorError::Config(format!("exact_globe base_url {:?}: {e}", self.base_url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConnectorError::Config(format!(
                "exact_globe base_url must be http or https, not {:?}",
                url.scheme()
            )));
        }
        if self.server_name.trim().is_empty() || self.database_name.trim().is_empty() {
            return Err(ConnectorError::Config(
                "exact_globe needs server_name and database_name (the ServerName/DatabaseName headers)"
                    .into(),
            ));
        }
        if self.user.is_empty() {
            return Err(ConnectorError::Config("exact_globe needs a user".into()));
        }
        if self.page_size == 0 {
            return Err(ConnectorError::Config(
                "exact_globe page_size must be at least 1".into(),
            ));
        }
        if self.max_url_length < 256 {
            return Err(ConnectorError::Config(
                "exact_globe max_url_length must be at least 256".into(),
            ));
        }
        Ok(())
    }
}

impl Default for GlobeConfig {
    fn default() -> Self {
        GlobeConfig {
            base_url: "http://localhost:8020".into(),
            server_name: "localhost".into(),
            database_name: "500".into(),
            user: String::new(),
            password: String::new(),
            auth: GlobeAuth::Basic,
            page_size: 100,
            merge_via_post: false,
            // Far below the 16 KB HTTP.sys limit: proxies in front of Globe are often stricter.
            max_url_length: 2000,
            max_retries: 4,
            retry_delay: Duration::from_millis(250),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl std::fmt::Debug for GlobeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobeConfig")
            .field("base_url", &self.base_url)
            .field("server_name", &self.server_name)
            .field("database_name", &self.database_name)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("auth", &self.auth)
            .field("page_size", &self.page_size)
            .field("merge_via_post", &self.merge_via_post)
            .field("max_url_length", &self.max_url_length)
            .field("max_retries", &self.max_retries)
            .field("retry_delay", &self.retry_delay)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let config = GlobeConfig::new("http://srv:8020", "SRV01", "500", "svc", "s3cr3t-pw");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn validate_refuses_a_missing_administration() {
        let mut config = GlobeConfig::new("http://srv:8020", "SRV01", "", "svc", "pw");
        assert!(config.validate().is_err());
        config.database_name = "500".into();
        assert!(config.validate().is_ok());
        config.base_url = "ftp://srv".into();
        assert!(config.validate().is_err());
    }
}
