//! Errors, with the exact `file:line:col message` BIRD prints.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use birdconf::{parse_file, parse_source, parse_str, MemSource};

fn err(text: &str) -> String {
    match parse_str("t.conf", text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn table_of_errors() {
    let cases: &[(&str, &str)] = &[
        // host bits: birdnet's message, at the length (BIRD checks once the length is read)
        (
            "protocol static {\n  ipv4;\n  route 192.0.2.1/24 blackhole;\n}\n",
            "t.conf:3:19 Invalid IPv4 prefix 192.0.2.1/24, maybe you wanted 192.0.2.0/24",
        ),
        (
            "define P = 2001:db8::1/32;",
            "t.conf:1:24 Invalid IPv6 prefix 2001:db8::1/32, maybe you wanted 2001:db8::/32",
        ),
        ("define A = [ 1.2.3.4/33 ];", "t.conf:1:22 Invalid prefix length 33"),
        // bad address: at the address, even when a syntax error follows it
        ("router id 1.2.3.4;\ndefine X = 10.0.0.256;\n", "t.conf:2:12 Invalid IPv4 address 10.0.0.256"),
        ("define X = 10.0.0.256 +;\n", "t.conf:1:12 Invalid IPv4 address 10.0.0.256"),
        ("define X = 2001:db8:::1;\n", "t.conf:1:12 Invalid IPv6 address 2001:db8:::1"),
        ("define X = 4294967296;\n", "t.conf:1:12 Number out of range"),
        // missing semicolon: at the next token
        (
            "router id 1.2.3.4\nprotocol device {}\n",
            "t.conf:2:1 syntax error, unexpected 'protocol', expecting ';'",
        ),
        ("log \"x\" all", "t.conf:1:12 syntax error, unexpected end of input, expecting name or ';'"),
        // unknown protocol option
        (
            "protocol device {\n  learn;\n}\n",
            "t.conf:2:3 syntax error, unexpected 'learn', expecting protocol option or ';' or '}'",
        ),
        (
            "protocol static {\n  ipv4 { next hop self; };\n}\n",
            "t.conf:2:10 syntax error, unexpected 'next', expecting channel option or ';' or '}'",
        ),
        // EBGP policies: at the closing brace
        (
            "protocol bgp {\n  local as 1;\n  neighbor 1.2.3.4 as 2;\n  ipv4 { export all; };\n}\n",
            "t.conf:5:1 EBGP requires explicit import policy",
        ),
        (
            "protocol bgp {\n  local as 1;\n  neighbor 1.2.3.4 as 2;\n  ipv4 { import all; };\n}\n",
            "t.conf:5:1 EBGP requires explicit export policy",
        ),
        ("protocol bgp { neighbor 1.2.3.4 as 2; }", "t.conf:1:39 Local AS number must be set"),
        ("protocol bgp { local as 1; }", "t.conf:1:28 Neighbor must be configured"),
        (
            "protocol bgp { local as 1; neighbor 1.2.3.4; }",
            "t.conf:1:46 Remote AS number (or peer type) must be set",
        ),
        // unknown or wrong names
        (
            "protocol kernel {\n  ipv4 { export filter nosuch; };\n}\n",
            "t.conf:2:24 syntax error, unexpected undefined symbol 'nosuch', expecting filter name",
        ),
        ("protocol kernel { ipv4 { export filter master4; }; }", "t.conf:1:40 Filter name required"),
        (
            "protocol kernel { ipv4 { table t; }; }",
            "t.conf:1:32 syntax error, unexpected undefined symbol 't', expecting table name",
        ),
        ("protocol kernel { ipv4 { table master6; }; }", "t.conf:1:32 Incompatible table type"),
        (
            "protocol direct from nosuch { }",
            "t.conf:1:22 syntax error, unexpected undefined symbol 'nosuch', expecting template name",
        ),
        (
            "template static st { }\nprotocol direct from st { }",
            "t.conf:2:22 Can't copy configuration from a different protocol type",
        ),
        ("template static s { }", "t.conf:1:17 syntax error, unexpected 's', expecting name"),
        (
            "filter f { if X = 1 then accept; }\ndefine X = 1;",
            "t.conf:1:15 syntax error, unexpected undefined symbol 'X'",
        ),
        (
            "function g() { return f(); }",
            "t.conf:1:23 syntax error, unexpected undefined symbol 'f', expecting function name",
        ),
        (
            "function f(int a) { return a; }\nfilter x { if f() then accept; }",
            "t.conf:2:15 Function call 'f' got 0 arguments, needs 1 arguments",
        ),
        ("filter f { net = 10.0.0.0/8; accept; }", "t.conf:1:12 This static attribute is read-only."),
        ("filter f { bgp_path.foo(1); accept; }", "t.conf:1:21 syntax error, unexpected 'foo'"),
        // duplicates
        ("define X = 5;\ndefine X = 6;\n", "t.conf:2:8 Symbol 'X' already defined"),
        ("ipv4 table t;\nprotocol static t { ipv4; }", "t.conf:2:17 Symbol 't' already defined"),
        (
            "protocol static static1 { ipv4; }\nprotocol static static1 { ipv4; }",
            "t.conf:2:17 Symbol 'static1' already defined",
        ),
        // v3 threads ordering and mixing
        (
            "threads 2;\nthread group worker { threads 2; }\n",
            "t.conf:2:1 Mixing of `threads NUM` and `threads worker {}` is not allowed",
        ),
        (
            "thread group worker { threads 2; }\nthreads 2;\n",
            "t.conf:2:1 Mixing of `threads NUM` and `threads worker {}` is not allowed",
        ),
        (
            "ipv4 table t;\nthread group worker { threads 2; }\n",
            "t.conf:2:1 Thread groups must be configured before any table or protocol",
        ),
        // protocol checks
        ("protocol pipe { table master4; }", "t.conf:1:32 Secondary routing table not specified"),
        ("protocol pipe { peer table master4; }", "t.conf:1:37 Primary routing table not specified"),
        (
            "protocol pipe { table master4; peer table master6; }",
            "t.conf:1:52 Primary table and peer table must be same type",
        ),
        ("protocol kernel { learn; }", "t.conf:1:26 Channel not specified"),
        ("protocol kernel { ipv4; ipv6; }", "t.conf:1:25 Multiple channels not supported"),
        (
            "protocol static { ipv6; route 10.0.0.0/8 blackhole; }",
            "t.conf:1:25 Route 10.0.0.0/8 incompatible with channel type",
        ),
        // value ranges: at the option's `;`
        (
            "protocol bgp b { local as 1; neighbor 1.2.3.4 as 1; hold time 2; }",
            "t.conf:1:64 Hold time must be in range 3-65535 or zero",
        ),
        (
            "protocol bgp b { local as 1; neighbor 1.2.3.4 as 1; multihop 300; }",
            "t.conf:1:65 Multihop must be in range 1-255",
        ),
        ("protocol static { ipv4 { preference 70000; }; }", "t.conf:1:42 Value 70000 out of range (0-65535)"),
        ("define P = (65536, 1);", "t.conf:1:12 Value 65536 out of range (0-65535)"),
        // syntax
        (
            "function f(int a, int b) { return 1; }",
            "t.conf:1:17 syntax error, unexpected ',', expecting name or ')' or ';'",
        ),
        ("filter x int i; { i = 5 % 3; accept; }", "t.conf:1:25 syntax error, unexpected '%'"),
        ("define X = 1 < 2 < 3;", "t.conf:1:18 syntax error, unexpected '<'"),
        ("/* open\nrouter id 1.2.3.4;\n", "t.conf:3:1 Unterminated comment"),
        ("hostname \"edge;\n", "t.conf:1:10 Unterminated string"),
        // unsupported constructs are named
        ("protocol ospf v2 o1 { }", "t.conf:1:10 birdd does not support protocol ospf"),
        ("mrtdump protocols all;", "t.conf:1:1 birdd does not support mrtdump"),
        ("vpn4 table v;", "t.conf:1:1 birdd does not support vpn4 tables and channels"),
        (
            "filter f { if roa_check(master4, net, 1) = ROA_VALID then accept; }",
            "t.conf:1:15 birdd does not support roa_check()",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(&err(text), want, "for {text:?}");
    }
}

#[test]
fn unsupported_protocols_are_named() {
    for p in ["bfd", "ospf", "rip", "babel", "rpki", "radv", "bmp", "mrt", "aggregator", "l3vpn"] {
        assert_eq!(
            err(&format!("protocol {p} x {{ }}")),
            format!("t.conf:1:10 birdd does not support protocol {p}")
        );
    }
}

#[test]
fn v3_return_type_is_accepted() {
    let c = parse_str(
        "t.conf",
        "function f() -> bool {\n  return true;\n}\nfunction g(int a; ip b) -> int { return a; }\n",
    )
    .unwrap();
    assert_eq!(c.function("g").unwrap().params.len(), 2);
}

#[test]
fn broken_syntax_conf_matches_bird() {
    let path = format!("{}/tests/data/broken-syntax.conf", env!("CARGO_MANIFEST_DIR"));
    let e = parse_file(&path).unwrap_err();
    assert_eq!(e.to_string(), format!("{path}:5:26 Invalid IPv4 address 192.0.2.300"));
    assert_eq!((e.line, e.col), (5, 26));
}

#[test]
fn file_errors() {
    let e = parse_file("/nonexistent/bird.conf").unwrap_err();
    assert_eq!(e.to_string(), "/nonexistent/bird.conf: No such file or directory");
    let m = MemSource::new();
    let e = parse_source(&m, "/etc/bird/bird.conf", "router id 1.2.3.4;\n  include \"peers.conf\";\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "/etc/bird/bird.conf:2:12 Unable to open included file /etc/bird/peers.conf: No such file or directory"
    );
}

#[test]
fn errors_in_included_files_point_into_them() {
    let mut m = MemSource::new();
    m.insert("/etc/bird/peers/b.conf", "protocol static sb { ipv4; }\n");
    m.insert(
        "/etc/bird/peers/a.conf",
        "protocol static sa { ipv4; }\n\nprotocol static sa2 { ipv4; route 10.0.0.1/8 blackhole; }\n",
    );
    let e = parse_source(&m, "/etc/bird/bird.conf", "include \"peers/*.conf\";\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "/etc/bird/peers/a.conf:3:44 Invalid IPv4 prefix 10.0.0.1/8, maybe you wanted 10.0.0.0/8"
    );
    m.insert("/etc/bird/peers/a.conf", "protocol static sa { ipv4; }\n");
    let c =
        parse_source(&m, "/etc/bird/bird.conf", "include \"peers/*.conf\";\nprotocol device { }\n").unwrap();
    let names: Vec<&str> = c.protocols.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["sa", "sb", "device1"], "glob matches are sorted");
    // Lexical include: even inside a block.
    m.insert("/etc/bird/route.inc", "route 10.0.0.0/8 blackhole;\n");
    let c =
        parse_source(&m, "/etc/bird/bird.conf", "protocol static {\n  ipv4;\n  include \"route.inc\";\n}\n")
            .unwrap();
    assert_eq!(c.protocols[0].name, "static1");
}

#[test]
fn include_depth_is_limited() {
    let mut m = MemSource::new();
    for i in 0..9 {
        m.insert(format!("d/f{i}.conf"), format!("include \"f{}.conf\";\n", i + 1));
    }
    m.insert("d/f9.conf", "router id 1.2.3.4;\n");
    let e = parse_source(&m, "d/f0.conf", "include \"f1.conf\";\n").unwrap_err();
    assert!(e.to_string().ends_with("Max include depth reached"), "{e}");
    assert_eq!(e.file, "d/f7.conf");
    // Depth 8 (main + 7 levels) is fine.
    let ok = parse_source(&m, "d/f2.conf", "include \"f3.conf\";\n").unwrap();
    assert_eq!(ok.router_id, Some(0x0102_0304));
}
