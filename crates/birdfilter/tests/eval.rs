//! Expressions evaluated without a route (the CLI's `eval`): operators, literals, sets, masks,
//! list functions and BIRD's print format.

use birdfilter::Program;

fn eval(text: &str) -> Result<String, String> {
    let e = birdconf::parse_filter_expr(text).map_err(|e| format!("parse: {e}"))?;
    Program::default().eval_text(&e)
}

fn check(table: &[(&str, &str)]) {
    let mut bad = Vec::new();
    for (expr, want) in table {
        let got = match eval(expr) {
            Ok(v) => v,
            Err(e) => format!("ERR {e}"),
        };
        if got != *want {
            bad.push(format!("{expr:50} => {got:?}, want {want:?}"));
        }
    }
    assert!(bad.is_empty(), "mismatches:\n{}", bad.join("\n"));
}

#[test]
fn arithmetic_wraps_at_32_bits() {
    check(&[
        ("1 + 2", "3"),
        ("5 + 3 * 2 - 1", "10"),
        ("17 / 4", "4"),
        ("(0 - 1)", "4294967295"),
        ("4294967295 + 2", "1"),
        ("65536 * 65536", "0"),
        ("0x10 + 1", "17"),
    ]);
}

#[test]
fn division_by_zero_is_a_runtime_error_as_in_transcript_41() {
    // Transcript 41: `eval 1/0` -> `9001 filter preevaluation, line 1: Mother told me not to divide by 0`
    assert_eq!(eval("1/0"), Err("filter preevaluation, line 1: Mother told me not to divide by 0".into()));
}

#[test]
fn eval_format_as_in_transcript_40() {
    // Transcript 40: `eval (65001, 1) ~ [(65001, *)]` -> `0023 TRUE`
    assert_eq!(eval("(65001, 1) ~ [(65001, *)]"), Ok("TRUE".into()));
}

#[test]
fn logic_and_comparisons() {
    check(&[
        ("true && false", "FALSE"),
        ("true || false", "TRUE"),
        ("!true", "FALSE"),
        ("1 = 1", "TRUE"),
        ("1 != 2", "TRUE"),
        ("1 < 2", "TRUE"),
        ("2 > 1", "TRUE"),
        ("2 >= 2", "TRUE"),
        ("1 <= 0", "FALSE"),
        ("(1,2) < (1,3)", "TRUE"),
        ("(2,0) > (1,65535)", "TRUE"),
        ("192.0.2.1 < 192.0.2.2", "TRUE"),
        ("192.0.2.1 < 2001:db8::1", "TRUE"),
        ("192.0.2.0/24 = 192.0.2.0/24", "TRUE"),
        ("192.0.2.0/24 < 192.0.2.0/25", "TRUE"),
        ("\"abc\" < \"abd\"", "TRUE"),
        ("1 = (1,2)", "FALSE"),
        ("(65001, 0, 1) < (65001, 1, 0)", "TRUE"),
        ("RTS_BGP = RTS_BGP", "TRUE"),
        ("RTS_BGP != RTS_STATIC", "TRUE"),
        ("-empty- = -empty-", "TRUE"),
    ]);
}

#[test]
fn literals_print_as_bird_prints_them() {
    check(&[
        ("(65001, 100)", "(65001,100)"),
        ("(rt, 65001, 42)", "(rt, 65001, 42)"),
        ("(ro, 192.0.2.1, 7)", "(ro, 192.0.2.1, 7)"),
        ("(rt, 4200000000, 5)", "(rt, 4200000000, 5)"),
        // BIRD prints by the type byte: a generic EC of type 0x00 looks like a two-octet AS one.
        ("(generic, 1, 2)", "(unknown 0x0, 1, 2)"),
        ("(generic, 0x80000001, 2)", "(generic, 0x80000001, 0x2)"),
        ("(65001, 0, 42)", "(65001, 0, 42)"),
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("198.51.100.0/24", "198.51.100.0/24"),
        ("\"text\"", "text"),
        ("true", "TRUE"),
        ("RTS_BGP", "(enum 31)11"),
        ("RTS_STATIC", "(enum 31)1"),
        ("NET_IP6", "(enum 37)2"),
        ("ORIGIN_INCOMPLETE", "(enum 32)2"),
        ("RTD_BLACKHOLE", "(enum 35)2"),
        ("SCOPE_UNIVERSE", "(enum 33)64"),
        ("[1, 3, 5..9]", "[1, 3, 5..9]"),
        ("[5..9, 1]", "[1, 5..9]"),
        ("[(65001, *)]", "[(65001,0)..(65001,65535)]"),
        ("[(65001, 1), (65001, 500..599)]", "[(65001,1), (65001,500)..(65001,599)]"),
        ("[10.0.0.0/8+, 192.0.2.0/24]", "[10.0.0.0/8{8,32}, 192.0.2.0/24{24,24}]"),
        ("+empty+", "(path )"),
        ("-empty-", "(clist )"),
        ("--empty--", "(eclist )"),
        ("---empty---", "(lclist )"),
        ("[= * 65001 ? 1..5 =]", "[= * 65001 ? 1..5 =]"),
        ("[= 65001+ 65002 =]", "[= 65001 + 65002 =]"),
        ("format(5)", "5"),
        ("format((1,2))", "(1,2)"),
    ]);
}

#[test]
fn match_element_in_set() {
    check(&[
        ("(65001, 1) ~ [(65002, *)]", "FALSE"),
        ("(65001, 550) ~ [(65001, 500..599)]", "TRUE"),
        ("(65001, 600) ~ [(65001, 500..599)]", "FALSE"),
        ("(65005, 7) ~ [(65001..65010, 5..10)]", "TRUE"),
        ("(65005, 11) ~ [(65001..65010, 5..10)]", "FALSE"),
        ("(65011, 7) ~ [(65001..65010, 5..10)]", "FALSE"),
        ("(65005, 7) ~ [(65001..65010, *)]", "TRUE"),
        ("(1, 2) ~ [(0,0)..(1,5)]", "TRUE"),
        ("5 ~ [1, 3, 5..9]", "TRUE"),
        ("4 ~ [1, 3, 5..9]", "FALSE"),
        ("10 !~ [1, 3, 5..9]", "TRUE"),
        ("4294967294 ~ [4200000000..4294967294]", "TRUE"),
        ("1.2.3.4 ~ [1.2.3.0..1.2.3.255]", "TRUE"),
        ("1.2.4.4 ~ [1.2.3.0..1.2.3.255]", "FALSE"),
        ("(rt, 65001, 42) ~ [(rt, 65001, *)]", "TRUE"),
        ("(rt, 65002, 1) ~ [(rt, 65001, *)]", "FALSE"),
        ("(ro, 65001, 1) ~ [(rt, 65001, *)]", "FALSE"),
        ("(rt, 65001, 5) ~ [(rt, 65001, 1..10)]", "TRUE"),
        // IPv4-address keys stay IPv4-address keys in wildcard and ranged items
        ("(ro, 192.0.2.1, 7) ~ [(ro, 192.0.2.1, *)]", "TRUE"),
        ("(ro, 192.0.2.2, 7) ~ [(ro, 192.0.2.1, *)]", "FALSE"),
        ("(ro, 3221225985, 7) ~ [(ro, 192.0.2.1, *)]", "FALSE"),
        ("(ro, 0.0.1.0, 7) ~ [(ro, 0.0.1.0, *)]", "TRUE"),
        ("(ro, 256, 7) ~ [(ro, 0.0.1.0, *)]", "FALSE"),
        ("(rt, 192.0.2.1, 5) ~ [(rt, 192.0.2.1, 1..10)]", "TRUE"),
        ("(rt, 192.0.2.1, 11) ~ [(rt, 192.0.2.1, 1..10)]", "FALSE"),
        ("(rt, 192.0.2.7, 11) ~ [(rt, 192.0.2.0..192.0.2.9, *)]", "TRUE"),
        ("(rt, 192.0.2.10, 11) ~ [(rt, 192.0.2.0..192.0.2.9, *)]", "FALSE"),
        ("(65001, 0, 42) ~ [(65001, 0, *)]", "TRUE"),
        ("(65001, 1, 42) ~ [(65001, 0, *)]", "FALSE"),
        ("(65001, 5, 42) ~ [(65001, 0..10, 40..50)]", "TRUE"),
        ("(65001, 5, 51) ~ [(65001, 0..10, 40..50)]", "FALSE"),
        ("(65001, 7, 0) ~ [(65001, *, *)]", "TRUE"),
        ("RTS_BGP ~ [RTS_STATIC, RTS_BGP]", "TRUE"),
        ("RTS_PIPE ~ [RTS_STATIC, RTS_BGP]", "FALSE"),
    ]);
}

#[test]
fn match_addresses_and_prefixes() {
    check(&[
        ("192.0.2.1 ~ 192.0.2.0/24", "TRUE"),
        ("192.0.3.1 ~ 192.0.2.0/24", "FALSE"),
        ("2001:db8::1 ~ 192.0.2.0/24", "FALSE"),
        ("192.0.2.128/25 ~ 192.0.2.0/24", "TRUE"),
        ("192.0.2.0/24 ~ 192.0.2.0/24", "TRUE"),
        ("192.0.2.0/23 ~ 192.0.2.0/24", "FALSE"),
        // p+ : p and longer
        ("10.1.0.0/16 ~ [10.0.0.0/8+]", "TRUE"),
        ("10.0.0.0/8 ~ [10.0.0.0/8+]", "TRUE"),
        ("0.0.0.0/0 ~ [10.0.0.0/8+]", "FALSE"),
        ("11.0.0.0/16 ~ [10.0.0.0/8+]", "FALSE"),
        // p- : p and shorter
        ("10.0.0.0/7 ~ [10.0.0.0/8-]", "TRUE"),
        ("0.0.0.0/0 ~ [10.0.0.0/8-]", "TRUE"),
        ("10.0.0.0/9 ~ [10.0.0.0/8-]", "FALSE"),
        // p{a,b}
        ("198.51.100.0/24 ~ [198.51.0.0/16{24,28}]", "TRUE"),
        ("198.51.100.16/28 ~ [198.51.0.0/16{24,28}]", "TRUE"),
        ("198.51.0.0/16 ~ [198.51.0.0/16{24,28}]", "FALSE"),
        ("198.51.100.0/29 ~ [198.51.0.0/16{24,28}]", "FALSE"),
        ("198.52.100.0/24 ~ [198.51.0.0/16{24,28}]", "FALSE"),
        ("203.0.113.0/25 ~ [0.0.0.0/0{25,32}]", "TRUE"),
        ("203.0.113.0/24 ~ [0.0.0.0/0{25,32}]", "FALSE"),
        ("2001:db8:1::/48 ~ [2001:db8::/32{48,64}]", "TRUE"),
        ("2001:db8::/32 ~ [2001:db8::/32{48,64}]", "FALSE"),
        ("2001:db8::/48 ~ [10.0.0.0/8+]", "FALSE"),
        // exact
        ("192.0.2.0/24 ~ [192.0.2.0/24]", "TRUE"),
        ("192.0.2.0/25 ~ [192.0.2.0/24]", "FALSE"),
        ("\"test\" ~ \"te*\"", "TRUE"),
        ("\"test\" ~ \"t?st\"", "TRUE"),
        ("\"test\" ~ \"x*\"", "FALSE"),
        ("\"test\" !~ \"*st\"", "FALSE"),
        ("\"\" ~ \"*\"", "TRUE"),
    ]);
}

const P: &str = "prepend(prepend(prepend(+empty+, 65003), 65001), 65002)"; // 65002 65001 65003

#[test]
fn path_masks() {
    let cases: Vec<(String, &str)> = vec![
        (P.to_string(), "(path 65002 65001 65003)"),
        (format!("{P}.len"), "3"),
        (format!("{P}.first"), "65002"),
        (format!("{P}.last"), "65003"),
        (format!("{P}.last_nonaggregated"), "65003"),
        ("(+empty+).first".into(), "0"),
        (format!("{P} ~ [= * 65001 * =]"), "TRUE"),
        (format!("{P} ~ [= * 64496 * =]"), "FALSE"),
        (format!("{P} ~ [= 65002 65001 65003 =]"), "TRUE"),
        (format!("{P} ~ [= 65002 65001 =]"), "FALSE"),
        (format!("{P} ~ [= * 65003 =]"), "TRUE"),
        (format!("{P} ~ [= ? ? ? =]"), "TRUE"),
        (format!("{P} ~ [= ? ? =]"), "FALSE"),
        (format!("{P} ~ [= 65002 * =]"), "TRUE"),
        (format!("{P} ~ [= 65002 ? * =]"), "TRUE"),
        (format!("{P} ~ [= * 65001 ? =]"), "TRUE"),
        (format!("{P} ~ [= * 65002 ? =]"), "FALSE"),
        (format!("{P} ~ [= * =]"), "TRUE"),
        (format!("{P} ~ [= 65000..65005 * =]"), "TRUE"),
        (format!("{P} ~ [= * [65001, 65003] =]"), "TRUE"),
        (format!("{P} ~ [= [65001, 65003] * =]"), "FALSE"),
        (format!("{P} !~ [= * 65001 * =]"), "FALSE"),
        ("+empty+ ~ [= =]".into(), "TRUE"),
        ("+empty+ ~ [= * =]".into(), "TRUE"),
        ("+empty+ ~ [= ? =]".into(), "FALSE"),
        // repeats
        ("prepend(prepend(prepend(+empty+, 65002), 65001), 65001) ~ [= 65001+ 65002 =]".into(), "TRUE"),
        ("prepend(+empty+, 65002) ~ [= 65001+ 65002 =]".into(), "FALSE"),
        ("prepend(prepend(+empty+, 65002), 65001) ~ [= 65001+ 65002 =]".into(), "TRUE"),
        ("prepend(prepend(prepend(+empty+, 3), 2), 1) ~ [= [1..2]+ 3 =]".into(), "TRUE"),
        ("prepend(prepend(prepend(+empty+, 3), 2), 1) ~ [= [1..2]+ =]".into(), "FALSE"),
        // ASN in path, path against int sets
        (format!("65001 ~ {P}"), "TRUE"),
        (format!("64496 ~ {P}"), "FALSE"),
        (format!("{P} ~ [64512..65534]"), "TRUE"),
        (format!("{P} ~ [1..100]"), "FALSE"),
        (format!("delete({P}, 65001)"), "(path 65002 65003)"),
        (format!("delete({P}, [65001..65002])"), "(path 65003)"),
        (format!("filter({P}, [65001..65002])"), "(path 65002 65001)"),
        (format!("delete({P}, [1..70000])"), "(path )"),
    ];
    let table: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    check(&table);
}

#[test]
fn community_lists() {
    let c = "add(add(add(-empty-, (65001, 1)), (65002, 2)), (65001, 700))";
    let cases: Vec<(String, &str)> = vec![
        (c.into(), "(clist (65001,1) (65002,2) (65001,700))"),
        (format!("{c}.len"), "3"),
        (format!("add({c}, (65001, 1))"), "(clist (65001,1) (65002,2) (65001,700))"),
        (format!("(65002, 2) ~ {c}"), "TRUE"),
        (format!("(65002, 3) ~ {c}"), "FALSE"),
        (format!("{c} ~ [(65002, *)]"), "TRUE"),
        (format!("{c} ~ [(65003, *)]"), "FALSE"),
        (format!("{c} ~ [(65001, 500..799)]"), "TRUE"),
        (format!("delete({c}, (65001, 1))"), "(clist (65002,2) (65001,700))"),
        (format!("delete({c}, [(65001, *)])"), "(clist (65002,2))"),
        (format!("delete({c}, [(65001, 500..799), (0, *)])"), "(clist (65001,1) (65002,2))"),
        (format!("filter({c}, [(65001, *)])"), "(clist (65001,1) (65001,700))"),
        (format!("delete({c}, add(-empty-, (65002, 2)))"), "(clist (65001,1) (65001,700))"),
        (format!("add({c}, add(-empty-, (9, 9)))"), "(clist (65001,1) (65002,2) (65001,700) (9,9))"),
        (format!("{c}.min"), "(65001,1)"),
        (format!("{c}.max"), "(65002,2)"),
        ("add(--empty--, (rt, 1, 2))".into(), "(eclist (rt, 1, 2))"),
        ("(rt, 1, 2) ~ add(--empty--, (rt, 1, 2))".into(), "TRUE"),
        ("delete(add(add(--empty--, (rt, 1, 2)), (ro, 1, 3)), [(rt, 1, *)])".into(), "(eclist (ro, 1, 3))"),
        ("add(---empty---, (1, 2, 3))".into(), "(lclist (1, 2, 3))"),
        ("(1, 2, 3) ~ add(---empty---, (1, 2, 3))".into(), "TRUE"),
        ("add(---empty---, (1, 2, 3)) ~ [(1, *, *)]".into(), "TRUE"),
        ("filter(add(add(---empty---, (1, 2, 3)), (4, 5, 6)), [(4, *, *)])".into(), "(lclist (4, 5, 6))"),
        ("add(-empty-, 1.2.3.4)".into(), "(clist (258,772))"),
        ("(1,2).asn".into(), "1"),
        ("(1,2).data".into(), "2"),
        ("(1,2,3).asn".into(), "1"),
        ("(1,2,3).data1".into(), "2"),
        ("(1,2,3).data2".into(), "3"),
    ];
    let table: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    check(&table);
}

#[test]
fn list_errors_are_runtime_errors() {
    check(&[
        ("add(+empty+, 5)", "ERR filter preevaluation, line 1: Can't add to path"),
        ("add(-empty-, 5)", "ERR filter preevaluation, line 1: Can't add non-pair"),
        ("add(-empty-, [(1, *)])", "ERR filter preevaluation, line 1: Can't add set"),
        ("delete(-empty-, \"x\")", "ERR filter preevaluation, line 1: Can't delete non-pair"),
        ("add(5, 5)", "ERR filter preevaluation, line 1: Can't add to non-[e|l]clist"),
        ("5 ~ 6", "ERR filter preevaluation, line 1: ~ applied on unknown type pair"),
        ("5 !~ \"a\"", "ERR filter preevaluation, line 1: !~ applied on unknown type pair"),
        ("(1,2) ~ [1, 2]", "ERR filter preevaluation, line 1: ~ applied on unknown type pair"),
    ]);
}

#[test]
fn prefix_members() {
    check(&[
        ("(198.51.100.0/24).len", "24"),
        ("(198.51.100.0/24).ip", "198.51.100.0"),
        ("(198.51.100.0/24).type", "(enum 37)1"),
        ("(192.0.2.129).mask(25)", "192.0.2.128"),
        ("(2001:db8::ffff).mask(64)", "2001:db8::"),
        ("defined(1)", "TRUE"),
    ]);
}

#[test]
fn eval_bounds_formatted_sets_and_set_construction() {
    let e = eval("format([(1..60000, 5)])").unwrap_err();
    assert!(e.contains("Value too large"), "{e}");
    assert_eq!(eval("format([(1..3, 5)])"), Ok("[(1,5), (2,5), (3,5)]".to_string()));
    // one set item, one set and one expression each have a bound on the elements they expand to
    let e = eval("(1, 1, 1) ~ [(1, 0..70000, 1..2)]").unwrap_err();
    assert!(e.contains("too large"), "{e}");
    let items: Vec<String> = (0..6).map(|i| format!("(1..60000, {i})")).collect();
    let e = eval(&format!("(1, 1) ~ [{}]", items.join(", "))).unwrap_err();
    assert!(e.contains("Set too large"), "{e}");
    let sets: Vec<String> = (0..6).map(|i| format!("(1, 1) ~ [(1..60000, {i})]")).collect();
    let e = eval(&sets.join(" || ")).unwrap_err();
    assert!(e.contains("Sets too large"), "{e}");
}
