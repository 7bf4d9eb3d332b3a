//! `include` expansion and the map from parsed text back to files.
//!
//! BIRD handles `include` in its lexer: a line that starts (after blanks) with
//! `include "<path>";` is replaced by the contents of the file(s), wherever in
//! the grammar that line falls. We do the same before parsing: the files are
//! spliced into one text, and a [`SourceMap`] remembers which byte of that text
//! came from which byte of which file, so every position can be reported
//! against the original file.
//!
//! Rules (as in BIRD): the path is relative to the directory of the including
//! file (`dirname(file)/path`); a path with `*`, `?` or `[` is a glob whose
//! matches are included in sorted order (no match is not an error); nesting
//! depth is limited to 8 including the main file; the directive is not
//! recognised inside a `/* */` comment.

use std::sync::Arc;

use crate::error::{ConfigError, Loc};
use crate::source::{has_wildcards, Source};

/// Maximum include depth, the main file counting as 1.
pub const MAX_INCLUDE_DEPTH: usize = 8;

#[derive(Debug)]
struct FileInfo {
    name: Arc<str>,
    line_starts: Vec<usize>,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    start: usize,
    len: usize,
    file: usize,
    file_offset: usize,
}

/// Maps offsets in the expanded text to file positions.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    files: Vec<FileInfo>,
    segments: Vec<Segment>,
}

impl SourceMap {
    /// The file position of byte `offset` of the expanded text.
    pub(crate) fn loc(&self, offset: usize) -> Loc {
        if self.segments.is_empty() {
            let name = self.files.first().map(|f| f.name.clone()).unwrap_or_else(|| Arc::from(""));
            return Loc { file: name, line: 1, col: (offset + 1) as u32 };
        }
        let idx = self.segments.partition_point(|s| s.start <= offset).saturating_sub(1);
        let seg = self.segments[idx];
        let within = (offset.saturating_sub(seg.start)).min(seg.len);
        self.file_loc(seg.file, seg.file_offset + within)
    }

    fn file_loc(&self, file: usize, off: usize) -> Loc {
        let f = &self.files[file];
        let off = off.min(f.len);
        let line = f.line_starts.partition_point(|&s| s <= off);
        let col = off - f.line_starts[line - 1] + 1;
        Loc { file: f.name.clone(), line: line as u32, col: col as u32 }
    }

    fn add_file(&mut self, name: &str, text: &str) -> usize {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.files.push(FileInfo { name: Arc::from(name), line_starts, len: text.len() });
        self.files.len() - 1
    }
}

/// The expanded text and its map.
#[derive(Debug)]
pub(crate) struct Expanded {
    pub(crate) text: String,
    pub(crate) map: SourceMap,
}

struct Expander<'a> {
    source: &'a dyn Source,
    out: String,
    map: SourceMap,
}

/// Expands includes starting from a main file whose text is already known.
pub(crate) fn expand(source: &dyn Source, name: &str, text: &str) -> Result<Expanded, ConfigError> {
    let mut ex = Expander { source, out: String::with_capacity(text.len()), map: SourceMap::default() };
    ex.file(name, text, 1)?;
    Ok(Expanded { text: ex.out, map: ex.map })
}

/// Directory part of a path, as dirname(3) returns it.
fn dirname(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => "/",
        Some(i) => trimmed[..i].trim_end_matches('/'),
        None => ".",
    }
}

impl Expander<'_> {
    fn emit(&mut self, file: usize, text: &str, from: usize, to: usize) {
        if to > from {
            self.map.segments.push(Segment {
                start: self.out.len(),
                len: to - from,
                file,
                file_offset: from,
            });
            self.out.push_str(&text[from..to]);
        }
    }

    fn file(&mut self, name: &str, text: &str, depth: usize) -> Result<(), ConfigError> {
        let fid = self.map.add_file(name, text);
        let bytes = text.as_bytes();
        let mut in_comment = false;
        let mut pos = 0; // next byte not yet emitted
        let mut line_start = 0;
        while line_start < bytes.len() {
            let line_end = text[line_start..].find('\n').map_or(bytes.len(), |i| line_start + i + 1);
            let mut scan_from = line_start;
            if !in_comment {
                if let Some(d) = directive(text, line_start, line_end) {
                    let d = d.map_err(|(off, msg)| self.map.file_loc(fid, off).error(msg))?;
                    self.emit(fid, text, pos, line_start);
                    self.include(fid, name, &d, depth)?;
                    // Keep tokens of the two files apart (and end a `#` comment
                    // left open at the end of the included file).
                    self.out.push('\n');
                    pos = d.end;
                    scan_from = d.end;
                }
            }
            in_comment = scan_line(bytes, scan_from, line_end, in_comment);
            line_start = line_end;
        }
        self.emit(fid, text, pos, bytes.len());
        if in_comment {
            return Err(self.map.file_loc(fid, bytes.len()).error("Unterminated comment"));
        }
        Ok(())
    }

    fn include(&mut self, fid: usize, name: &str, d: &Directive, depth: usize) -> Result<(), ConfigError> {
        let at = self.map.file_loc(fid, d.path_offset);
        if depth + 1 > MAX_INCLUDE_DEPTH {
            return Err(at.error("Max include depth reached"));
        }
        let path =
            if d.path.starts_with('/') { d.path.clone() } else { format!("{}/{}", dirname(name), d.path) };
        let files = if has_wildcards(&d.path) {
            self.source.glob(&path).map_err(|e| {
                at.error(format!("Unable to match pattern {path}: {}", crate::error::strerror(&e)))
            })?
        } else {
            vec![path]
        };
        for f in files {
            let text = self.source.read(&f).map_err(|e| {
                at.error(format!("Unable to open included file {f}: {}", crate::error::strerror(&e)))
            })?;
            self.file(&f, &text, depth + 1)?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Directive {
    path: String,
    path_offset: usize,
    end: usize,
}

/// Recognises `include "path";` at the start of a line. `None` when the line
/// is not an include; `Some(Err)` for a malformed one (offset, message).
fn directive(text: &str, start: usize, end: usize) -> Option<Result<Directive, (usize, &'static str)>> {
    let line = &text[start..end];
    let after_ws = line.trim_start_matches([' ', '\t']);
    let rest = after_ws.strip_prefix("include")?;
    let rest2 = rest.trim_start_matches([' ', '\t']);
    let body = rest2.strip_prefix('"')?;
    let body_off = end - line.len() + (line.len() - body.len());
    let body_off = body_off.min(end);
    let line_body = body.trim_end_matches(['\n', '\r']);
    let Some(q) = line_body.find('"') else {
        return Some(Err((body_off, "Unterminated include")));
    };
    if q == 0 {
        return Some(Err((body_off, "Include with empty argument")));
    }
    let after = &line_body[q + 1..];
    let after_ws = after.trim_start_matches([' ', '\t']);
    if !after_ws.starts_with(';') {
        return Some(Err((body_off, "Unterminated include")));
    }
    let end_off = body_off + q + 1 + (after.len() - after_ws.len()) + 1;
    Some(Ok(Directive { path: line_body[..q].to_string(), path_offset: body_off, end: end_off }))
}

/// Scans `bytes[from..to]` for comment state: returns whether a `/* */`
/// comment is still open at `to`. Strings and `#` comments are skipped.
fn scan_line(bytes: &[u8], from: usize, to: usize, mut in_comment: bool) -> bool {
    let mut i = from;
    while i < to {
        if in_comment {
            if bytes[i] == b'*' && i + 1 < to && bytes[i + 1] == b'/' {
                in_comment = false;
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        match bytes[i] {
            b'#' => return false,
            b'"' => {
                i += 1;
                while i < to && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += 1;
                }
                i += 1;
            }
            b'/' if i + 1 < to && bytes[i + 1] == b'*' => {
                in_comment = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    in_comment
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn splices_and_maps_back() {
        let mut m = MemSource::new();
        m.insert("etc/inc.conf", "define A = 1;\ndefine B = 2;");
        let main = "router id 1.2.3.4;\n  include \"inc.conf\";\nprotocol device {}\n";
        let ex = expand(&m, "etc/main.conf", main).unwrap();
        assert!(ex.text.contains("define B = 2;\n"));
        let off = ex.text.find("define B").unwrap();
        assert_eq!(ex.map.loc(off).to_string(), "./etc/inc.conf:2:1".replace("./", ""));
        let off = ex.text.find("protocol").unwrap();
        assert_eq!(ex.map.loc(off).to_string(), "etc/main.conf:3:1");
    }

    #[test]
    fn include_errors() {
        let m = MemSource::new();
        let e = expand(&m, "main.conf", "include \"nope.conf\";\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "main.conf:1:10 Unable to open included file ./nope.conf: No such file or directory"
        );
        let e = expand(&m, "main.conf", "include \"\";\n").unwrap_err();
        assert_eq!(e.message, "Include with empty argument");
        // No match for a glob is fine; inside a comment the directive is inert.
        assert!(expand(&m, "main.conf", "include \"x/*.conf\";\n/*\ninclude \"nope\";\n*/\n").is_ok());
        let mut m = MemSource::new();
        m.insert("loop.conf", "include \"loop.conf\";\n");
        let e = expand(&m, "loop.conf", "include \"loop.conf\";\n").unwrap_err();
        assert_eq!(e.message, "Max include depth reached");
    }

    #[test]
    fn dirnames() {
        assert_eq!(dirname("/etc/bird/bird.conf"), "/etc/bird");
        assert_eq!(dirname("bird.conf"), ".");
        assert_eq!(dirname("/bird.conf"), "/");
    }
}
