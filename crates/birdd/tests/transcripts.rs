//! CLI replies of the real daemon byte-compared with BIRD 2.0.12 transcripts (`tests/data/bird2`, copied
//! from the compat lab). The daemon runs the static and pipe parts of the lab's birdA.conf; only times,
//! the version and, for listings that in the lab also held kernel/direct/BGP routes, the routes of those
//! protocols are normalised away.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{keep_routes_of, norm_times, transcript, Daemon, TempDir, BIRD_A};

fn daemon(dir: &TempDir) -> Daemon {
    let conf = dir.write("birdA.conf", BIRD_A);
    Daemon::start(&conf, &dir.path("a.ctl"))
}

/// Lines of `reply` (a listing) whose text mentions one of `names`, with the header; re-framed.
fn keep_rows(reply: &str, names: &[&str]) -> String {
    let r = birdcli::Reply::parse(reply.as_bytes()).unwrap();
    let mut w = birdcli::ReplyWriter::new();
    for l in &r.lines {
        if let birdcli::ReplyLine::Text { code, text, .. } = l {
            if *code == 2002 || names.iter().any(|n| text.starts_with(&format!("{n} "))) {
                w.line(*code, text);
            }
        }
    }
    w.finish(r.code, &r.text);
    String::from_utf8(w.take()).unwrap()
}

#[test]
fn show_commands_match_bird() {
    let dir = TempDir::new("tr");
    let d = daemon(&dir);
    let mut s = d.session();
    assert!(s.greeting.starts_with("0001 BIRD ") && s.greeting.ends_with(" ready.\n"), "{:?}", s.greeting);

    // show protocols: the static and pipe rows.
    let want = keep_rows(&transcript("02-show-protocols"), &["static4", "static6", "p_lg4"]);
    assert_eq!(norm_times(&s.cmd("show protocols")), norm_times(&want));

    // show protocols all: static4's block is identical (4 routes imported, same counters).
    let all = transcript("03-show-protocols-all");
    let start = all.find("1002-static4").or_else(|| all.find(" static4 ")).unwrap();
    let block = &all[start..];
    let end = block.find("\n \n").unwrap() + 3;
    let mine = s.cmd("show protocols all static4");
    let want = format!(
        "2002-Name       Proto      Table      State  Since         Info\n1002-{}0000 \n",
        block[..end].trim_start_matches("1002-").trim_start_matches(' ')
    );
    assert_eq!(norm_times(&mine), norm_times(&want));

    // show protocols all p_lg4: everything up to the counters (the lab's counts include BGP routes).
    let mine = s.cmd("show protocols all p_lg4");
    let want = transcript("08-show-protocols-all-pipe");
    let cut = |t: &str| t[..t.find("   Routes:").unwrap()].to_owned();
    assert_eq!(norm_times(&cut(&mine)), norm_times(&cut(&want)));

    // show route: the static routes of both tables, in BIRD's order.
    let want = keep_routes_of(&transcript("10-show-route"), &["static4", "static6"]);
    assert_eq!(norm_times(&s.cmd("show route")), norm_times(&want));

    // show route table lg4: what the pipe copied through lg_export.
    let want = keep_routes_of(&transcript("17-show-route-table-lg4"), &["static4"]);
    assert_eq!(norm_times(&s.cmd("show route table lg4")), norm_times(&want));

    // show route protocol static4 all: identical, with the community set by the per-route block.
    let want = transcript("20-show-route-protocol-static-all");
    assert_eq!(norm_times(&s.cmd("show route protocol static4 all")), norm_times(&want));

    assert_eq!(s.cmd("show route for 8.8.8.8"), transcript("15-show-route-for-notfound"));
    for (cmd, t) in [
        ("foo bar", "80-unknown-command"),
        ("show protocols nosuch", "83-unknown-protocol"),
        ("sh ro", "84-abbreviation-rejected"),
        ("SHOW STATUS", "85-uppercase-rejected"),
        ("", "86-empty-line"),
        ("disable nosuchproto", "70-disable-nonexistent-symbol"),
        ("disable \"zzz*\"", "71-disable-nomatch-pattern"),
        ("eval (65001, 1) ~ [(65001, *)]", "40-eval"),
        ("eval 1/0", "41-eval-runtime-error"),
    ] {
        assert_eq!(s.cmd(cmd), transcript(t), "{cmd}");
    }
    let rename = |t: &str| transcript(t).replace("peer_b4", "static4");
    assert_eq!(s.cmd("disable static4"), rename("60-disable"));
    assert_eq!(s.cmd("disable static4"), rename("61-disable-again"));
    assert_eq!(s.cmd("enable static4"), rename("62-enable"));
    assert_eq!(s.cmd("enable static4"), rename("63-enable-again"));
    assert_eq!(s.cmd("show route table static4"), "9001 Table name required\n");
    // show static: the lab resolved the gateway's interface itself; here it is pinned with `dev`.
    let mine = s.cmd("show static static4").replace("via 192.0.2.254 dev vethA\n", "via 192.0.2.254\n");
    assert_eq!(mine, transcript("37-show-static"));
    assert_eq!(s.cmd("show static"), "9001 There are multiple static protocols. Specify instance\n");
    assert_eq!(s.cmd("reload static6"), "0015-static6: reloading\n0000 \n");
    // show symbols: BIRD lists in hash order; compare one symbol and the filter class.
    assert_eq!(
        s.cmd("show symbols p_lg4"),
        transcript("36-show-symbols-one").replace("peer_b4 ", "p_lg4   ")
    );
    assert_eq!(s.cmd("show symbols filter"), "1010-lg_export\tfilter\n0000 \n");
}

#[test]
fn status_memory_threads_framing() {
    let dir = TempDir::new("st");
    let d = daemon(&dir);
    let mut s = d.session();
    let st = s.cmd("show status");
    let want = "1000-BIRD <V>\n1011-Router ID is 127.0.0.2\n Hostname is <H>\n Current server time is <T>\n Last reboot on <T>\n Last reconfiguration on <T>\n0013 Daemon is up and running\n";
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let got = norm_times(&st)
        .replacen(&format!("BIRD {}", env!("CARGO_PKG_VERSION")), "BIRD <V>", 1)
        .replacen(&format!("Hostname is {}", host.trim()), "Hostname is <H>", 1);
    assert_eq!(got, want);

    let m = s.cmd("show memory");
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines[0], "1018-BIRD memory usage");
    assert_eq!(lines[1], "                   Effective    Overhead");
    for (l, label) in lines[2..8].iter().zip([
        "Routing tables:",
        "Route attributes:",
        "Protocols:",
        "Current config:",
        "Standby memory:",
        "Total:",
    ]) {
        assert!(l.starts_with(&format!(" {label}")), "{l}");
    }
    assert_eq!(*lines.last().unwrap(), "0000 ");

    let t = s.cmd("show threads");
    assert!(t.starts_with("1027-Thread ID       Working         Overhead        Last Pickup/Drop\n"), "{t}");
    let last = t.lines().last().unwrap();
    assert!(last.starts_with("1027 ") && last.contains("All loops in group"), "{t}");

    // Pipelining and CRLF (BIRD 91/92): replies in order, `\r` ignored.
    s.send(b"show route count\r\nshow route count\n");
    let a = s.read_reply();
    let b = s.read_reply();
    assert_eq!(a, b);
    assert_eq!(a, "1007-4 of 4 routes for 4 networks in table master4\n 2 of 2 routes for 2 networks in table master6\n0014 Total: 6 of 6 routes for 6 networks in 2 tables\n");
}
