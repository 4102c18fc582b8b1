//! Writing the project: `exflow.yaml` from the answers (secrets as `${NAME}` only), the
//! chosen standard pipelines (customers matched as asked), the scripts and the tables, the
//! JSON Schemas the files' first lines point an editor at, and a `.gitignore` that keeps
//! the state (tokens) and secret files out of git.

use super::answers::{Answers, MatchBy};
use super::live::Lookups;
use crate::cli::demo::project::STANDARD_FILES;
use crate::pipeline::json_schema;
use std::path::{Path, PathBuf};

/// The schema `exflow.yaml` names in its first line.
pub const PROJECT_SCHEMA: &str = "exflow.project.schema.json";
/// The schema pipeline files name in their first line.
pub const PIPELINE_SCHEMA: &str = "exflow.pipeline.schema.json";

/// What `.gitignore` must hold: the state store (tokens, cursors, the activity log) and
/// files people keep secrets in.
const IGNORED: [&str; 3] = [".exflow/", ".env", "*.secret"];

/// A file that could not be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot write {}: {message}", path.display())]
#[diagnostic(code(init::write))]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

fn put(path: &Path, text: &str) -> Result<(), WriteError> {
    let fail = |e: std::io::Error| WriteError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

use super::tables::quote as q;

/// `value`, or a reference to the environment variable `env` when it is not known.
fn or_env(value: &str, env: &str) -> String {
    if value.trim().is_empty() {
        format!("${{{env}}}")
    } else {
        q(value.trim())
    }
}

/// The text of `exflow.yaml`.
pub fn project_file(a: &Answers) -> String {
    let division = a
        .division
        .map(|d| format!("    division: {d}\n"))
        .unwrap_or_default();
    let debtor = a
        .default_debtor
        .as_deref()
        .map(q)
        .unwrap_or_else(|| "null".into());
    format!(
        "# yaml-language-server: $schema={PROJECT_SCHEMA}\n\
         # Written by `exflow init`. Secrets come from the environment, never from this file:\n\
         # export {secret} and {password} where exflow runs.\n\
         project: {project}\n\
         state: .exflow/state.db\n\
         retention_days: 30          # activity log older than this is purged\n\
         redact_payloads: false      # true: names, e-mails, phones and addresses are not stored\n\
         \n\
         connections:\n\
         \x20 exact_online:\n\
         \x20   base_url: {online}\n\
         {division}\
         \x20   client_id: {client_id}\n\
         \x20   client_secret: ${{{secret}}}\n\
         \x20   redirect_uri: {redirect}\n\
         \x20   daily_reserve: 500\n\
         \x20 exact_globe:\n\
         \x20   base_url: {globe}\n\
         \x20   server_name: {server}\n\
         \x20   database_name: {admin}\n\
         \x20   user: {user}\n\
         \x20   password: ${{{password}}}\n\
         \n\
         vars:\n\
         \x20 default_debtor: {debtor}      # a debtor number puts every order on that debtor\n\
         \x20 home_country: {country}\n\
         \x20 currency: EUR\n\
         \x20 prices_include_vat: {incl}\n\
         \x20 skip_item_prefix: \"TMP-\"\n",
        secret = a.client_secret_env,
        password = a.globe_password_env,
        project = q(&a.project),
        online = q(&a.online_url),
        client_id = or_env(&a.client_id, "EXACT_ONLINE_CLIENT_ID"),
        redirect = q(&a.redirect_uri),
        globe = q(&a.globe_url),
        server = q(&a.globe_server),
        admin = q(&a.administration),
        user = or_env(&a.globe_user, "EXACT_GLOBE_USER"),
        country = q(&a.home_country),
        incl = a.prices_incl_vat,
    )
}

/// The lines that match customers by e-mail in the standard pipelines, and what they become
/// when customers are matched by their code. Each must occur exactly once in its file.
const BY_CODE: &[(&str, &str, &str)] = &[
    (
        "orders.yaml",
        "    match: EmailAddress == lower(trim(account.Email))\n",
        "    match: DebtorNumber == left(trim(account.Code), 6)\n",
    ),
    (
        "orders.yaml",
        "    map:\n      AccountName: left(account.Name, 50)\n",
        "    map:\n      DebtorNumber: left(trim(account.Code), 6)\n      AccountName: left(account.Name, 50)\n",
    ),
    (
        "customers.yaml",
        "  match: Email == lower(trim(EmailAddress))\n",
        "  match: Code == trim(DebtorNumber)\n",
    ),
    (
        "customer_contacts.yaml",
        "    match: Email == lower(trim(EmailAddress))\n",
        "    match: Code == trim(DebtorNumber)\n",
    ),
];

/// A standard pipeline as the answers want it, with the schema line on top.
pub fn pipeline_file(file: &str, text: &str, a: &Answers) -> Result<String, String> {
    let mut text = text.to_string();
    if a.match_by == MatchBy::Code {
        for (_, from, to) in BY_CODE.iter().filter(|(f, _, _)| *f == file) {
            if text.matches(from).count() != 1 {
                return Err(format!(
                    "pipelines/{file} no longer holds `{}` once: exflow init cannot match customers by code",
                    from.trim()
                ));
            }
            text = text.replacen(from, to, 1);
        }
    }
    Ok(format!(
        "# yaml-language-server: $schema=../{PIPELINE_SCHEMA}\n{text}"
    ))
}

/// Every file of the project: (path under `dir`, text).
pub fn files(a: &Answers, live: &Lookups) -> Result<Vec<(String, String)>, String> {
    let mut out = vec![("exflow.yaml".to_string(), project_file(a))];
    for (name, text) in STANDARD_FILES {
        let Some(flow) = name.strip_suffix(".yaml").filter(|n| !n.contains('/')) else {
            // Scripts go along; tables come from `tables`, with the answers.
            if name.starts_with("scripts/") {
                out.push((format!("pipelines/{name}"), text.to_string()));
            }
            continue;
        };
        // Unit tests are written for the standard answers; the wizard's may differ.
        if a.flows.iter().any(|f| f == flow) {
            out.push((format!("pipelines/{name}"), pipeline_file(name, text, a)?));
        }
    }
    for (name, text) in super::tables::tables(a, live) {
        out.push((format!("pipelines/{name}"), text));
    }
    let schema = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    out.push((PROJECT_SCHEMA.into(), schema(json_schema::project())));
    out.push((PIPELINE_SCHEMA.into(), schema(json_schema::pipeline())));
    Ok(out)
}

/// Writes `files` into `dir` and adds what must stay out of git to its `.gitignore`.
pub fn write_all(dir: &Path, files: &[(String, String)]) -> Result<(), WriteError> {
    for (name, text) in files {
        put(&dir.join(name), text)?;
    }
    let path = dir.join(".gitignore");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    let missing: Vec<&str> = IGNORED
        .iter()
        .copied()
        .filter(|l| !text.lines().any(|have| have.trim() == *l))
        .collect();
    if !missing.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# exflow: the state store (tokens, cursors, activity log) and secrets\n");
        for l in missing {
            text.push_str(l);
            text.push('\n');
        }
        put(&path, &text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_match_by_code_edit_applies_to_the_standard_pipelines() {
        let a = Answers {
            match_by: MatchBy::Code,
            ..Answers::defaults("p")
        };
        for (file, _, to) in BY_CODE {
            let text = STANDARD_FILES.iter().find(|(n, _)| n == file).unwrap().1;
            let out = pipeline_file(file, text, &a).unwrap();
            assert!(out.contains(to), "{file}");
            assert!(!out.contains("Email == lower(trim(EmailAddress))\n  on_match"));
        }
    }

    #[test]
    fn the_project_file_names_the_secrets_never_their_values() {
        let mut a = Answers::defaults("shop");
        a.client_id = "abc".into();
        a.default_debtor = Some("1000".into());
        a.home_country = "BE".into();
        let text = project_file(&a);
        assert!(text.starts_with("# yaml-language-server: $schema=exflow.project.schema.json\n"));
        assert!(text.contains("client_secret: ${EXACT_ONLINE_CLIENT_SECRET}\n"));
        assert!(text.contains("password: ${EXACT_GLOBE_PASSWORD}\n"));
        assert!(
            text.contains("user: ${EXACT_GLOBE_USER}\n"),
            "no user given"
        );
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(doc["vars"]["default_debtor"], "1000");
        assert_eq!(doc["vars"]["home_country"], "BE");
        assert_eq!(doc["connections"]["exact_online"]["client_id"], "abc");
    }

    #[test]
    fn gitignore_lines_are_added_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/\n.env\n").unwrap();
        write_all(dir.path(), &[]).unwrap();
        write_all(dir.path(), &[]).unwrap();
        let text = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(text.matches(".exflow/").count(), 1, "{text}");
        assert_eq!(text.matches(".env").count(), 1, "{text}");
        assert!(text.starts_with("target/\n"));
    }
}
