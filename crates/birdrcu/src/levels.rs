//! Lock levels: the fixed order in which domains must be acquired.
//!
//! A thread may only lock a domain whose level comes strictly after every level it already holds. The
//! order is part of the architecture: a domain's level says where its owner sits in the call graph, and
//! calls may only go "down" the list while holding locks.

use std::fmt;

/// The identity of a lock level. `Ord` follows the lock order: `TheBird` is locked first, `Resource`
/// last.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LevelId {
    /// The main loop: configuration, CLI, protocols not yet running in their own loop.
    TheBird = 0,
    /// The per-thread scheduler loops.
    Meta = 1,
    /// Thread-group control: dropping threads, whole-daemon synchronisation.
    Control = 2,
    /// Protocol loops.
    Proto = 3,
    /// Registries shared by protocol instances (e.g. listening sockets).
    Subproto = 4,
    /// Service loops: table maintenance, protocol-state journal, listeners.
    Service = 5,
    /// Routing-table private data and other global tables.
    Rtable = 6,
    /// Attribute cache, net indexes, thread-group structures.
    Attrs = 7,
    /// The logging subsystem.
    Logging = 8,
    /// Leaf resources: cold page storage, obstacles, cork queue. Locking them never leads to another lock.
    Resource = 9,
}

impl LevelId {
    /// Number of levels.
    pub const COUNT: usize = 10;

    /// Every level, in lock order.
    pub const ALL: [LevelId; LevelId::COUNT] = [
        LevelId::TheBird,
        LevelId::Meta,
        LevelId::Control,
        LevelId::Proto,
        LevelId::Subproto,
        LevelId::Service,
        LevelId::Rtable,
        LevelId::Attrs,
        LevelId::Logging,
        LevelId::Resource,
    ];

    /// Position in the lock order, `0..COUNT`.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The level at position `index` in the lock order.
    pub const fn from_index(index: usize) -> Option<LevelId> {
        if index < LevelId::COUNT {
            Some(LevelId::ALL[index])
        } else {
            None
        }
    }

    /// The level's name as used in diagnostics and configuration: `"the_bird"`, `"meta"`, ...
    pub const fn name(self) -> &'static str {
        match self {
            LevelId::TheBird => "the_bird",
            LevelId::Meta => "meta",
            LevelId::Control => "control",
            LevelId::Proto => "proto",
            LevelId::Subproto => "subproto",
            LevelId::Service => "service",
            LevelId::Rtable => "rtable",
            LevelId::Attrs => "attrs",
            LevelId::Logging => "logging",
            LevelId::Resource => "resource",
        }
    }

    /// Whether domains of this level may, by default, be locked inside an RCU read section.
    ///
    /// Only `Resource` domains are: they are leaves that never wait for a grace period, so a reader
    /// blocking on one cannot deadlock against a writer in `synchronize()`.
    #[inline]
    pub const fn default_rcu_lockable(self) -> bool {
        matches!(self, LevelId::Resource)
    }
}

impl fmt::Display for LevelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A lock level known at compile time. Implemented by the zero-sized types in [`level`](crate::level).
pub trait Level: Send + Sync + 'static {
    /// The level's identity.
    const ID: LevelId;
}

macro_rules! levels {
    ($($(#[$doc:meta])* $ty:ident => $id:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
            pub struct $ty;

            impl Level for $ty {
                const ID: LevelId = LevelId::$id;
            }
        )*
    };
}

/// Zero-sized marker types for the levels, for `Domain<L, T>`.
pub mod level {
    use super::{Level, LevelId};

    levels! {
        /// Level `the_bird` (first).
        TheBird => TheBird;
        /// Level `meta`.
        Meta => Meta;
        /// Level `control`.
        Control => Control;
        /// Level `proto`.
        Proto => Proto;
        /// Level `subproto`.
        Subproto => Subproto;
        /// Level `service`.
        Service => Service;
        /// Level `rtable`.
        Rtable => Rtable;
        /// Level `attrs`.
        Attrs => Attrs;
        /// Level `logging`.
        Logging => Logging;
        /// Level `resource` (last).
        Resource => Resource;
    }
}

#[cfg(test)]
mod tests {
    use super::level::*;
    use super::*;

    #[test]
    fn order_and_names() {
        let names: Vec<String> = LevelId::ALL.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            names,
            [
                "the_bird", "meta", "control", "proto", "subproto", "service", "rtable", "attrs", "logging",
                "resource"
            ]
        );
        for w in LevelId::ALL.windows(2) {
            assert!(w[0] < w[1]);
            assert_eq!(w[0].index() + 1, w[1].index());
        }
        for (i, l) in LevelId::ALL.iter().enumerate() {
            assert_eq!(l.index(), i);
            assert_eq!(LevelId::from_index(i), Some(*l));
        }
        assert_eq!(LevelId::from_index(LevelId::COUNT), None);
    }

    #[test]
    fn markers_map_to_ids() {
        assert_eq!(TheBird::ID, LevelId::TheBird);
        assert_eq!(Meta::ID, LevelId::Meta);
        assert_eq!(Control::ID, LevelId::Control);
        assert_eq!(Proto::ID, LevelId::Proto);
        assert_eq!(Subproto::ID, LevelId::Subproto);
        assert_eq!(Service::ID, LevelId::Service);
        assert_eq!(Rtable::ID, LevelId::Rtable);
        assert_eq!(Attrs::ID, LevelId::Attrs);
        assert_eq!(Logging::ID, LevelId::Logging);
        assert_eq!(Resource::ID, LevelId::Resource);
    }

    #[test]
    fn only_resource_is_rcu_lockable_by_default() {
        for l in LevelId::ALL {
            assert_eq!(l.default_rcu_lockable(), l == LevelId::Resource);
        }
    }
}
