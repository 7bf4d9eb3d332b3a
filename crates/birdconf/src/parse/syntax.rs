//! Turning pest failures into BIRD-style syntax errors.
//!
//! BIRD (bison) says `syntax error, unexpected X[, expecting A or B]` and
//! lists expected tokens only when there are at most four. We do the same,
//! naming tokens in words: keywords and punctuation quoted (`';'`,
//! `'protocol'`), classes as `name`, `number`, `IP address`, `expression`...
//!
//! BIRD's lexer also reports malformed tokens (an IPv4 address with an octet
//! over 255, a number over 32 bits, an unterminated string) as soon as it
//! reads them, before any syntax error further on; [`lexical_error`] finds
//! those in the text preceding a syntax error.

use pest::error::{ErrorVariant, InputLocation};

use crate::grammar::Rule;

/// Message for a pest error at `pos` (absolute offset in `text`).
pub(crate) fn message(text: &str, pos: usize, err: &pest::error::Error<Rule>) -> String {
    let found = describe_found(text, pos);
    let mut expected: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !expected.contains(&s) {
            expected.push(s);
        }
    };
    if let Some(att) = err.parse_attempts() {
        for stack in att.call_stacks() {
            if let Some(r) = stack.deepest.get_rule() {
                push(describe_rule(*r));
            }
        }
        for t in att.expected_tokens() {
            let token = t.to_string();
            if is_punct(&token) {
                push(format!("'{token}'"));
            }
        }
    } else if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        for r in positives {
            push(describe_rule(*r));
        }
    }
    expected.retain(|e| !e.is_empty());
    if expected.is_empty() || expected.len() > 4 {
        format!("syntax error, unexpected {found}")
    } else {
        format!("syntax error, unexpected {found}, expecting {}", expected.join(" or "))
    }
}

/// The error offset relative to the parsed slice.
///
/// pest locates an error at the last *rule* it tried; a missing `;` is a
/// literal, tracked only in the parse attempts, so the furthest attempt wins.
pub(crate) fn error_pos(err: &pest::error::Error<Rule>) -> usize {
    let at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // Lookaheads (a keyword must not continue as a name) also move the
    // furthest attempt; only an expected literal there makes it the error.
    match err.parse_attempts() {
        Some(a) if a.max_position > at && a.expected_tokens().iter().any(|t| is_punct(&t.to_string())) => {
            a.max_position
        }
        _ => at,
    }
}

fn is_punct(token: &str) -> bool {
    // Comment starts are attempted wherever whitespace may be.
    !token.is_empty()
        && token != "#"
        && token != "/*"
        && token != "_"
        && token.chars().all(|c| c.is_ascii_punctuation())
}

fn describe_rule(r: Rule) -> String {
    let name = format!("{r:?}");
    if let Some(kw) = name.strip_prefix("kw_") {
        return format!("'{kw}'");
    }
    if let Some(w) = name.strip_prefix("w_") {
        return format!("'{w}'");
    }
    match r {
        Rule::name | Rule::plain_name | Rule::quoted_name | Rule::lvalue => "name",
        Rule::num | Rule::dec_num | Rule::hex_num | Rule::cexpr => "number",
        Rule::ip4 | Rule::ip6 | Rule::ipa => "IP address",
        Rule::prefix4 | Rule::prefix6 => "prefix",
        Rule::string | Rule::string_inner => "string",
        Rule::bool_val => "bool",
        Rule::time_val => "time",
        Rule::type_name | Rule::base_type => "type",
        Rule::net_type => "'ipv4' or 'ipv6'",
        Rule::expr
        | Rule::logic
        | Rule::compare
        | Rule::additive
        | Rule::multiplicative
        | Rule::unary
        | Rule::postfix => "expression",
        Rule::logic_op | Rule::cmp_op | Rule::add_op | Rule::mul_op => "operator",
        Rule::EOI => "end of input",
        Rule::device_proto
        | Rule::direct_proto
        | Rule::kernel_proto
        | Rule::static_proto
        | Rule::pipe_proto
        | Rule::bgp_proto => "protocol option",
        Rule::channel_body | Rule::bgp_channel_body => "channel option",
        Rule::table_opts | Rule::table_opt => "table option",
        Rule::cmd_block => "statement",
        _ => "",
    }
    .to_string()
}

/// Describes the token at `pos` as BIRD would point at it.
pub(crate) fn describe_found(text: &str, pos: usize) -> String {
    let tok = token_at(text, pos);
    if tok.is_empty() {
        "end of input".into()
    } else if tok.starts_with('"') {
        format!("string {tok}")
    } else {
        format!("'{tok}'")
    }
}

/// The token starting at `pos` (approximately as BIRD's lexer would cut it).
pub(crate) fn token_at(text: &str, pos: usize) -> &str {
    let rest = &text[pos.min(text.len())..];
    let b = rest.as_bytes();
    if b.is_empty() {
        return "";
    }
    let end = match b[0] {
        c if c.is_ascii_alphabetic() || c == b'_' => {
            let n = b.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
            // An IPv6 address may start with hex letters.
            if b.get(n) == Some(&b':') {
                b.iter().take_while(|c| c.is_ascii_hexdigit() || **c == b':' || **c == b'.').count()
            } else {
                n
            }
        }
        c if c.is_ascii_digit() => b
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'.' || **c == b':' || **c == b'/')
            .count(),
        b'"' => rest[1..].find(['"', '\n']).map_or(rest.len(), |i| i + 2),
        b'\'' => rest[1..].find(['\'', '\n']).map_or(rest.len(), |i| i + 2),
        _ => {
            const TWO: [&str; 10] = ["!=", "!~", "<=", ">=", "&&", "||", "[=", "=]", "..", "->"];
            if TWO.iter().any(|t| rest.starts_with(t)) {
                2
            } else {
                rest.chars().next().map_or(1, char::len_utf8)
            }
        }
    };
    let end = end.min(rest.len());
    let tok = &rest[..end];
    tok.trim_end_matches(['.', ':', '/'])
}

/// The first malformed token in `text[from..to]`: (offset, message).
pub(crate) fn lexical_error(text: &str, from: usize, to: usize) -> Option<(usize, String)> {
    let b = text.as_bytes();
    let mut i = from;
    while i < to.min(b.len()) {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'\n' {
                    return Some((start, "Unterminated string".into()));
                }
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() => {
                let start = i;
                let tok = token_at(text, i);
                let is_ip4 = tok.split('/').next().is_some_and(|a| {
                    let parts: Vec<&str> = a.split('.').collect();
                    parts.len() == 4
                        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
                });
                if is_ip4 {
                    let a = tok.split('/').next().unwrap_or(tok);
                    if let Err(e) = birdnet::parse_ipv4(a) {
                        return Some((start, e.to_string()));
                    }
                } else if tok.bytes().all(|c| c.is_ascii_digit()) && tok.parse::<u32>().is_err() {
                    return Some((start, "Number out of range".into()));
                }
                i += tok.len().max(1);
            }
            _ => i += 1,
        }
    }
    None
}
