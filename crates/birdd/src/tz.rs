//! The local time zone's UTC offset, for CLI and log times (BIRD prints local time).
//!
//! Reads the TZif file named by `$TZ` (`:Europe/Prague`, `Europe/Prague`, an absolute path; `UTC`/empty
//! mean UTC) or `/etc/localtime`, and picks the offset in force at a given instant from its transitions
//! (the version 1 block: 32-bit times, enough until 2038; later instants use the last transition).
//! Without a readable zone file the offset is 0 (UTC).

use std::sync::OnceLock;

#[derive(Debug, Default)]
struct Zone {
    transitions: Vec<(i64, i32)>,
    initial: i32,
}

fn be32(b: &[u8], at: usize) -> Option<i32> {
    b.get(at..at + 4).map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], at: usize) -> Option<i64> {
    b.get(at..at + 8).map(|s| i64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
}

/// Parses one data block (`tsize` = 4 for version 1, 8 for version 2+) starting at the header `h`;
/// returns the zone and the offset just past the block.
fn parse_block(b: &[u8], h: usize, tsize: usize) -> Option<(Zone, usize)> {
    if b.get(h..h + 4)? != b"TZif" {
        return None;
    }
    let cnt = |i: usize| be32(b, h + 20 + 4 * i).and_then(|v| usize::try_from(v).ok());
    let (isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt) =
        (cnt(0)?, cnt(1)?, cnt(2)?, cnt(3)?, cnt(4)?, cnt(5)?);
    let times = h + 44;
    let idx = times + tsize * timecnt;
    let types = idx + timecnt;
    let end = types + 6 * typecnt + charcnt + leapcnt * (tsize + 4) + isstdcnt + isutcnt;
    let ttinfo = |i: usize| be32(b, types + 6 * i);
    let initial = if typecnt > 0 { ttinfo(0)? } else { 0 };
    let mut transitions = Vec::with_capacity(timecnt);
    for i in 0..timecnt {
        let t = if tsize == 8 { be64(b, times + 8 * i)? } else { i64::from(be32(b, times + 4 * i)?) };
        let ty = usize::from(*b.get(idx + i)?);
        if ty >= typecnt {
            return None;
        }
        transitions.push((t, ttinfo(ty)?));
    }
    Some((Zone { transitions, initial }, end))
}

fn parse(b: &[u8]) -> Option<Zone> {
    let (v1, end) = parse_block(b, 0, 4)?;
    // Version 2+ files repeat the data with 64-bit times (slim files keep only that block).
    if b.get(4).is_some_and(|v| *v >= b'2') {
        if let Some((v2, _)) = parse_block(b, end, 8) {
            return Some(v2);
        }
    }
    Some(v1)
}

fn zone_file() -> Option<String> {
    match std::env::var("TZ") {
        Ok(tz) => {
            let tz = tz.trim_start_matches(':');
            if tz.is_empty() || tz == "UTC" || tz == "UTC0" {
                None
            } else if tz.starts_with('/') {
                Some(tz.to_owned())
            } else {
                Some(format!("/usr/share/zoneinfo/{tz}"))
            }
        }
        Err(_) => Some("/etc/localtime".into()),
    }
}

fn zone() -> &'static Zone {
    static Z: OnceLock<Zone> = OnceLock::new();
    Z.get_or_init(|| {
        zone_file().and_then(|f| std::fs::read(f).ok()).and_then(|b| parse(&b)).unwrap_or_default()
    })
}

fn offset_in(z: &Zone, unix: i64) -> i32 {
    match z.transitions.iter().rposition(|(t, _)| *t <= unix) {
        Some(i) => z.transitions[i].1,
        None => z.initial,
    }
}

/// Seconds east of UTC at `unix` (seconds since the epoch).
pub fn utc_offset(unix: i64) -> i32 {
    offset_in(zone(), unix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tzif(transitions: &[(i32, u8)], types: &[i32]) -> Vec<u8> {
        let mut b = b"TZif2".to_vec();
        b.resize(20, 0);
        for c in [0u32, 0, 0, transitions.len() as u32, types.len() as u32, 4] {
            b.extend_from_slice(&c.to_be_bytes());
        }
        for (t, _) in transitions {
            b.extend_from_slice(&t.to_be_bytes());
        }
        for (_, i) in transitions {
            b.push(*i);
        }
        for off in types {
            b.extend_from_slice(&off.to_be_bytes());
            b.extend_from_slice(&[0, 0]);
        }
        b.extend_from_slice(b"CET\0");
        b
    }

    #[test]
    fn offsets_follow_transitions() {
        let z = parse(&tzif(&[(1_000, 1), (2_000, 0)], &[3600, 7200])).unwrap();
        assert_eq!(offset_in(&z, 0), 3600);
        assert_eq!(offset_in(&z, 1_500), 7200);
        assert_eq!(offset_in(&z, 5_000), 3600);
        assert!(parse(b"nope").is_none());
        let utc = parse(&tzif(&[], &[0])).unwrap();
        assert_eq!(offset_in(&utc, 12345), 0);
    }

    #[test]
    fn real_zone_file() {
        let Ok(b) = std::fs::read("/usr/share/zoneinfo/Europe/Prague") else {
            println!("SKIP real_zone_file: no tzdata");
            return;
        };
        let z = parse(&b).unwrap();
        assert_eq!(offset_in(&z, 1_768_000_000), 3600); // January 2026
        assert_eq!(offset_in(&z, 1_783_000_000), 7200); // July 2026
    }
}
