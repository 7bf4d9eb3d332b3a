//! Printing attribute sets the way `show route all` does, in BIRD 2 and BIRD 3 style.
//!
//! BIRD 2 style (the default of BIRD 2, and BIRD 3's `v2 attributes` sockets):
//!
//! ```text
//! 1008-<TAB>Type: BGP univ
//! 1012-<TAB>BGP.origin: IGP
//!  <TAB>BGP.as_path: 65002 65002
//! ```
//!
//! BIRD 3 style: `1012` lines only, generic attributes first (`hostentry`, `preference`,
//! `local_metric`, `from`, `source`), then the rest by id, with BIRD 3 names (`bgp_path`, `krt_metric`).
//! The `1008-\tInternal route handling values` line of BIRD 3 describes the route, not its attributes,
//! and is left to the table.
//!
//! Long community lists wrap like BIRD's: the first line holds what fits a 500-byte CLI message after
//! the name, continuation lines start with two tabs.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use birdnet::DisplayIp;

use super::registry::{self, AttrClass, AttrDef, AttrFormat, BAF_TRANSITIVE};
use super::set::{AttrSet, EAttr};
use super::source::{RouteSource, IGP_METRIC_UNKNOWN};
use super::value::AttrValue;

/// Which BIRD's attribute output to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrStyle {
    /// BIRD 2: `Type:` line, `BGP.as_path:` names.
    Bird2,
    /// BIRD 3: `preference:`/`source:` lines, `bgp_path:` names.
    Bird3,
}

/// Reply code of the BIRD 2 `Type:` line.
pub const CODE_TYPE: u16 = 1008;
/// Reply code of attribute lines.
pub const CODE_ATTR: u16 = 1012;

/// One line of `show route all` detail: its reply code and text. The text starts with the tab
/// BIRD prints (two for wrapped continuations); the CLI adds the `1012-` / space framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailLine {
    /// `1008` or `1012`.
    pub code: u16,
    /// The text, tab included.
    pub text: String,
}

/// BIRD's CLI message buffer size, which decides where community lists wrap.
const CLI_MSG_SIZE: usize = 500;

impl AttrSet {
    /// Append this set's `show route all` lines in `style`. `pref` is the route's preference, which
    /// BIRD 3 prints among the attributes.
    pub fn detail_lines(&self, style: AttrStyle, pref: u16, out: &mut Vec<DetailLine>) {
        match style {
            AttrStyle::Bird2 => {
                out.push(DetailLine {
                    code: CODE_TYPE,
                    text: format!("\tType: {} {}", self.source.name(), self.scope.name()),
                });
                for ea in self.eattrs() {
                    let Some(def) = registry::def(ea.id) else { continue };
                    if def.hidden_v2 {
                        continue;
                    }
                    show_eattr(&def, ea, style, out);
                }
            }
            AttrStyle::Bird3 => {
                let mut rest = self.eattrs();
                // Generic attributes registered before `preference` print first.
                while let Some((ea, tail)) = rest.split_first() {
                    if def_class(ea) != Some(AttrClass::Generic) {
                        break;
                    }
                    if let Some(def) = registry::def(ea.id) {
                        show_eattr(&def, ea, style, out);
                    }
                    rest = tail;
                }
                attr(out, format!("\tpreference: {pref}"));
                if let Some(m) = self.igp_metric {
                    if m >= IGP_METRIC_UNKNOWN {
                        attr(out, "\tlocal_metric: unknown".to_string());
                    } else {
                        attr(out, format!("\tlocal_metric: {m}"));
                    }
                }
                if let Some(from) = self.from {
                    attr(out, format!("\tfrom: {}", DisplayIp(from)));
                }
                attr(out, format!("\tsource: {}", self.source.name()));
                for ea in rest {
                    if let Some(def) = registry::def(ea.id) {
                        show_eattr(&def, ea, style, out);
                    }
                }
            }
        }
    }

    /// The lines as `code-text` strings without the CLI's continuation framing (handy in tests and
    /// logs).
    pub fn detail_text(&self, style: AttrStyle, pref: u16) -> Vec<String> {
        let mut v = Vec::new();
        self.detail_lines(style, pref, &mut v);
        v.into_iter().map(|l| l.text).collect()
    }

    /// The BGP summary of `show route` rows, for BGP routes: `[AS65002i]`, `[i]` for an empty path,
    /// `[AS65002?]`; `None` for other sources.
    pub fn bgp_summary(&self) -> Option<String> {
        if self.source != RouteSource::Bgp {
            return None;
        }
        let mut s = String::from("[");
        if let Some(asn) = self.bgp_path().and_then(|p| p.last()) {
            let _ = write!(s, "AS{asn}");
        }
        if let Some(o) = self.bgp_origin() {
            s.push(o.letter());
        }
        s.push(']');
        Some(s)
    }
}

fn def_class(ea: &EAttr) -> Option<AttrClass> {
    registry::def(ea.id).map(|d| d.class)
}

fn attr(out: &mut Vec<DetailLine>, text: String) {
    out.push(DetailLine { code: CODE_ATTR, text });
}

fn show_eattr(def: &AttrDef, ea: &EAttr, style: AttrStyle, out: &mut Vec<DetailLine>) {
    let unknown_bgp = def.ty == super::value::AttrType::Bytes && def.class == AttrClass::Bgp;
    let name: String = match style {
        AttrStyle::Bird2 if unknown_bgp && ea.flags & BAF_TRANSITIVE != 0 => format!("{} [t]", def.v2_name),
        AttrStyle::Bird2 => def.v2_name.to_string(),
        AttrStyle::Bird3 => def.v3_name.to_string(),
    };
    // Bytes of the message before the value: BIRD 2 prints `name: ` into the buffer and adds the tab
    // when sending; BIRD 3 keeps one more byte aside.
    let first = match style {
        AttrStyle::Bird2 => CLI_MSG_SIZE - name.len() - 2,
        AttrStyle::Bird3 => CLI_MSG_SIZE - name.len() - 3,
    };
    let list: Option<(Vec<String>, usize, bool)> = match &ea.value {
        AttrValue::Clist(l) => Some((l.iter().map(|c| c.to_string()).collect(), 24, false)),
        AttrValue::Eclist(l) => Some((l.iter().map(|c| c.to_string()).collect(), 64, false)),
        AttrValue::Lclist(l) => Some((l.iter().map(|c| c.to_string()).collect(), 64, true)),
        _ => None,
    };
    if let Some((items, slack, trailing)) = list {
        let chunks = wrap(&items, first, CLI_MSG_SIZE - 1, slack, trailing);
        let mut it = chunks.into_iter();
        attr(out, format!("\t{name}: {}", it.next().unwrap_or_default()));
        for c in it {
            attr(out, format!("\t\t{c}"));
        }
        return;
    }
    let value = match (&ea.value, style) {
        (AttrValue::Bytes(b), AttrStyle::Bird2) => hex_bytes(b),
        (AttrValue::Bytes(_), AttrStyle::Bird3) if unknown_bgp => {
            if ea.flags & BAF_TRANSITIVE != 0 {
                "(transitive)".to_string()
            } else {
                String::new()
            }
        }
        (v, _) => format_value(def, v),
    };
    attr(out, format!("\t{name}: {value}"));
}

/// Split list items into lines the way BIRD's set formatters fill their buffers.
fn wrap(items: &[String], first: usize, cont: usize, slack: usize, trailing: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut i = 0;
    let mut size = first;
    loop {
        let start = i;
        let mut s = String::new();
        while i < items.len() {
            let written = s.len() + usize::from(trailing && i > start);
            if written > size.saturating_sub(slack) {
                break;
            }
            if i > start {
                s.push(' ');
            }
            s.push_str(&items[i]);
            i += 1;
        }
        lines.push(s);
        if i >= items.len() || i == start {
            break;
        }
        size = cont;
    }
    lines
}

fn hex_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// The text of a value (lists unwrapped).
pub fn format_value(def: &AttrDef, v: &AttrValue) -> String {
    match v {
        AttrValue::Int(n) => match def.format {
            AttrFormat::Plain => n.to_string(),
            AttrFormat::Hex8 => format!("0x{n:08x}"),
            AttrFormat::Hex4 => format!("{n:04x}"),
        },
        AttrValue::Quad(q) => Ipv4Addr::from(*q).to_string(),
        AttrValue::Ip(a) => DisplayIp(*a).to_string(),
        AttrValue::IpPair(p) => {
            if is_zero(p[1]) {
                DisplayIp(p[0]).to_string()
            } else {
                format!("{} {}", DisplayIp(p[0]), DisplayIp(p[1]))
            }
        }
        AttrValue::Origin(o) => o.name().to_string(),
        AttrValue::Pair(p) => format!("({},{})", p >> 16, p & 0xffff),
        AttrValue::Ec(e) => e.to_string(),
        AttrValue::Lc(l) => l.to_string(),
        AttrValue::Path(p) => p.to_string(),
        AttrValue::Clist(l) => l.to_string(),
        AttrValue::Eclist(l) => l.to_string(),
        AttrValue::Lclist(l) => l.to_string(),
        AttrValue::QuadList(q) => {
            q.iter().map(|x| Ipv4Addr::from(*x).to_string()).collect::<Vec<_>>().join(" ")
        }
        AttrValue::Aggregator(a) => a.to_string(),
        AttrValue::Bytes(b) => hex_bytes(b),
        AttrValue::Flag => String::new(),
        AttrValue::Str(s) => s.to_string(),
        AttrValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        AttrValue::HostEntry(h) => h.to_string(),
    }
}

fn is_zero(a: IpAddr) -> bool {
    a.is_unspecified()
}
