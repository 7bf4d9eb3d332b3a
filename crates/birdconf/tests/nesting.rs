//! Nested input: linear parse work and the nesting limit.
//!
//! The parser once re-parsed a parenthesised sub-expression after each failed
//! tuple attempt, doubling the time per `(` (`((((((((((((1` took 1.5 s).
//! These tests do not time anything: they count pest's rule calls, which are
//! deterministic. pest's call limit makes a parse fail once the budget is
//! spent, so the smallest budget a parse needs is found by bisection, and it
//! must grow linearly with the nesting depth. An exponential regression fails
//! here at once instead of hanging the test run.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::num::NonZeroUsize;
use std::sync::Mutex;

use birdconf::{parse_filter_block, parse_filter_expr, parse_str, ConfigError, MAX_NESTING, MAX_OPERATORS};

/// pest's call limit is process-wide: tests in this file take turns.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a parse result ran out of pest's call budget.
fn over_budget<T>(r: &Result<T, ConfigError>) -> bool {
    matches!(r, Err(e) if e.message.contains("limit reached"))
}

/// The smallest call budget (within 1/16) with which `parse` completes
/// (successfully or with an ordinary error), by bisection; panics past 2^24 calls.
fn calls_needed<T>(parse: impl Fn() -> Result<T, ConfigError>) -> usize {
    let budget = |n: usize| {
        pest::set_call_limit(NonZeroUsize::new(n));
        let over = over_budget(&parse());
        pest::set_call_limit(None);
        !over
    };
    let mut hi = 1usize << 10;
    while !budget(hi) {
        hi *= 2;
        assert!(hi <= 1 << 24, "parse needs over {hi} pest calls: exponential backtracking?");
    }
    // Within 1/16: plenty for comparing growth, and a few parses fewer.
    let mut lo = if hi == 1 << 10 { 1 } else { hi / 2 };
    while lo + hi / 16 < hi {
        let mid = lo + (hi - lo) / 2;
        if budget(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    hi
}

/// Asserts that the work for `make(n)` grows linearly in `n`: doubling the
/// depth at most (a little over) doubles the calls.
fn assert_linear<T>(
    what: &str,
    n: usize,
    make: impl Fn(usize) -> String,
    parse: impl Fn(&str) -> Result<T, ConfigError>,
) {
    let small = make(n);
    let large = make(2 * n);
    let a = calls_needed(|| parse(&small));
    let b = calls_needed(|| parse(&large));
    assert!(b <= 3 * a, "{what}: {a} calls at depth {n} but {b} at depth {}: not linear", 2 * n);
}

fn expr(s: &str) -> Result<birdconf::ast::Expr, ConfigError> {
    parse_filter_expr(s)
}

fn conf(s: &str) -> Result<birdconf::Config, ConfigError> {
    parse_str("t.conf", s)
}

#[test]
fn nested_parentheses_parse_in_linear_work() {
    let _g = lock();
    let n = MAX_NESTING / 2 - 2;
    assert_linear("balanced", n, |n| format!("{}1{}", "(".repeat(n), ")".repeat(n)), expr);
    assert_linear("unclosed", n, |n| format!("{}1", "(".repeat(n)), expr);
    assert_linear(
        "unclosed fuzz artifact",
        n,
        |n| format!("{}10.8.0./00 ~ [0.0/8+, 192.168.0.0/16{{24,32}} ]", "(".repeat(n)),
        expr,
    );
    assert_linear("tuples", n, |n| format!("{}1{}", "(".repeat(n), ",1)".repeat(n)), expr);
    assert_linear("unclosed tuples", n, |n| format!("{}1", "(1,".repeat(n)), expr);
    assert_linear("ec tuples", n, |n| format!("{}1{}", "(rt, 1, ".repeat(n), ")".repeat(n)), expr);
    assert_linear("calls", n, |n| format!("{}1{}", "f(".repeat(n), ")".repeat(n)), expr);
    assert_linear("members", n, |n| format!("{}1{}", "x.prepend(".repeat(n), ")".repeat(n)), expr);
    assert_linear("not", n, |n| format!("{}1{}", "!(".repeat(n), ")".repeat(n)), expr);
    // The balanced inputs parse.
    expr(&format!("{}1{}", "(".repeat(n), ")".repeat(n))).unwrap();
    expr(&format!("{}1{}", "(".repeat(n), ",1)".repeat(n))).unwrap();
}

#[test]
fn nested_sets_and_masks_parse_in_linear_work() {
    let _g = lock();
    let n = MAX_NESTING / 4 - 1;
    assert_linear("sets", n, |n| format!("{}1{}", "[(".repeat(n), ")]".repeat(n)), expr);
    assert_linear("unclosed sets", n, |n| format!("{}1", "[(".repeat(n)), expr);
    assert_linear("set tuples", n, |n| format!("{}1{}", "[(1, ".repeat(n), ")]".repeat(n)), expr);
    assert_linear("set tuple first", n, |n| format!("{}1{}", "[((".repeat(n), "), 1)]".repeat(n)), expr);
    assert_linear("set tuple ranges", n, |n| format!("{}1{}", "[(1, 1..(".repeat(n), "))]".repeat(n)), expr);
    assert_linear("unclosed set tuples", n, |n| format!("{}1", "[((".repeat(n)), expr);
    assert_linear("masks", n, |n| format!("{}1{}", "[= (".repeat(n), ") =]".repeat(n)), expr);
    // A set of sets folds as a constant.
    expr(&format!("{}1{}", "[(".repeat(n), ")]".repeat(n))).unwrap();
}

#[test]
fn nested_statements_and_options_parse_in_linear_work() {
    let _g = lock();
    let n = MAX_NESTING / 2 - 2;
    let block = |s: &str| parse_filter_block(s);
    assert_linear("blocks", n, |n| format!("{{ {} accept; {} }}", "{ ".repeat(n), "} ".repeat(n)), block);
    assert_linear("unclosed blocks", n, |n| format!("{{ {} accept;", "{ ".repeat(n)), block);
    assert_linear("if chains", n, |n| format!("{{ {} accept; }}", "if true then ".repeat(n)), block);
    assert_linear(
        "else if chains",
        n,
        |n| format!("{{ if true then accept; {} }}", "else if true then accept; ".repeat(n)),
        block,
    );
    assert_linear(
        "if conditions",
        n,
        |n| format!("filter f {{ if {}1{} = 1 then accept; }}", "(".repeat(n), ")".repeat(n)),
        conf,
    );
    assert_linear(
        "unclosed if conditions",
        n,
        |n| format!("filter f {{ if {}1 then accept; }}", "(".repeat(n)),
        conf,
    );
    assert_linear("define", n, |n| format!("define x = {}1{};", "(".repeat(n), ")".repeat(n)), conf);
    assert_linear("unclosed define", n, |n| format!("define x = {}1;", "(".repeat(n)), conf);
    assert_linear(
        "option values",
        n,
        |n| format!("protocol kernel {{ ipv4; scan time {}1{}; }}", "(".repeat(n), ")".repeat(n)),
        conf,
    );
    assert_linear(
        "where",
        n,
        |n| format!("protocol kernel {{ ipv4 {{ export where {}true{}; }}; }}", "(".repeat(n), ")".repeat(n)),
        conf,
    );
}

/// The fuzz seeds that used to time out.
#[test]
fn former_timeouts() {
    let _g = lock();
    pest::set_call_limit(NonZeroUsize::new(1_000_000));
    let r = expr("(((((((((((((((10.8.0./00 ~ [0.0/8+, 192.168.0.0/16{24,32} ]");
    assert!(!over_budget(&r) && r.is_err(), "{r:?}");
    let r = expr(&format!("{}1", "(".repeat(12)));
    assert!(!over_budget(&r) && r.is_err(), "{r:?}");
    let r = conf("filter f { if (((((((((((1 then accept; }");
    assert!(!over_budget(&r) && r.is_err(), "{r:?}");
    let r = conf("define x = (((((((((((1;");
    assert!(!over_budget(&r) && r.is_err(), "{r:?}");
    pest::set_call_limit(None);
}

#[test]
fn nesting_limit() {
    let _g = lock();
    // Exactly the limit parses.
    let ok = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert!(matches!(expr(&ok).unwrap().kind, birdconf::ast::ExprKind::Const(_)));
    // One more is refused at the bracket that goes over.
    let e = expr(&format!("{}1{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1))).unwrap_err();
    assert_eq!(e.to_string(), format!(":1:{} nesting too deep", MAX_NESTING + 1));
    // Far deeper input is refused just as fast, balanced or not, in any bracket.
    for deep in ["(".repeat(200_000), "[(".repeat(100_000), format!("{}1", "[= (".repeat(50_000))] {
        assert_eq!(expr(&deep).unwrap_err().message, "nesting too deep");
    }
    let e = parse_filter_block(&format!("{{ {} }}", "{".repeat(100_000))).unwrap_err();
    assert_eq!(e.to_string(), format!(":1:{} nesting too deep", MAX_NESTING + 2));
    // Statements nested without brackets count too.
    let e = parse_filter_block(&format!("{{ {} accept; }}", "if true then ".repeat(10_000))).unwrap_err();
    assert_eq!(e.message, "nesting too deep");
    let chain = format!("{{ if true then accept; {} }}", "else if true then accept; ".repeat(10_000));
    assert_eq!(parse_filter_block(&chain).unwrap_err().message, "nesting too deep");
    let chain =
        format!("{{ if true then accept; {} }}", "else if true then accept; ".repeat(MAX_NESTING - 2));
    parse_filter_block(&chain).unwrap();
    // Each prefix `!` is a level of the tree (4000 of them, from one 4 KB CLI
    // line, overflowed the filter compiler's stack).
    let e = expr(&format!("{}net", "!".repeat(4000))).unwrap_err();
    assert_eq!(e.to_string(), format!(":1:{} nesting too deep", MAX_NESTING + 1));
    expr(&format!("{}net", "!".repeat(MAX_NESTING))).unwrap();
    assert_eq!(expr(&format!("{}net", "!(".repeat(MAX_NESTING))).unwrap_err().message, "nesting too deep");
}

/// Operator chains build left-deep trees: `gw+gw+...` with 1364 terms (one
/// 4 KB CLI line) overflowed the filter compiler's stack in a 2 MB thread.
#[test]
fn operator_chain_limit() {
    let _g = lock();
    let chain = |n: usize| format!("gw{}", "+gw".repeat(n));
    let e = expr(&chain(1364)).unwrap_err();
    assert_eq!(e.to_string(), format!(":1:{} expression too long", 3 * MAX_OPERATORS + 3));
    assert!(matches!(expr(&chain(MAX_OPERATORS)).unwrap().kind, birdconf::ast::ExprKind::Binary(..)));
    // Statements and arguments are separate expressions.
    let body = format!("{{ {} accept; }}", format!("bgp_med = {};", chain(100)).repeat(100));
    parse_filter_block(&body).unwrap();
    let text = format!("define x = {};\n", (0..1000).map(|i| i.to_string()).collect::<Vec<_>>().join(" + "));
    // (The `=` of `define` counts too: the scan over-approximates operators.)
    let plus = text.match_indices('+').nth(MAX_OPERATORS - 1).map(|(i, _)| i + 1).unwrap();
    assert_eq!(conf(&text).unwrap_err().to_string(), format!("t.conf:1:{plus} expression too long"));
}

#[test]
fn nesting_limit_in_a_config() {
    let _g = lock();
    let deep = format!("{}1{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
    // Inside `filter f {`, the 64th `(` is one too many.
    let text = format!("router id 192.0.2.1;\n\nfilter f {{\n  if {deep} = 1 then accept;\n}}\n");
    let e = conf(&text).unwrap_err();
    assert_eq!(e.to_string(), format!("t.conf:4:{} nesting too deep", 5 + MAX_NESTING));
    // An error in an earlier item still comes first, as BIRD reports in file order.
    let text = format!("router id 192.0.2.300;\ndefine x = {deep};\n");
    assert_eq!(conf(&text).unwrap_err().to_string(), "t.conf:1:11 Invalid IPv4 address 192.0.2.300");
    let text = format!("router id 192.0.2.1;\ndefine x = {deep};\n");
    assert_eq!(
        conf(&text).unwrap_err().to_string(),
        format!("t.conf:2:{} nesting too deep", 12 + MAX_NESTING)
    );
    // Brackets in comments and strings do not count.
    let text = format!("# {deep}{deep}\n/* {deep} */\nprotocol device {{ description \"{deep}{deep}\"; }}\n");
    conf(&text).unwrap();
}
