#![allow(dead_code)]
//! Helpers shared by the integration tests.

use birdtable::attrs::{AsPath, AttrId, AttrValue, EAttr};

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn ea(code: u8, flags: u8, value: AttrValue) -> EAttr {
    EAttr { id: AttrId::bgp(code), flags, value }
}

pub fn path(asns: &[u32]) -> AttrValue {
    AttrValue::Path(AsPath::from_sequence(asns))
}

pub fn net(s: &str) -> birdnet::Net {
    s.parse().expect("net")
}

pub fn scapy(name: &str) -> Vec<u8> {
    let text = include_str!("vectors/scapy.txt");
    for line in text.lines() {
        if let Some((n, h)) = line.split_once(' ') {
            if n == name {
                return hex(h);
            }
        }
    }
    panic!("no vector {name}");
}
