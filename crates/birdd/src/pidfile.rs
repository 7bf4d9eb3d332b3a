//! `-P pidfile`: written at startup, removed at exit.

use std::io;
use std::path::PathBuf;

/// A PID file that removes itself when dropped.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Writes the current PID to `path`.
    pub fn create(path: &str) -> io::Result<PidFile> {
        let pid = rustix::process::getpid().as_raw_nonzero();
        std::fs::write(path, format!("{pid}\n"))
            .map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
        Ok(PidFile { path: path.into() })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_removed() {
        let p = std::env::temp_dir().join(format!("birdd-pid-test-{}", std::process::id()));
        let f = PidFile::create(p.to_str().unwrap()).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        drop(f);
        assert!(!p.exists());
    }
}
