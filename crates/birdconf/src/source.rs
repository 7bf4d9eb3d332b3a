//! Where configuration text comes from.
//!
//! The parser never touches the file system directly: it asks a [`Source`]
//! to read a file or expand an `include` glob. [`FsSource`] is the real file
//! system; [`MemSource`] holds files in memory for tests and for callers that
//! assemble configurations themselves.
//!
//! Globs follow glob(3) as BIRD uses it: `*`, `?` and `[...]` (with `!` or `^`
//! negation and ranges) inside one path component, no escapes, names starting
//! with `.` only matched by a pattern starting with `.`, results sorted,
//! directories skipped.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// A provider of configuration files.
pub trait Source {
    /// Reads a whole file.
    fn read(&self, path: &str) -> io::Result<String>;
    /// Expands a glob pattern to the sorted list of matching regular files.
    fn glob(&self, pattern: &str) -> io::Result<Vec<String>>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsSource;

impl Source for FsSource {
    fn read(&self, path: &str) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        String::from_utf8(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
    }

    fn glob(&self, pattern: &str) -> io::Result<Vec<String>> {
        let absolute = pattern.starts_with('/');
        let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
        let mut current: Vec<String> = vec![if absolute { "/".into() } else { String::new() }];
        for (i, comp) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            let mut next = Vec::new();
            for base in &current {
                if !has_wildcards(comp) {
                    let p = join(base, comp);
                    if Path::new(&p).exists() {
                        next.push(p);
                    }
                    continue;
                }
                let dir = if base.is_empty() { ".".to_string() } else { base.clone() };
                let rd = match std::fs::read_dir(&dir) {
                    Ok(rd) => rd,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                let mut names: Vec<String> =
                    rd.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect();
                names.sort();
                for n in names {
                    if glob_match(comp, &n) {
                        let p = join(base, &n);
                        if last || Path::new(&p).is_dir() {
                            next.push(p);
                        }
                    }
                }
            }
            current = next;
        }
        let mut out: Vec<String> = current.into_iter().filter(|p| !Path::new(p).is_dir()).collect();
        out.sort();
        Ok(out)
    }
}

fn join(base: &str, comp: &str) -> String {
    if base.is_empty() {
        comp.to_string()
    } else if base.ends_with('/') {
        format!("{base}{comp}")
    } else {
        format!("{base}/{comp}")
    }
}

/// In-memory files, keyed by the path the parser will ask for.
///
/// ```
/// use birdconf::{MemSource, Source};
/// let mut m = MemSource::new();
/// m.insert("etc/a.conf", "router id 1.2.3.4;");
/// m.insert("etc/peers/p1.conf", "");
/// assert_eq!(m.glob("etc/peers/*.conf").unwrap(), vec!["etc/peers/p1.conf".to_string()]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct MemSource {
    files: BTreeMap<String, String>,
}

impl MemSource {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a file.
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) -> &mut Self {
        self.files.insert(normalize(&path.into()), text.into());
        self
    }
}

/// Removes `./` components and duplicate slashes so that `./a.conf` and `a.conf` name the same file.
fn normalize(p: &str) -> String {
    let absolute = p.starts_with('/');
    let parts: Vec<&str> = p.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

impl Source for MemSource {
    fn read(&self, path: &str) -> io::Result<String> {
        self.files.get(&normalize(path)).cloned().ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn glob(&self, pattern: &str) -> io::Result<Vec<String>> {
        let pat = normalize(pattern);
        let pcomps: Vec<&str> = pat.split('/').collect();
        Ok(self
            .files
            .keys()
            .filter(|k| {
                let kc: Vec<&str> = k.split('/').collect();
                kc.len() == pcomps.len() && kc.iter().zip(&pcomps).all(|(n, p)| glob_match(p, n))
            })
            .cloned()
            .collect())
    }
}

/// Whether a path contains glob wildcards (BIRD globs only then).
pub(crate) fn has_wildcards(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Matches one path component against a glob pattern.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| match_from(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && match_from(&p[1..], &n[1..]),
        Some('[') => {
            let Some(c) = n.first() else { return false };
            match class_match(&p[1..], *c) {
                Some((ok, used)) => ok && match_from(&p[1 + used..], &n[1..]),
                // An unterminated class is a literal '['.
                None => *c == '[' && match_from(&p[1..], &n[1..]),
            }
        }
        Some(pc) => n.first() == Some(pc) && match_from(&p[1..], &n[1..]),
    }
}

/// Matches `c` against a bracket class whose body starts at `p`; returns
/// whether it matched and how many pattern characters the class used
/// (including the closing `]`).
fn class_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 0;
    let negate = matches!(p.first(), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.conf", "a.conf"));
        assert!(!glob_match("*.conf", ".a.conf"));
        assert!(glob_match("peer?.conf", "peer1.conf"));
        assert!(glob_match("peer[0-9].conf", "peer7.conf"));
        assert!(!glob_match("peer[!0-9].conf", "peer7.conf"));
        assert!(!glob_match("*.conf", "a.conf.bak"));
    }

    #[test]
    fn mem_source_glob_is_sorted_and_per_component() {
        let mut m = MemSource::new();
        m.insert("d/b.conf", "").insert("d/a.conf", "").insert("d/sub/c.conf", "");
        assert_eq!(m.glob("./d/*.conf").unwrap(), vec!["d/a.conf", "d/b.conf"]);
        assert!(m.read("./d/a.conf").is_ok());
    }
}
