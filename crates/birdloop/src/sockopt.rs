//! Socket options routing protocols need that neither socket2 nor rustix wraps: TCP-MD5 signatures
//! (RFC 2385, `TCP_MD5SIG`) and the minimum received TTL for TTL security (RFC 5082, `IP_MINTTL` /
//! `IPV6_MINHOPCOUNT`).

// Raw setsockopt calls; each carries its SAFETY argument.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};

/// Longest TCP-MD5 key the kernel takes (`TCP_MD5SIG_MAXKEYLEN`).
pub const TCP_MD5_MAX_KEY: usize = 80;

/// The kernel's `struct tcp_md5sig` (linux/tcp.h).
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: i32,
    key: [u8; TCP_MD5_MAX_KEY],
}

fn setsockopt<T>(fd: &impl AsFd, level: libc::c_int, name: libc::c_int, val: &T) -> io::Result<()> {
    let len = libc::socklen_t::try_from(mem::size_of::<T>())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `fd` is an open socket borrowed for the call; `val` points to `len` initialised bytes that
    // live across the call, and the kernel only reads them.
    let r = unsafe {
        libc::setsockopt(fd.as_fd().as_raw_fd(), level, name, (val as *const T).cast::<libc::c_void>(), len)
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sign (with `key`) or stop signing (`None`) the TCP segments exchanged with `peer` on `fd`. On a
/// listening socket it applies to the connections it accepts from `peer`; on a socket to be connected,
/// set it before `connect`.
///
/// # Errors
/// A key longer than [`TCP_MD5_MAX_KEY`] bytes, or the kernel's refusal (no `CONFIG_TCP_MD5SIG`, a
/// family mismatch).
pub fn set_tcp_md5(fd: &impl AsFd, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
    let key = key.unwrap_or(&[]);
    if key.len() > TCP_MD5_MAX_KEY {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "TCP-MD5 key longer than 80 bytes"));
    }
    // SAFETY: all-zero bytes are a valid `sockaddr_storage` (an AF_UNSPEC address).
    let addr: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut sig = TcpMd5Sig {
        addr,
        flags: 0,
        prefixlen: 0,
        keylen: key.len() as u16,
        ifindex: 0,
        key: [0; TCP_MD5_MAX_KEY],
    };
    sig.key[..key.len()].copy_from_slice(key);
    let sa = socket2::SockAddr::from(std::net::SocketAddr::new(peer, 0));
    let n = (sa.len() as usize).min(mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `sa` holds `sa.len()` valid bytes of a sockaddr for `peer`; at most the size of
    // `sockaddr_storage` is copied into `sig.addr`, which is that large, and the regions don't overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            sa.as_ptr().cast::<u8>(),
            (&mut sig.addr as *mut libc::sockaddr_storage).cast::<u8>(),
            n,
        );
    }
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
}

/// Drop packets received with a TTL (hop limit) below `min` on `fd` (TTL security: 255 minus the hops
/// allowed). `v6` selects the IPv6 option.
///
/// # Errors
/// The kernel's refusal.
pub fn set_min_ttl(fd: &impl AsFd, v6: bool, min: u8) -> io::Result<()> {
    let v = libc::c_int::from(min);
    if v6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &v)
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_min_ttl_on_real_sockets() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_tcp_md5(&l, "127.0.0.1".parse().unwrap(), Some(b"secret")).unwrap();
        set_tcp_md5(&l, "127.0.0.1".parse().unwrap(), None).unwrap();
        assert!(set_tcp_md5(&l, "127.0.0.1".parse().unwrap(), Some(&[b'x'; 81])).is_err());
        set_min_ttl(&l, false, 254).unwrap();
    }
}
