//! What the wizard asks the two systems: the Exact Online authorization (as `exflow auth
//! exact-online` runs it), a Globe connection test (one Account, as the dashboard's Test
//! button), and the payment conditions and VAT codes each system holds, to propose the
//! mapping from.

use super::answers::Answers;
use crate::cli::auth::{chain, run_auth, AuthMode};
use crate::connectors::exact_globe::{ExactGlobeClient, GlobeConfig};
use crate::connectors::exact_online::{ExactOnlineClient, OnlineConfig};
use crate::connectors::{Connector, FetchQuery, Record};
use crate::state::tokens::TokenStore;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A code one system holds, with what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    /// The code (`30`, `VO`, `1`).
    pub code: String,
    /// Its description in that system.
    pub description: String,
    /// A VAT code's rate (0.21), if the system gives one.
    pub rate: Option<f64>,
}

/// The lists read from both systems; `None` where a system was not (or could not be) read.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    /// Exact Online `PaymentConditions`.
    pub online_payment: Option<Vec<Code>>,
    /// Exact Globe `PaymentCondition`.
    pub globe_payment: Option<Vec<Code>>,
    /// Exact Online `VATCodes`.
    pub online_vat: Option<Vec<Code>>,
    /// Exact Globe `VAT`.
    pub globe_vat: Option<Vec<Code>>,
}

/// Why a system could not be reached; the message names the URL tried.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LiveError {
    /// The Exact Online authorization failed.
    #[error("Exact Online at {url}: {message}")]
    #[diagnostic(
        code(init::exact_online),
        help("check the base URL, the client id and secret, and that the app's redirect URI is the one given; or pass --skip-auth and run `exflow auth exact-online` later")
    )]
    Online {
        /// The base URL tried.
        url: String,
        /// Why.
        message: String,
    },
    /// Exact Globe did not answer.
    #[error("Exact Globe at {url}: {message}")]
    #[diagnostic(
        code(init::exact_globe),
        help("check the URL (Entity Services, port 8020 by default), the server, the administration, the user and its password; or pass --skip-globe-test")
    )]
    Globe {
        /// The base URL tried.
        url: String,
        /// Why.
        message: String,
    },
}

/// The Exact Online settings of `answers`, with the secret read now (never written).
pub fn online_config(answers: &Answers, secret: &str) -> OnlineConfig {
    let mut config = OnlineConfig::new(&answers.online_url, &answers.client_id, secret);
    config.redirect_uri = answers.redirect_uri.clone();
    config.division = answers.division;
    config
}

fn online_error(answers: &Answers, e: &dyn std::error::Error) -> LiveError {
    LiveError::Online {
        url: answers.online_url.clone(),
        message: chain(e),
    }
}

/// Runs the authorization-code flow: `show_url` receives the authorize URL, the redirect is
/// caught on the redirect URI's port; the tokens go to the project's state store (0600, as
/// every exflow token store). Returns the division.
pub async fn authorize(
    answers: &Answers,
    secret: &str,
    state: &Path,
    timeout: Duration,
    show_url: &(dyn Fn(&str) + Send + Sync),
) -> Result<i32, LiveError> {
    let config = online_config(answers, secret);
    run_auth(config, state, AuthMode::Browser { timeout }, show_url)
        .await
        .map(|out| out.division)
        .map_err(|e| online_error(answers, &e))
}

/// Reads Exact Online's payment conditions and VAT codes with the stored tokens.
pub async fn online_codes(
    answers: &Answers,
    secret: &str,
    state: &Path,
) -> Result<(Vec<Code>, Vec<Code>), LiveError> {
    let store = TokenStore::open(state).map_err(|e| online_error(answers, &e))?;
    let client = ExactOnlineClient::new(online_config(answers, secret), store)
        .await
        .map_err(|e| online_error(answers, &e))?;
    let mut lists = Vec::new();
    for (entity, rate) in [
        ("PaymentConditions", None),
        ("VATCodes", Some("Percentage")),
    ] {
        let mut q = FetchQuery {
            entity: entity.into(),
            ..FetchQuery::default()
        };
        let mut records = Vec::new();
        loop {
            let page = client
                .fetch_page(&q)
                .await
                .map_err(|e| online_error(answers, &e))?;
            records.extend(page.records);
            if !page.more {
                break;
            }
            q.cursor = page.cursor;
        }
        lists.push(codes(&records, "Code", rate));
    }
    let vat = lists.pop().unwrap_or_default();
    let payment = lists.pop().unwrap_or_default();
    Ok((payment, vat))
}

/// The Globe client of `answers` with `password`.
fn globe(answers: &Answers, password: &str) -> Result<ExactGlobeClient, LiveError> {
    let config = GlobeConfig::new(
        answers.globe_url.clone(),
        answers.globe_server.clone(),
        answers.administration.clone(),
        answers.globe_user.clone(),
        password.to_string(),
    );
    ExactGlobeClient::new(config).map_err(|e| globe_error(answers, &e))
}

fn globe_error(answers: &Answers, e: &dyn std::error::Error) -> LiveError {
    LiveError::Globe {
        url: answers.globe_url.clone(),
        message: chain(e),
    }
}

/// Asks Globe for one Account, then reads its payment conditions and VAT codes.
pub async fn globe_codes(
    answers: &Answers,
    password: &str,
) -> Result<(Vec<Code>, Vec<Code>), LiveError> {
    let client = globe(answers, password)?;
    let fail = |e: crate::connectors::ConnectorError| globe_error(answers, &e);
    client
        .query("Account", None, &[], None, Some(1))
        .await
        .map_err(fail)?;
    let payment = client
        .query("PaymentCondition", None, &[], None, None)
        .await
        .map_err(fail)?;
    let vat = client
        .query("VAT", None, &[], None, None)
        .await
        .map_err(fail)?;
    Ok((
        codes(&payment, "PaymentConditionCode", None),
        codes(&vat, "VATCode", Some("Percentage")),
    ))
}

/// The codes of `records`, sorted as the systems show them; a percentage above 1 is a
/// whole-number percentage (Globe's 21) and becomes a rate (0.21).
fn codes(records: &[Record], field: &str, rate: Option<&str>) -> Vec<Code> {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let mut out: Vec<Code> = records
        .iter()
        .map(|r| Code {
            code: text(r.get(field)),
            description: text(r.get("Description")),
            rate: rate
                .and_then(|f| r.get(f))
                .and_then(Value::as_f64)
                .map(|p| if p > 1.0 { p / 100.0 } else { p }),
        })
        .filter(|c| !c.code.is_empty())
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out.dedup_by(|a, b| a.code == b.code);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_are_trimmed_sorted_once_each_and_rates_are_fractions() {
        let recs: Vec<Record> = [
            json!({"VATCode": " 2", "Description": "laag", "Percentage": 9}),
            json!({"VATCode": "1", "Description": "hoog", "Percentage": 0.21}),
            json!({"VATCode": "1", "Description": "again"}),
            json!({"VATCode": null}),
        ]
        .into_iter()
        .map(|v| v.as_object().cloned().unwrap())
        .collect();
        let c = codes(&recs, "VATCode", Some("Percentage"));
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].code, "1");
        assert_eq!(c[0].rate, Some(0.21));
        assert_eq!(c[1].code, "2");
        assert_eq!(c[1].rate, Some(0.09));
    }
}
