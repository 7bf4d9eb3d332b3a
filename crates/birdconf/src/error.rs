//! Errors and source locations.
//!
//! BIRD prints configuration errors as `<file>:<line>:<col> <message>`, with a
//! 1-based line and the 1-based column of the first character of the offending
//! token; a file that cannot be read is reported as `<file>: <strerror>`.
//! [`ConfigError`] displays exactly that way, so `configure check` can print it
//! unchanged after `8002 `.

use std::fmt;
use std::io;
use std::sync::Arc;

/// A position in a configuration file, kept in the tree for semantic errors.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Loc {
    /// The file name, as given or as resolved for an `include`.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (bytes).
    pub col: u32,
}

impl Loc {
    /// Builds an error at this position.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError { file: self.file.to_string(), line: self.line, col: self.col, message: message.into() }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl fmt::Debug for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A configuration error (or warning), displayed the way BIRD prints it.
///
/// `line == 0` means the error has no position (an unreadable file); it then
/// displays as `<file>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// File the error is in.
    pub file: String,
    /// 1-based line, or 0 when the error concerns the whole file.
    pub line: u32,
    /// 1-based column of the first character of the offending token.
    pub col: u32,
    /// The message, BIRD's wording where BIRD has one.
    pub message: String,
}

impl ConfigError {
    /// An error about a whole file (`<file>: <message>`).
    pub fn file_error(file: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { file: file.into(), line: 0, col: 0, message: message.into() }
    }

    /// An error for a file that could not be read: `<file>: <strerror>`.
    pub fn io(file: impl Into<String>, err: &io::Error) -> Self {
        Self::file_error(file, strerror(err))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{} {}", self.file, self.line, self.col, self.message)
        }
    }
}

/// The C library's wording for an I/O error (`No such file or directory`),
/// without Rust's ` (os error N)` suffix.
pub fn strerror(err: &io::Error) -> String {
    if err.raw_os_error().is_some() {
        let s = err.to_string();
        return match s.rfind(" (os error ") {
            Some(i) => s[..i].to_string(),
            None => s,
        };
    }
    match err.kind() {
        io::ErrorKind::NotFound => "No such file or directory".into(),
        io::ErrorKind::PermissionDenied => "Permission denied".into(),
        io::ErrorKind::IsADirectory => "Is a directory".into(),
        io::ErrorKind::InvalidData => "Invalid argument".into(),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let e = ConfigError { file: "a.conf".into(), line: 5, col: 26, message: "x".into() };
        assert_eq!(e.to_string(), "a.conf:5:26 x");
        let e = ConfigError::io("/nonexistent/bird.conf", &io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(e.to_string(), "/nonexistent/bird.conf: No such file or directory");
        let os = io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&os), "No such file or directory");
    }
}
