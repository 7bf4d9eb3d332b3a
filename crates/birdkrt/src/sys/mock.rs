//! An in-memory kernel: routing tables keyed like Linux's (`table, net, metric`), links and addresses, with
//! counters of every write kind and failure injection. Replies are delivered synchronously from
//! [`Backend::request`] (after the mock's own lock is released); a [`Backend::request_batch`] of writes is
//! answered by one [`Reply::Written`], like the netlink backend's batches.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use birdnet::Net;
use birdrcu::level::Service;
use birdrcu::Domain;

use super::{Backend, KAddr, KLink, KRoute, KrtError, Reply, Request, Sink, Write};

/// Counters of what the mock kernel was asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockOps {
    /// Route dumps.
    pub dumps: u64,
    /// `Add` writes.
    pub adds: u64,
    /// `Replace` writes.
    pub replaces: u64,
    /// `Delete` writes.
    pub deletes: u64,
    /// `DeleteAdd` writes.
    pub delete_adds: u64,
    /// Writes that failed.
    pub failed: u64,
    /// Link dumps.
    pub link_dumps: u64,
    /// Batches of writes ([`Backend::request_batch`] with at least one write), each answered by one
    /// [`Reply::Written`].
    pub batches: u64,
}

#[derive(Default)]
struct State {
    routes: BTreeMap<(u32, Net, u32), KRoute>,
    links: BTreeMap<u32, KLink>,
    addrs: BTreeSet<(u32, String)>,
    addr_list: Vec<KAddr>,
    failing: BTreeSet<Net>,
    fail_dump: bool,
    subs: Vec<Sink>,
    ops: MockOps,
    log: Vec<Write>,
}

/// The mock kernel. Cheap to clone (shared state).
#[derive(Clone)]
pub struct MockKernel {
    st: Arc<Domain<Service, State>>,
    seq: Arc<AtomicU64>,
}

impl std::fmt::Debug for MockKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockKernel").finish_non_exhaustive()
    }
}

impl Default for MockKernel {
    fn default() -> Self {
        MockKernel::new()
    }
}

fn err(errno: i32, msg: &str) -> KrtError {
    KrtError::Kernel { errno, msg: msg.to_owned() }
}

impl MockKernel {
    /// An empty kernel.
    pub fn new() -> MockKernel {
        MockKernel {
            st: Arc::new(Domain::new("mock kernel", State::default())),
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Every route of `table`, sorted by net.
    pub fn routes(&self, table: u32) -> Vec<KRoute> {
        self.st.lock().routes.values().filter(|r| r.table == table).cloned().collect()
    }

    /// The route of `net` in `table` (any metric).
    pub fn route(&self, table: u32, net: Net) -> Option<KRoute> {
        self.st.lock().routes.values().find(|r| r.table == table && r.net == net).cloned()
    }

    /// Add or overwrite a route behind birdkrt's back (`ip route replace`).
    pub fn external_set(&self, r: KRoute) {
        self.st.lock().routes.insert((r.table, r.net, r.metric), r);
    }

    /// Delete routes of `net` behind birdkrt's back (`ip route del`).
    pub fn external_delete(&self, table: u32, net: Net) {
        self.st.lock().routes.retain(|k, _| !(k.0 == table && k.1 == net));
    }

    /// Make writes of `net` fail with EINVAL (`true`) or succeed again.
    pub fn set_failing(&self, net: Net, fail: bool) {
        let mut st = self.st.lock();
        if fail {
            st.failing.insert(net);
        } else {
            st.failing.remove(&net);
        }
    }

    /// Make route dumps fail.
    pub fn set_dump_failing(&self, fail: bool) {
        self.st.lock().fail_dump = fail;
    }

    /// The counters.
    pub fn ops(&self) -> MockOps {
        self.st.lock().ops
    }

    /// Every write, in order.
    pub fn write_log(&self) -> Vec<Write> {
        self.st.lock().log.clone()
    }

    /// Notification subscribers currently registered.
    pub fn subscribers(&self) -> usize {
        self.st.lock().subs.len()
    }

    /// Report an overrun (ENOBUFS) to every subscriber.
    pub fn overrun(&self) {
        self.notify(Reply::Overrun);
    }

    /// Add or change a link and notify.
    pub fn set_link(&self, l: KLink) {
        self.st.lock().links.insert(l.index, l.clone());
        self.notify(Reply::Link(l));
    }

    /// Remove a link (and its addresses) and notify.
    pub fn remove_link(&self, index: u32) {
        {
            let mut st = self.st.lock();
            st.links.remove(&index);
            st.addr_list.retain(|a| a.index != index);
            st.addrs.retain(|a| a.0 != index);
        }
        self.notify(Reply::LinkGone(index));
    }

    /// Add (`true`) or remove an address and notify.
    pub fn set_addr(&self, add: bool, a: KAddr) {
        {
            let mut st = self.st.lock();
            let key = (a.index, format!("{}/{}", a.ip, a.len));
            if add {
                if st.addrs.insert(key) {
                    st.addr_list.push(a.clone());
                }
            } else {
                st.addrs.remove(&key);
                st.addr_list.retain(|x| !(x.index == a.index && x.ip == a.ip && x.len == a.len));
            }
        }
        self.notify(Reply::Addr(add, a));
    }

    fn notify(&self, r: Reply) {
        let subs = self.st.lock().subs.clone();
        for s in subs {
            s(r.clone());
        }
    }

    fn write(st: &mut State, w: &Write) -> Result<(), KrtError> {
        st.log.push(w.clone());
        let net = match w {
            Write::Add(r) | Write::Replace(r) | Write::Delete(r) => r.net,
            Write::DeleteAdd(_, r) => r.net,
        };
        match w {
            Write::Add(_) => st.ops.adds += 1,
            Write::Replace(_) => st.ops.replaces += 1,
            Write::Delete(_) => st.ops.deletes += 1,
            Write::DeleteAdd(..) => st.ops.delete_adds += 1,
        }
        if st.failing.contains(&net) {
            return Err(err(22, "Invalid argument"));
        }
        let key = |r: &KRoute| (r.table, r.net, r.metric);
        match w {
            Write::Add(r) => {
                if st.routes.contains_key(&key(r)) {
                    return Err(err(17, "File exists"));
                }
                st.routes.insert(key(r), r.clone());
                Ok(())
            }
            Write::Replace(r) => {
                st.routes.insert(key(r), r.clone());
                Ok(())
            }
            Write::Delete(r) => {
                st.routes.remove(&key(r)).map(|_| ()).ok_or_else(|| err(3, "No such process"))
            }
            Write::DeleteAdd(o, n) => {
                st.routes.remove(&key(o));
                if st.routes.contains_key(&key(n)) {
                    return Err(err(17, "File exists"));
                }
                st.routes.insert(key(n), n.clone());
                Ok(())
            }
        }
    }
}

impl Backend for MockKernel {
    fn request(&self, req: Request, reply: Sink) {
        self.seq.fetch_add(1, Ordering::Relaxed);
        let r = {
            let mut st = self.st.lock();
            match req {
                Request::DumpRoutes { table } => {
                    st.ops.dumps += 1;
                    if st.fail_dump {
                        Reply::Routes(Err(err(105, "No buffer space available")))
                    } else {
                        Reply::Routes(Ok(st.routes.values().filter(|r| r.table == table).cloned().collect()))
                    }
                }
                Request::Write { id, write } => {
                    let result = Self::write(&mut st, &write);
                    if result.is_err() {
                        st.ops.failed += 1;
                    }
                    Reply::Done { id, result }
                }
                Request::DumpLinks => {
                    st.ops.link_dumps += 1;
                    Reply::Links(Ok((st.links.values().cloned().collect(), st.addr_list.clone())))
                }
            }
        };
        reply(r);
    }

    fn request_batch(&self, reqs: Vec<Request>, reply: Sink) {
        let writes = super::start_non_writes(self, reqs, &reply);
        if writes.is_empty() {
            return;
        }
        self.seq.fetch_add(writes.len() as u64, Ordering::Relaxed);
        let done = {
            let mut st = self.st.lock();
            st.ops.batches += 1;
            writes
                .into_iter()
                .map(|(id, w)| {
                    let result = Self::write(&mut st, &w);
                    if result.is_err() {
                        st.ops.failed += 1;
                    }
                    (id, result)
                })
                .collect()
        };
        reply(Reply::Written(done));
    }

    fn subscribe(&self, sink: Sink) {
        self.st.lock().subs.push(sink);
    }

    fn unsubscribe(&self, sink: &Sink) {
        self.st.lock().subs.retain(|s| !Arc::ptr_eq(s, sink));
    }
}
