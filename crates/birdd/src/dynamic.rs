//! Dynamic BGP (`neighbor range`): the requests from protocol and listener loops that the main loop
//! carries out.
//!
//! ```text
//!  listen loop: connection from A in a range, no exact neighbour ──Spawner──► Req::Spawn(parent, A, socket)
//!  spawned protocol's loop: its connections are all gone ──────────────────► Req::Down(name)
//!                                      │ queue (mutex) + main-loop event
//!                                      ▼
//!  main loop: lock Daemon ─► Runtime::run_dynamic: spawn `dynbgpN` (the parent's configuration with
//!             `neighbor A`) and hand it the socket / remove the spawned protocol
//! ```
//!
//! The spawner runs in the listen loop and the down notification in a protocol loop: both only push to
//! the queue and send the main-loop event; the daemon's state is touched in the main loop only. Until
//! [`install`] set the event (at startup, after the first configuration started the protocols), requests
//! wait in the queue.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};

use bird_bgp::proto::Spawner;
use birdevent::{Callback, Event, EventList};

use crate::cli::Server;

/// A request for the main loop.
#[derive(Debug)]
pub enum Req {
    /// A connection for the range protocol `parent` from `from`.
    Spawn {
        /// The range protocol.
        parent: String,
        /// The peer.
        from: SocketAddr,
        /// The accepted connection (non-blocking).
        sock: socket2::Socket,
    },
    /// The spawned protocol `name` lost its session.
    Down {
        /// Its name.
        name: String,
    },
}

/// The queue of [`Req`]s and the main-loop event that drains it.
#[derive(Debug, Default)]
pub struct DynQueue {
    reqs: Mutex<Vec<Req>>,
    wake: Mutex<Option<Callback>>,
}

impl DynQueue {
    /// An empty queue, not yet connected to a main loop.
    pub fn new() -> Arc<DynQueue> {
        Arc::new(DynQueue::default())
    }

    /// Queues a request and wakes the main loop.
    pub fn push(&self, r: Req) {
        self.reqs.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        if let Some(cb) = self.wake.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            cb.activate();
        }
    }

    /// Everything queued so far.
    pub fn take(&self) -> Vec<Req> {
        std::mem::take(&mut *self.reqs.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The spawner of the range protocol `parent`.
    pub fn spawner(self: &Arc<Self>, parent: &str) -> Spawner {
        let q: Weak<DynQueue> = Arc::downgrade(self);
        let parent = parent.to_owned();
        Arc::new(move |from, sock| {
            if let Some(q) = q.upgrade() {
                q.push(Req::Spawn { parent: parent.clone(), from, sock });
            }
        })
    }

    /// The down notification of the spawned protocol `name`.
    pub fn down_notifier(self: &Arc<Self>, name: &str) -> Arc<dyn Fn() + Send + Sync> {
        let q: Weak<DynQueue> = Arc::downgrade(self);
        let name = name.to_owned();
        Arc::new(move || {
            if let Some(q) = q.upgrade() {
                q.push(Req::Down { name: name.clone() });
            }
        })
    }
}

/// Connects the daemon's queue to the main loop (`events`): each wakeup locks the daemon and carries
/// out what is queued. Requests queued before are carried out right away.
pub fn install(server: &Arc<Server>, events: &Arc<EventList>) {
    let srv: Weak<Server> = Arc::downgrade(server);
    let ev = Event::new("dynamic bgp", move || {
        if let Some(srv) = srv.upgrade() {
            let mut d = srv.daemon.lock().unwrap_or_else(|e| e.into_inner());
            d.rt.run_dynamic();
        }
    });
    let cb = Callback::new(ev, Arc::clone(events));
    let q = {
        let d = server.daemon.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&d.rt.dynamic)
    };
    *q.wake.lock().unwrap_or_else(|e| e.into_inner()) = Some(cb.clone());
    cb.activate();
}
