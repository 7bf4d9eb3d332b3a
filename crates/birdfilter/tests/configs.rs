//! The lab configurations (copied from shared/compat/configs) and the bench template, compiled
//! and run on sample routes; compile-time errors with positions; filter identity.
#![allow(clippy::unwrap_used)]

mod common;

use birdfilter::{Limits, Program, Verdict};
use birdtable::attrs::{Dest, RouteSource};
use common::*;

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Program {
    let cfg = birdconf::parse_file(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    Program::compile(&cfg).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn bird_a_bgp_import_matches_the_lab_routes() {
    let p = load("birdA.conf");
    let f = p.filter("bgp_import").unwrap();
    // transcript 27, 203.0.113.0/24: (65002,100) raises local_pref to 300, ours are tagged.
    let a = with_lc(bgp(&[65002, 65002], &[(65002, 100)]), &[(65002, 5, 5)]);
    let r = run_filter(f, "203.0.113.0/24", &a, Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    let out = r.attrs.unwrap();
    assert_eq!(out.bgp_local_pref(), Some(300));
    assert_eq!(out.bgp_community().unwrap().to_string(), "(65002,100) (65001,1007)");
    assert_eq!(out.bgp_ext_community().unwrap().to_string(), "(rt, 65001, 7)");
    assert_eq!(out.bgp_large_community().unwrap().to_string(), "(65002, 5, 5) (65001, 1, 7)");
    // transcript 27, 198.18.0.0/24: the blackhole community turns it into a blackhole.
    let a = bgp(&[65002, 65002], &[(65535, 666), (65001, 5)]);
    let r = run_filter(f, "198.18.0.0/24", &a, Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    assert_eq!(r.printed, vec!["blackhole request from 127.0.0.3 for 198.18.0.0/24".to_string()]);
    let out = r.attrs.unwrap();
    assert_eq!(out.dest, Dest::Blackhole);
    assert_eq!(out.bgp_local_pref(), Some(200));
    assert_eq!(out.bgp_community().unwrap().to_string(), "(65535,666) (65001,1007)");
    // bogons, long paths, private ASNs behind another neighbour, the case arms
    for (n, path, want) in [
        ("100.64.50.0/24", vec![65002], reject()),
        ("203.0.113.192/27", vec![65002], reject()),
        ("10.1.0.0/16", vec![65002], reject()),
        ("203.0.113.0/24", (0..40).map(|_| 65002).collect(), reject()),
        ("203.0.113.0/24", vec![65003, 64512], reject()),
        ("203.0.113.0/24", vec![65002, 64512], accept()),
    ] {
        let r = run_filter(f, n, &bgp(&path, &[]), Limits::DEFAULT);
        assert_eq!(r.verdict, want, "{n} {path:?}");
    }
    // 65003/65004 are private ASNs: such a neighbour is rejected before the case.
    assert_eq!(run_filter(f, "203.0.113.0/24", &bgp(&[65004, 1], &[]), Limits::DEFAULT).verdict, reject());
    let r = run_filter(f, "203.0.113.0/24", &bgp(&[174, 1], &[]), Limits::DEFAULT);
    assert_eq!(r.attrs.unwrap().bgp_local_pref(), Some(100));
    // IPv6: the bogon set for v6
    assert_eq!(run_filter(f, "fc00::/8", &bgp(&[65002], &[]), Limits::DEFAULT).verdict, reject());
    assert_eq!(run_filter(f, "2001:db8:200::/48", &bgp(&[65002], &[]), Limits::DEFAULT).verdict, accept());
    assert_eq!(run_filter(f, "2001:db8:200::/64", &bgp(&[65002], &[]), Limits::DEFAULT).verdict, reject());
}

#[test]
fn bird_a_exports() {
    let p = load("birdA.conf");
    let e = p.filter("bgp_export").unwrap();
    let r = run_filter(e, "198.51.100.0/25", &stat(via("192.0.2.254", "vethA")), Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    let out = r.attrs.unwrap();
    assert_eq!(out.bgp_path().unwrap().to_string(), "65001");
    assert_eq!(out.bgp_community().unwrap().to_string(), "(65001,100)");
    assert_eq!(out.bgp_large_community().unwrap().to_string(), "(65001, 0, 1)");
    assert_eq!(out.bgp_med(), Some(10));
    assert_eq!(run_filter(e, "100.64.99.0/24", &stat(Dest::Unreachable), Limits::DEFAULT).verdict, reject());
    let b = bgp(&[65002], &[(65001, 1007)]);
    assert_eq!(run_filter(e, "203.0.113.0/24", &b, Limits::DEFAULT).verdict, accept());
    assert_eq!(run_filter(e, "203.0.113.0/24", &bgp(&[65002], &[]), Limits::DEFAULT).verdict, reject());

    let k = p.filter("kernel_export").unwrap();
    assert_eq!(run_filter(k, "198.51.100.128/25", &stat(Dest::Blackhole), Limits::DEFAULT).verdict, accept());
    let r = run_filter(k, "203.0.113.0/24", &bgp(&[65002], &[]), Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    assert_eq!(r.attrs.unwrap().krt_prefsrc(), Some("192.0.2.1".parse().unwrap()));
    let r = run_filter(k, "2001:db8:201::/48", &bgp(&[65002], &[]), Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    assert!(r.attrs.is_none());
    let mut dev = stat(via("192.0.2.1", "vethA"));
    dev.source = RouteSource::Device;
    assert_eq!(run_filter(k, "192.0.2.0/24", &dev, Limits::DEFAULT).verdict, reject());

    let lg = p.filter("lg_export").unwrap();
    assert_eq!(run_filter(lg, "100.64.99.0/24", &stat(Dest::Unreachable), Limits::DEFAULT).verdict, reject());
    assert_eq!(run_filter(lg, "198.51.100.0/24", &stat(Dest::Blackhole), Limits::DEFAULT).verdict, accept());
}

#[test]
fn bird_b_to_a_prepends() {
    let p = load("birdB.conf");
    let f = p.filter("to_a").unwrap();
    let r = run_filter(f, "203.0.113.0/24", &stat(via("192.0.2.254", "vethA")), Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    assert_eq!(r.attrs.unwrap().bgp_path().unwrap().to_string(), "65002");
    assert_eq!(run_filter(f, "203.0.113.0/24", &bgp(&[1], &[]), Limits::DEFAULT).verdict, reject());
}

#[test]
fn subset_examples_compile_and_run() {
    let p = load("subset-examples.conf");
    let names: Vec<&str> = p.filters().map(|f| f.name()).collect();
    assert_eq!(names, ["demo_types", "bgp_in", "kernel_out", "attr_examples", "ec_examples"]);
    let r = run_filter(p.filter("demo_types").unwrap(), "10.0.0.0/8", &bgp(&[1], &[]), Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    // `a` ends up IPv6 and `i` is 17 / 4 = 4: no "in range", no "int set".
    assert_eq!(r.printed, ["in set", "len/ip", "pattern", "ne", "range"]);

    let f = p.filter("bgp_in").unwrap();
    let a = bgp(&[65002, 65001], &[(65001, 100), (65002, 7)]);
    let r = run_filter(f, "203.0.113.0/24", &a, Limits::DEFAULT);
    assert_eq!(r.verdict, Verdict::Accept(Some("ok".into())));
    let out = r.attrs.unwrap();
    assert_eq!(out.bgp_path().unwrap().to_string(), "65001 65002 65001");
    assert_eq!(out.bgp_community().unwrap().to_string(), "(65002,7) (65001,30)");
    assert_eq!(out.bgp_med(), None, "unset");
    assert_eq!(out.bgp_local_pref(), Some(150));
    assert_eq!(out.bgp_large_community().unwrap().to_string(), "(65001, 0, 42) (65001, 1, 3)");
    let my_tag = birdtable::attrs::lookup_attr("my_tag").unwrap().id;
    assert_eq!(out.value(my_tag), Some(&birdtable::attrs::AttrValue::Int(7)));
    assert_eq!(r.printed, ["private asn in (path 65002 65001)", "gw 192.0.2.254 proto peer_b4", "ok"]);
    assert_eq!(
        run_filter(f, "10.1.0.0/16", &a, Limits::DEFAULT).verdict,
        Verdict::Reject(Some("martian".into()))
    );

    let k = p.filter("kernel_out").unwrap();
    let r = run_filter(k, "203.0.113.0/24", &bgp(&[1], &[]), Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    assert_eq!(r.attrs.unwrap().krt_metric(), Some(100));

    let r = run_filter(
        p.filter("attr_examples").unwrap(),
        "203.0.113.0/24",
        &bgp(&[3356], &[(65535, 666)]),
        Limits::DEFAULT,
    );
    assert_eq!(r.verdict, accept());
    assert_eq!(r.printed, ["xhex"]);
    assert!(r.attrs.unwrap().bgp_community().unwrap().is_empty());
    let r = run_filter(
        p.filter("attr_examples").unwrap(),
        "2001:db8:1::/48",
        &bgp(&[3356], &[]),
        Limits::DEFAULT,
    );
    assert_eq!(r.verdict, reject());
    let r = run_filter(
        p.filter("ec_examples").unwrap(),
        "10.0.0.0/8",
        &bgp(&[1], &[(65002, 1), (1, 1)]),
        Limits::DEFAULT,
    );
    assert_eq!(r.verdict, accept());
    let out = r.attrs.unwrap();
    assert_eq!(out.bgp_community().unwrap().to_string(), "(65002,1)");
    assert_eq!(out.bgp_ext_community().unwrap().to_string(), "(ro, 192.0.2.1, 7) (unknown 0x0, 1, 2)");
}

#[test]
fn bench_template_rsb_import() {
    let text = std::fs::read_to_string(data("rsbench-template.conf")).unwrap();
    let start = text.find("filter rsb_import").unwrap();
    let end = start + text[start..].find("\n}\n").unwrap() + 3;
    let p = compile(&text[start..end]);
    let f = p.filter("rsb_import").unwrap();
    let r = run_filter(f, "203.0.113.0/24", &bgp(&[65010, 65020], &[]), Limits::DEFAULT);
    assert_eq!(r.verdict, accept());
    assert_eq!(r.attrs.unwrap().bgp_local_pref(), Some(100));
    for (n, path, comms) in [
        ("203.0.113.0/25", vec![1], vec![]),
        ("10.0.0.0/16", vec![1], vec![]),
        ("225.0.0.0/8", vec![1], vec![]),
        ("203.0.113.0/24", (0..33).collect(), vec![]),
        ("203.0.113.0/24", vec![1], vec![(65535, 666)]),
    ] {
        assert_eq!(run_filter(f, n, &bgp(&path, &comms), Limits::DEFAULT).verdict, reject(), "{n}");
    }
}

#[test]
fn compile_errors_carry_positions() {
    let cases = [
        (
            "filter f {\n  int x;\n  x = true;\n  accept;\n}",
            "test.conf:3:7 Argument 1 of VAR_SET must be of type int, got type bool",
        ),
        (
            "filter f {\n  if 1 then accept;\n  reject;\n}",
            "test.conf:2:6 Argument 1 of CONDITION must be of type bool, got type int",
        ),
        (
            "filter f {\n  bgp_local_pref = \"x\";\n  accept;\n}",
            "test.conf:2:20 Argument 1 of EA_SET must be of type int, got type string",
        ),
        (
            "filter f {\n  preference = 1.2.3.4;\n  accept;\n}",
            "test.conf:2:16 Argument 1 of RTA_SET must be of type int, got type ip",
        ),
        (
            "filter f {\n  if net.len + true > 0 then accept;\n}",
            "test.conf:2:16 Argument 2 of ADD must be of type int, got type bool",
        ),
        (
            "filter f {\n  for int x in bgp_community do accept;\n}",
            "test.conf:2:3 Loop variable 'x' in FOR must be pair, is int",
        ),
        (
            "filter f {\n  if net < 5 then accept;\n}",
            "test.conf:2:6 Arguments 1 and 2 of LT must be of the same type",
        ),
        (
            "filter f {\n  if net.first = 1 then accept;\n}",
            "test.conf:2:6 Argument 1 of AS_PATH_FIRST must be of type bgppath, got type prefix",
        ),
        (
            "filter f {\n  krt_mtu = 1400;\n  accept;\n}",
            "test.conf:2:3 birdd does not support attribute krt_mtu",
        ),
        (
            "filter f {\n  if net ~ [ 10.0.0.0/8, 2001:db8::/32 ] then accept;\n}",
            "test.conf:2:12 Mixed IPv4/IPv6 prefixes in prefix set",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(compile_err(text), want, "{text}");
    }
}

#[test]
fn same_source_compiles_to_equal_filters() {
    let a = load("birdA.conf");
    let b = load("birdA.conf");
    for f in a.filters() {
        assert_eq!(Some(f), b.filter(f.name()), "{}", f.name());
    }
    // moving a filter in the file does not change it; changing a function it calls does
    let src = "function t(int x) { return x > 1; }\nfilter f { if t(net.len) then accept; reject; }";
    let moved =
        "\n\n\nfunction t(int x) { return x > 1; }\n\nfilter f { if t(net.len) then accept; reject; }";
    let changed = "function t(int x) { return x > 2; }\nfilter f { if t(net.len) then accept; reject; }";
    let f = |s: &str| compile(s).filter("f").unwrap().clone();
    assert_eq!(f(src), f(moved));
    assert_ne!(f(src), f(changed));
    assert_ne!(a.filter("bgp_import"), a.filter("bgp_export"));
    assert_eq!(birdfilter::Filter::all(), birdfilter::Filter::all());
    assert_ne!(birdfilter::Filter::all(), birdfilter::Filter::none());
}

#[test]
fn channel_specs_resolve() {
    let cfg = birdconf::parse_file(&data("subset-examples.conf")).unwrap();
    let p = Program::compile(&cfg).unwrap();
    for proto in &cfg.protocols {
        for ch in &proto.channels {
            for spec in [&ch.import, &ch.export] {
                let f = p.resolve(spec).unwrap_or_else(|e| panic!("{}: {e}", proto.name));
                if let birdconf::ast::FilterSpec::Named(n) = spec {
                    assert_eq!(f.name(), n);
                }
            }
        }
    }
    let k6 = cfg.protocol("kernel6").unwrap();
    let w = p.resolve(&k6.channels[0].export).unwrap();
    assert_eq!(w.name(), "(unnamed)");
    assert!(run_filter(&w, "2001:db8::/32", &bgp(&[1], &[]), Limits::DEFAULT).verdict.is_accept());
    assert!(!run_filter(&w, "2001:db8::/32", &stat(Dest::Blackhole), Limits::DEFAULT).verdict.is_accept());
}
