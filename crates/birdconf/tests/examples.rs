//! Every reference configuration parses, with its key fields checked.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use birdconf::ast::{
    FilterSpec, Hops, LimitAction, NextHopMode, PeerAs, ProtoKind, ProtoSpecific, StaticDest, TimeFormat,
    Value,
};
use birdconf::{parse_file, parse_source, Config, MemSource};
use birdnet::NetType;

fn data(f: &str) -> String {
    format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR"))
}

fn names(c: &Config) -> Vec<&str> {
    c.protocols.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn subset_examples() {
    let c = parse_file(&data("subset-examples.conf")).unwrap();
    assert_eq!(
        names(&c),
        [
            "device1",
            "direct1",
            "kernel4",
            "kernel6",
            "static4",
            "static_dbg",
            "static6",
            "p_cust",
            "upstream1",
            "upstream1_v6",
            "ibgp_rr",
            "passive_peer"
        ]
    );
    assert_eq!(c.router_id, Some(u32::from(std::net::Ipv4Addr::new(192, 0, 2, 1))));
    assert_eq!(c.hostname.as_deref(), Some("edge1"));
    assert_eq!(c.logs.len(), 3);
    assert_eq!(c.timeformat.protocol, TimeFormat::Iso { long: true, frac_digits: 0 });
    assert_eq!(c.timeformat.route, TimeFormat::Custom { fmt: "%Y-%m-%d %H:%M:%S".into(), older: None });
    assert_eq!(c.define("HEX_CONST"), Some(&Value::Int(16)));
    assert_eq!(c.define("weird-name"), Some(&Value::Int(5)));
    assert_eq!(c.define("CUST_COMM"), Some(&Value::Pair(65001, 100)));
    assert!(matches!(c.define("MARTIANS"), Some(Value::Set(_))));
    assert!(c.define("BOGONS_V4").is_some(), "include of common.conf");
    for f in ["demo_types", "bgp_in", "kernel_out", "attr_examples", "ec_examples"] {
        assert!(c.filter(f).is_some(), "{f}");
    }
    assert_eq!(c.function("add_tags").unwrap().params.len(), 2);
    assert_eq!(c.attributes[0].name, "my_tag");
    assert!(c.table("t_cust6").unwrap().sorted);
    assert!(!c.table("master4").unwrap().implicit);

    let s4 = c.protocol("static4").unwrap();
    let ProtoSpecific::Static(s) = &s4.specific else { panic!() };
    assert_eq!(s.routes.len(), 8);
    assert!(matches!(&s.routes[6].dest, StaticDest::Via(v) if v.len() == 2));
    assert!(matches!(&s.routes[7].dest, StaticDest::Recursive(_)));
    assert!(s.routes[1].attrs.is_some());
    assert!(matches!(&s.routes[5].dest, StaticDest::Via(v) if v[0].iface.as_deref() == Some("eth0")));

    let pipe = c.protocol("p_cust").unwrap();
    assert_eq!(pipe.channels[0].table, "master4");
    assert!(matches!(pipe.channels[0].export, FilterSpec::Inline(_)));
    let ProtoSpecific::Pipe(pc) = &pipe.specific else { panic!() };
    assert_eq!(pc.peer_table.as_deref(), Some("t_cust"));

    // Template applied, then overridden.
    let up = c.protocol("upstream1").unwrap();
    let b = up.bgp().unwrap();
    assert_eq!(up.from.as_deref(), Some("ebgp_peer"));
    assert_eq!((b.local_as, b.hold_time, b.keepalive_time), (Some(65001), 90, Some(30)));
    assert_eq!(b.peer_as, PeerAs::As(65002));
    assert_eq!(b.password.as_deref(), Some("secret"));
    let ch = up.channel(NetType::Ipv4).unwrap();
    assert_eq!(ch.import, FilterSpec::Named("bgp_in".into()));
    assert_eq!(ch.import_limit.unwrap().action, LimitAction::Restart);
    assert_eq!(ch.receive_limit.unwrap().limit, 2000);
    assert!(ch.import_keep_filtered);
    assert_eq!(ch.bgp.next_hop_self, Some(NextHopMode::On));
    let v6 = c.protocol("upstream1_v6").unwrap();
    assert_eq!(v6.bgp().unwrap().hops, Hops::Multihop(2));
    let ch4 = v6.channel(NetType::Ipv4).unwrap();
    assert!(ch4.bgp.extended_next_hop);
    assert_eq!(ch4.import, FilterSpec::None, "override of the template's import");
    assert_eq!(ch4.import_limit.unwrap().limit, 1000, "kept from the template");
    assert_eq!(v6.channel(NetType::Ipv6).unwrap().import_limit.unwrap().action, LimitAction::Block);
    let rr = c.protocol("ibgp_rr").unwrap();
    assert!(rr.bgp().unwrap().rr_client);
    assert_eq!(rr.channels[0].bgp.igp_table_ipv4.as_deref(), Some("master4"));
    let pp = c.protocol("passive_peer").unwrap();
    assert!(pp.disabled && pp.bgp().unwrap().passive);
    assert_eq!(pp.bgp().unwrap().peer_as, PeerAs::External);
    let k6 = c.protocol("kernel6").unwrap();
    assert!(matches!(k6.channels[0].export, FilterSpec::Where(_)));
    let ProtoSpecific::Kernel(k) = &k6.specific else { panic!() };
    assert_eq!(k.kernel_table, Some(100));
}

#[test]
fn subset_examples_v3() {
    let c = parse_file(&data("subset-examples-v3.conf")).unwrap();
    let w = c.threads.group("worker").unwrap();
    assert_eq!((w.threads, w.default), (2, true));
    assert_eq!(w.max_latency, std::time::Duration::from_secs(1));
    assert_eq!(c.cli.len(), 2);
    assert!(c.cli[0].restrict && !c.cli[0].v2_attributes);
    assert!(c.cli[1].v2_attributes);
    assert_eq!(c.function("is_rfc1918").unwrap().return_type, Some(birdconf::ast::Type::Bool));
    assert_eq!(names(&c), ["device1"]);
}

#[test]
fn bird_a_and_v3() {
    for f in ["birdA.conf", "birdA-v3.conf"] {
        let c = parse_file(&data(f)).unwrap();
        assert_eq!(
            names(&c),
            [
                "device1",
                "direct1",
                "kernel4",
                "kernel6",
                "static4",
                "static6",
                "p_lg4",
                "peer_b4",
                "peer_b6",
                "dead_peer",
                "off_peer"
            ],
            "{f}"
        );
        let b4 = c.protocol("peer_b4").unwrap();
        assert_eq!(b4.description.as_deref(), Some("birdB IPv4 session"));
        let b = b4.bgp().unwrap();
        assert!(b.strict_bind);
        assert_eq!((b.local_as, b.hops, b.connect_retry_time), (Some(65001), Hops::Multihop(2), 5));
        let ch = &b4.channels[0];
        assert_eq!(ch.table, "master4");
        assert_eq!(ch.export, FilterSpec::Named("bgp_export".into()));
        assert!(ch.import_keep_filtered);
        assert_eq!(ch.bgp.next_hop_address, Some("192.0.2.2".parse().unwrap()));
        assert!(c.protocol("off_peer").unwrap().disabled);
        assert_eq!(c.protocol("p_lg4").unwrap().channels[0].export, FilterSpec::Named("lg_export".into()));
        assert!(c.function("tag_learned").is_some() && c.function("is_bogon").is_some());
        assert!(c.table("lg4").is_some());
    }
    let v3 = parse_file(&data("birdA-v3.conf")).unwrap();
    assert_eq!(v3.threads.group("worker").unwrap().threads, 2);
    assert_eq!(v3.cli.len(), 2);
}

#[test]
fn bird_b() {
    // birdB.conf ends with a bfd and an ospf protocol (kept only for the
    // exporter's queries): birdd rejects those by name.
    let full = std::fs::read_to_string(data("birdB.conf")).unwrap();
    let e = parse_file(&data("birdB.conf")).unwrap_err();
    assert!(e.to_string().ends_with("birdB.conf:96:10 birdd does not support protocol bfd"), "{e}");
    let cut = full.find("# Present only so that").unwrap();
    let mut m = MemSource::new();
    m.insert("lab/common.conf", std::fs::read_to_string(data("common.conf")).unwrap());
    let c = parse_source(&m, "lab/birdB.conf", &full[..cut]).unwrap();
    assert_eq!(
        names(&c),
        ["device1", "direct1", "kernel1", "kernel2", "static1", "static2", "peer_a4", "peer_a6"]
    );
    let ProtoSpecific::Kernel(k) = &c.protocol("kernel1").unwrap().specific else { panic!() };
    assert_eq!(k.kernel_table, Some(200));
    assert!(matches!(c.protocol("kernel1").unwrap().channels[0].export, FilterSpec::Where(_)));
    assert_eq!(c.protocol("kernel2").unwrap().channels[0].net_type, NetType::Ipv6);
    assert_eq!(c.timeformat.route, TimeFormat::Iso { long: false, frac_digits: 3 }, "default");
    assert_eq!(c.protocol("static2").unwrap().kind, ProtoKind::Static);
}

type Vars = Vec<(String, String)>;
type Subst<'a> = dyn Fn(&str, &[(String, String)]) -> String + 'a;
type Items<'a> = dyn Fn(&str) -> Vec<Vars> + 'a;

/// Renders the rsbench template the way its README describes.
fn render_bench(threads: &str, feeders: usize, routes: usize) -> String {
    let text = std::fs::read_to_string(data("bench-template.conf")).unwrap();
    let globals = [
        ("DAEMON_ADDR", "127.0.0.1"),
        ("DAEMON_ASN", "65000"),
        ("OBSERVER_ADDR", "127.0.0.2"),
        ("OBSERVER_ASN", "65100"),
        ("THREADS", threads),
        ("IMPORT", "filter rsb_import"),
        ("FEEDER_EXPORT", "none"),
        ("DIR", "/tmp/rsb"),
        ("SOCK", "/tmp/rsb/bird.ctl"),
        ("ROUTER_ID", "10.0.0.1"),
    ];
    let subst = |s: &str, extra: &[(String, String)]| {
        let mut s = s.to_string();
        for (k, v) in extra.iter().map(|(a, b)| (a.as_str(), b.as_str())).chain(globals.iter().copied()) {
            s = s.replace(&format!("${{{k}}}"), v);
        }
        s
    };
    let items = |list: &str| -> Vec<Vec<(String, String)>> {
        let n = match list {
            "feeder" | "idle" => feeders,
            "static" => 1,
            _ => routes,
        };
        (0..n)
            .map(|i| {
                let mut v = vec![("IDX".to_string(), (i + 1).to_string())];
                v.push(("FEEDER_ADDR".into(), format!("127.0.1.{}", i + 1)));
                v.push(("FEEDER_ASN".into(), (64600 + i).to_string()));
                v.push(("IDLE_ADDR".into(), format!("127.0.2.{}", i + 1)));
                v.push(("IDLE_ASN".into(), (64700 + i).to_string()));
                v.push(("PREFIX".into(), format!("10.{}.0.0/16", i + 1)));
                v
            })
            .collect()
    };
    fn expand(
        lines: &[&str],
        extra: &[(String, String)],
        out: &mut String,
        subst: &Subst<'_>,
        items: &Items<'_>,
        threads: &str,
    ) {
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            if let Some(name) = l.strip_prefix("#>>") {
                let end = lines[i..].iter().position(|x| *x == format!("#<<{name}")).unwrap() + i;
                for it in items(name) {
                    let mut ctx = extra.to_vec();
                    ctx.extend(it);
                    expand(&lines[i + 1..end], &ctx, out, subst, items, threads);
                }
                i = end + 1;
                continue;
            }
            if l.starts_with("##") {
                i += 1;
                continue;
            }
            if let Some(rest) = l.strip_prefix("#?") {
                let (var, text) = rest.split_once(' ').unwrap();
                if !(var == "THREADS" && threads.is_empty()) {
                    out.push_str(&subst(text, extra));
                    out.push('\n');
                }
                i += 1;
                continue;
            }
            out.push_str(&subst(l, extra));
            out.push('\n');
            i += 1;
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    expand(&lines, &[], &mut out, &subst, &items, threads);
    out
}

#[test]
fn bench_template() {
    for (threads, n) in [("4", 2), ("", 1)] {
        let text = render_bench(threads, n, 2);
        assert!(!text.contains("${"), "{text}");
        let c = birdconf::parse_str("bench.conf", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut want = vec!["device1".to_string(), "rsb_igp".into()];
        want.extend((1..=n).map(|i| format!("feeder{i}")));
        want.push("observer".into());
        want.extend((1..=n).map(|i| format!("idle{i}")));
        want.push("rsb_static".into());
        assert_eq!(names(&c), want);
        let igp = c.protocol("rsb_igp").unwrap();
        assert_eq!(igp.channels[0].table, "igp4");
        let f1 = c.protocol("feeder1").unwrap();
        let b = f1.bgp().unwrap();
        assert!(b.passive);
        assert_eq!(b.hops, Hops::Multihop(64));
        assert_eq!(b.hold_time, 240);
        assert_eq!(b.local_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(f1.channels[0].import, FilterSpec::Named("rsb_import".into()));
        assert_eq!(f1.channels[0].bgp.igp_table_ipv4.as_deref(), Some("igp4"));
        let ProtoSpecific::Static(s) = &c.protocol("rsb_static").unwrap().specific else { panic!() };
        assert_eq!(s.routes.len(), 2);
        let workers = c.threads.group("worker").unwrap().threads;
        assert_eq!(workers, if threads.is_empty() { 1 } else { 4 });
    }
}

#[test]
fn dynamic_bgp_names() {
    let bgp = |text: &str| {
        let c = birdconf::parse_str("x.conf", text).unwrap();
        match &c.protocols[0].specific {
            ProtoSpecific::Bgp(b) => (b.neighbor_range, b.dynamic_name.clone(), b.dynamic_name_digits),
            _ => panic!("not bgp"),
        }
    };
    let head = "protocol bgp peers { local as 1; neighbor range 198.18.0.0/15 external; ";
    let tail = "ipv4 { import all; export all; }; }\n";
    let (range, name, digits) = bgp(&format!("{head}{tail}"));
    assert_eq!(range, "198.18.0.0/15".parse().ok());
    assert_eq!((name, digits), (None, 0));
    let (_, name, digits) = bgp(&format!("{head}dynamic name \"peer\"; dynamic name digits 3; {tail}"));
    assert_eq!((name.as_deref(), digits), (Some("peer"), 3));
    let e = birdconf::parse_str("x.conf", &format!("{head}dynamic name digits 11; {tail}")).unwrap_err();
    assert!(e.to_string().contains("Dynamic name digits"), "{e}");
}
