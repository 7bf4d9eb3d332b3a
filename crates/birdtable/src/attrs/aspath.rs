//! AS paths (`bgp_path`), stored in BGP wire form with 4-byte ASNs.
//!
//! The bytes are a sequence of segments `[type, count, ASN × count]`, each ASN 4 bytes big-endian, as in
//! an AS4 session's AS_PATH attribute (RFC 4271 4.3, RFC 6793). Keeping the wire form makes the common
//! paths small (one allocation, 2 + 4n bytes), hashing and comparison a `memcmp`, and encoding towards an
//! AS4 peer a copy. The constructors validate, so every `AsPath` is well formed.

use std::fmt;

/// The kind of an AS path segment, with its wire type code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SegmentKind {
    /// `AS_SET` (1): unordered; counts 1 towards the path length.
    Set = 1,
    /// `AS_SEQUENCE` (2): ordered; each ASN counts 1.
    Sequence = 2,
    /// `AS_CONFED_SEQUENCE` (3): counts 0.
    ConfedSequence = 3,
    /// `AS_CONFED_SET` (4): counts 0.
    ConfedSet = 4,
}

impl SegmentKind {
    /// The kind with this wire code.
    pub fn from_code(code: u8) -> Option<SegmentKind> {
        match code {
            1 => Some(SegmentKind::Set),
            2 => Some(SegmentKind::Sequence),
            3 => Some(SegmentKind::ConfedSequence),
            4 => Some(SegmentKind::ConfedSet),
            _ => None,
        }
    }

    /// Whether this is a confederation segment.
    pub fn is_confed(self) -> bool {
        matches!(self, SegmentKind::ConfedSequence | SegmentKind::ConfedSet)
    }
}

/// Why bytes are not a valid 4-byte AS path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsPathError {
    /// A segment header or its ASNs run past the end.
    #[error("truncated segment at offset {0}")]
    Truncated(usize),
    /// An unknown segment type.
    #[error("invalid segment type {code} at offset {offset}")]
    BadType {
        /// The type byte.
        code: u8,
        /// Where the segment starts.
        offset: usize,
    },
    /// A segment with no ASNs.
    #[error("empty segment at offset {0}")]
    EmptySegment(usize),
}

/// One segment of a path, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    kind: SegmentKind,
    data: &'a [u8],
}

impl<'a> Segment<'a> {
    /// The segment kind.
    pub fn kind(&self) -> SegmentKind {
        self.kind
    }

    /// Number of ASNs in the segment.
    pub fn len(&self) -> usize {
        self.data.len() / 4
    }

    /// Whether the segment has no ASNs (never true for a validated path).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The ASNs, in wire order.
    pub fn asns(&self) -> impl DoubleEndedIterator<Item = u32> + ExactSizeIterator + 'a {
        self.data.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// Contribution to the BGP path length (RFC 4271 9.1.2.2 a, RFC 5065 5.3).
    pub fn path_len(&self) -> u32 {
        match self.kind {
            SegmentKind::Sequence => self.len() as u32,
            SegmentKind::Set => 1,
            SegmentKind::ConfedSequence | SegmentKind::ConfedSet => 0,
        }
    }
}

/// Iterator over the segments of an [`AsPath`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let (&code, rest) = self.rest.split_first()?;
        let (&n, rest) = rest.split_first()?;
        let (data, rest) = rest.split_at(4 * usize::from(n));
        self.rest = rest;
        // Validated at construction: the code is known.
        let kind = SegmentKind::from_code(code).unwrap_or(SegmentKind::Sequence);
        Some(Segment { kind, data })
    }
}

/// An AS path in 4-byte wire form. See the module docs.
///
/// `Display` prints BIRD's format: sequences as space-separated ASNs, sets as `{1 2}`, confederation
/// sequences as `(1 2)`, confederation sets as `({1 2})`, segments separated by a space.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct AsPath(Box<[u8]>);

/// Most ASNs one segment may hold (its count is a byte).
pub const MAX_SEGMENT_ASNS: usize = 255;

impl AsPath {
    /// The empty path (no allocation).
    pub fn empty() -> AsPath {
        AsPath(Box::default())
    }

    /// A path of one `AS_SEQUENCE` (split every 255 ASNs).
    pub fn from_sequence(asns: &[u32]) -> AsPath {
        let mut b = AsPathBuilder::new();
        b.push_segment(SegmentKind::Sequence, asns);
        b.finish()
    }

    /// Validate and adopt wire bytes (4-byte ASNs).
    pub fn from_wire(bytes: &[u8]) -> Result<AsPath, AsPathError> {
        let mut off = 0;
        while off < bytes.len() {
            if off + 2 > bytes.len() {
                return Err(AsPathError::Truncated(off));
            }
            let code = bytes[off];
            if SegmentKind::from_code(code).is_none() {
                return Err(AsPathError::BadType { code, offset: off });
            }
            let n = usize::from(bytes[off + 1]);
            if n == 0 {
                return Err(AsPathError::EmptySegment(off));
            }
            if off + 2 + 4 * n > bytes.len() {
                return Err(AsPathError::Truncated(off));
            }
            off += 2 + 4 * n;
        }
        Ok(AsPath(bytes.into()))
    }

    /// The wire bytes.
    pub fn as_wire(&self) -> &[u8] {
        &self.0
    }

    /// Heap bytes owned by this path.
    pub fn heap_size(&self) -> usize {
        self.0.len()
    }

    /// The segments, first (most recent) to last (origin).
    pub fn segments(&self) -> Segments<'_> {
        Segments { rest: &self.0 }
    }

    /// Every ASN, in wire order, whatever its segment.
    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments().flat_map(|s| s.asns())
    }

    /// The BGP path length: each sequence ASN counts 1, a set 1, confederation segments 0.
    pub fn len(&self) -> u32 {
        self.segments().map(|s| s.path_len()).sum()
    }

    /// Whether the path has no segments at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The neighbouring AS: the first ASN when the first non-confederation segment is a sequence
    /// (`bgp_path.first`).
    pub fn first(&self) -> Option<u32> {
        let seg = self.segments().find(|s| !s.kind().is_confed())?;
        match seg.kind() {
            SegmentKind::Sequence => seg.asns().next(),
            _ => None,
        }
    }

    /// The origin AS (`bgp_path.last`): the last ASN when the last segment is a sequence; `None` when
    /// it is a set (aggregated, no single origin) or the path is empty.
    pub fn last(&self) -> Option<u32> {
        let seg = self.segments().filter(|s| !s.kind().is_confed()).last()?;
        match seg.kind() {
            SegmentKind::Sequence => seg.asns().next_back(),
            _ => None,
        }
    }

    /// The last ASN of the last sequence segment, skipping trailing sets
    /// (`bgp_path.last_nonaggregated`).
    pub fn last_nonaggregated(&self) -> Option<u32> {
        let mut res = None;
        for s in self.segments() {
            if s.kind() == SegmentKind::Sequence {
                res = s.asns().next_back();
            }
        }
        res
    }

    /// Whether `asn` occurs anywhere in the path.
    pub fn contains(&self, asn: u32) -> bool {
        self.count(asn) > 0
    }

    /// How many times `asn` occurs.
    pub fn count(&self, asn: u32) -> usize {
        self.asns().filter(|&a| a == asn).count()
    }

    /// The path with `asn` prepended: into the first segment when it is a sequence with room, else in
    /// a new sequence segment in front.
    pub fn prepend(&self, asn: u32) -> AsPath {
        self.prepend_kind(SegmentKind::Sequence, asn)
    }

    /// The path with `asn` prepended `n` times.
    pub fn prepend_n(&self, asn: u32, n: usize) -> AsPath {
        let mut p = self.clone();
        for _ in 0..n {
            p = p.prepend(asn);
        }
        p
    }

    /// The path with `asn` prepended as a confederation sequence member.
    pub fn prepend_confed(&self, asn: u32) -> AsPath {
        self.prepend_kind(SegmentKind::ConfedSequence, asn)
    }

    fn prepend_kind(&self, kind: SegmentKind, asn: u32) -> AsPath {
        let old = &self.0;
        let mut v = Vec::with_capacity(old.len() + 6);
        if old.len() >= 2 && old[0] == kind as u8 && usize::from(old[1]) < MAX_SEGMENT_ASNS {
            v.push(kind as u8);
            v.push(old[1] + 1);
            v.extend_from_slice(&asn.to_be_bytes());
            v.extend_from_slice(&old[2..]);
        } else {
            v.push(kind as u8);
            v.push(1);
            v.extend_from_slice(&asn.to_be_bytes());
            v.extend_from_slice(old);
        }
        AsPath(v.into_boxed_slice())
    }

    /// The path without confederation segments (what leaves the confederation).
    pub fn strip_confed(&self) -> AsPath {
        let mut b = AsPathBuilder::new();
        for s in self.segments().filter(|s| !s.kind().is_confed()) {
            let asns: Vec<u32> = s.asns().collect();
            b.push_segment(s.kind(), &asns);
        }
        b.finish()
    }
}

impl fmt::Display for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let (open, close) = match s.kind() {
                SegmentKind::Sequence => ("", ""),
                SegmentKind::Set => ("{", "}"),
                SegmentKind::ConfedSequence => ("(", ")"),
                SegmentKind::ConfedSet => ("({", "})"),
            };
            f.write_str(open)?;
            for (j, a) in s.asns().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

impl fmt::Debug for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsPath({self})")
    }
}

/// Builds an [`AsPath`] segment by segment.
#[derive(Debug, Default)]
pub struct AsPathBuilder {
    bytes: Vec<u8>,
}

impl AsPathBuilder {
    /// An empty builder.
    pub fn new() -> AsPathBuilder {
        AsPathBuilder::default()
    }

    /// Append a segment; long ones are split into several of at most 255 ASNs. Empty input adds
    /// nothing.
    pub fn push_segment(&mut self, kind: SegmentKind, asns: &[u32]) -> &mut Self {
        for chunk in asns.chunks(MAX_SEGMENT_ASNS) {
            self.bytes.push(kind as u8);
            self.bytes.push(chunk.len() as u8);
            for a in chunk {
                self.bytes.extend_from_slice(&a.to_be_bytes());
            }
        }
        self
    }

    /// The finished path.
    pub fn finish(&mut self) -> AsPath {
        AsPath(std::mem::take(&mut self.bytes).into_boxed_slice())
    }
}
