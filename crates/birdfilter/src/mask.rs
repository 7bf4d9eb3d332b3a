//! BGP path masks (`[= * 65001 ? 64512..65534 [1,2]+ =]`) and their matcher.
//!
//! A path is seen as a sequence of *positions*: each ASN of a sequence segment is one position,
//! each set segment is one position standing for any non-empty sequence of its members. Matching
//! runs a nondeterministic automaton whose states are the positions `0..=n` (`n` = past the end),
//! with BIRD's semantics:
//!
//! * `*` marks every position from the lowest marked one to the end;
//! * an ASN, range, set or `?` moves each marked position one step on when it matches there (a
//!   set position stays marked too and marks the run of set positions after it);
//! * `X+` repeats the step as long as it keeps matching;
//! * the path matches when position `n` is marked after the last item.

use std::fmt;
use std::sync::Arc;

use birdtable::attrs::{AsPath, SegmentKind};

use crate::set::Set;

/// What one mask item matches.
#[derive(Debug, Clone, PartialEq)]
pub enum MaskKind {
    /// `*`: any sequence, also empty.
    Any,
    /// `?`: one ASN.
    One,
    /// `a..b` (a single ASN is `a..a`).
    Range(u32, u32),
    /// An int set.
    Set(Arc<Set>),
}

/// One item of a mask.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskItem {
    /// What it matches.
    pub kind: MaskKind,
    /// Followed by `+`.
    pub repeat: bool,
}

/// A compiled path mask.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathMask {
    /// The items in order.
    pub items: Vec<MaskItem>,
}

enum Pos<'a> {
    Asn(u32),
    Set(&'a AsPath, usize),
}

fn positions(path: &AsPath) -> Vec<Pos<'_>> {
    let mut v = Vec::with_capacity(path.as_wire().len() / 4);
    for (si, seg) in path.segments().enumerate() {
        match seg.kind() {
            SegmentKind::Set | SegmentKind::ConfedSet => v.push(Pos::Set(path, si)),
            SegmentKind::Sequence | SegmentKind::ConfedSequence => v.extend(seg.asns().map(Pos::Asn)),
        }
    }
    v
}

fn item_matches_asn(kind: &MaskKind, asn: u32) -> bool {
    match kind {
        MaskKind::Any | MaskKind::One => true,
        MaskKind::Range(a, b) => *a <= asn && asn <= *b,
        MaskKind::Set(s) => s.tree().is_some_and(|t| t.contains_u32(asn)),
    }
}

fn item_matches(kind: &MaskKind, pos: &Pos<'_>) -> bool {
    match pos {
        Pos::Asn(a) => item_matches_asn(kind, *a),
        Pos::Set(path, si) => {
            if matches!(kind, MaskKind::One | MaskKind::Any) {
                return true;
            }
            path.segments().nth(*si).is_some_and(|s| s.asns().any(|a| item_matches_asn(kind, a)))
        }
    }
}

impl PathMask {
    /// Whether `path` matches the mask.
    pub fn matches(&self, path: &AsPath) -> bool {
        let pos = positions(path);
        let n = pos.len();
        let is_set = |j: usize| j < n && matches!(pos[j], Pos::Set(..));
        let mut mark = vec![false; n + 1];
        mark[0] = true;
        let (mut lo, mut hi) = (0usize, 0usize);
        for item in &self.items {
            mark[n] = false;
            if item.kind == MaskKind::Any {
                for m in &mut mark[lo..=n] {
                    *m = true;
                }
                hi = n;
                continue;
            }
            let (mut new_lo, mut new_hi): (Option<usize>, Option<usize>) = (None, None);
            let mut last = n;
            for i in (lo..=hi).rev() {
                if !mark[i] {
                    continue;
                }
                mark[i] = false;
                let mut j = i;
                while j < n && item_matches(&item.kind, &pos[j]) {
                    // Step over position j: a set position stays marked with the sets after it.
                    let start = j;
                    if is_set(j) {
                        while is_set(j) {
                            mark[j] = true;
                            j += 1;
                        }
                    } else {
                        j += 1;
                    }
                    mark[j] = true;
                    let l = if is_set(start) { start } else { j };
                    new_lo = Some(new_lo.map_or(l, |x| x.min(l)));
                    new_hi = Some(new_hi.map_or(j, |x| x.max(j)));
                    if !(item.repeat && j < last) {
                        break;
                    }
                }
                last = i;
            }
            match (new_lo, new_hi) {
                (Some(l), Some(h)) => {
                    lo = l;
                    hi = h;
                }
                _ => return false,
            }
        }
        mark[n]
    }
}

impl fmt::Display for PathMask {
    /// BIRD's format: `[= * 65001 1..5 [1, 2]+ =]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[= ")?;
        for it in &self.items {
            match &it.kind {
                MaskKind::Any => f.write_str("* ")?,
                MaskKind::One => f.write_str("? ")?,
                MaskKind::Range(a, b) if a == b => write!(f, "{a} ")?,
                MaskKind::Range(a, b) => write!(f, "{a}..{b} ")?,
                MaskKind::Set(s) => write!(f, "{s} ")?,
            }
            if it.repeat {
                f.write_str("+ ")?;
            }
        }
        f.write_str("=]")
    }
}
