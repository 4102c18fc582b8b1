//! The project's mapping tables: the standard ones, with the wizard's answers put in.
//! Payment conditions and VAT codes are proposed from what both systems hold (read live when
//! they could be) and the standard tables; the country tables follow the home country.

use super::answers::Answers;
use super::live::{Code, Lookups};
use crate::cli::demo::project::STANDARD_FILES;
use indexmap::IndexMap;
use serde_yaml::Value;

/// A mapping table as its file holds it (comments aside).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// What it maps.
    pub description: String,
    /// The value of a key it does not list.
    pub default: Option<Value>,
    /// Key -> value.
    pub entries: IndexMap<String, Value>,
}

impl Table {
    /// The standard table `name` (`payment_conditions`), as shipped in `pipelines/tables/`.
    pub fn standard(name: &str) -> Table {
        let file = format!("tables/{name}.yaml");
        let text = STANDARD_FILES
            .iter()
            .find(|(n, _)| *n == file)
            .map(|(_, t)| *t)
            .unwrap_or_default();
        Table::parse(text)
    }

    fn parse(text: &str) -> Table {
        let doc: Value = serde_yaml::from_str(text).unwrap_or(Value::Null);
        let entries = doc
            .get("entries")
            .and_then(Value::as_mapping)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (text_of(k), v.clone()))
                    .collect::<IndexMap<_, _>>()
            })
            .unwrap_or_default();
        Table {
            description: doc
                .get("description")
                .map(text_of)
                .unwrap_or_default()
                .trim()
                .to_string(),
            default: doc.get("default").cloned(),
            entries,
        }
    }

    /// The entries as text (codes), for comparing with answers.
    pub fn codes(&self) -> IndexMap<String, String> {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), text_of(v)))
            .collect()
    }

    fn default_code(&self) -> Option<String> {
        self.default.as_ref().map(text_of)
    }

    /// The file text; `notes` adds a comment after an entry (the codes' descriptions).
    pub fn render(&self, notes: &IndexMap<String, String>) -> String {
        let mut out = String::from("# Written by `exflow init`; yours to edit.\n");
        out.push_str(&format!("description: {}\n", quote(&self.description)));
        if let Some(d) = &self.default {
            out.push_str(&format!("default: {}\n", scalar(d)));
        }
        out.push_str("entries:\n");
        for (k, v) in &self.entries {
            let line = format!("  {}: {}", quote(k), scalar(v));
            match notes.get(k).filter(|n| !n.is_empty()) {
                Some(n) => out.push_str(&format!("{line:<16}# {}\n", n.replace('\n', " "))),
                None => out.push_str(&format!("{line}\n")),
            }
        }
        out
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// A YAML double-quoted scalar: JSON's string syntax is a subset of it.
pub(super) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Null => "null".into(),
        other => text_of(other),
    }
}

fn has(codes: Option<&[Code]>, code: &str) -> bool {
    codes.is_none_or(|c| c.iter().any(|x| x.code == code))
}

/// For each code of `from` (or the standard table's keys when `from` was not read), the code
/// of `to` it maps to: the standard table's choice when `to` has it, else the same code, else
/// the standard default, else `to`'s first code.
pub fn propose(
    standard: &Table,
    from: Option<&[Code]>,
    to: Option<&[Code]>,
) -> IndexMap<String, String> {
    let std_codes = standard.codes();
    let keys: Vec<String> = match from {
        Some(codes) => codes.iter().map(|c| c.code.clone()).collect(),
        None => std_codes.keys().cloned().collect(),
    };
    let fallback = standard
        .default_code()
        .filter(|d| has(to, d))
        .or_else(|| to.and_then(|t| t.first()).map(|c| c.code.clone()));
    keys.into_iter()
        .map(|k| {
            let pick = std_codes
                .get(&k)
                .filter(|v| has(to, v))
                .cloned()
                .or_else(|| to.is_some_and(|_| has(to, &k)).then(|| k.clone()))
                .or_else(|| fallback.clone())
                .unwrap_or_else(|| k.clone());
            (k, pick)
        })
        .collect()
}

/// The tables with `answers` put in: (file name under `pipelines/`, text). A table the
/// answers leave as it is keeps the standard file, comments and all.
pub fn tables(answers: &Answers, live: &Lookups) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, text) in STANDARD_FILES {
        let Some(table) = name
            .strip_prefix("tables/")
            .and_then(|n| n.strip_suffix(".yaml"))
        else {
            continue;
        };
        let written = match table {
            "payment_conditions" => mapped(
                table,
                &answers.payment_conditions,
                live.globe_payment.as_deref(),
                live.online_payment.as_deref(),
            ),
            "payment_conditions_to_online" => back_to_online(answers, live),
            "vat_codes" => mapped(
                table,
                &answers.vat_codes,
                live.globe_vat.as_deref(),
                live.online_vat.as_deref(),
            ),
            "vat_rates" => live.online_vat.as_deref().and_then(rates),
            "debtor_vat_by_country"
            | "online_vat_by_country"
            | "revenue_account_by_country"
            | "vat_by_country" => home_country(table, &answers.home_country),
            _ => None,
        };
        out.push((
            name.to_string(),
            written.unwrap_or_else(|| text.to_string()),
        ));
    }
    out
}

fn notes(codes: Option<&[Code]>) -> IndexMap<String, String> {
    codes
        .unwrap_or_default()
        .iter()
        .map(|c| (c.code.clone(), c.description.clone()))
        .collect()
}

/// An Online -> Globe table from the answers; `None` when they are the standard entries.
fn mapped(
    name: &str,
    answer: &IndexMap<String, String>,
    globe: Option<&[Code]>,
    online: Option<&[Code]>,
) -> Option<String> {
    let standard = Table::standard(name);
    if answer.is_empty() || *answer == standard.codes() {
        return None;
    }
    let default = standard
        .default_code()
        .filter(|d| has(globe, d))
        .or_else(|| globe.and_then(|g| g.first()).map(|c| c.code.clone()));
    let table = Table {
        description: standard.description.clone(),
        default: default.map(Value::String),
        entries: answer
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    };
    let mut n = notes(online);
    let globe_names = notes(globe);
    for (k, v) in answer {
        let to = globe_names.get(v).cloned().unwrap_or_default();
        let from = n.get(k).cloned().unwrap_or_default();
        if !from.is_empty() || !to.is_empty() {
            n.insert(k.clone(), format!("{from} -> {to}"));
        }
    }
    Some(table.render(&n))
}

/// Globe -> Online payment conditions (the customers flow): the reverse of the answer where
/// one Online code maps to the Globe code, else the standard table's choice.
fn back_to_online(answers: &Answers, live: &Lookups) -> Option<String> {
    let standard = Table::standard("payment_conditions_to_online");
    let online = live.online_payment.as_deref();
    let mut back = propose(&standard, live.globe_payment.as_deref(), online);
    // Only where the user changed the forward mapping does the reverse follow it.
    let forward = Table::standard("payment_conditions").codes();
    for (globe, to) in back.iter_mut() {
        if let Some((from, _)) = answers
            .payment_conditions
            .iter()
            .find(|(from, g)| *g == globe && forward.get(*from) != Some(*g))
        {
            *to = from.clone();
        }
    }
    if back == standard.codes() {
        return None;
    }
    let table = Table {
        description: standard.description.clone(),
        default: standard
            .default_code()
            .filter(|d| has(online, d))
            .map(Value::String),
        entries: back
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    };
    Some(table.render(&notes(live.globe_payment.as_deref())))
}

/// Exact Online's own VAT percentages (prices including VAT are divided by them).
fn rates(online: &[Code]) -> Option<String> {
    let standard = Table::standard("vat_rates");
    let entries: IndexMap<String, Value> = online
        .iter()
        .filter_map(|c| Some((c.code.clone(), Value::from(c.rate?))))
        .collect();
    if entries.is_empty() || entries == standard.entries {
        return None;
    }
    let table = Table {
        entries,
        ..standard
    };
    Some(table.render(&notes(Some(online))))
}

/// The standard country tables are made for the Netherlands: with another home country,
/// it takes the Dutch (domestic) value and the Netherlands becomes a foreign EU country,
/// with the value the table gives Germany.
pub fn home_country(name: &str, home: &str) -> Option<String> {
    if home == "NL" {
        return None;
    }
    let mut table = Table::standard(name);
    let domestic = table.entries.get("NL").cloned();
    let foreign = table.entries.get("DE").cloned();
    table.entries.shift_remove(home);
    table.entries.shift_remove("NL");
    if let Some(d) = domestic {
        table.entries.insert(home.to_string(), d);
    }
    if let Some(f) = foreign {
        table.entries.insert("NL".to_string(), f);
    }
    table.description = format!("{} (home country {home})", table.description);
    Some(table.render(&IndexMap::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: &[&str]) -> Vec<Code> {
        list.iter()
            .map(|c| Code {
                code: c.to_string(),
                description: format!("d{c}"),
                rate: None,
            })
            .collect()
    }

    #[test]
    fn a_proposal_takes_the_standard_choice_the_same_code_or_the_default() {
        let std = Table::standard("payment_conditions");
        let online = codes(&["00", "PS", "XX"]);
        let globe = codes(&["00", "30", "VO"]);
        let p = propose(&std, Some(&online), Some(&globe));
        assert_eq!(p["00"], "00");
        assert_eq!(p["PS"], "VO", "the standard table's choice, Globe has it");
        assert_eq!(p["XX"], "30", "unknown: the standard default");
        // Nothing read: the standard table as it is.
        assert_eq!(propose(&std, None, None), std.codes());
    }

    #[test]
    fn standard_answers_keep_the_standard_files() {
        let a = Answers {
            payment_conditions: Table::standard("payment_conditions").codes(),
            vat_codes: Table::standard("vat_codes").codes(),
            ..Answers::defaults("p")
        };
        for (name, text) in tables(&a, &Lookups::default()) {
            let std = STANDARD_FILES.iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(text, std, "{name}");
        }
    }

    #[test]
    fn another_home_country_is_domestic_and_the_netherlands_foreign() {
        let text = home_country("debtor_vat_by_country", "BE").unwrap();
        let t = Table::parse(&text);
        assert_eq!(t.codes()["BE"], "1");
        assert_eq!(t.codes()["NL"], "3");
        let t = Table::parse(&home_country("vat_by_country", "BE").unwrap());
        assert!(!t.entries.contains_key("BE"), "{text}");
        assert_eq!(t.codes()["NL"], "3");
        assert!(home_country("vat_by_country", "NL").is_none());
    }

    #[test]
    fn a_changed_mapping_is_written_with_the_codes_descriptions() {
        let mut a = Answers::defaults("p");
        a.payment_conditions = [("PS", "00"), ("14", "14")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let live = Lookups {
            online_payment: Some(codes(&["PS", "14"])),
            globe_payment: Some(codes(&["00", "14"])),
            ..Lookups::default()
        };
        let out = tables(&a, &live);
        let text = &out
            .iter()
            .find(|(n, _)| n == "tables/payment_conditions.yaml")
            .unwrap()
            .1;
        let t = Table::parse(text);
        assert_eq!(t.codes().len(), 2);
        assert_eq!(t.codes()["PS"], "00");
        assert!(text.contains("# dPS -> d00"), "{text}");
        let back = &out
            .iter()
            .find(|(n, _)| n == "tables/payment_conditions_to_online.yaml")
            .unwrap()
            .1;
        let b = Table::parse(back);
        assert_eq!(b.codes()["00"], "PS", "{back}");
        assert_eq!(b.codes()["14"], "14", "{back}");
    }
}
