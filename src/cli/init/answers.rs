//! What the wizard needs to know: both connections and the few choices that decide the
//! mapping. Filled from the flags (`--yes`) or by the prompts, then written by `write`.

use indexmap::IndexMap;

/// The standard flows `init` can enable, in the order they run.
pub use crate::cli::demo::PIPELINES as FLOWS;

/// How a customer in one system is recognised in the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatchBy {
    /// The e-mail address (`EmailAddress` in Globe, `Email` in Exact Online).
    Email,
    /// The customer code (Globe `DebtorNumber`, Exact Online `Code`).
    Code,
}

impl MatchBy {
    /// The name a flag and a prompt use.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchBy::Email => "email",
            MatchBy::Code => "code",
        }
    }
}

/// Every answer, one field per question.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    /// The project's name (`project:` in exflow.yaml).
    pub project: String,
    /// Exact Online host, or the simulator's URL.
    pub online_url: String,
    /// The app's client id (not a secret: written as it is).
    pub client_id: String,
    /// The environment variable holding the client secret (only its name is written).
    pub client_secret_env: String,
    /// The redirect URI registered for the app.
    pub redirect_uri: String,
    /// The division, once the authorization said which one.
    pub division: Option<i32>,
    /// Exact Globe's Entity Services root.
    pub globe_url: String,
    /// The SQL Server instance (`ServerName`).
    pub globe_server: String,
    /// The administration (`DatabaseName`).
    pub administration: String,
    /// The Globe integration user (not a secret: written as it is).
    pub globe_user: String,
    /// The environment variable holding the Globe password.
    pub globe_password_env: String,
    /// The standard flows to write, a subset of [`FLOWS`].
    pub flows: Vec<String>,
    /// A debtor number every order is put on, or none (each customer its own debtor).
    pub default_debtor: Option<String>,
    /// How customers are matched between the systems.
    pub match_by: MatchBy,
    /// Whether Exact Online's prices include VAT (Globe's then do too).
    pub prices_incl_vat: bool,
    /// ISO country code of the home country.
    pub home_country: String,
    /// Exact Online payment condition -> Exact Globe payment condition.
    pub payment_conditions: IndexMap<String, String>,
    /// Exact Online VAT code -> Exact Globe VAT code.
    pub vat_codes: IndexMap<String, String>,
}

impl Answers {
    /// The answers `--yes` starts from: the standard project's values.
    pub fn defaults(project: &str) -> Answers {
        Answers {
            project: project.to_string(),
            online_url: "https://start.exactonline.nl".into(),
            client_id: String::new(),
            client_secret_env: "EXACT_ONLINE_CLIENT_SECRET".into(),
            redirect_uri: crate::cli::auth::DEFAULT_REDIRECT_URI.into(),
            division: None,
            globe_url: "http://localhost:8020".into(),
            globe_server: "localhost".into(),
            administration: "500".into(),
            globe_user: String::new(),
            globe_password_env: "EXACT_GLOBE_PASSWORD".into(),
            flows: FLOWS.iter().map(|f| f.to_string()).collect(),
            default_debtor: None,
            match_by: MatchBy::Email,
            prices_incl_vat: false,
            home_country: "NL".into(),
            payment_conditions: IndexMap::new(),
            vat_codes: IndexMap::new(),
        }
    }
}

/// Checks a `--flows` list (or the prompt's choice) against the standard flows; the
/// result keeps the standard order.
pub fn parse_flows(given: &[String]) -> Result<Vec<String>, String> {
    let given: Vec<String> = given
        .iter()
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    if let Some(bad) = given.iter().find(|f| !FLOWS.contains(&f.as_str())) {
        return Err(format!(
            "unknown flow `{bad}`: the standard flows are {}",
            FLOWS.join(", ")
        ));
    }
    if given.is_empty() {
        return Err("enable at least one flow".into());
    }
    Ok(FLOWS
        .iter()
        .filter(|f| given.iter().any(|g| g == *f))
        .map(|f| f.to_string())
        .collect())
}

/// `ONLINE=GLOBE` pairs of `--payment-condition` / `--vat-code`.
pub fn parse_pairs(given: &[String], flag: &str) -> Result<IndexMap<String, String>, String> {
    let mut out = IndexMap::new();
    for pair in given {
        let (from, to) = pair
            .split_once('=')
            .filter(|(a, b)| !a.trim().is_empty() && !b.trim().is_empty())
            .ok_or_else(|| format!("{flag} {pair:?} is not ONLINE=GLOBE"))?;
        out.insert(from.trim().to_string(), to.trim().to_string());
    }
    Ok(out)
}

/// A home country as exflow.yaml keeps it: two capital letters.
pub fn parse_country(given: &str) -> Result<String, String> {
    let c = given.trim().to_ascii_uppercase();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(format!(
            "home country {given:?} is not a two-letter ISO code (NL, BE, DE, ...)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_keep_the_standard_order_and_refuse_unknown_ones() {
        let given = vec!["orders".to_string(), "products".to_string()];
        assert_eq!(parse_flows(&given).unwrap(), vec!["products", "orders"]);
        let err = parse_flows(&["invoices".to_string()]).unwrap_err();
        assert!(err.contains("unknown flow `invoices`"), "{err}");
        assert!(parse_flows(&[]).is_err());
    }

    #[test]
    fn pairs_and_countries_are_checked() {
        let p = parse_pairs(&["PS=VO".into(), " 1 = 2 ".into()], "--vat-code").unwrap();
        assert_eq!(p["PS"], "VO");
        assert_eq!(p["1"], "2");
        assert!(parse_pairs(&["PS".into()], "--vat-code").is_err());
        assert!(parse_pairs(&["=VO".into()], "--vat-code").is_err());
        assert_eq!(parse_country(" be ").unwrap(), "BE");
        assert!(parse_country("BEL").is_err());
    }
}
