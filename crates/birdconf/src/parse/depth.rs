//! A cheap nesting check run before pest sees the text.
//!
//! pest parses by recursive descent, and the tree builder, the filter
//! compiler and `Drop` all recurse over the result: each level of `( )`,
//! `[ ]`, `{ }` (and each statement nested by `then`, `else` or `do`) costs
//! stack in every one of them. Configuration text and CLI expressions
//! (`eval`, `show route where ...`, from a restricted socket too) are
//! untrusted, so nesting deeper than [`MAX_NESTING`] is refused up front with
//! `nesting too deep` at the bracket or keyword that goes over the limit,
//! long before any stack could run out. Real configurations nest a handful
//! of levels.
//!
//! Operator chains are not nesting for the grammar, but `a + b + c + ...`
//! builds a left-deep tree all the same: past [`MAX_OPERATORS`] binary
//! operators in one expression (counting those of the enclosing levels) the
//! input is refused with `expression too long`.
//!
//! The scan follows the lexical rules of the grammar (`#` and `/* */`
//! comments, `"strings"` that end at a newline, `'quoted names'`), so a
//! bracket inside a comment or string does not count.

/// Deepest nesting of brackets plus chained statements accepted.
pub const MAX_NESTING: usize = 64;

/// Most binary operators accepted in one expression, plus those of the
/// expressions around it and the nesting: the depth of the left-deep tree
/// an operator chain builds (the filter compiler recurses over it).
pub const MAX_OPERATORS: usize = 512;

/// What is open in one bracket level besides nested brackets.
#[derive(Default)]
struct Level {
    /// Statements still open through `then` or `do`.
    chain: usize,
    /// Prefix `!` not yet applied to a complete operand.
    nots: usize,
    /// Binary operators since the start of the current expression.
    ops: usize,
}

/// Offset of the first token that nests deeper than [`MAX_NESTING`] in
/// `text[from..]`, if any.
///
/// The depth is the number of open brackets plus, in each bracket level:
///
/// * the statements still open through `then` or `do` (`if a then if b then
///   x;` is two deep at `x`; an `else if` chain grows by one per `else if`,
///   as in the parser). That count is reset when a statement ends (`;` or a
///   closing `}`) unless `else` follows, which continues the open `if`;
/// * the prefix `!` waiting for their operand (`!!!(x)` is four deep at `x`;
///   each `!` is one level of the expression tree). They are reset by the
///   next token that is not a `!` or an opening bracket.
///
/// Binary operators count towards [`MAX_OPERATORS`] from the start of an
/// expression (after `;`, `,`, `:`, `then`, `do`, `else` or an opening
/// bracket) to its end. Returns the offset and the message.
pub(crate) fn too_deep(text: &str, from: usize) -> Option<(usize, &'static str)> {
    let b = text.as_bytes();
    // One entry per open bracket, plus the top level.
    let mut levels: Vec<Level> = vec![Level::default()];
    // Sum of `chain + nots` over `levels`, kept incrementally.
    let mut extra = 0usize;
    // Sum of `ops` over `levels`.
    let mut ops = 0usize;
    // A statement just ended: the chain resets unless the next word is `else`.
    let mut ended = false;
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                match text.get(i + 2..).and_then(|r| r.find("*/")) {
                    Some(n) => i += n + 4,
                    None => i = b.len(),
                }
                continue;
            }
            _ => {}
        }
        let word_end = if c.is_ascii_alphabetic() || c == b'_' {
            i + b[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count()
        } else {
            i
        };
        // Bytes, not `str`: `i` may be inside a multi-byte character.
        let word = &b[i..word_end];
        if ended {
            ended = false;
            // `else` continues the `if` whose `then` is counted; `else:` is the
            // default arm of `case`, after which nothing is open.
            let continues =
                word == b"else" && b[word_end..].iter().find(|c| !c.is_ascii_whitespace()) != Some(&b':');
            if !continues {
                if let Some(top) = levels.last_mut() {
                    extra -= std::mem::take(&mut top.chain);
                }
            }
        }
        if matches!(c, b';' | b',' | b':') || matches!(word, b"then" | b"do" | b"else") {
            // A new expression starts.
            if let Some(top) = levels.last_mut() {
                ops -= std::mem::take(&mut top.ops);
            }
        }
        let prefix_not = c == b'!' && !matches!(b.get(i + 1), Some(b'=' | b'~'));
        let opening = matches!(c, b'(' | b'[' | b'{');
        if !prefix_not && !opening {
            // This token completes (or follows) the operand of pending `!`.
            if let Some(top) = levels.last_mut() {
                extra -= std::mem::take(&mut top.nots);
            }
        }
        let start = i;
        let mut deeper = false;
        let mut longer = false;
        match c {
            _ if prefix_not => {
                if let Some(top) = levels.last_mut() {
                    top.nots += 1;
                }
                extra += 1;
                deeper = true;
                i += 1;
            }
            _ if opening => {
                levels.push(Level::default());
                deeper = true;
                i += 1;
            }
            b')' | b']' | b'}' => {
                if levels.len() > 1 {
                    let top = levels.pop().unwrap_or_default();
                    extra -= top.chain + top.nots;
                    ops -= top.ops;
                }
                // The bracket closes the operand of `!` before it.
                if let Some(top) = levels.last_mut() {
                    extra -= std::mem::take(&mut top.nots);
                }
                // `}` ends a block statement (`if a then { } else { }`).
                ended = c == b'}';
                i += 1;
            }
            b';' => {
                ended = true;
                i += 1;
            }
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    i += 1;
                }
                i += 1;
            }
            b'+' | b'-' | b'*' | b'/' | b'=' | b'<' | b'>' | b'~' | b'&' | b'|' | b'!' => {
                // One operator (`&&`, `!=`, `++`...), or an overcount (`-empty-`,
                // the `+` of a prefix pattern, `*` in a path mask): harmless.
                i += b[i..]
                    .iter()
                    .take_while(|c| {
                        matches!(
                            c,
                            b'+' | b'-' | b'*' | b'/' | b'=' | b'<' | b'>' | b'~' | b'&' | b'|' | b'!'
                        )
                    })
                    .count();
                if let Some(top) = levels.last_mut() {
                    top.ops += 1;
                }
                ops += 1;
                longer = true;
            }
            _ if word_end > i => {
                if word == b"then" || word == b"do" {
                    if let Some(top) = levels.last_mut() {
                        top.chain += 1;
                    }
                    extra += 1;
                    deeper = true;
                }
                i = word_end;
            }
            _ => i += 1,
        }
        if deeper && levels.len() - 1 + extra > MAX_NESTING {
            return Some((start, "nesting too deep"));
        }
        if (deeper || longer) && levels.len() - 1 + extra + ops > MAX_OPERATORS {
            return Some((start, "expression too long"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(s: &str) -> bool {
        too_deep(s, 0).is_none()
    }

    fn at(s: &str) -> Option<usize> {
        too_deep(s, 0).map(|(at, _)| at)
    }

    #[test]
    fn brackets() {
        let ok = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(depth_ok(&ok));
        let bad = format!("{}1", "(".repeat(MAX_NESTING + 1));
        assert_eq!(at(&bad), Some(MAX_NESTING));
        assert_eq!(at(&"[(".repeat(40)), Some(MAX_NESTING));
        // Sequences do not nest.
        assert!(depth_ok(&"(1); ".repeat(1000)));
        // Comments and strings do not count; a stray closer does not go negative.
        let hidden =
            format!("# {}\n/* {} */ \"{}\" ')' ))) (1)", "(".repeat(99), "[".repeat(99), "{".repeat(99));
        assert!(depth_ok(&hidden));
        // Multi-byte characters anywhere (the scan steps bytes).
        assert!(depth_ok("# é\n\"ü\" 'ö' ✓ (é) [✓] {{ é then ü }}"));
    }

    #[test]
    fn operator_chains() {
        let n = MAX_OPERATORS;
        assert!(depth_ok(&format!("a{}", " + a".repeat(n))));
        let long = format!("a{}", "+a".repeat(n + 1));
        assert_eq!(too_deep(&long, 0), Some((2 * n + 1, "expression too long")));
        // Expressions end at `;`, `,`, `:`, `then`, `do`, `else`; `!=` is one operator.
        assert!(depth_ok(&"x = a + b * c != d; ".repeat(1000)));
        assert!(depth_ok(&format!("[{}]", "10.0.0.0/8+, ".repeat(1000))));
        assert!(depth_ok(&format!("f({})", "a + b, ".repeat(1000))));
        assert!(depth_ok(&"if a && b then c = d; else e = f; ".repeat(1000)));
        assert!(depth_ok(&"case a { 1: b = c + d; } ".repeat(1000)));
        // Enclosing levels count: a chain in parentheses inside a chain.
        let nested = format!("a{}{}", " + (a".repeat(40), " + a".repeat(n - 60));
        assert_eq!(too_deep(&nested, 0).map(|(_, m)| m), Some("expression too long"));
    }

    #[test]
    fn statements() {
        let seq = "if a then x; else y; ".repeat(500);
        assert!(depth_ok(&format!("filter f {{ {seq} }}")));
        let blocks = "if a then { x; } else { y; } ".repeat(500);
        assert!(depth_ok(&format!("filter f {{ {blocks} }}")));
        let chain = format!("filter f {{ x; {} }}", "else if a then x; ".repeat(MAX_NESTING));
        assert!(too_deep(&chain, 0).is_some());
        let short = format!("filter f {{ if a then x; {} }}", "else if a then x; ".repeat(20));
        assert!(depth_ok(&short));
        let nested = format!("filter f {{ {} x; }}", "if a then ".repeat(MAX_NESTING));
        assert!(too_deep(&nested, 0).is_some());
        // Prefix `!` nest the expression tree; `!=` and `!~` are operators.
        assert!(depth_ok(&format!("{}x", "!".repeat(MAX_NESTING))));
        assert_eq!(at(&format!("{}x", "!".repeat(MAX_NESTING + 1))), Some(MAX_NESTING));
        assert!(too_deep(&format!("{}x", "!(".repeat(MAX_NESTING / 2 + 1)), 0).is_some());
        assert!(depth_ok(&format!("{}x", "!x; ".repeat(1000))));
        assert!(depth_ok(&"a != b && c !~ d; ".repeat(1000)));
        assert!(depth_ok(&"if !(!a) then x; ".repeat(1000)));
        // `case` default arms are not nested statements.
        let case = format!("filter f {{ case x {{ {} }} }}", "1: x; else: y; ".repeat(200));
        assert!(depth_ok(&case));
    }
}
