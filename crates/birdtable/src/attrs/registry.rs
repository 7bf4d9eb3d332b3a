//! The attribute registry: what every extended attribute is called, its type, and its BGP code.
//!
//! Built-in definitions are a static table. Custom attributes (`attribute int my_tag;`) are
//! registered at run time into a copy-on-write list behind an [`ArcSwap`]: lookups are lock-free,
//! registrations (configuration time only) copy the list. Registering the same name with the same type
//! again returns the same id, so re-reading a configuration keeps ids (and interned sets) stable.
//!
//! Ids are ordered the way `show route all` prints: generic attributes, BGP by attribute code (known
//! and unknown codes interleaved, as BIRD does), OSPF, RIP, kernel, then custom ones in
//! registration order.

use std::fmt;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;

use super::value::AttrType;

/// Identifies an extended attribute. See the module docs for the numbering.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrId(pub u16);

impl fmt::Debug for AttrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttrId({:#06x})", self.0)
    }
}

/// BGP attribute flag: optional.
pub const BAF_OPTIONAL: u8 = 0x80;
/// BGP attribute flag: transitive.
pub const BAF_TRANSITIVE: u8 = 0x40;
/// BGP attribute flag: partial.
pub const BAF_PARTIAL: u8 = 0x20;
/// BGP attribute flag: extended length (a wire detail; never stored).
pub const BAF_EXT_LEN: u8 = 0x10;

const BGP_BASE: u16 = 0x0100;
/// First id given to custom attributes.
pub const CUSTOM_BASE: u16 = 0x1000;

impl AttrId {
    /// Recursive next-hop resolution (BIRD 3 `hostentry`).
    pub const HOSTENTRY: AttrId = AttrId(0x0001);
    /// `bgp_origin` (code 1).
    pub const BGP_ORIGIN: AttrId = AttrId::bgp(1);
    /// `bgp_path` (code 2).
    pub const BGP_PATH: AttrId = AttrId::bgp(2);
    /// `bgp_next_hop` (code 3).
    pub const BGP_NEXT_HOP: AttrId = AttrId::bgp(3);
    /// `bgp_med` (code 4).
    pub const BGP_MED: AttrId = AttrId::bgp(4);
    /// `bgp_local_pref` (code 5).
    pub const BGP_LOCAL_PREF: AttrId = AttrId::bgp(5);
    /// `bgp_atomic_aggr` (code 6).
    pub const BGP_ATOMIC_AGGR: AttrId = AttrId::bgp(6);
    /// `bgp_aggregator` (code 7).
    pub const BGP_AGGREGATOR: AttrId = AttrId::bgp(7);
    /// `bgp_community` (code 8).
    pub const BGP_COMMUNITY: AttrId = AttrId::bgp(8);
    /// `bgp_originator_id` (code 9).
    pub const BGP_ORIGINATOR_ID: AttrId = AttrId::bgp(9);
    /// `bgp_cluster_list` (code 10).
    pub const BGP_CLUSTER_LIST: AttrId = AttrId::bgp(10);
    /// `bgp_ext_community` (code 16).
    pub const BGP_EXT_COMMUNITY: AttrId = AttrId::bgp(16);
    /// `bgp_large_community` (code 32).
    pub const BGP_LARGE_COMMUNITY: AttrId = AttrId::bgp(32);
    /// `bgp_otc` (code 35, RFC 9234).
    pub const BGP_OTC: AttrId = AttrId::bgp(35);
    /// `ospf_metric1`.
    pub const OSPF_METRIC1: AttrId = AttrId(0x0200);
    /// `ospf_metric2`.
    pub const OSPF_METRIC2: AttrId = AttrId(0x0201);
    /// `ospf_tag`.
    pub const OSPF_TAG: AttrId = AttrId(0x0202);
    /// `ospf_router_id`.
    pub const OSPF_ROUTER_ID: AttrId = AttrId(0x0203);
    /// `rip_metric`.
    pub const RIP_METRIC: AttrId = AttrId(0x0210);
    /// `rip_tag`.
    pub const RIP_TAG: AttrId = AttrId(0x0211);
    /// `krt_source`.
    pub const KRT_SOURCE: AttrId = AttrId(0x0300);
    /// `krt_metric`.
    pub const KRT_METRIC: AttrId = AttrId(0x0301);
    /// `krt_prefsrc`.
    pub const KRT_PREFSRC: AttrId = AttrId(0x0310);
    /// `krt_realm`.
    pub const KRT_REALM: AttrId = AttrId(0x0311);
    /// `krt_scope`.
    pub const KRT_SCOPE: AttrId = AttrId(0x0312);

    /// The id of BGP attribute `code`, known or not.
    pub const fn bgp(code: u8) -> AttrId {
        AttrId(BGP_BASE | code as u16)
    }

    /// The BGP attribute code, if this is a BGP attribute.
    pub fn bgp_code(self) -> Option<u8> {
        (self.0 & 0xff00 == BGP_BASE).then_some(self.0 as u8)
    }

    /// Whether this is a custom (run-time registered) attribute.
    pub fn is_custom(self) -> bool {
        self.0 >= CUSTOM_BASE
    }
}

/// Where BIRD 2 puts an attribute in `show route all`, which decides its `Proto.name` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrClass {
    /// Generic route attribute (no prefix).
    Generic,
    /// `BGP.`.
    Bgp,
    /// `OSPF.`.
    Ospf,
    /// `RIP.`.
    Rip,
    /// `Kernel.`.
    Kernel,
    /// Custom attribute (printed by its name).
    Custom,
}

/// How the value is printed when the type alone does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrFormat {
    /// By type.
    Plain,
    /// `0x%08x` (OSPF tag).
    Hex8,
    /// `%04x` (RIP tag).
    Hex4,
}

/// The definition of one extended attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrDef {
    /// The id.
    pub id: AttrId,
    /// The filter name (`bgp_path`, `krt_metric`, `my_tag`).
    pub filter_name: Arc<str>,
    /// The BIRD 2 `show route all` name (`BGP.as_path`, `Kernel.metric`).
    pub v2_name: Arc<str>,
    /// The BIRD 3 `show route all` name (`bgp_path`, `krt_metric`).
    pub v3_name: Arc<str>,
    /// The value type.
    pub ty: AttrType,
    /// Where it belongs.
    pub class: AttrClass,
    /// Special print format.
    pub format: AttrFormat,
    /// BGP attribute code and default flags, for BGP attributes.
    pub bgp: Option<(u8, u8)>,
    /// Hidden from `show route all` in BIRD 2 style (BIRD 2 has no such attribute).
    pub hidden_v2: bool,
    /// Filters may not write it.
    pub readonly: bool,
}

struct Builtin {
    id: AttrId,
    filter: &'static str,
    v2: &'static str,
    v3: &'static str,
    ty: AttrType,
    class: AttrClass,
    format: AttrFormat,
    flags: u8,
    readonly: bool,
}

const fn b(
    id: AttrId,
    filter: &'static str,
    v2: &'static str,
    v3: &'static str,
    ty: AttrType,
    class: AttrClass,
    flags: u8,
) -> Builtin {
    Builtin { id, filter, v2, v3, ty, class, format: AttrFormat::Plain, flags, readonly: false }
}

const OT: u8 = BAF_OPTIONAL | BAF_TRANSITIVE;

const BUILTINS: &[Builtin] = &[
    Builtin {
        readonly: true,
        ..b(
            AttrId::HOSTENTRY,
            "hostentry",
            "hostentry",
            "hostentry",
            AttrType::HostEntry,
            AttrClass::Generic,
            0,
        )
    },
    b(
        AttrId::BGP_ORIGIN,
        "bgp_origin",
        "BGP.origin",
        "bgp_origin",
        AttrType::Origin,
        AttrClass::Bgp,
        BAF_TRANSITIVE,
    ),
    b(
        AttrId::BGP_PATH,
        "bgp_path",
        "BGP.as_path",
        "bgp_path",
        AttrType::Path,
        AttrClass::Bgp,
        BAF_TRANSITIVE,
    ),
    b(
        AttrId::BGP_NEXT_HOP,
        "bgp_next_hop",
        "BGP.next_hop",
        "bgp_next_hop",
        AttrType::BgpNextHop,
        AttrClass::Bgp,
        BAF_TRANSITIVE,
    ),
    b(AttrId::BGP_MED, "bgp_med", "BGP.med", "bgp_med", AttrType::Int, AttrClass::Bgp, BAF_OPTIONAL),
    b(
        AttrId::BGP_LOCAL_PREF,
        "bgp_local_pref",
        "BGP.local_pref",
        "bgp_local_pref",
        AttrType::Int,
        AttrClass::Bgp,
        BAF_TRANSITIVE,
    ),
    b(
        AttrId::BGP_ATOMIC_AGGR,
        "bgp_atomic_aggr",
        "BGP.atomic_aggr",
        "bgp_atomic_aggr",
        AttrType::Flag,
        AttrClass::Bgp,
        BAF_TRANSITIVE,
    ),
    b(
        AttrId::BGP_AGGREGATOR,
        "bgp_aggregator",
        "BGP.aggregator",
        "bgp_aggregator",
        AttrType::Aggregator,
        AttrClass::Bgp,
        OT,
    ),
    b(
        AttrId::BGP_COMMUNITY,
        "bgp_community",
        "BGP.community",
        "bgp_community",
        AttrType::Clist,
        AttrClass::Bgp,
        OT,
    ),
    b(
        AttrId::BGP_ORIGINATOR_ID,
        "bgp_originator_id",
        "BGP.originator_id",
        "bgp_originator_id",
        AttrType::Quad,
        AttrClass::Bgp,
        BAF_OPTIONAL,
    ),
    b(
        AttrId::BGP_CLUSTER_LIST,
        "bgp_cluster_list",
        "BGP.cluster_list",
        "bgp_cluster_list",
        AttrType::QuadList,
        AttrClass::Bgp,
        BAF_OPTIONAL,
    ),
    b(
        AttrId::BGP_EXT_COMMUNITY,
        "bgp_ext_community",
        "BGP.ext_community",
        "bgp_ext_community",
        AttrType::Eclist,
        AttrClass::Bgp,
        OT,
    ),
    b(
        AttrId::BGP_LARGE_COMMUNITY,
        "bgp_large_community",
        "BGP.large_community",
        "bgp_large_community",
        AttrType::Lclist,
        AttrClass::Bgp,
        OT,
    ),
    b(AttrId::BGP_OTC, "bgp_otc", "BGP.otc", "otc", AttrType::Int, AttrClass::Bgp, OT),
    b(
        AttrId::OSPF_METRIC1,
        "ospf_metric1",
        "OSPF.metric1",
        "ospf_metric1",
        AttrType::Int,
        AttrClass::Ospf,
        0,
    ),
    b(
        AttrId::OSPF_METRIC2,
        "ospf_metric2",
        "OSPF.metric2",
        "ospf_metric2",
        AttrType::Int,
        AttrClass::Ospf,
        0,
    ),
    Builtin {
        format: AttrFormat::Hex8,
        ..b(AttrId::OSPF_TAG, "ospf_tag", "OSPF.tag", "ospf_tag", AttrType::Int, AttrClass::Ospf, 0)
    },
    Builtin {
        readonly: true,
        ..b(
            AttrId::OSPF_ROUTER_ID,
            "ospf_router_id",
            "OSPF.router_id",
            "ospf_router_id",
            AttrType::Quad,
            AttrClass::Ospf,
            0,
        )
    },
    b(AttrId::RIP_METRIC, "rip_metric", "RIP.metric", "rip_metric", AttrType::Int, AttrClass::Rip, 0),
    Builtin {
        format: AttrFormat::Hex4,
        ..b(AttrId::RIP_TAG, "rip_tag", "RIP.tag", "rip_tag", AttrType::Int, AttrClass::Rip, 0)
    },
    b(AttrId::KRT_SOURCE, "krt_source", "Kernel.source", "krt_source", AttrType::Int, AttrClass::Kernel, 0),
    b(AttrId::KRT_METRIC, "krt_metric", "Kernel.metric", "krt_metric", AttrType::Int, AttrClass::Kernel, 0),
    b(
        AttrId::KRT_PREFSRC,
        "krt_prefsrc",
        "Kernel.prefsrc",
        "krt_prefsrc",
        AttrType::Ip,
        AttrClass::Kernel,
        0,
    ),
    b(AttrId::KRT_REALM, "krt_realm", "Kernel.realm", "krt_realm", AttrType::Int, AttrClass::Kernel, 0),
    b(AttrId::KRT_SCOPE, "krt_scope", "Kernel.scope", "krt_scope", AttrType::Int, AttrClass::Kernel, 0),
];

/// Route fields that filters read and write by name but that are not extended attributes: they are
/// plain fields of [`AttrSet`](super::AttrSet) or of the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteField {
    /// `net` (route, read-only).
    Net,
    /// `proto` (route, read-only).
    Proto,
    /// `preference` (route).
    Preference,
    /// `source` (attribute set, read-only).
    Source,
    /// `scope`.
    Scope,
    /// `dest`.
    Dest,
    /// `gw` (first next hop).
    Gw,
    /// `ifname` (first next hop).
    IfName,
    /// `ifindex` (first next hop, read-only).
    IfIndex,
    /// `weight` (first next hop).
    Weight,
    /// `onlink` (first next hop).
    Onlink,
    /// `igp_metric`.
    IgpMetric,
    /// `from`.
    From,
}

impl RouteField {
    const ALL: [(&'static str, RouteField); 13] = [
        ("net", RouteField::Net),
        ("proto", RouteField::Proto),
        ("preference", RouteField::Preference),
        ("source", RouteField::Source),
        ("scope", RouteField::Scope),
        ("dest", RouteField::Dest),
        ("gw", RouteField::Gw),
        ("ifname", RouteField::IfName),
        ("ifindex", RouteField::IfIndex),
        ("weight", RouteField::Weight),
        ("onlink", RouteField::Onlink),
        ("igp_metric", RouteField::IgpMetric),
        ("from", RouteField::From),
    ];

    /// The filter name.
    pub fn name(self) -> &'static str {
        RouteField::ALL.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }

    /// Whether filters may only read it.
    pub fn is_readonly(self) -> bool {
        matches!(self, RouteField::Net | RouteField::Proto | RouteField::Source | RouteField::IfIndex)
    }
}

/// What a filter name refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrRef {
    /// A plain route field.
    Field(RouteField),
    /// An extended attribute.
    Ext(Arc<AttrDef>),
}

/// Why a custom attribute could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The name belongs to a built-in attribute or route field.
    #[error("attribute {0} is built in")]
    BuiltIn(String),
    /// The name is registered with another type.
    #[error("attribute {name} already declared with another type ({existing:?})")]
    TypeConflict {
        /// The name.
        name: String,
        /// Its registered type.
        existing: AttrType,
    },
    /// The type cannot be a custom attribute.
    #[error("type {0:?} cannot be used for a custom attribute")]
    BadType(AttrType),
    /// No ids left.
    #[error("too many custom attributes")]
    Full,
}

struct Registry {
    builtins: Vec<Arc<AttrDef>>,
    unknown_bgp: Vec<Arc<AttrDef>>,
    custom: ArcSwap<Vec<Arc<AttrDef>>>,
}

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let builtins = BUILTINS
            .iter()
            .map(|d| {
                Arc::new(AttrDef {
                    id: d.id,
                    filter_name: d.filter.into(),
                    v2_name: d.v2.into(),
                    v3_name: d.v3.into(),
                    ty: d.ty,
                    class: d.class,
                    format: d.format,
                    bgp: d.id.bgp_code().map(|c| (c, d.flags)),
                    hidden_v2: d.class == AttrClass::Generic,
                    readonly: d.readonly,
                })
            })
            .collect();
        let unknown_bgp = (0..=255u8)
            .map(|code| {
                let name: Arc<str> = format!("bgp_unknown_0x{code:02x}").into();
                Arc::new(AttrDef {
                    id: AttrId::bgp(code),
                    filter_name: name.clone(),
                    v2_name: format!("BGP.{code:02x}").into(),
                    v3_name: name,
                    ty: AttrType::Bytes,
                    class: AttrClass::Bgp,
                    format: AttrFormat::Plain,
                    bgp: Some((code, OT)),
                    hidden_v2: false,
                    readonly: true,
                })
            })
            .collect();
        Registry { builtins, unknown_bgp, custom: ArcSwap::from_pointee(Vec::new()) }
    })
}

/// The definition of a built-in attribute (no allocation, no atomic).
fn builtin(id: AttrId) -> Option<&'static Arc<AttrDef>> {
    let r = registry();
    r.builtins.binary_search_by_key(&id, |d| d.id).ok().map(|i| &r.builtins[i])
}

/// The definition of `id`: built-in, unknown BGP (`bgp_unknown_0xNN`) or custom.
pub fn def(id: AttrId) -> Option<Arc<AttrDef>> {
    if let Some(d) = builtin(id) {
        return Some(d.clone());
    }
    if let Some(code) = id.bgp_code() {
        return Some(registry().unknown_bgp[usize::from(code)].clone());
    }
    if id.is_custom() {
        return registry().custom.load().get(usize::from(id.0 - CUSTOM_BASE)).cloned();
    }
    None
}

/// The declared type of `id`, if it is defined.
pub fn type_of(id: AttrId) -> Option<AttrType> {
    if let Some(d) = builtin(id) {
        return Some(d.ty);
    }
    def(id).map(|d| d.ty)
}

/// Whether `id` is a BGP code BIRD knows (has a built-in definition).
pub fn is_known_bgp(id: AttrId) -> bool {
    id.bgp_code().is_some() && builtin(id).is_some()
}

/// What a filter name means: a route field, a built-in or custom attribute, or `bgp_unknown_0xNN`.
pub fn lookup(name: &str) -> Option<AttrRef> {
    if let Some((_, f)) = RouteField::ALL.iter().find(|(n, _)| *n == name) {
        return Some(AttrRef::Field(*f));
    }
    lookup_attr(name).map(AttrRef::Ext)
}

/// The extended attribute a filter name refers to.
pub fn lookup_attr(name: &str) -> Option<Arc<AttrDef>> {
    let r = registry();
    if let Some(d) = r.builtins.iter().find(|d| &*d.filter_name == name) {
        return Some(d.clone());
    }
    if let Some(hex) = name.strip_prefix("bgp_unknown_0x") {
        if hex.len() == 2 {
            if let Ok(code) = u8::from_str_radix(hex, 16) {
                if !is_known_bgp(AttrId::bgp(code)) {
                    return Some(r.unknown_bgp[usize::from(code)].clone());
                }
            }
        }
        return None;
    }
    r.custom.load().iter().find(|d| &*d.filter_name == name).cloned()
}

/// Register a custom attribute (`attribute TYPE name;`). Idempotent for the same name and type.
pub fn register_custom(name: &str, ty: AttrType) -> Result<AttrId, RegistryError> {
    if matches!(ty, AttrType::BgpNextHop | AttrType::HostEntry | AttrType::Origin | AttrType::Aggregator) {
        return Err(RegistryError::BadType(ty));
    }
    let r = registry();
    if RouteField::ALL.iter().any(|(n, _)| *n == name)
        || r.builtins.iter().any(|d| &*d.filter_name == name)
        || name.starts_with("bgp_unknown_0x")
    {
        return Err(RegistryError::BuiltIn(name.to_string()));
    }
    let mut result = Err(RegistryError::Full);
    r.custom.rcu(|cur| {
        if let Some(d) = cur.iter().find(|d| &*d.filter_name == name) {
            result = if d.ty == ty {
                Ok(d.id)
            } else {
                Err(RegistryError::TypeConflict { name: name.to_string(), existing: d.ty })
            };
            return Arc::clone(cur);
        }
        let Some(id) = u16::try_from(cur.len()).ok().and_then(|n| n.checked_add(CUSTOM_BASE)) else {
            result = Err(RegistryError::Full);
            return Arc::clone(cur);
        };
        let n: Arc<str> = name.into();
        let mut next = Vec::with_capacity(cur.len() + 1);
        next.extend(cur.iter().cloned());
        next.push(Arc::new(AttrDef {
            id: AttrId(id),
            filter_name: n.clone(),
            v2_name: n.clone(),
            v3_name: n,
            ty,
            class: AttrClass::Custom,
            format: AttrFormat::Plain,
            bgp: None,
            hidden_v2: false,
            readonly: false,
        }));
        result = Ok(AttrId(id));
        Arc::new(next)
    });
    result
}

/// Every built-in definition, in id order.
pub fn builtins() -> impl Iterator<Item = Arc<AttrDef>> {
    registry().builtins.iter().cloned()
}

/// Every custom definition, in id order.
pub fn customs() -> Vec<Arc<AttrDef>> {
    registry().custom.load().iter().cloned().collect()
}
