//! Helpers shared by the integration tests: sample routes and a one-call runner.
#![allow(dead_code, clippy::unwrap_used)]

use birdfilter::{Filter, Limits, Program, RouteCtx, Verdict};
use birdnet::Net;
use birdtable::attrs::{
    AsPath, AttrId, AttrSet, AttrValue, Community, Dest, Iface, LargeCommunity, List, NextHop, Origin,
    RouteSource,
};

pub fn net(s: &str) -> Net {
    s.parse().unwrap()
}

/// A BGP route's attributes: path, communities, origin IGP, next hop, from.
pub fn bgp(path: &[u32], comms: &[(u16, u16)]) -> AttrSet {
    let gw = "192.0.2.254".parse().unwrap();
    let mut a = AttrSet::new(RouteSource::Bgp, Dest::one(NextHop::via(gw, Iface::new("vethA", 3))));
    a.from = Some("127.0.0.3".parse().unwrap());
    a.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
    a.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(path))).unwrap();
    a.set(AttrId::BGP_NEXT_HOP, AttrValue::Ip("198.51.100.2".parse().unwrap())).unwrap();
    if !comms.is_empty() {
        let l = List::from_values(comms.iter().map(|&(x, y)| Community::new(x, y)));
        a.set(AttrId::BGP_COMMUNITY, AttrValue::Clist(l)).unwrap();
    }
    a
}

pub fn with_lc(mut a: AttrSet, lcs: &[(u32, u32, u32)]) -> AttrSet {
    let l = List::from_values(lcs.iter().map(|&(x, y, z)| LargeCommunity::new(x, y, z)));
    a.set(AttrId::BGP_LARGE_COMMUNITY, AttrValue::Lclist(l)).unwrap();
    a
}

/// A static route's attributes.
pub fn stat(dest: Dest) -> AttrSet {
    AttrSet::new(RouteSource::Static, dest)
}

pub fn via(gw: &str, ifname: &str) -> Dest {
    Dest::one(NextHop::via(gw.parse().unwrap(), Iface::new(ifname, 3)))
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Run {
    pub verdict: Verdict,
    /// The modified attributes (None if unchanged).
    pub attrs: Option<AttrSet>,
    pub printed: Vec<String>,
    pub preference: u16,
}

pub fn run_filter(f: &Filter, n: &str, attrs: &AttrSet, limits: Limits) -> Run {
    let mut ctx = RouteCtx::new(net(n), attrs, "peer_b4", 100).capture_prints();
    let verdict = f.run_with(&mut ctx, limits);
    let printed = ctx.printed().to_vec();
    let preference = ctx.preference();
    Run { verdict, attrs: ctx.into_attrs(), printed, preference }
}

pub fn compile(text: &str) -> Program {
    let cfg = birdconf::parse_str("test.conf", text).unwrap_or_else(|e| panic!("parse: {e}"));
    Program::compile(&cfg).unwrap_or_else(|e| panic!("compile: {e}"))
}

pub fn compile_err(text: &str) -> String {
    let cfg = birdconf::parse_str("test.conf", text).unwrap_or_else(|e| panic!("parse: {e}"));
    match Program::compile(&cfg) {
        Ok(_) => panic!("compiled: {text}"),
        Err(e) => e.to_string(),
    }
}

/// Compiles a config with one filter `f` and runs it.
pub fn run(text: &str, n: &str, attrs: &AttrSet) -> Run {
    let p = compile(text);
    run_filter(p.filter("f").unwrap(), n, attrs, Limits::DEFAULT)
}

pub fn accept() -> Verdict {
    Verdict::Accept(None)
}

pub fn reject() -> Verdict {
    Verdict::Reject(None)
}

pub fn err_msg(v: &Verdict) -> String {
    match v {
        Verdict::Error(e) => e.message.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}
