//! `-u user -g group`: drop root but keep the capabilities a router needs.
//!
//! Order (before any thread exists, since the credentials calls act on the calling thread):
//! `prctl(PR_SET_KEEPCAPS, 1)`, `setgroups([gid])`, `setgid`, `setuid`, then `capset` to exactly
//! CAP_NET_ADMIN, CAP_NET_BIND_SERVICE, CAP_NET_RAW and CAP_NET_BROADCAST (effective and permitted),
//! and keep-caps off again. Names are looked up in /etc/passwd and /etc/group (numeric ids work too).

use rustix::process::{Gid, Uid};
use rustix::thread::{CapabilitySet, CapabilitySets};

/// The capabilities kept.
pub fn router_caps() -> CapabilitySet {
    CapabilitySet::NET_ADMIN
        | CapabilitySet::NET_BIND_SERVICE
        | CapabilitySet::NET_RAW
        | CapabilitySet::NET_BROADCAST
}

fn lookup(file: &str, name: &str) -> Option<(u32, u32)> {
    if let Ok(n) = name.parse::<u32>() {
        return Some((n, n));
    }
    let text = std::fs::read_to_string(file).ok()?;
    parse_db(&text, name)
}

/// Finds `name` in passwd/group text: `(id, primary gid)` (for groups both are the gid).
pub fn parse_db(text: &str, name: &str) -> Option<(u32, u32)> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 3 && f[0] == name {
            let id = f[2].parse().ok()?;
            let gid = f.get(3).and_then(|g| g.parse().ok()).unwrap_or(id);
            Some((id, gid))
        } else {
            None
        }
    })
}

/// The ids `-u`/`-g` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    /// `-u`.
    pub uid: Option<u32>,
    /// `-g`, else the user's primary group.
    pub gid: Option<u32>,
}

/// Looks up `-u`/`-g`; `None` when neither is given.
pub fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Option<Ids>, String> {
    if user.is_none() && group.is_none() {
        return Ok(None);
    }
    let u = user
        .map(|u| lookup("/etc/passwd", u).ok_or_else(|| format!("Cannot find user '{u}'")))
        .transpose()?;
    let g = match group {
        Some(g) => Some(lookup("/etc/group", g).ok_or_else(|| format!("Cannot find group '{g}'"))?.0),
        None => u.map(|(_, gid)| gid),
    };
    Ok(Some(Ids { uid: u.map(|x| x.0), gid: g }))
}

/// Switches to the ids, keeping the router capabilities.
pub fn drop_privileges(ids: Ids) -> Result<(), String> {
    let (u, g) = (ids.uid, ids.gid);
    let err = |what: &str, e: rustix::io::Errno| format!("{what}: {e}");
    rustix::thread::set_keep_capabilities(true).map_err(|e| err("prctl(PR_SET_KEEPCAPS)", e))?;
    if let Some(gid) = g {
        let gid = Gid::from_raw(gid);
        rustix::thread::set_thread_groups(&[gid]).map_err(|e| err("setgroups", e))?;
        rustix::thread::set_thread_gid(gid).map_err(|e| err("setgid", e))?;
    }
    if let Some(uid) = u {
        rustix::thread::set_thread_uid(Uid::from_raw(uid)).map_err(|e| err("setuid", e))?;
    }
    let caps = router_caps();
    rustix::thread::set_capabilities(
        None,
        CapabilitySets { effective: caps, permitted: caps, inheritable: CapabilitySet::empty() },
    )
    .map_err(|e| err("capset", e))?;
    rustix::thread::set_keep_capabilities(false).map_err(|e| err("prctl(PR_SET_KEEPCAPS)", e))?;
    tracing::info!("Running as uid {u:?} gid {g:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lookup() {
        let t = "root:x:0:0:root:/root:/bin/bash\nbird:x:104:110::/run/bird:/usr/sbin/nologin\n";
        assert_eq!(parse_db(t, "bird"), Some((104, 110)));
        assert_eq!(parse_db(t, "nobody"), None);
        assert_eq!(parse_db("bird:x:110:\n", "bird"), Some((110, 110)));
        assert_eq!(lookup("/nonexistent", "42"), Some((42, 42)));
    }

    #[test]
    fn unknown_user_is_an_error() {
        let e = resolve(Some("no-such-user-birdd"), None).unwrap_err();
        assert_eq!(e, "Cannot find user 'no-such-user-birdd'");
    }
}
