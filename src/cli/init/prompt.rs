//! The wizard's questions in a terminal (dialoguer). Each one starts from the answer the
//! flags (or the standard project) give, so Enter keeps it; nothing here touches a system.

use super::answers::{parse_country, parse_flows, Answers, MatchBy, FLOWS};
use super::live::Code;
use dialoguer::{Confirm, Input, MultiSelect, Password, Select};
use indexmap::IndexMap;

/// A prompt that could not be shown or answered (the terminal went away, Ctrl-C).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("the question could not be asked: {0}")]
#[diagnostic(
    code(init::prompt),
    help("run `exflow init` in a terminal, or pass --yes with the answers as flags")
)]
pub struct PromptError(pub String);

type Asked<T> = Result<T, PromptError>;

fn failed(e: dialoguer::Error) -> PromptError {
    PromptError(e.to_string())
}

/// A line of text; Enter keeps `default`.
pub fn text(prompt: &str, default: &str) -> Asked<String> {
    let mut input = Input::<String>::new()
        .with_prompt(prompt)
        .allow_empty(default.is_empty());
    if !default.is_empty() {
        input = input.default(default.to_string());
    }
    input
        .interact_text()
        .map(|s| s.trim().to_string())
        .map_err(failed)
}

/// Yes or no.
pub fn confirm(prompt: &str, default: bool) -> Asked<bool> {
    Confirm::new()
        .with_prompt(prompt)
        .default(default)
        .interact()
        .map_err(failed)
}

/// A secret, not echoed; used now and never written.
pub fn secret(prompt: &str) -> Asked<String> {
    Password::new()
        .with_prompt(prompt)
        .interact()
        .map_err(failed)
}

/// Both connections' settings (not their secrets: only the variables' names).
pub fn online(a: &mut Answers) -> Asked<()> {
    println!("Exact Online: the app registered in the Exact App Center.");
    a.online_url = text("Exact Online base URL", &a.online_url)?;
    a.client_id = text("Client id", &a.client_id)?;
    a.client_secret_env = text(
        "Environment variable holding the client secret",
        &a.client_secret_env,
    )?;
    a.redirect_uri = text("Redirect URI registered for the app", &a.redirect_uri)?;
    Ok(())
}

/// Exact Globe's Entity Services and the integration user.
pub fn globe(a: &mut Answers) -> Asked<()> {
    println!("Exact Globe: the Entity Services and an integration user.");
    a.globe_url = text("Exact Globe Entity Services URL", &a.globe_url)?;
    a.globe_server = text("SQL Server instance (ServerName)", &a.globe_server)?;
    a.administration = text("Administration (DatabaseName)", &a.administration)?;
    a.globe_user = text("Globe user", &a.globe_user)?;
    a.globe_password_env = text(
        "Environment variable holding the Globe password",
        &a.globe_password_env,
    )?;
    Ok(())
}

/// Which standard flows to write.
pub fn flows(a: &mut Answers) -> Asked<()> {
    let checked: Vec<bool> = FLOWS
        .iter()
        .map(|f| a.flows.iter().any(|g| g == f))
        .collect();
    loop {
        let picked = MultiSelect::new()
            .with_prompt("Flows to enable (space toggles, Enter accepts)")
            .items(FLOWS)
            .defaults(&checked)
            .interact()
            .map_err(failed)?;
        let names: Vec<String> = picked.iter().map(|&i| FLOWS[i].to_string()).collect();
        match parse_flows(&names) {
            Ok(f) => {
                a.flows = f;
                return Ok(());
            }
            Err(e) => println!("{e}"),
        }
    }
}

/// The questions that decide the mapping.
pub fn mapping(a: &mut Answers) -> Asked<()> {
    let one = confirm(
        "Put every order on one default debtor (instead of each customer's own)?",
        a.default_debtor.is_some(),
    )?;
    a.default_debtor = if one {
        let d = a.default_debtor.clone().unwrap_or_default();
        Some(text("Debtor number of the default debtor", &d)?).filter(|d| !d.is_empty())
    } else {
        None
    };
    let ways = [MatchBy::Email, MatchBy::Code];
    let labels = [
        "e-mail address (Globe EmailAddress, Exact Online Email)",
        "customer code (Globe DebtorNumber, Exact Online Code)",
    ];
    let at = ways.iter().position(|w| *w == a.match_by).unwrap_or(0);
    let i = Select::new()
        .with_prompt("Match customers between the systems by")
        .items(labels)
        .default(at)
        .interact()
        .map_err(failed)?;
    a.match_by = ways[i];
    a.prices_incl_vat = confirm("Do the Exact Online prices include VAT?", a.prices_incl_vat)?;
    loop {
        match parse_country(&text("Home country (ISO code)", &a.home_country)?) {
            Ok(c) => {
                a.home_country = c;
                return Ok(());
            }
            Err(e) => println!("{e}"),
        }
    }
}

/// Shows a proposed Online -> Globe mapping; keeps it, or asks code by code.
pub fn codes(
    what: &str,
    map: &mut IndexMap<String, String>,
    online: Option<&[Code]>,
    globe: Option<&[Code]>,
) -> Asked<()> {
    let name = |list: Option<&[Code]>, code: &str| {
        list.and_then(|l| l.iter().find(|c| c.code == code))
            .map(|c| format!(" ({})", c.description))
            .unwrap_or_default()
    };
    println!("{what}, Exact Online -> Exact Globe:");
    for (from, to) in map.iter() {
        println!("  {from}{} -> {to}{}", name(online, from), name(globe, to));
    }
    if confirm(&format!("Keep this mapping of {what}?"), true)? {
        return Ok(());
    }
    for (from, to) in map.iter_mut() {
        let prompt = format!("{what}: Exact Online {from}{} becomes", name(online, from));
        match globe.filter(|g| !g.is_empty()) {
            Some(g) => {
                let items: Vec<String> = g
                    .iter()
                    .map(|c| format!("{} {}", c.code, c.description))
                    .collect();
                let at = g.iter().position(|c| c.code == *to).unwrap_or(0);
                let i = Select::new()
                    .with_prompt(prompt)
                    .items(&items)
                    .default(at)
                    .interact()
                    .map_err(failed)?;
                *to = g[i].code.clone();
            }
            None => *to = text(&prompt, to)?,
        }
    }
    Ok(())
}
