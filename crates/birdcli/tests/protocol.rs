//! Framing round trips over every transcript, the request decoder, session
//! behaviour (replayed against the transcripts), the command parser and the
//! blocking client.

#![allow(clippy::unwrap_used, clippy::too_many_arguments)]

use std::fs;
use std::path::PathBuf;

use birdcli::format::actions::{proto_actions, ProtoOutcome};
use birdcli::format::routes::{show_route, RouteCount, TableRoutes};
use birdcli::format::status::{show_status, DaemonState, StatusInfo};
use birdcli::*;

fn data_dir(v: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(v)
}

fn read(v: &str, name: &str) -> Vec<u8> {
    fs::read(data_dir(v).join(name)).unwrap_or_else(|e| panic!("{v}/{name}: {e}"))
}

#[track_caller]
fn same(got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "differs\n--- got ---\n{}\n--- want ---\n{}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want)
    );
}

// ---------------------------------------------------------------- framing

#[test]
fn every_transcript_reencodes_byte_for_byte() {
    let mut checked = 0;
    for v in ["bird2", "bird3"] {
        for e in fs::read_dir(data_dir(v)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.ends_with(".out") || name.ends_with(".with-greeting")) {
                continue;
            }
            let bytes = fs::read(&p).unwrap();
            let mut parser = ReplyParser::new();
            parser.feed(&bytes);
            let mut again = Vec::new();
            let mut n = 0;
            while let Some(r) = parser.next_reply() {
                again.extend(r.encode());
                n += 1;
            }
            if n == 0 {
                // 93 (connection reset, no reply) and the echo linger file (async only).
                assert!(name.starts_with("93-") || name.ends_with("linger.out"), "{name}");
                continue;
            }
            assert!(parser.pending_lines().is_empty(), "{name}: trailing lines");
            same(&again, &bytes);
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} transcripts checked");
}

#[test]
fn client_view_of_a_reply() {
    let r = Reply::parse(&read("bird2", "73-restart-all-kernel-pattern.out")).unwrap();
    assert_eq!(r.birdc_text(), "kernel4: restarted\nkernel6: restarted\n");
    assert_eq!(r.exit_status(), 0);
    let r = Reply::parse(&read("bird2", "15-show-route-for-notfound.out")).unwrap();
    assert_eq!((r.code, r.exit_status()), (8001, 1));
    assert_eq!(r.birdc_text(), "Network not found\n");
    let r = Reply::parse(b"weird\n0000 \n").unwrap();
    assert_eq!(r.birdc_text(), "??? <weird>\n");
}

// ---------------------------------------------------------------- decoder

fn drain(d: &mut LineDecoder) -> Vec<Request> {
    std::iter::from_fn(|| d.next_request()).collect()
}

fn cmd(s: &str) -> Request {
    Request::Command(s.into())
}

#[test]
fn decoder_chunks_crlf_pipelining() {
    let mut d = LineDecoder::new();
    for b in b"show status\r\nshow route count\n\nquit\n" {
        d.feed(std::slice::from_ref(b));
    }
    assert_eq!(drain(&mut d), vec![cmd("show status"), cmd("show route count"), cmd(""), cmd("quit")]);
    d.feed(&read("bird2", "91-pipelined-two-commands.cmd"));
    assert_eq!(drain(&mut d), vec![cmd("show status"), cmd("show route count")]);
    d.feed(&read("bird2", "92-crlf-line-ending.cmd"));
    assert_eq!(drain(&mut d), vec![cmd("show route count")]);
    d.feed(b"partial");
    assert_eq!(d.next_request(), None);
    assert_eq!(d.partial_len(), 7);
}

#[test]
fn decoder_limits() {
    let mut d = LineDecoder::new();
    let ok = "x".repeat(MAX_COMMAND);
    d.feed(ok.as_bytes());
    d.feed(b"\r\n");
    assert_eq!(drain(&mut d), vec![Request::Command(ok.clone())]);

    d.feed(format!("{ok}y\nshow status\n").as_bytes());
    assert_eq!(drain(&mut d), vec![Request::TooLong, cmd("show status")]);

    // 10 KB in 1 KB pieces, then the next command still works.
    let big = vec![b'a'; 10 * 1024];
    for c in big.chunks(1024) {
        d.feed(c);
        assert!(d.partial_len() <= MAX_COMMAND);
        assert_eq!(d.next_request(), None);
    }
    assert!(d.is_discarding());
    d.feed(b"\nshow memory\n");
    assert_eq!(drain(&mut d), vec![Request::TooLong, cmd("show memory")]);

    // 1 MB without a newline never grows the buffer.
    let huge = vec![b'z'; 1 << 20];
    d.feed(&huge);
    assert!(d.partial_len() <= MAX_COMMAND && d.pending() == 0);
    d.feed(b"\n");
    assert_eq!(drain(&mut d), vec![Request::TooLong]);
}

// ---------------------------------------------------------------- session

fn session(version: &str, restricted: bool) -> Session {
    Session::new(&SessionConfig { version: version.into(), restricted, v2_attributes: false })
}

/// Feeds a transcript command and returns what the session answered by itself.
fn answer(s: &mut Session, v: &str, name: &str) -> (Option<Command>, Vec<u8>) {
    s.feed(&read(v, &format!("{name}.cmd")));
    let c = s.next_command();
    (c, s.take_output())
}

#[test]
fn greeting_and_quiet_words() {
    for (v, ver, names) in [
        ("bird2", "2.0.12", ["95-quit-no-reply", "95-exit-no-reply", "95-help-no-reply"]),
        ("bird3", "3.3.2", ["95-quit", "95-exit", "95-help"]),
    ] {
        for n in names {
            let mut s = session(ver, false);
            s.feed(&read(v, &format!("{n}.cmd")));
            assert_eq!(s.next_command(), None);
            same(&s.take_output(), &read(v, &format!("{n}.out.with-greeting")));
        }
    }
}

#[test]
fn parse_errors_match_transcripts() {
    let cases = [
        ("bird2", "80-unknown-command"),
        ("bird2", "81-syntax-error-show-route"),
        ("bird2", "82-syntax-error-where"),
        ("bird2", "84-abbreviation-rejected"),
        ("bird2", "85-uppercase-rejected"),
        ("bird2", "86-empty-line"),
        ("bird2", "87-question-mark"),
        ("bird3", "80-unknown-command"),
        ("bird3", "81-syntax-error-show-route"),
        ("bird3", "86-empty-line"),
    ];
    for (v, n) in cases {
        let mut s = session("2.0.12", false);
        s.take_output();
        let (c, out) = answer(&mut s, v, n);
        assert_eq!(c, None, "{n}");
        same(&out, &read(v, &format!("{n}.out")));
    }
}

#[test]
fn undefined_symbols_are_answered_by_the_daemon() {
    for (n, kind) in [("70-disable-nonexistent-symbol", "disable"), ("83-unknown-protocol", "show")] {
        let mut s = session("2.0.12", false);
        s.take_output();
        let (c, out) = answer(&mut s, "bird2", n);
        assert!(out.is_empty());
        let c = c.unwrap();
        match (&c, kind) {
            (Command::Disable { target: ProtoTarget::Name(x), .. }, "disable") => {
                assert_eq!(x, "nosuchproto")
            }
            (Command::ShowProtocols { target: Some(ProtoTarget::Name(x)), .. }, "show") => {
                assert_eq!(x, "nosuch")
            }
            _ => panic!("{c:?}"),
        }
        // The daemon finds no such symbol and answers 9001.
        s.writer().finish(code::PARSE_ERROR, undefined_symbol_message(&c));
        same(&s.take_output(), &read("bird2", &format!("{n}.out")));
    }
}

#[test]
fn restricted_session_v2() {
    let mut s = session("2.0.12", false);
    s.take_output();
    let denied = [4, 5, 6, 7, 8, 9, 13];
    for i in 1..=15 {
        let n = format!("90-restrict-session.{i:02}");
        let (c, out) = answer(&mut s, "bird2", &n);
        let want = read("bird2", &format!("{n}.out"));
        match i {
            1 | 15 => same(&out, &want),
            12 => same(&out, &want), // echo all → 0000
            i if denied.contains(&i) => same(&out, &want),
            14 => {
                // `dump resources`: BIRD 2.0.12 allowed it; birdd refuses dump like BIRD 3.
                assert_eq!(c, None);
                same(&out, b"8007 Access denied\n");
            }
            _ => {
                // show protocols / show route / eval: executed by the daemon.
                let c = c.unwrap_or_else(|| panic!("{n}"));
                assert!(!c.is_privileged(), "{n}");
                assert!(out.is_empty());
                s.writer().finish(0, "");
                s.take_output();
            }
        }
        assert!(s.is_restricted());
    }
}

#[test]
fn restricted_sessions_v3() {
    let mut s = session("3.3.2", false);
    s.take_output();
    for i in 1..=6 {
        let n = format!("90-restrict-session.{i:02}");
        let (c, out) = answer(&mut s, "bird3", &n);
        if let Some(c) = c {
            assert!(matches!(c, Command::ShowProtocols { .. } | Command::ShowRoute(_)));
            s.writer().finish(0, "");
            s.take_output();
        } else {
            same(&out, &read("bird3", &format!("{n}.out")));
        }
    }
    // A `cli "..." { restrict; }` socket: restricted from the first byte.
    let mut s = session("3.3.2", true);
    same(&s.take_output(), &read("bird3", "96-cli-restrict-socket.greeting.out"));
    for i in 1..=6 {
        let n = format!("96-cli-restrict-socket.{i:02}");
        let (c, out) = answer(&mut s, "bird3", &n);
        if let Some(c) = c {
            assert!(matches!(c, Command::ShowProtocols { .. } | Command::ShowRoute(_)), "{n}");
            s.writer().finish(0, "");
            s.take_output();
        } else {
            same(&out, &read("bird3", &format!("{n}.out")));
        }
    }
}

fn lab_status(tc: &TimeContext) -> StatusInfo {
    let _ = tc;
    StatusInfo {
        version: "2.0.12".into(),
        router_id: "127.0.0.2".parse().unwrap(),
        hostname: "vm".into(),
        boot_time: WallTime::from_civil(2026, 11, 21, 10, 59, 3, 510_000),
        last_reconfiguration: WallTime::from_civil(2026, 11, 21, 10, 59, 25, 50_000),
        graceful_restart: vec![],
        state: DaemonState::Up,
    }
}

#[test]
fn pipelined_commands_one_at_a_time() {
    let mut s = session("2.0.12", false);
    s.feed(&read("bird2", "91-pipelined-two-commands.cmd"));
    let tc =
        TimeContext { now: WallTime::from_civil(2026, 11, 21, 10, 59, 41, 299_000), ..Default::default() };
    assert_eq!(s.next_command(), Some(Command::ShowStatus));
    assert!(s.is_busy());
    assert_eq!(s.next_command(), None, "second command waits for the first reply");
    show_status(s.writer(), &lab_status(&tc), &tc);
    let Some(Command::ShowRoute(q)) = s.next_command() else { panic!() };
    assert_eq!(q.stats, StatsMode::Count);
    let t = |name: &str, shown, networks| TableRoutes {
        name: name.into(),
        explicit: false,
        nets: vec![],
        count: RouteCount { shown, routes: shown, networks },
    };
    show_route(s.writer(), &[t("master4", 10, 9), t("master6", 7, 7)], q.stats, q.verbose, &tc);
    let mut want = read("bird2", "00-greeting.greeting.out");
    want.extend(read("bird2", "91-pipelined-two-commands.out"));
    same(&s.take_output(), &want);
}

#[test]
fn too_long_then_next_command() {
    let mut s = session("2.0.12", false);
    s.take_output();
    s.feed(&vec![b'x'; 10 * 1024]);
    s.feed(b"\nshow status\n");
    assert_eq!(s.next_command(), Some(Command::ShowStatus));
    same(&s.take_output(), b"9000 Command too long\n");
}

#[test]
fn echo_async_messages() {
    let mut s = session("2.0.12", false);
    s.take_output();
    s.log(LogClass::Info, "not subscribed yet");
    let (c, out) = answer(&mut s, "bird2", "94-echo-async.01");
    assert_eq!(c, None);
    same(&out, &read("bird2", "94-echo-async.01.out"));

    let (c, _) = answer(&mut s, "bird2", "94-echo-async.02");
    assert!(matches!(c, Some(Command::Disable { .. })));
    proto_actions(s.writer(), &[("dead_peer".into(), ProtoOutcome::Disabled)]);
    same(&s.take_output(), &read("bird2", "94-echo-async.02.out"));

    for m in [
        "Disabling protocol dead_peer",
        "dead_peer: Shutting down",
        "dead_peer: State changed to stop",
        "dead_peer: State changed to flush",
        "dead_peer: State changed to down",
    ] {
        s.log(LogClass::Info, m);
    }
    let (c, out) = answer(&mut s, "bird2", "94-echo-async.03");
    assert!(matches!(c, Some(Command::Enable { .. })));
    proto_actions(s.writer(), &[("dead_peer".into(), ProtoOutcome::Enabled)]);
    let mut all = out;
    all.extend(s.take_output());
    same(&all, &read("bird2", "94-echo-async.03.out"));

    for m in ["Enabling protocol dead_peer", "dead_peer: Starting", "dead_peer: State changed to start"] {
        s.log(LogClass::Trace, m);
    }
    same(&s.take_output(), &read("bird2", "94-echo-async.linger.out"));
}

#[test]
fn echo_overflow_and_off() {
    let mut s = session("2.0.12", false);
    s.take_output();
    s.feed(b"echo { warning, error } 256\n");
    assert_eq!(s.next_command(), None);
    same(&s.take_output(), b"0000 \n");
    s.log(LogClass::Info, "ignored");
    for i in 0..30 {
        s.log(LogClass::Warning, &format!("warning number {i:02}"));
    }
    let out = String::from_utf8(s.take_output()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "<17 messages lost>"); // 13 messages of 17 + 2 bytes fit in 256
    assert_eq!(lines[1], "+warning number 00");
    assert_eq!(lines.len(), 14);
    // Not between lines of a reply in progress.
    s.feed(b"show memory\n");
    assert_eq!(s.next_command(), Some(Command::ShowMemory));
    s.writer().line(1018, "BIRD memory usage");
    s.log(LogClass::Error, "later");
    let mid = s.take_output();
    same(&mid, b"1018-BIRD memory usage\n");
    s.writer().finish(0, "");
    same(&s.take_output(), b"0000 \n+later\n");
    s.feed(b"echo off\n");
    assert_eq!(s.next_command(), None);
    s.log(LogClass::Error, "dropped");
    same(&s.take_output(), b"0000 \n");
}

// ---------------------------------------------------------------- parser

fn p(s: &str) -> Command {
    parse_command(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> String {
    parse_command(s).expect_err(s).message
}

fn route(s: &str) -> RouteQuery {
    match p(s) {
        Command::ShowRoute(q) => *q,
        c => panic!("{c:?}"),
    }
}

#[test]
fn parse_show_commands() {
    assert_eq!(p("show status"), Command::ShowStatus);
    assert_eq!(p("show memory"), Command::ShowMemory);
    assert_eq!(p("show threads"), Command::ShowThreads { all: false });
    assert_eq!(p("show threads all"), Command::ShowThreads { all: true });
    assert_eq!(p("show protocols"), Command::ShowProtocols { all: false, target: None });
    assert_eq!(
        p("show protocols all peer_b4"),
        Command::ShowProtocols { all: true, target: Some(ProtoTarget::Name("peer_b4".into())) }
    );
    assert_eq!(
        p("show protocols \"peer*\""),
        Command::ShowProtocols { all: false, target: Some(ProtoTarget::Pattern("peer*".into())) }
    );
    assert_eq!(p("show interfaces"), Command::ShowInterfaces { summary: false });
    assert_eq!(p("show interfaces summary"), Command::ShowInterfaces { summary: true });
    assert_eq!(p("show symbols"), Command::ShowSymbols(SymbolQuery::All));
    assert_eq!(p("show symbols filter"), Command::ShowSymbols(SymbolQuery::Class("filter".into())));
    assert_eq!(p("show symbols peer_b4"), Command::ShowSymbols(SymbolQuery::Name("peer_b4".into())));
    assert_eq!(p("show static static4"), Command::ShowStatic { name: Some("static4".into()) });
    assert_eq!(p("show static"), Command::ShowStatic { name: None });
    assert_eq!(p("show bfd sessions"), Command::ShowBfdSessions { name: None });
    assert_eq!(p("show bfd sessions bfd1"), Command::ShowBfdSessions { name: Some("bfd1".into()) });
    assert_eq!(
        p("show ospf ospf1"),
        Command::ShowOspf { view: OspfView::Summary, all: false, name: Some("ospf1".into()) }
    );
    assert_eq!(
        p("show ospf state all o"),
        Command::ShowOspf { view: OspfView::State, all: true, name: Some("o".into()) }
    );
    assert_eq!(
        p("show ospf neighbors"),
        Command::ShowOspf { view: OspfView::Neighbors, all: false, name: None }
    );
}

#[test]
fn parse_show_route() {
    assert_eq!(route("show route"), RouteQuery::default());
    let q = route("show route all count");
    assert!(q.verbose && q.stats == StatsMode::Count);
    assert_eq!(route("show route stats").stats, StatsMode::Stats);
    let q = route("show route table master4 table lg4 primary");
    assert_eq!(q.tables, TableSelect::Named(vec!["master4".into(), "lg4".into()]));
    assert!(q.primary);
    assert_eq!(route("show route table all").tables, TableSelect::All);
    assert_eq!(route("show route protocol peer_b4").protocol.as_deref(), Some("peer_b4"));
    let q = route("show route export peer_b4 count");
    assert_eq!(
        q.export,
        Some((ExportMode::Export, ChannelRef { protocol: "peer_b4".into(), channel: None }))
    );
    let q = route("show route noexport peer_b4.ipv4");
    assert_eq!(
        q.export,
        Some((ExportMode::NoExport, ChannelRef { protocol: "peer_b4".into(), channel: Some("ipv4".into()) }))
    );
    assert_eq!(route("show route exported p").export.unwrap().0, ExportMode::Exported);
    assert_eq!(route("show route preexport p").export.unwrap().0, ExportMode::PreExport);
    assert!(route("show route filtered").filtered);
    assert_eq!(
        route("show route for 198.51.100.77").net,
        NetSelect::For(ForTarget::Addr("198.51.100.77".parse().unwrap()))
    );
    assert_eq!(
        route("show route for 2001:db8:200::1").net,
        NetSelect::For(ForTarget::Addr("2001:db8:200::1".parse().unwrap()))
    );
    assert_eq!(
        route("show route for 10.0.0.0/8").net,
        NetSelect::For(ForTarget::Net("10.0.0.0/8".parse().unwrap()))
    );
    assert_eq!(route("show route for MY_ADDR").net, NetSelect::For(ForTarget::Symbol("MY_ADDR".into())));
    assert_eq!(
        route("show route 203.0.113.0/24 all").net,
        NetSelect::Exact("203.0.113.0/24".parse().unwrap())
    );
    assert_eq!(route("show route fe80::/10").net, NetSelect::Exact("fe80::/10".parse().unwrap()));
    assert_eq!(route("show route in 10.0.0.0/8").net, NetSelect::In("10.0.0.0/8".parse().unwrap()));
    assert_eq!(
        route("show route filter lg_export table master4").filters,
        vec![RouteFilter::Named("lg_export".into())]
    );
    let q = route("show route filter { if net.len > 24 then reject; accept; } all");
    assert_eq!(q.filters, vec![RouteFilter::Block("{ if net.len > 24 then reject; accept; }".into())]);
    assert!(q.verbose);
    let q = route("show route where bgp_path.len > 1 count");
    assert_eq!(q.filters, vec![RouteFilter::Where("bgp_path.len > 1".into())]);
    assert_eq!(q.stats, StatsMode::Count);
    let q = route("show route where net ~ [ 198.51.100.0/24+ ]");
    assert_eq!(q.filters, vec![RouteFilter::Where("net ~ [ 198.51.100.0/24+ ]".into())]);
    let q = route("show route where (65001, 1007) ~ bgp_community all");
    assert_eq!(q.filters, vec![RouteFilter::Where("(65001, 1007) ~ bgp_community".into())]);
    assert!(q.verbose);
    let q = route("show route where proto = \"all table\" table master4");
    assert_eq!(q.filters, vec![RouteFilter::Where("proto = \"all table\"".into())]);
    assert_eq!(q.tables, TableSelect::Named(vec!["master4".into()]));
    // Transcript commands parse.
    for v in ["bird2", "bird3"] {
        for e in fs::read_dir(data_dir(v)).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".cmd")
                && name.contains("show-route")
                && !name.contains("syntax-error")
                && !name.starts_with("93")
            {
                let line = String::from_utf8(fs::read(&path).unwrap()).unwrap();
                for l in line.lines() {
                    assert!(matches!(p(l.trim_end_matches('\r')), Command::ShowRoute(_)), "{name}");
                }
            }
        }
    }
}

#[test]
fn parse_show_route_errors() {
    assert_eq!(
        err("show route for"),
        "syntax error, unexpected END, expecting IP4 or IP6 or VPN_RD or CF_SYM_KNOWN"
    );
    assert_eq!(err("show route where bgp_path.len >"), "syntax error, unexpected END");
    assert_eq!(err("show route where"), "syntax error, unexpected END");
    assert_eq!(err("show route where (1 > 2"), "syntax error, unexpected END");
    assert_eq!(err("show route filtered export p"), "Incompatible show route options");
    assert_eq!(err("show route filtered primary"), "Incompatible show route options");
    assert_eq!(err("show route 10.0.0.0/8 for 10.1.1.1"), "Only one prefix expected");
    assert!(err("show route 10.0.0.1").starts_with("syntax error, unexpected IP4"));
    assert!(err("show route table").starts_with("syntax error, unexpected END"));
    assert!(err("show route filter { accept;").starts_with("syntax error"));
    assert!(err("show route bogus").starts_with("syntax error, unexpected CF_SYM_UNDEFINED"));
}

#[test]
fn parse_actions_and_configure() {
    let n = |s: &str| ProtoTarget::Name(s.into());
    assert_eq!(p("enable peer_b4"), Command::Enable { target: n("peer_b4"), message: None });
    assert_eq!(p("disable all"), Command::Disable { target: ProtoTarget::All, message: None });
    assert_eq!(
        p("disable \"dead*\" \"maintenance window\""),
        Command::Disable {
            target: ProtoTarget::Pattern("dead*".into()),
            message: Some("maintenance window".into())
        }
    );
    assert_eq!(
        p("restart \"kernel*\""),
        Command::Restart { target: ProtoTarget::Pattern("kernel*".into()), message: None }
    );
    assert_eq!(p("reload peer_b4"), Command::Reload { dir: ReloadDir::Both, target: n("peer_b4") });
    assert_eq!(p("reload in peer_b4"), Command::Reload { dir: ReloadDir::In, target: n("peer_b4") });
    assert_eq!(p("reload out all"), Command::Reload { dir: ReloadDir::Out, target: ProtoTarget::All });
    assert_eq!(p("configure"), Command::Configure { soft: false, file: None, timeout: None });
    assert_eq!(p("configure soft"), Command::Configure { soft: true, file: None, timeout: None });
    assert_eq!(p("configure timeout 60"), Command::Configure { soft: false, file: None, timeout: Some(60) });
    assert_eq!(
        p("configure soft \"/etc/b.conf\" timeout"),
        Command::Configure {
            soft: true,
            file: Some("/etc/b.conf".into()),
            timeout: Some(DEFAULT_CONFIGURE_TIMEOUT)
        }
    );
    assert_eq!(p("configure confirm"), Command::ConfigureConfirm);
    assert_eq!(p("configure undo"), Command::ConfigureUndo);
    assert_eq!(p("configure status"), Command::ConfigureStatus);
    assert_eq!(p("configure check"), Command::ConfigureCheck { file: None });
    assert_eq!(p("configure check \"/x\""), Command::ConfigureCheck { file: Some("/x".into()) });
    assert_eq!(p("down"), Command::Down);
    assert_eq!(p("graceful restart"), Command::GracefulRestart);
    assert_eq!(p("debug peer_b4 all"), Command::Debug { target: n("peer_b4"), flags: FlagSpec::All });
    assert_eq!(
        p("debug all { states, routes }"),
        Command::Debug {
            target: ProtoTarget::All,
            flags: FlagSpec::Set(vec!["states".into(), "routes".into()])
        }
    );
    assert_eq!(
        p("mrtdump \"p*\" off"),
        Command::Mrtdump { target: ProtoTarget::Pattern("p*".into()), flags: FlagSpec::Off }
    );
    assert_eq!(p("dump resources"), Command::Dump { what: "resources".into(), file: None });
    assert_eq!(
        p("dump attribute stats \"/tmp/x\""),
        Command::Dump { what: "attribute stats".into(), file: Some("/tmp/x".into()) }
    );
    assert_eq!(p("dump ao keys"), Command::Dump { what: "ao keys".into(), file: None });
    assert_eq!(p("restrict"), Command::Restrict);
    assert_eq!(p("quit"), Command::Quiet(QuietWord::Quit));
    assert_eq!(p("exit"), Command::Quiet(QuietWord::Exit));
    assert_eq!(p("help"), Command::Quiet(QuietWord::Help));
    assert_eq!(p("eval (65001, 1) ~ [(65001, *)]"), Command::Eval("(65001, 1) ~ [(65001, *)]".into()));
    assert_eq!(p("eval 1+1"), Command::Eval("1+1".into()));
    assert_eq!(p("eval 1/0"), Command::Eval("1/0".into()));
    let Command::Echo(e) = p("echo all") else { panic!() };
    assert_eq!(e.classes, LogClasses::all());
    let Command::Echo(e) = p("echo { info, warning } 1024") else { panic!() };
    assert!(e.classes.contains(LogClass::Info) && !e.classes.contains(LogClass::Debug));
    assert_eq!(e.size, Some(1024));
    let Command::Echo(e) = p("echo off") else { panic!() };
    assert!(e.classes.is_empty());
}

#[test]
fn parse_rejections() {
    assert_eq!(err("sh ro"), "syntax error, unexpected CF_SYM_UNDEFINED");
    assert_eq!(err("sh pro"), "syntax error, unexpected CF_SYM_UNDEFINED");
    assert_eq!(err("show rou"), "syntax error, unexpected CF_SYM_UNDEFINED");
    assert_eq!(err("SHOW STATUS"), "syntax error, unexpected CF_SYM_UNDEFINED");
    assert_eq!(err("Show status"), "syntax error, unexpected CF_SYM_UNDEFINED");
    assert_eq!(err(""), "syntax error, unexpected END");
    assert_eq!(err("   "), "syntax error, unexpected END");
    assert_eq!(err("?"), "syntax error, unexpected '?'");
    assert_eq!(err("foo bar"), "syntax error, unexpected CF_SYM_UNDEFINED");
    assert_eq!(err("show"), "syntax error, unexpected END");
    assert_eq!(err("show status now"), "syntax error, unexpected CF_SYM_UNDEFINED, expecting END");
    assert_eq!(err("disable"), "syntax error, unexpected END, expecting CF_SYM_KNOWN or TEXT or ALL");
    assert_eq!(err("eval"), "syntax error, unexpected END");
    assert_eq!(err("echo { nope }"), "syntax error, unexpected CF_SYM_UNDEFINED");
    assert_eq!(err("echo all 10"), "Invalid log buffer size");
    assert_eq!(err("graceful"), "syntax error, unexpected END");
    assert!(err("debug p { bogus }").starts_with("syntax error"));
    assert!(err("show protocols all all").starts_with("syntax error, unexpected ALL"));
    assert!(err("disable \"unterminated").contains("Unterminated"));
}

#[test]
fn restricted_policy() {
    let denied = [
        "configure",
        "configure soft",
        "configure timeout 5",
        "configure check",
        "configure confirm",
        "configure undo",
        "down",
        "graceful restart",
        "enable p",
        "disable p",
        "restart all",
        "reload p",
        "reload in p",
        "reload out p",
        "debug p all",
        "mrtdump p all",
        "dump resources",
    ];
    for c in denied {
        assert!(p(c).is_privileged(), "{c}");
    }
    let allowed = [
        "show status",
        "show route where bgp_path.len > 1",
        "show route filter { accept; }",
        "show protocols all",
        "eval 1+1",
        "echo all",
        "configure status",
        "restrict",
        "show memory",
        "show threads",
        "show interfaces",
        "show symbols",
        "quit",
    ];
    for c in allowed {
        assert!(!p(c).is_privileged(), "{c}");
    }
    let mut s = session("2.0.12", true);
    s.take_output();
    for c in denied {
        s.feed(format!("{c}\n").as_bytes());
        assert_eq!(s.next_command(), None, "{c}");
        same(&s.take_output(), b"8007 Access denied\n");
    }
    s.feed(b"configure status\n");
    assert_eq!(s.next_command(), Some(Command::ConfigureStatus));
}

// ---------------------------------------------------------------- client

#[test]
fn blocking_client_against_a_session() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;

    let dir = std::env::temp_dir().join(format!("birdcli-test-{}", std::process::id()));
    let _ = fs::create_dir_all(&dir);
    let path = dir.join("bird.ctl");
    let _ = fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut s = session("2.0.12", false);
        sock.write_all(&s.take_output()).unwrap();
        let mut buf = [0u8; 512];
        loop {
            let n = sock.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            s.feed(&buf[..n]);
            while let Some(c) = s.next_command() {
                match c {
                    Command::ShowStatus => {
                        let tc = TimeContext::default();
                        show_status(s.writer(), &lab_status(&tc), &tc)
                    }
                    _ => s.writer().finish(0, ""),
                }
            }
            sock.write_all(&s.take_output()).unwrap();
        }
    });
    let mut c = Client::connect(&path).unwrap();
    assert_eq!(c.greeting().text, "BIRD 2.0.12 ready.");
    let r = c.command("show status").unwrap();
    assert_eq!(r.code, 13);
    assert!(r.birdc_text().starts_with("BIRD 2.0.12\nRouter ID is 127.0.0.2\n"));
    let r = c.command("sh ro").unwrap();
    assert_eq!((r.code, r.exit_status()), (9001, 1));
    let r = c.restrict().unwrap();
    assert_eq!(r.code, 16);
    let r = c.command("down").unwrap();
    assert_eq!((r.code, r.text.as_str()), (8007, "Access denied"));
    assert!(c.command("a\nb").is_err());
    drop(c);
    server.join().unwrap();
    let _ = fs::remove_dir_all(&dir);
}

/// `Session::notify` (the automatic undo of `configure timeout`) reaches a session that echoes nothing,
/// and never in the middle of a reply.
#[test]
fn notify_waits_for_the_reply() {
    let mut s = session("2.0.12", false);
    let _ = s.take_output();
    s.feed(b"configure timeout 2\n");
    assert!(matches!(s.next_command(), Some(Command::Configure { timeout: Some(2), .. })));
    s.writer().line(2, "Reading configuration from /etc/bird/bird.conf");
    s.notify("Config timeout expired, starting undo");
    assert_eq!(s.take_output(), b"0002-Reading configuration from /etc/bird/bird.conf\n".to_vec());
    s.writer().finish(3, "Reconfigured");
    assert_eq!(s.take_output(), b"0003 Reconfigured\n+Config timeout expired, starting undo\n".to_vec());
}
