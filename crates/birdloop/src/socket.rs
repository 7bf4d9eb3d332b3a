//! Sockets owned by loops: registration with the owning thread's poller, RX pause/resume, and the erased
//! (socket, handler) pairs a loop stores.
//!
//! A socket lives in exactly one loop. It is registered (level-triggered) with the poller of the thread that
//! currently runs the loop, under the key `(loop slot on that thread) << 32 | socket index`. When the loop
//! moves, every registration is deleted from the old poller *before* the socket is added to the new one.
//! When a socket wants neither RX (or RX is paused) nor TX it is deleted from the poller entirely, so a hung-up
//! peer of a paused socket cannot make the thread spin on `EPOLLHUP`.

use std::any::Any;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;

use polling::{Event as PollEvent, PollMode, Poller};

use crate::r#loop::LoopGuard;

/// Names one socket of one loop. Stale keys (the socket was removed or moved away) are ignored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SockKey {
    pub(crate) idx: u32,
    pub(crate) gen: u32,
}

/// What a socket handler is told.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ready {
    /// Readable (data, a connection to accept, EOF or an error).
    pub readable: bool,
    /// Writable (or an error).
    pub writable: bool,
}

/// What a socket wants to be woken for.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Interest {
    /// Wake when readable (RX). Suppressed while RX is paused.
    pub read: bool,
    /// Wake when writable (TX).
    pub write: bool,
}

impl Interest {
    /// RX only.
    pub const READ: Interest = Interest { read: true, write: false };
    /// TX only.
    pub const WRITE: Interest = Interest { read: false, write: true };
    /// Both.
    pub const BOTH: Interest = Interest { read: true, write: true };
    /// Neither (registered with the loop but not with the poller).
    pub const NONE: Interest = Interest { read: false, write: false };
}

/// Build the poll key of a socket.
pub(crate) fn poll_key(loop_slot: usize, idx: u32) -> usize {
    (loop_slot << 32) | idx as usize
}

/// Split a poll key.
pub(crate) fn split_key(key: usize) -> (usize, u32) {
    (key >> 32, (key & 0xffff_ffff) as u32)
}

/// One fd registered with one poller. Deletes itself from the poller on drop.
pub(crate) struct Registration {
    poller: Arc<Poller>,
    fd: RawFd,
    key: usize,
}

impl Registration {
    /// Register `fd` level-triggered.
    ///
    /// # Safety
    /// `fd` must stay open until the returned registration is dropped (polling requires a source to be
    /// deleted before it is closed).
    unsafe fn new(poller: Arc<Poller>, fd: BorrowedFd<'_>, key: usize, want: Interest) -> io::Result<Self> {
        let ev = poll_event(key, want);
        // SAFETY: the caller guarantees `fd` outlives the registration, whose drop deletes it first.
        unsafe { poller.add_with_mode(fd.as_raw_fd(), ev, PollMode::Level)? };
        Ok(Registration { poller, fd: fd.as_raw_fd(), key })
    }

    fn borrowed(&self) -> BorrowedFd<'_> {
        // SAFETY: by the contract of `Registration::new` the fd is open for as long as `self` exists.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }

    fn modify(&self, want: Interest) -> io::Result<()> {
        self.poller.modify_with_mode(self.borrowed(), poll_event(self.key, want), PollMode::Level)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Err(e) = self.poller.delete(self.borrowed()) {
            tracing::warn!(target: "bird::loop::sockets", fd = self.fd, "poller delete failed: {e}");
        }
    }
}

fn poll_event(key: usize, want: Interest) -> PollEvent {
    match (want.read, want.write) {
        (true, true) => PollEvent::all(key),
        (true, false) => PollEvent::readable(key),
        (false, true) => PollEvent::writable(key),
        (false, false) => PollEvent::none(key),
    }
}

/// A socket and its handler, with the socket's type erased.
pub(crate) trait ErasedSock: Send {
    fn fd(&self) -> BorrowedFd<'_>;
    fn dispatch(&mut self, g: &mut LoopGuard<'_>, key: SockKey, ready: Ready);
    fn sock_any(&mut self) -> &mut dyn Any;
    fn into_sock(self: Box<Self>) -> Box<dyn Any + Send>;
}

pub(crate) struct Typed<S, H> {
    pub(crate) sock: S,
    pub(crate) handler: H,
}

impl<S, H> ErasedSock for Typed<S, H>
where
    S: AsFd + Send + 'static,
    H: FnMut(&mut LoopGuard<'_>, SockKey, &mut S, Ready) + Send + 'static,
{
    fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
    fn dispatch(&mut self, g: &mut LoopGuard<'_>, key: SockKey, ready: Ready) {
        (self.handler)(g, key, &mut self.sock, ready);
    }
    fn sock_any(&mut self) -> &mut dyn Any {
        &mut self.sock
    }
    fn into_sock(self: Box<Self>) -> Box<dyn Any + Send> {
        Box::new(self.sock)
    }
}

/// One socket slot of a loop. Field order matters: `reg` is dropped (deleted from the poller) before `obj`
/// (which closes the fd); `Drop` makes that explicit.
pub(crate) struct SockSlot {
    pub(crate) gen: u32,
    pub(crate) interest: Interest,
    pub(crate) paused: bool,
    reg: Option<Registration>,
    /// The socket and its handler; `None` while the handler runs.
    pub(crate) obj: Option<Box<dyn ErasedSock>>,
    fd: RawFd,
}

impl fmt::Debug for SockSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SockSlot")
            .field("fd", &self.fd)
            .field("interest", &self.interest)
            .field("paused", &self.paused)
            .field("registered", &self.reg.is_some())
            .finish()
    }
}

impl SockSlot {
    pub(crate) fn new(gen: u32, obj: Box<dyn ErasedSock>, interest: Interest) -> SockSlot {
        let fd = obj.fd().as_raw_fd();
        SockSlot { gen, interest, paused: false, reg: None, obj: Some(obj), fd }
    }

    /// What the poller should watch.
    pub(crate) fn effective(&self) -> Interest {
        Interest { read: self.interest.read && !self.paused, write: self.interest.write }
    }

    /// Bring the poller registration in line with the slot's interest. `poller` is the owning thread's poller
    /// (`None` while the loop waits for pickup).
    pub(crate) fn sync_registration(&mut self, poller: Option<&Arc<Poller>>, key: usize) -> io::Result<()> {
        let want = self.effective();
        let Some(poller) = poller.filter(|_| want != Interest::NONE) else {
            self.reg = None;
            return Ok(());
        };
        match &self.reg {
            Some(r) if Arc::ptr_eq(&r.poller, poller) && r.key == key => r.modify(want),
            _ => {
                // Delete from the old poller (if any) before adding to the new one.
                self.reg = None;
                // The fd is owned by `obj`, or by the handler call in flight if `obj` is out. Either way it is
                // not closed before this slot is dropped or its registration replaced.
                let fd = match &self.obj {
                    Some(o) => o.fd(),
                    // SAFETY: `obj` is out only while its handler runs, and the handler's caller owns the
                    // socket (and so the fd) until it puts `obj` back or drops the slot first.
                    None => unsafe { BorrowedFd::borrow_raw(self.fd) },
                };
                // SAFETY: `reg` is dropped before the fd closes: `Drop for SockSlot` drops it first, and a
                // socket taken out of the slot (`take_obj`) has its registration dropped there first.
                self.reg = Some(unsafe { Registration::new(Arc::clone(poller), fd, key, want)? });
                Ok(())
            }
        }
    }

    /// Take the socket out for good (reloop, removal): deregisters first.
    pub(crate) fn take_obj(&mut self) -> Option<Box<dyn ErasedSock>> {
        self.reg = None;
        self.obj.take()
    }
}

impl Drop for SockSlot {
    fn drop(&mut self) {
        self.reg = None;
        self.obj = None;
    }
}

/// Opening sockets: always in an explicit loop, non-blocking, registered at once.
impl LoopGuard<'_> {
    /// A TCP listener bound to `addr` (address reuse on), handled by `handler` (which typically `accept`s).
    pub fn tcp_listen<H>(
        &mut self,
        addr: std::net::SocketAddr,
        backlog: i32,
        handler: H,
    ) -> io::Result<SockKey>
    where
        H: FnMut(&mut LoopGuard<'_>, SockKey, &mut socket2::Socket, Ready) + Send + 'static,
    {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        s.set_reuse_address(true)?;
        s.set_nonblocking(true)?;
        s.bind(&addr.into())?;
        s.listen(backlog)?;
        self.add_socket(s, Interest::READ, handler)
    }

    /// A non-blocking TCP connect to `addr`; the handler sees `writable` when the connection completes (check
    /// `take_error`). `prepare` may set socket options (bind, TTL, MD5...) before connecting.
    pub fn tcp_connect<H>(
        &mut self,
        addr: std::net::SocketAddr,
        prepare: impl FnOnce(&socket2::Socket) -> io::Result<()>,
        handler: H,
    ) -> io::Result<SockKey>
    where
        H: FnMut(&mut LoopGuard<'_>, SockKey, &mut socket2::Socket, Ready) + Send + 'static,
    {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        s.set_nonblocking(true)?;
        prepare(&s)?;
        match s.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        self.add_socket(s, Interest::BOTH, handler)
    }

    /// A UDP socket bound to `addr`.
    pub fn udp_bind<H>(&mut self, addr: std::net::SocketAddr, handler: H) -> io::Result<SockKey>
    where
        H: FnMut(&mut LoopGuard<'_>, SockKey, &mut socket2::Socket, Ready) + Send + 'static,
    {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        s.set_nonblocking(true)?;
        s.bind(&addr.into())?;
        self.add_socket(s, Interest::READ, handler)
    }

    /// A UNIX stream listener at `path` (the path must not exist).
    pub fn unix_listen<H>(&mut self, path: &std::path::Path, handler: H) -> io::Result<SockKey>
    where
        H: FnMut(&mut LoopGuard<'_>, SockKey, &mut std::os::unix::net::UnixListener, Ready) + Send + 'static,
    {
        let l = std::os::unix::net::UnixListener::bind(path)?;
        l.set_nonblocking(true)?;
        self.add_socket(l, Interest::READ, handler)
    }

    /// A UNIX stream connection to `path`.
    pub fn unix_connect<H>(&mut self, path: &std::path::Path, handler: H) -> io::Result<SockKey>
    where
        H: FnMut(&mut LoopGuard<'_>, SockKey, &mut std::os::unix::net::UnixStream, Ready) + Send + 'static,
    {
        let s = std::os::unix::net::UnixStream::connect(path)?;
        s.set_nonblocking(true)?;
        self.add_socket(s, Interest::READ, handler)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    struct Plain(UnixStream);
    impl ErasedSock for Plain {
        fn fd(&self) -> BorrowedFd<'_> {
            self.0.as_fd()
        }
        fn dispatch(&mut self, _: &mut LoopGuard<'_>, _: SockKey, _: Ready) {}
        fn sock_any(&mut self) -> &mut dyn Any {
            &mut self.0
        }
        fn into_sock(self: Box<Self>) -> Box<dyn Any + Send> {
            Box::new(self.0)
        }
    }

    #[test]
    fn registration_follows_interest_and_pause() {
        let poller = Arc::new(Poller::new().unwrap());
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut slot = SockSlot::new(1, Box::new(Plain(a)), Interest::READ);
        let key = poll_key(3, 7);
        assert_eq!(split_key(key), (3, 7));
        slot.sync_registration(Some(&poller), key).unwrap();
        b.write_all(b"x").unwrap();
        let mut evs = polling::Events::new();
        poller.wait(&mut evs, Some(Duration::from_secs(1))).unwrap();
        assert_eq!(evs.iter().next().map(|e| (e.key, e.readable)), Some((key, true)));
        // Paused: deleted from the poller, so nothing is reported although data is pending.
        slot.paused = true;
        slot.sync_registration(Some(&poller), key).unwrap();
        evs.clear();
        poller.wait(&mut evs, Some(Duration::from_millis(20))).unwrap();
        assert!(evs.is_empty());
        slot.paused = false;
        slot.sync_registration(Some(&poller), key).unwrap();
        evs.clear();
        poller.wait(&mut evs, Some(Duration::from_secs(1))).unwrap();
        assert_eq!(evs.len(), 1);
        drop(slot);
    }
}
