//! Random and mutated pipeline files into the loader and checker: diagnostics, never a panic.

use exflow::pipeline::{check_source, source::SourceFile, Scope};
use proptest::prelude::*;
use std::path::Path;

fn standard(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("pipelines")
            .join(name),
    )
    .expect("pipeline")
}

fn scope() -> Scope {
    let mut s = Scope::default();
    for v in [
        "default_debtor",
        "home_country",
        "currency",
        "prices_include_vat",
        "skip_item_prefix",
    ] {
        s.vars.insert(v.to_string());
    }
    for t in [
        "payment_conditions",
        "shipping_methods",
        "vat_by_country",
        "vat_codes",
        "vat_rates",
    ] {
        s.tables.insert(t.to_string());
    }
    s.scripts.insert("fix_postcode".to_string(), 2);
    s.scripts.insert("is_company".to_string(), 1);
    s
}

fn check(text: String) {
    let file = SourceFile::new("fuzz.yaml", text);
    let (_, diags) = check_source(&file, &scope());
    for d in &diags.0 {
        // Every diagnostic points inside the file.
        assert!(d.loc.span.start <= file.text().len());
        let _ = d.line_col();
        let _ = d.to_json();
    }
}

/// Applies edits (delete, insert, duplicate a line) at positions chosen by proptest.
fn mutate(base: &str, edits: &[(usize, u8, String)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for (pos, op, text) in edits {
        if chars.is_empty() {
            break;
        }
        let at = pos % chars.len();
        match op % 4 {
            0 => {
                let end = (at + 1 + text.len() % 7).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                for (i, c) in text.chars().enumerate() {
                    chars.insert((at + i).min(chars.len()), c);
                }
            }
            2 => {
                let line_start = chars[..at]
                    .iter()
                    .rposition(|c| *c == '\n')
                    .map(|i| i + 1)
                    .unwrap_or(0);
                let line_end = chars[at..]
                    .iter()
                    .position(|c| *c == '\n')
                    .map(|i| at + i + 1)
                    .unwrap_or(chars.len());
                let line: Vec<char> = chars[line_start..line_end].to_vec();
                for (i, c) in line.into_iter().enumerate() {
                    chars.insert(line_end + i, c);
                }
            }
            _ => {
                if let Some(c) = text.chars().next() {
                    chars[at] = c;
                }
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_standard_pipelines_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), "[ -~\n\t:|>{}\\[\\]\"'#&*!é]{0,6}"), 1..6),
    ) {
        let base = standard(["orders.yaml", "customers.yaml", "products.yaml"][which]);
        check(mutate(&base, &edits));
    }

    #[test]
    fn random_text_never_panics(text in "[ -~\n\t:|>{}\\[\\]\"'#é]{0,200}") {
        check(text);
    }

    #[test]
    fn random_expressions_in_a_valid_file_never_panic(expr in "[ -~]{0,60}") {
        let text = format!(
            "pipeline: p\nsource: {{ system: exact_online, entity: Items }}\ntarget: {{ system: exact_globe, entity: Item, match: ItemCode == Code }}\nmap:\n  ItemCode: {}\n",
            serde_json::to_string(&expr).unwrap_or_default()
        );
        check(text);
    }
}
