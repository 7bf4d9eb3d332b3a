//! `show route export|noexport|preexport <p>` and `show route filtered` through the control socket,
//! against BIRD 2.0.12 transcripts 21–24. The lab exported to a BGP peer; here the exporting protocol is
//! the lab's pipe p_lg4, whose filter (lg_export) accepts and rejects the same static routes the lab's
//! bgp_export did. The lab's `import keep filtered` BGP channel is played by a static protocol with a
//! rejecting import filter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{keep_routes_of, norm_times, transcript, Daemon, TempDir, BIRD_A};

/// The routes peer_b4 kept as filtered in the lab, here from a static protocol.
const KEEP_FILTERED: &str = r#"
filter bogons {
  if net ~ [ 100.64.0.0/10+, 203.0.113.192/27 ] then reject;
  accept;
}

protocol static static_f {
  ipv4 {
    import keep filtered;
    import filter bogons;
  };
  route 203.0.113.192/27 via 192.0.2.254 dev "vethA";
  route 100.64.50.0/24 via 192.0.2.254 dev "vethA";
}
"#;

fn daemon(dir: &TempDir) -> Daemon {
    let conf = dir.write("birdA.conf", &format!("{BIRD_A}{KEEP_FILTERED}"));
    Daemon::start(&conf, &dir.path("a.ctl"))
}

#[test]
fn export_and_noexport_match_bird() {
    let dir = TempDir::new("sre");
    let d = daemon(&dir);
    let mut s = d.session();

    // 21: the three static routes the export filter accepts; lg4 (the pipe's other side) holds only the
    // pipe's own copies, which are never offered back, so it is not listed.
    let want = transcript("21-show-route-export-bgp");
    assert_eq!(norm_times(&s.cmd("show route export p_lg4")), norm_times(&want));
    assert_eq!(norm_times(&s.cmd("show route export p_lg4 table master4")), norm_times(&want));

    // 22: counted; the lab's table also held 6 routes of kernel, direct and BGP protocols.
    let want = transcript("22-show-route-export-bgp-count")
        .replace("3 of 10 routes for 9 networks", "3 of 4 routes for 4 networks");
    assert_eq!(s.cmd("show route export p_lg4 table master4 count"), want);
    assert_eq!(
        s.cmd("show route export p_lg4 count"),
        "1007-3 of 4 routes for 4 networks in table master4\n 0 of 3 routes for 3 networks in table lg4\n\
         0014 Total: 3 of 7 routes for 7 networks in 2 tables\n"
    );

    // 23: what the filter rejects (in the lab also direct and kernel routes).
    let want = keep_routes_of(&transcript("23-show-route-noexport-bgp"), &["static4"]);
    assert_eq!(norm_times(&s.cmd("show route noexport p_lg4")), norm_times(&want));
    assert_eq!(s.cmd("show route noexport p_lg4 table lg4"), "1007-Table lg4:\n0000 \n");

    // preexport: everything but the pipe's own copies.
    let pre = s.cmd("show route preexport p_lg4 count");
    assert!(pre.starts_with("1007-4 of 4 routes for 4 networks in table master4\n 0 of 3 routes"), "{pre}");

    // Combined with other selectors.
    let r = s.cmd("show route export p_lg4 where dest = RTD_BLACKHOLE");
    assert!(r.contains("198.51.100.128/25") && !r.contains("198.51.100.0/25"), "{r}");
    assert_eq!(s.cmd("show route export p_lg4 protocol static6"), "0000 \n");
    assert!(s.cmd("show route export p_lg4 primary count").starts_with("1007-3 of 4 routes"));

    // Static protocols export nothing; unknown names and tables without the channel are errors.
    assert_eq!(s.cmd("show route export static4"), "9001 No valid tables\n");
    assert_eq!(s.cmd("show route export static4 table master4"), "1007-Table master4:\n0000 \n");
    assert_eq!(s.cmd("show route export p_lg4 table master6"), "9001 No export channel for table master6\n");
    assert!(s.cmd("show route export nosuch").starts_with("9001 syntax error, unexpected CF_SYM_UNDEFINED"));
    assert!(s.cmd("show route export lg4").ends_with(" lg4 is not a protocol\n"));

    // A disabled protocol exports nothing.
    assert!(s.cmd("disable p_lg4").contains("disabled"));
    d.wait_for("show route export p_lg4", |r| r == "9001 No valid tables\n");
    assert!(s.cmd("enable p_lg4").contains("enabled"));
    d.wait_for("show route export p_lg4", |r| {
        norm_times(r) == norm_times(&transcript("21-show-route-export-bgp"))
    });
}

#[test]
fn filtered_routes_match_bird() {
    let dir = TempDir::new("srf");
    let d = daemon(&dir);
    let mut s = d.session();

    // 24: the routes an import filter rejected, kept by `import keep filtered` (in the lab from BGP).
    let want = transcript("24-show-route-filtered")
        .replace(" from 127.0.0.3] * (100/?) [AS65002i]", "] * (200)")
        .replace("[peer_b4 ", "[static_f ");
    assert_eq!(norm_times(&s.cmd("show route filtered")), norm_times(&want));
    assert_eq!(
        s.cmd("show route filtered count"),
        "1007-2 of 2 routes for 2 networks in table master4\n 0 of 0 routes for 0 networks in table master6\n\
         0014 Total: 2 of 2 routes for 2 networks in 2 tables\n"
    );
    let r = s.cmd("show route filtered protocol static_f all");
    assert!(r.contains("100.64.50.0/24") && r.contains("\tType: static univ\n"), "{r}");

    // Every other listing leaves them out (and does not count them).
    let all = s.cmd("show route");
    assert!(!all.contains("100.64.50.0/24") && !all.contains("static_f"), "{all}");
    assert_eq!(
        s.cmd("show route count"),
        "1007-4 of 4 routes for 4 networks in table master4\n 2 of 2 routes for 2 networks in table master6\n\
         0014 Total: 6 of 6 routes for 6 networks in 2 tables\n"
    );
    assert_eq!(s.cmd("show route for 203.0.113.193"), "8001 Network not found\n");
    assert!(s.cmd("show route table lg4").lines().all(|l| !l.contains("static_f")));
    assert_eq!(s.cmd("show route filtered export p_lg4"), "9001 Incompatible show route options\n");
}

/// The export filter's changes show in `show route export p all`.
#[test]
fn export_shows_filtered_attributes() {
    let dir = TempDir::new("sra");
    let conf = dir.write(
        "a.conf",
        r#"router id 192.0.2.1;
ipv4 table t2;
protocol static s1 {
  ipv4;
  route 10.1.0.0/16 blackhole;
  route 10.2.0.0/16 unreachable;
}
protocol pipe p1 {
  table master4;
  peer table t2;
  export filter { if dest = RTD_UNREACHABLE then reject; bgp_community.add((65001, 100)); preference = 150; accept; };
  import none;
}
"#,
    );
    let d = Daemon::start(&conf, &dir.path("a.ctl"));
    let plain = d.cmd("show route all");
    assert!(!plain.contains("65001"), "{plain}");
    let r = d.cmd("show route export p1 all");
    assert!(r.contains("10.1.0.0/16          blackhole [s1 ") && r.contains("] * (150)\n"), "{r}");
    assert!(r.contains("\tBGP.community: (65001,100)\n"), "{r}");
    assert!(!r.contains("10.2.0.0/16"), "{r}");
    let r = d.cmd("show route noexport p1");
    assert!(r.contains("10.2.0.0/16          unreachable [s1 ") && r.contains("] * (200)\n"), "{r}");
    assert!(!r.contains("10.1.0.0/16"), "{r}");
}
