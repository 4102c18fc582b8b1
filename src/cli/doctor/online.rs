//! Exact Online: the stored login and how long its refresh token has left, a live call, the
//! division, the webhook subscriptions the pipelines want, and the API budget left today.
//!
//! Facts from the reference (`exact-online-api.md`): an unused refresh token dies after 30
//! days and the user must consent again (§2.2); `current/Me` costs no budget, and the
//! `X-RateLimit-*` headers come only with calls whose URL names a division (§1, §3.2), so
//! the budget is read after the division and webhook calls; webhook subscriptions are
//! `webhooks/WebhookSubscriptions` rows of `Topic` and `CallbackURL` (§5.11).

use super::Check;
use crate::cli::connect::online_config;
use crate::cli::webhooks::{callback, field, subscriptions};
use crate::connectors::exact_online::{odata, ExactOnlineClient, OnlineConfig};
use crate::connectors::{ConnectorError, System};
use crate::pipeline::Project;
use crate::serve::webhook::topic_of;
use crate::state::tokens::{StoredToken, TokenStore, TokenStoreError};
use chrono::{DateTime, Utc};

const LOGIN: &str = "exact_online.login";
const CONNECTION: &str = "exact_online.connection";
const DIVISION: &str = "exact_online.division";
const WEBHOOKS: &str = "exact_online.webhooks";
const BUDGET: &str = "exact_online.budget";

/// Exact Online drops a refresh token nobody used for this long (reference §2.2).
const REFRESH_IDLE_DAYS: i64 = 30;

/// Every Exact Online check, in order; those that need an earlier one to pass are skipped
/// when it did not.
pub async fn checks(project: &Project) -> Vec<Check> {
    let Some(config) = online_config(project) else {
        return vec![Check::skip(
            "exact_online",
            "exflow.yaml has no `connections.exact_online`",
        )];
    };
    let login_cmd = login_command(project);
    let mut out = Vec::new();
    let (check, store) = login(project, &config, &login_cmd);
    out.push(check);
    let Some(store) = store else {
        out.extend(skipped(
            &[CONNECTION, DIVISION, WEBHOOKS, BUDGET],
            "no login",
        ));
        return out;
    };
    let (check, client) = connection(config, store, &login_cmd).await;
    out.push(check);
    let Some(client) = client else {
        out.extend(skipped(
            &[DIVISION, WEBHOOKS, BUDGET],
            "Exact Online did not answer",
        ));
        return out;
    };
    let configured = project
        .config
        .exact_online
        .as_ref()
        .and_then(|c| c.division);
    let division_ok = division(&client, configured).await;
    let reachable = division_ok.status != super::Status::Fail;
    out.push(division_ok);
    if reachable {
        out.push(webhooks(project, &client).await);
    } else {
        out.extend(skipped(&[WEBHOOKS], "the division does not answer"));
    }
    out.push(budget(project, &client));
    out
}

fn skipped(names: &[&'static str], why: &str) -> Vec<Check> {
    names
        .iter()
        .map(|n| Check::skip(n, format!("not checked: {why}")))
        .collect()
}

/// `exflow auth exact-online`, with `--project` when the project is not the current folder.
fn login_command(project: &Project) -> String {
    if project.root == std::path::Path::new(".") {
        "exflow auth exact-online".to_string()
    } else {
        format!(
            "exflow auth exact-online --project {}",
            project.root.display()
        )
    }
}

fn date(unix_s: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix_s, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| unix_s.to_string())
}

/// The stored token pair: there at all, and how long its refresh token has left.
fn login(project: &Project, config: &OnlineConfig, login_cmd: &str) -> (Check, Option<TokenStore>) {
    let db = project.state_path();
    let no_login = |what: String| {
        (
            Check::fail(
                LOGIN,
                what,
                format!(
                    "{login_cmd} (consent once in the browser; the tokens are stored in the state)"
                ),
            ),
            None,
        )
    };
    let store = match TokenStore::open_existing(&db) {
        Ok(Some(s)) => s,
        Ok(None) => return no_login(format!("not logged in: no state file {}", db.display())),
        Err(e) => return (store_failed(&e, login_cmd), None),
    };
    let token = match store.load(&config.token_key) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return no_login(format!(
                "not logged in: no Exact Online token pair for client id `{}` in {}",
                config.client_id,
                db.display()
            ))
        }
        Err(e) => return (store_failed(&e, login_cmd), None),
    };
    let warn_days = i64::from(project.config.notify.token_idle_warning_days);
    (
        idle(&token, warn_days, login_cmd, Utc::now().timestamp()),
        Some(store),
    )
}

fn store_failed(e: &TokenStoreError, login_cmd: &str) -> Check {
    let fix = match e {
        TokenStoreError::Sealed(_) => format!(
            "set EXFLOW_STATE_KEY to the passphrase the tokens were stored under, or log in again: {login_cmd}"
        ),
        _ => "check that the state file is readable by this user and not damaged".to_string(),
    };
    Check::fail(LOGIN, e.to_string(), fix)
}

/// Judges the token pair's age at `now`: a refresh token unused for 30 days is dead.
fn idle(token: &StoredToken, warn_days: i64, login_cmd: &str, now: i64) -> Check {
    if token.refreshed_at <= 0 {
        return Check::ok(
            LOGIN,
            "a token pair is stored (imported; it is refreshed, and dated, on its first use)",
        );
    }
    let age = now - token.refreshed_at;
    let days = age / 86_400;
    let dies = token.refreshed_at + REFRESH_IDLE_DAYS * 86_400;
    let access = if token.access_expires_at > now {
        format!(
            "the access token is valid {} more minute(s)",
            (token.access_expires_at - now) / 60
        )
    } else {
        "the access token has expired and is refreshed on the next call".to_string()
    };
    let obtained = format!(
        "token pair obtained {} ({days} day(s) ago)",
        date(token.refreshed_at)
    );
    if now >= dies {
        return Check::fail(
            LOGIN,
            format!(
                "{obtained}: its refresh token has not been used for {REFRESH_IDLE_DAYS} days and \
                 Exact Online has dropped it (it died on {})",
                date(dies)
            ),
            format!("log in again: {login_cmd}"),
        );
    }
    if warn_days > 0 && days >= warn_days {
        return Check::warn(
            LOGIN,
            format!(
                "{obtained}: its refresh token dies unused on {} (Exact Online drops a refresh token after {REFRESH_IDLE_DAYS} idle days)",
                date(dies)
            ),
            format!(
                "run any Exact Online pipeline before then (every refresh starts the {REFRESH_IDLE_DAYS} days again), \
                 or schedule one in `exflow serve`; once it has died: {login_cmd}"
            ),
        );
    }
    Check::ok(
        LOGIN,
        format!(
            "{obtained}; its refresh token lives until {} unless used (then {REFRESH_IDLE_DAYS} days from that use); {access}",
            date(dies)
        ),
    )
}

/// What to do about a failed Exact Online call.
fn remedy(e: &ConnectorError, base: &str, login_cmd: &str) -> String {
    match e {
        ConnectorError::Auth { .. } => format!("log in again: {login_cmd}"),
        ConnectorError::BudgetExhausted { .. } => {
            "wait for the daily reset (00:00 UTC), or lower connections.exact_online.daily_reserve".into()
        }
        _ => format!(
            "check connections.exact_online.base_url ({base}; EXACT_ONLINE_BASE_URL) and that this machine reaches it"
        ),
    }
}

/// A live call that costs no budget: `current/Me`.
async fn connection(
    config: OnlineConfig,
    store: TokenStore,
    login_cmd: &str,
) -> (Check, Option<ExactOnlineClient>) {
    let base = config.base().to_string();
    let failed = |e: ConnectorError| {
        (
            Check::fail(
                CONNECTION,
                format!("{e} (tried {base})"),
                remedy(&e, &base, login_cmd),
            ),
            None,
        )
    };
    let client = match ExactOnlineClient::new(config, store).await {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let me = match client
        .get_json(&format!("{base}/api/v1/current/Me?$select=CurrentDivision"))
        .await
    {
        Ok(body) => body,
        Err(e) => return failed(e),
    };
    let current = odata::parse_single(&me)
        .ok()
        .and_then(|m| m.get("CurrentDivision").and_then(odata::as_i64));
    let refreshed = if client.tokens().refresh_calls() > 0 {
        "; the access token was refreshed, so the refresh token's 30 days start again"
    } else {
        ""
    };
    let current = current
        .map(|d| format!("the login's current division is {d}"))
        .unwrap_or_else(|| "it names no current division".into());
    (
        Check::ok(
            CONNECTION,
            format!("current/Me answered at {base}: {current}{refreshed}"),
        ),
        Some(client),
    )
}

/// The division the pipelines work in answers, and is fixed in `exflow.yaml`.
async fn division(client: &ExactOnlineClient, configured: Option<i32>) -> Check {
    let d = client.division();
    let url = client.url(
        "system/Divisions",
        &[
            ("$filter", format!("Code eq {d}")),
            ("$select", "Code,Description".into()),
        ],
    );
    let fix = format!(
        "set connections.exact_online.division in exflow.yaml to a division this login can reach (its current one is {d} unless switched)"
    );
    let page = match client.get_page(&url).await {
        Ok(p) => p,
        Err(e) => return Check::fail(DIVISION, format!("division {d}: {e}"), fix),
    };
    let Some(row) = page.records.first() else {
        return Check::fail(
            DIVISION,
            format!("division {d} is not among the divisions this login can reach"),
            fix,
        );
    };
    let name = row
        .get("Description")
        .and_then(|v| v.as_str())
        .map(|n| format!(" ({})", n.trim()))
        .unwrap_or_default();
    match configured {
        Some(_) => Check::ok(
            DIVISION,
            format!("division {d}{name} answers (connections.exact_online.division)"),
        ),
        None => Check::warn(
            DIVISION,
            format!(
                "division {d}{name} answers, but exflow.yaml names none: exflow follows the login's current \
                 division, which changes when the user switches company in Exact Online"
            ),
            format!("add `division: {d}` under connections.exact_online in exflow.yaml"),
        ),
    }
}

/// The topics the project's Exact Online pipelines are triggered by, each with the
/// pipelines reading it.
fn wanted_topics(project: &Project) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for p in project
        .pipelines
        .iter()
        .filter(|p| p.source.system == System::ExactOnline)
    {
        let topic = topic_of(&p.source.entity).to_string();
        match out.iter_mut().find(|(t, _)| *t == topic) {
            Some((_, names)) => names.push(&p.name),
            None => out.push((topic, vec![&p.name])),
        }
    }
    out
}

/// Subscriptions for every topic an Exact Online pipeline reads, to this project's callback.
async fn webhooks(project: &Project, client: &ExactOnlineClient) -> Check {
    let wanted = wanted_topics(project);
    if wanted.is_empty() {
        return Check::skip(
            WEBHOOKS,
            "no pipeline reads Exact Online: no webhooks needed",
        );
    }
    let existing = match subscriptions(client).await {
        Ok(s) => s,
        Err(e) => {
            return Check::warn(
                WEBHOOKS,
                format!("the subscriptions could not be read: {e}"),
                "try `exflow webhooks list`; until then exflow serve relies on the schedules",
            )
        }
    };
    let Ok(url) = callback(project, &None) else {
        if existing.is_empty() {
            return Check::skip(
                WEBHOOKS,
                "not used: serve.public_url is not set, so `exflow serve` runs the pipelines on their schedules only",
            );
        }
        let to: Vec<String> = existing
            .iter()
            .map(|s| format!("{} -> {}", field(s, "Topic"), field(s, "CallbackURL")))
            .collect();
        return Check::warn(
            WEBHOOKS,
            format!(
                "{} subscription(s) exist ({}) but serve.public_url is not set",
                existing.len(),
                to.join(", ")
            ),
            "set serve.public_url to the address they point at, or remove them with \
             `exflow webhooks unsubscribe --callback URL`",
        );
    };
    let mut missing = Vec::new();
    let mut elsewhere = Vec::new();
    for (topic, pipelines) in &wanted {
        let mine = existing
            .iter()
            .any(|s| field(s, "Topic") == topic && field(s, "CallbackURL") == url);
        if mine {
            continue;
        }
        missing.push(format!("{topic} (read by {})", pipelines.join(", ")));
        elsewhere.extend(
            existing
                .iter()
                .filter(|s| field(s, "Topic") == topic)
                .map(|s| format!("{topic} -> {}", field(s, "CallbackURL"))),
        );
    }
    let topics: Vec<&str> = wanted.iter().map(|(t, _)| t.as_str()).collect();
    if missing.is_empty() {
        return Check::ok(
            WEBHOOKS,
            format!("{} subscribed to {url}", topics.join(", ")),
        );
    }
    let mut message = format!("no subscription to {url} for {}", missing.join(", "));
    if !elsewhere.is_empty() {
        message.push_str(&format!(
            "; subscribed elsewhere: {} (not this project's callback)",
            elsewhere.join(", ")
        ));
    }
    Check::warn(
        WEBHOOKS,
        message,
        format!(
            "with exflow serve reachable at {url} (Exact Online checks it with an empty POST): \
             exflow webhooks subscribe; until then changes arrive on the schedules only"
        ),
    )
}

/// The daily budget as the last answer's `X-RateLimit-*` headers told it.
fn budget(project: &Project, client: &ExactOnlineClient) -> Check {
    let l = client.limiter().limits();
    let reserve = u64::from(client.config().daily_reserve);
    let (Some(left), Some(limit)) = (l.daily_remaining, l.daily_limit) else {
        return Check::skip(
            BUDGET,
            "no answer carried X-RateLimit headers (they come only with calls that name a division)",
        );
    };
    let reset = l
        .daily_reset_ms
        .map(|ms| format!(" (resets {})", date(ms / 1000)))
        .unwrap_or_default();
    let minutely = match (l.minutely_remaining, l.minutely_limit) {
        (Some(m), Some(ml)) => format!("; this minute {m} of {ml}"),
        _ => String::new(),
    };
    let spent = client.calls();
    let message = format!(
        "{left} of {limit} calls left today{reset}{minutely}; runs keep {reserve} in reserve; \
         these checks made {} call(s) (current/Me is not counted)",
        spent.reads + spent.writes
    );
    let percent = u64::from(project.config.notify.budget_warning_percent);
    if left <= reserve {
        Check::fail(
            BUDGET,
            message,
            format!(
                "runs stop at the reserve until the reset{reset}: wait for it, or lower \
                 connections.exact_online.daily_reserve (now {reserve}); run less often or rely on webhooks"
            ),
        )
    } else if left * 100 < limit * percent {
        Check::warn(
            BUDGET,
            message,
            format!(
                "less than {percent}% left: runs stop at the reserve of {reserve}; run less often, \
                 or let webhooks trigger runs instead of frequent schedules"
            ),
        )
    } else {
        Check::ok(BUDGET, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(refreshed_at: i64) -> StoredToken {
        StoredToken {
            access_token: "a".into(),
            refresh_token: "r".into(),
            access_expires_at: refreshed_at + 600,
            refreshed_at,
        }
    }

    #[test]
    fn a_refresh_token_warns_before_its_thirty_idle_days_and_fails_after() {
        let day = 86_400;
        let now = 1_800_000_000;
        let fresh = idle(&token(now - 60), 25, "exflow auth exact-online", now);
        assert_eq!(fresh.status, super::super::Status::Ok, "{}", fresh.message);
        let old = idle(&token(now - 26 * day), 25, "exflow auth exact-online", now);
        assert_eq!(old.status, super::super::Status::Warn, "{}", old.message);
        assert!(old.message.contains("26 day(s) ago"), "{}", old.message);
        let dead = idle(&token(now - 30 * day), 25, "exflow auth exact-online", now);
        assert_eq!(dead.status, super::super::Status::Fail, "{}", dead.message);
        assert!(dead
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("exflow auth exact-online")));
        // Without the warning (0 days), only the death is told.
        let quiet = idle(&token(now - 29 * day), 0, "x", now);
        assert_eq!(quiet.status, super::super::Status::Ok);
    }
}
