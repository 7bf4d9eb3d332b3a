//! Filter-language syntax: precedence, literals, statements, entry points.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use birdconf::ast::{Expr, ExprKind, MaskItem, SetItem, StmtKind, Value};
use birdconf::{parse_filter_block, parse_filter_expr, parse_filter_expr_in, parse_str};

/// Renders an expression fully parenthesised.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Const(Value::Int(v)) => v.to_string(),
        ExprKind::Const(Value::Bool(b)) => b.to_string(),
        ExprKind::Const(Value::Enum(c)) => c.name.to_string(),
        ExprKind::Const(Value::Pair(a, b)) => format!("({a},{b})"),
        ExprKind::Const(Value::Set(_)) => "[set]".into(),
        ExprKind::Const(v) => format!("{v:?}"),
        ExprKind::Attr(a) => a.name().to_string(),
        ExprKind::Var(v, _) => v.clone(),
        ExprKind::Not(x) => format!("!{}", show(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
        ExprKind::Member(x, m, args) if args.is_empty() => format!("{}.{m:?}", show(x)),
        ExprKind::Member(x, m, args) => {
            format!("{}.{m:?}({})", show(x), args.iter().map(show).collect::<Vec<_>>().join(","))
        }
        ExprKind::Builtin(b, args) => {
            format!("{b:?}({})", args.iter().map(show).collect::<Vec<_>>().join(","))
        }
        ExprKind::Call(n, args) => format!("{n}({})", args.iter().map(show).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

fn p(text: &str) -> String {
    show(&parse_filter_expr(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

#[test]
fn precedence() {
    // `*` `/` above `+` `-` above comparisons above `&&`/`||`.
    assert_eq!(p("bgp_med + bgp_local_pref * igp_metric"), "(bgp_med + (bgp_local_pref * igp_metric))");
    assert_eq!(p("bgp_med - bgp_local_pref - igp_metric"), "((bgp_med - bgp_local_pref) - igp_metric)");
    assert_eq!(p("bgp_med / 2 * 3"), "((bgp_med / 2) * 3)");
    assert_eq!(p("bgp_med + 1 > igp_metric * 2"), "((bgp_med + 1) > (igp_metric * 2))");
    // `&&` and `||` share one level, left to right (unlike C).
    assert_eq!(
        p("defined(bgp_med) || net.len > 8 && source = RTS_BGP"),
        "((Defined(bgp_med) || (net.Len > 8)) && (source = RTS_BGP))"
    );
    assert_eq!(
        p("net.len > 8 && source = RTS_BGP || defined(bgp_med)"),
        "(((net.Len > 8) && (source = RTS_BGP)) || Defined(bgp_med))"
    );
    // `!` binds tighter than comparison and arithmetic; `.` tighter than `!`.
    assert_eq!(p("!defined(bgp_med) = false"), "(!Defined(bgp_med) = false)");
    assert_eq!(p("!bgp_path.len = 3"), "(!bgp_path.Len = 3)");
    // Matching operators.
    assert_eq!(
        p("net ~ [ 10.0.0.0/8+ ] && net !~ 10.1.0.0/16"),
        "((net ~ [set]) && (net !~ Prefix(10.1.0.0/16)))"
    );
    assert_eq!(p("bgp_path.first != 65002"), "(bgp_path.First != 65002)");
    // Parentheses.
    assert_eq!(p("(bgp_med + 1) * 2"), "((bgp_med + 1) * 2)");
    // BIRD 3 string concatenation sits with `+`.
    assert_eq!(p("proto ++ \"x\" = \"ax\""), "((proto ++ String(\"x\")) = String(\"ax\"))");
}

#[test]
fn constants_fold() {
    assert_eq!(p("1 + 2 * 3"), "7");
    assert_eq!(p("17 / 4"), "4");
    assert_eq!(p("true && !false || 5 > 3"), "true");
    assert_eq!(p("198.51.100.0/24.len"), "24");
    // Division by zero stays for run time (BIRD reports it when evaluating).
    assert_eq!(p("1 / 0"), "(1 / 0)");
    // Comparisons are non-associative; `%` does not exist.
    assert!(parse_filter_expr("1 < 2 < 3").is_err());
    let e = parse_filter_expr("bgp_med % 2").unwrap_err();
    assert_eq!(e.to_string(), ":1:9 syntax error, unexpected '%'");
    assert!(parse_filter_expr("bgp_path.len >").is_err());
}

#[test]
fn literals() {
    let e = parse_filter_expr("(65001, 1) ~ [(65001, *)]").unwrap();
    let ExprKind::Binary(_, a, b) = &e.kind else { panic!() };
    assert_eq!(a.kind, ExprKind::Const(Value::Pair(65001, 1)));
    let ExprKind::Const(Value::Set(s)) = &b.kind else { panic!() };
    assert!(matches!(s.items[0], SetItem::Pair(x, y) if x.lo == 65001 && y.hi == 65535));
    let e = parse_filter_expr("bgp_path ~ [= * 64496 ? 65001+ [64512..65534] * =]").unwrap();
    let ExprKind::Binary(_, _, m) = &e.kind else { panic!() };
    let ExprKind::PathMask(items) = &m.kind else { panic!() };
    assert_eq!(items.len(), 7);
    assert_eq!(items[4], MaskItem::Repeat);
    assert_eq!(items[1], MaskItem::Asn(64496));
    assert!(matches!(items[5], MaskItem::Set(_)));
    for lit in [
        "+empty+",
        "-empty-",
        "--empty--",
        "---empty---",
        "(rt, 65001, 42)",
        "(ro, 192.0.2.1, 7)",
        "(generic, 1, 2)",
        "(65001, 0, 42)",
        "0x10",
        "2001:db8::1",
        "::ffff:1.2.3.4",
        "fe80::/10",
        "\"text\"",
        "ORIGIN_IGP",
        "NET_IP6",
        "RTD_PROHIBIT",
    ] {
        let e = parse_filter_expr(lit).unwrap_or_else(|e| panic!("{lit}: {e}"));
        assert!(matches!(e.kind, ExprKind::Const(_)), "{lit} is constant");
    }
    let set = parse_filter_expr("[ 10.0.0.0/8+, 0.0.0.0/0{25,32}, 192.168.0.0/16-, (65001, 500..599), (65001, 0, *), (rt, 65001, *), 1..3 ]").unwrap();
    let ExprKind::Const(Value::Set(s)) = &set.kind else { panic!() };
    assert_eq!(s.items.len(), 7);
    assert!(parse_filter_expr("[ 10.0.0.0/8{4,32} ]").is_err(), "pattern range below the prefix length");
    // Run-time tuples stay expressions.
    assert!(matches!(parse_filter_expr("(bgp_med, 1)").unwrap().kind, ExprKind::Pair(..)));
}

#[test]
fn statements() {
    let f = parse_filter_block(
        "filter { int i = 3; case bgp_path.first { 65002: i = 1; 65003, 65004 .. 65010: { i = 2; } else: i = 3; }
          for int a in bgp_path do { if a ~ [ 64512..65534 ] then reject \"private\", a; }
          bgp_community.add((65001, i)).delete([(65535, *)]); unset(bgp_med); print \"x\", net; printn i;
          if i > 2 then accept; else { reject; } }",
    )
    .unwrap();
    assert_eq!(f.body.len(), 8);
    let StmtKind::Case(_, arms, Some(default)) = &f.body[1].kind else { panic!("{:?}", f.body[1]) };
    assert_eq!(arms.len(), 2);
    assert_eq!(arms[1].labels.len(), 2);
    assert_eq!(default.len(), 1);
    assert!(matches!(&f.body[2].kind, StmtKind::For(v, _, _) if v.name == "a" && v.declared));
    assert!(matches!(&f.body[3].kind, StmtKind::Update(_, ops) if ops.len() == 2));
    assert!(matches!(&f.body[4].kind, StmtKind::Unset(_)));
    assert!(matches!(&f.body[6].kind, StmtKind::Print(_, false)));
    assert!(matches!(&f.body[7].kind, StmtKind::If(_, _, Some(_))));
    // Without the keyword, too.
    assert!(parse_filter_block("{ accept; }").is_ok());
}

#[test]
fn cli_expressions_see_config_names() {
    let c = parse_str(
        "t.conf",
        "define MARTIANS = [ 10.0.0.0/8+ ];\nattribute int my_tag;\nfunction f(int a) { return a > 1; }\n",
    )
    .unwrap();
    let e = parse_filter_expr_in(&c, "net ~ MARTIANS && my_tag = 3 && f(bgp_med)").unwrap();
    assert!(show(&e).contains("my_tag"));
    assert_eq!(
        parse_filter_expr("net ~ MARTIANS").unwrap_err().to_string(),
        ":1:7 syntax error, unexpected undefined symbol 'MARTIANS'"
    );
}

#[test]
fn functions_and_scopes() {
    let c = parse_str(
        "t.conf",
        "function fact(int n) -> int { if n < 2 then return 1; return n * fact(n - 1); }\n\
         filter f int x; { x = fact(3); bgp_community.add((x, x)); accept; }\n",
    )
    .unwrap();
    assert_eq!(c.function("fact").unwrap().params[0].0, "n");
    assert_eq!(c.filter("f").unwrap().locals.len(), 1);
    // Locals are not visible outside their filter.
    let e = parse_str("t.conf", "filter f int x; { accept; }\nfilter g { x = 1; accept; }\n").unwrap_err();
    assert_eq!(e.to_string(), "t.conf:2:12 syntax error, unexpected undefined symbol 'x'");
    let e = parse_str("t.conf", "filter f { int x; int x; accept; }").unwrap_err();
    assert_eq!(e.to_string(), "t.conf:1:23 Symbol 'x' already defined");
}

#[test]
fn ec_set_items_keep_ipv4_keys() {
    use birdconf::ast::{CompRange, EcKind};
    let set = |text: &str| match parse_filter_expr(text).unwrap().kind {
        ExprKind::Const(Value::Set(s)) => s.items.clone(),
        other => panic!("{other:?}"),
    };
    let full = CompRange { lo: 0, hi: u32::MAX };
    let ip = CompRange { lo: 0xC000_0201, hi: 0xC000_0201 };
    assert_eq!(set("[(ro, 192.0.2.1, *)]"), vec![SetItem::EcIp(EcKind::Ro, ip, full)]);
    assert_eq!(set("[(ro, 3221225985, *)]"), vec![SetItem::Ec(EcKind::Ro, ip, full)]);
    let cfg = parse_str(
        "t.conf",
        "define K = 192.0.2.1;\nfilter f { if (rt, 1, 2) ~ [(rt, K, 1..5), (rt, K, 3)] then accept; }",
    )
    .unwrap();
    let StmtKind::If(c, ..) = &cfg.filters[0].body[0].kind else { panic!() };
    let ExprKind::Binary(_, _, s) = &c.kind else { panic!() };
    let ExprKind::Const(Value::Set(s)) = &s.kind else { panic!() };
    assert_eq!(s.items[0], SetItem::EcIp(EcKind::Rt, ip, CompRange { lo: 1, hi: 5 }));
    let SetItem::Value(Value::Ec(e)) = &s.items[1] else { panic!() };
    assert!(e.key_is_ip, "a constant's IPv4 value is an IPv4 key");
    let err = parse_filter_expr("[(rt, 192.0.2.1..5, *)]").unwrap_err();
    assert!(err.to_string().contains("Mixed types in set range"), "{err}");
}

#[test]
fn variables_carry_scope_aware_ids() {
    use birdconf::ast::{LValue, VarId};
    let c = parse_str(
        "t.conf",
        "function g(int a; int b) int c; { int d = a; { int a = b; d = a; } for a in bgp_path do c = a; \
         for int e in bgp_path do d = e; return d; }\n\
         filter f { int x; { int x; x = 1; } x = 2; accept; }\n",
    )
    .unwrap();
    let g = c.function("g").unwrap();
    // params 0, 1; local c 2; d 3; the inner a 4; the loop's e 5
    let StmtKind::VarDecl(_, _, Some(init), VarId(3)) = &g.body[0].kind else { panic!("{:?}", g.body[0]) };
    assert!(matches!(init.kind, ExprKind::Var(_, VarId(0))));
    let StmtKind::Block(inner) = &g.body[1].kind else { panic!() };
    assert!(matches!(&inner[0].kind, StmtKind::VarDecl(n, _, Some(e), VarId(4))
        if n == "a" && matches!(e.kind, ExprKind::Var(_, VarId(1)))));
    assert!(matches!(&inner[1].kind, StmtKind::Assign(LValue::Var(_, VarId(3)), e)
        if matches!(e.kind, ExprKind::Var(_, VarId(4)))));
    let StmtKind::For(outer, _, body) = &g.body[2].kind else { panic!() };
    assert_eq!((outer.id, outer.declared), (VarId(0), false), "the parameter a, not the inner one");
    assert!(matches!(&body.kind, StmtKind::Assign(LValue::Var(_, VarId(2)), e)
        if matches!(e.kind, ExprKind::Var(_, VarId(0)))));
    let StmtKind::For(decl, ..) = &g.body[3].kind else { panic!() };
    assert_eq!((decl.id, decl.declared, decl.name.as_str()), (VarId(5), true, "e"));
    // ids start again in each body; shadowing gets a new id
    let f = c.filter("f").unwrap();
    assert!(matches!(&f.body[0].kind, StmtKind::VarDecl(_, _, None, VarId(0))));
    let StmtKind::Block(inner) = &f.body[1].kind else { panic!() };
    assert!(matches!(&inner[1].kind, StmtKind::Assign(LValue::Var(_, VarId(1)), _)));
    assert!(matches!(&f.body[2].kind, StmtKind::Assign(LValue::Var(_, VarId(0)), _)));
}

#[test]
fn error_takes_a_print_list() {
    let f = parse_filter_block("{ error \"bad \", net, \" len \", net.len; }").unwrap();
    assert!(matches!(&f.body[0].kind, StmtKind::Error(args) if args.len() == 4));
    let f = parse_filter_block("{ error; }").unwrap();
    assert!(matches!(&f.body[0].kind, StmtKind::Error(args) if args.is_empty()));
}

/// `( expr )` and tuples share one grammar rule (parsing them as separate
/// alternatives was exponential in the nesting); the builder tells them apart.
#[test]
fn parentheses_and_tuples() {
    assert_eq!(p("((((bgp_med))))"), "bgp_med");
    assert_eq!(p("((1 + 2)) * 3"), "9");
    assert_eq!(p("((1, 2))"), "(1,2)");
    assert!(matches!(parse_filter_expr("((bgp_med), (1))").unwrap().kind, ExprKind::Pair(..)));
    assert!(matches!(parse_filter_expr("((rt, 1, 2))").unwrap().kind, ExprKind::Const(Value::Ec(_))));
    assert!(parse_filter_expr("()").is_err());
    assert!(parse_filter_expr("(1, 2, 3, 4)").is_err());
    assert!(parse_filter_expr("(rt, 1)").is_err());
    // In sets: a parenthesised atom, tuple patterns, ranges of either.
    let set = |t: &str| match parse_filter_expr(t).unwrap_or_else(|e| panic!("{t}: {e}")).kind {
        ExprKind::Const(Value::Set(s)) => s,
        k => panic!("{t}: {k:?}"),
    };
    let s = set("[ (1 + 2), (4)..(5 + 1), ((7)) ]");
    assert_eq!(
        s.items,
        [
            SetItem::Value(Value::Int(3)),
            SetItem::Range(Value::Int(4), Value::Int(6)),
            SetItem::Value(Value::Int(7))
        ]
    );
    let s = set("[ ((65000), 1), (65000 + 1, 2..3), (1, 2)..(1, 5), (rt, (65000), *) ]");
    assert_eq!(s.items[0], SetItem::Value(Value::Pair(65000, 1)));
    assert!(matches!(s.items[1], SetItem::Pair(a, b) if a.lo == 65001 && (b.lo, b.hi) == (2, 3)));
    assert_eq!(s.items[2], SetItem::Range(Value::Pair(1, 2), Value::Pair(1, 5)));
    assert!(matches!(s.items[3], SetItem::Ec(..)));
    for bad in
        ["[ (*) ]", "[ (1..2) ]", "[ (1, 2)..5 ]", "[ 5..(1, 2) ]", "[ (bgp_med, 1) ]", "[ (1, 2, 3, 4) ]"]
    {
        assert!(parse_filter_expr(bad).is_err(), "{bad}");
    }
    let e = parse_filter_expr("[ (*) ]").unwrap_err();
    assert_eq!(e.to_string(), ":1:5 syntax error, unexpected ')', expecting ','");
    // Unknown names in tuple patterns keep the constant's messages.
    let e = parse_filter_expr("[ (NOPE, 1) ]").unwrap_err();
    assert_eq!(
        e.to_string(),
        ":1:4 syntax error, unexpected undefined symbol 'NOPE', expecting constant name"
    );
}
