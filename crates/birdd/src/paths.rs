//! Default file locations.
//!
//! * Config: `-c`, else `/etc/birdd/birdd.conf` when it exists, else the built-in example
//!   (`docs/examples/birdd.conf`, embedded at build time so `cargo run` works from any directory).
//! * Control socket: `-s`, else `/run/birdd/birdd.ctl` as root, else `$XDG_RUNTIME_DIR/birdd.ctl`, else
//!   `/tmp/birdd-<uid>/birdd.ctl` (the directory is created with mode 0700). `birdd ctl` resolves the same.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The system-wide config file.
pub const SYSTEM_CONFIG: &str = "/etc/birdd/birdd.conf";

/// The name the built-in config is reported under.
pub const BUILTIN_CONFIG_NAME: &str = "<built-in>/birdd.conf";

/// The built-in example configuration.
pub const BUILTIN_CONFIG: &str = include_str!("../../../docs/examples/birdd.conf");

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file.
    File(String),
    /// The built-in example.
    Builtin,
}

impl ConfigSource {
    /// The name used in messages (`Reading configuration from ...`, errors).
    pub fn name(&self) -> &str {
        match self {
            ConfigSource::File(f) => f,
            ConfigSource::Builtin => BUILTIN_CONFIG_NAME,
        }
    }
}

/// Resolves `-c`.
pub fn config_source(arg: Option<&str>) -> ConfigSource {
    match arg {
        Some(f) => ConfigSource::File(f.to_owned()),
        None if Path::new(SYSTEM_CONFIG).exists() => ConfigSource::File(SYSTEM_CONFIG.into()),
        None => ConfigSource::Builtin,
    }
}

/// The default control socket for the current user (does not create anything).
pub fn default_socket() -> PathBuf {
    let uid = rustix::process::getuid();
    if uid.is_root() {
        return PathBuf::from("/run/birdd/birdd.ctl");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("birdd.ctl"),
        _ => PathBuf::from(format!("/tmp/birdd-{}/birdd.ctl", uid.as_raw())),
    }
}

/// Resolves `-s`.
pub fn socket_path(arg: Option<&str>) -> PathBuf {
    arg.map(PathBuf::from).unwrap_or_else(default_socket)
}

/// Creates the directory of a default socket: `/tmp/birdd-<uid>` with mode 0700 (refusing one owned by
/// somebody else), `/run/birdd` with 0755.
pub fn prepare_socket_dir(socket: &Path) -> io::Result<()> {
    let Some(dir) = socket.parent() else { return Ok(()) };
    if dir.as_os_str().is_empty() || dir.exists() && !is_private_tmp(dir) {
        return Ok(());
    }
    if is_private_tmp(dir) {
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let md = std::fs::symlink_metadata(dir)?;
        if !md.is_dir() || md.uid() != rustix::process::getuid().as_raw() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} is not a directory owned by this user", dir.display()),
            ));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)
}

/// Only the default directory (`/tmp/birdd-<our uid>`) is ours to create and lock down; an explicit
/// socket path elsewhere, even under `/tmp/birdd-*`, is left as the operator made it (as BIRD does).
fn is_private_tmp(dir: &Path) -> bool {
    dir == Path::new(&format!("/tmp/birdd-{}", rustix::process::getuid().as_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_resolution() {
        assert_eq!(config_source(Some("x.conf")), ConfigSource::File("x.conf".into()));
        assert_eq!(ConfigSource::Builtin.name(), BUILTIN_CONFIG_NAME);
        assert!(BUILTIN_CONFIG.contains("protocol static"));
    }

    #[test]
    fn socket_resolution() {
        assert_eq!(socket_path(Some("/x/y.ctl")), PathBuf::from("/x/y.ctl"));
        let d = default_socket();
        assert!(d.ends_with("birdd.ctl"));
    }
}
