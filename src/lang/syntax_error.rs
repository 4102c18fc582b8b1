//! Pest's parse failures turned into syntax errors a person can act on: what was found,
//! what would have fitted, and a hint for the usual slips (`=` for `==`, `&&`, open quotes).

use super::ast::Span;
use super::error::{ErrorCode, LangError};
use super::parse::Rule;

fn rule_name(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of expression",
        Rule::expr | Rule::coalesce | Rule::or_expr | Rule::and_expr | Rule::not_expr => {
            "an expression"
        }
        Rule::cmp_expr | Rule::add_expr | Rule::mul_expr | Rule::unary | Rule::postfix => {
            "an expression"
        }
        Rule::call_args => "`(`",
        Rule::cmp_op => "a comparison (== != < <= > >=)",
        Rule::add_op | Rule::mul_op => "an operator",
        Rule::kw_and | Rule::kw_or => "`and`/`or`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::field => "`.field`",
        Rule::index => "`[index]`",
        Rule::arm | Rule::pattern => "a match arm (`'A' => ...`)",
        Rule::entry => "an object entry (`key: value`)",
        Rule::ident | Rule::qualified | Rule::pipe_call => "a name",
        Rule::number => "a number",
        Rule::sstring | Rule::dstring => "a string",
        Rule::lambda => "a lambda",
        Rule::stext | Rule::dtext | Rule::interp => "string text",
        _ => return None,
    })
}

pub(super) fn syntax_error(src: &str, e: pest::error::Error<Rule>) -> LangError {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let rest = src.get(pos..).unwrap_or("");
    let found_len = rest.chars().next().map(char::len_utf8).unwrap_or(0);
    let found: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(12)
        .collect();
    let mut expected: Vec<&str> = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(rule_name).collect()
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let found_text = if found.is_empty() {
        "end of the expression".to_string()
    } else {
        format!("`{found}`")
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!(
            "unexpected {found_text}, expected {}",
            expected.join(" or ")
        )
    };
    let help = syntax_hint(src, pos, rest);
    // At the end of the text, point at the last thing written rather than at nothing.
    let span = if found_len == 0 {
        let trimmed = src.trim_end().len();
        let last = src[..trimmed]
            .chars()
            .next_back()
            .map(char::len_utf8)
            .unwrap_or(0);
        Span::new(trimmed - last, trimmed)
    } else {
        Span::new(pos, pos + found_len)
    };
    LangError::new(ErrorCode::Syntax, span, message).with_help_opt(help)
}

fn syntax_hint(src: &str, pos: usize, rest: &str) -> Option<String> {
    let before = src.get(..pos).unwrap_or("");
    let count = |c: char| src.chars().filter(|&x| x == c).count();
    if rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>") {
        return Some("use `==` to compare".into());
    }
    if rest.starts_with("&&") {
        return Some("write `and` instead of `&&`".into());
    }
    if rest.starts_with("||") {
        return Some("write `or` instead of `||`".into());
    }
    if rest.starts_with('!') && !rest.starts_with("!=") {
        return Some("write `not x` instead of `!x`".into());
    }
    if count('\'') % 2 == 1 {
        return Some("a single-quoted string is not closed".into());
    }
    if count('"') % 2 == 1 {
        return Some("a double-quoted string is not closed".into());
    }
    if count('(') != count(')') {
        return Some("the parentheses `(` `)` do not balance".into());
    }
    if count('[') != count(']') {
        return Some("the brackets `[` `]` do not balance".into());
    }
    if count('{') != count('}') {
        return Some(
            "the braces `{` `}` do not balance (in \"text\", write `\\{` for a literal brace)"
                .into(),
        );
    }
    let last_word = before.split_whitespace().last().unwrap_or("");
    if [
        "if", "then", "else", "match", "and", "or", "not", "true", "false", "null",
    ]
    .contains(&last_word)
    {
        return Some(format!(
            "`{last_word}` is a keyword; a field with that name is written `record[\"{last_word}\"]`"
        ));
    }
    if rest.is_empty() {
        return Some("the expression ends too early".into());
    }
    None
}
