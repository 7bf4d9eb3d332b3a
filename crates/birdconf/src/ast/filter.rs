//! The filter language as a tree: types, constant values, expressions,
//! statements, filters and functions. Parse-only: evaluation lives elsewhere.
//!
//! Names are resolved while parsing (BIRD's parser is one-pass too): a name
//! in an expression becomes a local variable, a folded `define` constant, an
//! enum constant or a route attribute, so later stages never see raw names.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use birdnet::{Net, PrefixPattern};

use crate::error::Loc;

/// Filter value types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `int`
    Int,
    /// `bool`
    Bool,
    /// `ip`
    Ip,
    /// `prefix`
    Prefix,
    /// `pair`
    Pair,
    /// `quad`
    Quad,
    /// `ec`
    Ec,
    /// `lc`
    Lc,
    /// `string`
    String,
    /// `bgpmask`
    BgpMask,
    /// `bgppath`
    BgpPath,
    /// `clist`
    Clist,
    /// `eclist`
    Eclist,
    /// `lclist`
    Lclist,
    /// `rd`
    Rd,
    /// `bytestring`
    Bytestring,
    /// `enum` (any enum kind)
    Enum,
    /// `void` (attributes without a value, e.g. `bgp_atomic_aggr`)
    Void,
    /// `<type> set`
    Set(Box<Type>),
}

impl Type {
    /// BIRD's spelling of the type.
    pub fn name(&self) -> String {
        match self {
            Type::Int => "int".into(),
            Type::Bool => "bool".into(),
            Type::Ip => "ip".into(),
            Type::Prefix => "prefix".into(),
            Type::Pair => "pair".into(),
            Type::Quad => "quad".into(),
            Type::Ec => "ec".into(),
            Type::Lc => "lc".into(),
            Type::String => "string".into(),
            Type::BgpMask => "bgpmask".into(),
            Type::BgpPath => "bgppath".into(),
            Type::Clist => "clist".into(),
            Type::Eclist => "eclist".into(),
            Type::Lclist => "lclist".into(),
            Type::Rd => "rd".into(),
            Type::Bytestring => "bytestring".into(),
            Type::Enum => "enum".into(),
            Type::Void => "void".into(),
            Type::Set(t) => format!("{} set", t.name()),
        }
    }
}

/// The kinds of built-in enum constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnumKind {
    /// `RTS_*`: route source.
    Source,
    /// `RTD_*`: route destination.
    Dest,
    /// `NET_*`: network type.
    NetType,
    /// `ORIGIN_*`: BGP origin.
    Origin,
    /// `SCOPE_*`: address scope (BIRD 2).
    Scope,
    /// `ROA_*`: ROA check result.
    Roa,
}

/// A built-in enum constant, identified by its name (`RTS_BGP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnumConst {
    /// Which enum.
    pub kind: EnumKind,
    /// The constant's name as written.
    pub name: &'static str,
}

const ENUMS: &[(&str, EnumKind)] = &[
    ("RTS_DUMMY", EnumKind::Source),
    ("RTS_STATIC", EnumKind::Source),
    ("RTS_INHERIT", EnumKind::Source),
    ("RTS_DEVICE", EnumKind::Source),
    ("RTS_STATIC_DEVICE", EnumKind::Source),
    ("RTS_REDIRECT", EnumKind::Source),
    ("RTS_RIP", EnumKind::Source),
    ("RTS_OSPF", EnumKind::Source),
    ("RTS_OSPF_IA", EnumKind::Source),
    ("RTS_OSPF_EXT1", EnumKind::Source),
    ("RTS_OSPF_EXT2", EnumKind::Source),
    ("RTS_BGP", EnumKind::Source),
    ("RTS_PIPE", EnumKind::Source),
    ("RTS_BABEL", EnumKind::Source),
    ("RTS_RPKI", EnumKind::Source),
    ("RTS_PERF", EnumKind::Source),
    ("RTS_L3VPN", EnumKind::Source),
    ("RTS_AGGREGATED", EnumKind::Source),
    ("RTD_UNICAST", EnumKind::Dest),
    ("RTD_BLACKHOLE", EnumKind::Dest),
    ("RTD_UNREACHABLE", EnumKind::Dest),
    ("RTD_PROHIBIT", EnumKind::Dest),
    ("NET_IP4", EnumKind::NetType),
    ("NET_IP6", EnumKind::NetType),
    ("NET_VPN4", EnumKind::NetType),
    ("NET_VPN6", EnumKind::NetType),
    ("NET_ROA4", EnumKind::NetType),
    ("NET_ROA6", EnumKind::NetType),
    ("NET_FLOW4", EnumKind::NetType),
    ("NET_FLOW6", EnumKind::NetType),
    ("NET_IP6_SADR", EnumKind::NetType),
    ("NET_MPLS", EnumKind::NetType),
    ("NET_ASPA", EnumKind::NetType),
    ("ORIGIN_IGP", EnumKind::Origin),
    ("ORIGIN_EGP", EnumKind::Origin),
    ("ORIGIN_INCOMPLETE", EnumKind::Origin),
    ("SCOPE_HOST", EnumKind::Scope),
    ("SCOPE_LINK", EnumKind::Scope),
    ("SCOPE_SITE", EnumKind::Scope),
    ("SCOPE_ORGANIZATION", EnumKind::Scope),
    ("SCOPE_UNIVERSE", EnumKind::Scope),
    ("SCOPE_UNDEFINED", EnumKind::Scope),
    ("ROA_UNKNOWN", EnumKind::Roa),
    ("ROA_VALID", EnumKind::Roa),
    ("ROA_INVALID", EnumKind::Roa),
];

impl EnumConst {
    /// Looks up a built-in constant by name.
    pub fn lookup(name: &str) -> Option<EnumConst> {
        ENUMS.iter().find(|(n, _)| *n == name).map(|&(name, kind)| EnumConst { kind, name })
    }
}

/// Extended community kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcKind {
    /// `rt` (route target)
    Rt,
    /// `ro` (route origin)
    Ro,
    /// `generic`
    Generic,
    /// `unknown N`
    Unknown(u32),
}

/// An extended community constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ec {
    /// Kind.
    pub kind: EcKind,
    /// Global administrator: an ASN or (as its 32-bit value) an IPv4 address.
    pub key: u32,
    /// Whether `key` was written as an IPv4 address.
    pub key_is_ip: bool,
    /// Local administrator.
    pub value: u32,
}

/// A compile-time constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `true` / `false`
    Bool(bool),
    /// A 32-bit unsigned integer.
    Int(u32),
    /// `(a, b)`
    Pair(u32, u32),
    /// An IP address (an IPv4 literal is also usable as a quad).
    Ip(IpAddr),
    /// A prefix.
    Prefix(Net),
    /// A string.
    String(String),
    /// An extended community.
    Ec(Ec),
    /// `(a, b, c)`
    Lc(u32, u32, u32),
    /// An enum constant.
    Enum(EnumConst),
    /// A set literal.
    Set(Arc<SetValue>),
    /// `+empty+`
    EmptyPath,
    /// `-empty-`
    EmptyClist,
    /// `--empty--`
    EmptyEclist,
    /// `---empty---`
    EmptyLclist,
}

impl Value {
    /// The value's type.
    pub fn type_of(&self) -> Type {
        match self {
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Pair(..) => Type::Pair,
            Value::Ip(_) => Type::Ip,
            Value::Prefix(_) => Type::Prefix,
            Value::String(_) => Type::String,
            Value::Ec(_) => Type::Ec,
            Value::Lc(..) => Type::Lc,
            Value::Enum(_) => Type::Enum,
            Value::Set(s) => Type::Set(Box::new(s.elem_type.clone())),
            Value::EmptyPath => Type::BgpPath,
            Value::EmptyClist => Type::Clist,
            Value::EmptyEclist => Type::Eclist,
            Value::EmptyLclist => Type::Lclist,
        }
    }

    /// The value as an IPv4 quad, if it is an IPv4 address.
    pub fn as_quad(&self) -> Option<Ipv4Addr> {
        match self {
            Value::Ip(IpAddr::V4(a)) => Some(*a),
            _ => None,
        }
    }
}

/// An inclusive range of one component of a pair/ec/lc set pattern; `*` is the full range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompRange {
    /// Lowest value.
    pub lo: u32,
    /// Highest value.
    pub hi: u32,
}

/// One element of a set literal.
#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// A single value.
    Value(Value),
    /// `a .. b` of scalar values (ints, IPs, pairs, ...).
    Range(Value, Value),
    /// A prefix with an optional length pattern (`p`, `p+`, `p-`, `p{a,b}`).
    Prefix(PrefixPattern),
    /// `(a, b)` with component ranges or wildcards.
    Pair(CompRange, CompRange),
    /// `(kind, key, value)` with ranges on key and value; the key is an ASN.
    Ec(EcKind, CompRange, CompRange),
    /// `(kind, key, value)` with ranges on key and value; the key is an IPv4 address (as its
    /// 32-bit value), written as one (`(ro, 192.0.2.1, *)`).
    EcIp(EcKind, CompRange, CompRange),
    /// `(a, b, c)` with component ranges or wildcards.
    Lc(CompRange, CompRange, CompRange),
}

/// A constant set.
#[derive(Debug, Clone, PartialEq)]
pub struct SetValue {
    /// Element type (`int`, `prefix`, `pair`, ...).
    pub elem_type: Type,
    /// Items in source order.
    pub items: Vec<SetItem>,
}

/// Route attributes usable in filters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Attr {
    Net,
    Preference,
    From,
    Gw,
    Proto,
    Source,
    Scope,
    Dest,
    Ifname,
    Ifindex,
    Weight,
    IgpMetric,
    Onlink,
    GwMpls,
    BgpPath,
    BgpLocalPref,
    BgpMed,
    BgpOrigin,
    BgpNextHop,
    BgpCommunity,
    BgpExtCommunity,
    BgpLargeCommunity,
    BgpAtomicAggr,
    BgpAggregator,
    BgpOriginatorId,
    BgpClusterList,
    BgpOtc,
    KrtPrefsrc,
    KrtMetric,
    KrtSource,
    KrtRealm,
    KrtScope,
    KrtMtu,
    KrtWindow,
    KrtRtt,
    KrtRttvar,
    KrtAdvmss,
    KrtReordering,
    KrtHoplimit,
    KrtInitcwnd,
    KrtRtoMin,
    KrtInitrwnd,
    KrtQuickack,
    /// A custom attribute declared with `attribute <type> <name>;`.
    Custom {
        name: String,
        ty: Type,
    },
}

const PROTO_ATTRS: &[(&str, Attr, Type)] = &[
    ("bgp_path", Attr::BgpPath, Type::BgpPath),
    ("bgp_local_pref", Attr::BgpLocalPref, Type::Int),
    ("bgp_med", Attr::BgpMed, Type::Int),
    ("bgp_origin", Attr::BgpOrigin, Type::Enum),
    ("bgp_next_hop", Attr::BgpNextHop, Type::Ip),
    ("bgp_community", Attr::BgpCommunity, Type::Clist),
    ("bgp_ext_community", Attr::BgpExtCommunity, Type::Eclist),
    ("bgp_large_community", Attr::BgpLargeCommunity, Type::Lclist),
    ("bgp_atomic_aggr", Attr::BgpAtomicAggr, Type::Void),
    ("bgp_aggregator", Attr::BgpAggregator, Type::Void),
    ("bgp_originator_id", Attr::BgpOriginatorId, Type::Quad),
    ("bgp_cluster_list", Attr::BgpClusterList, Type::Clist),
    ("bgp_otc", Attr::BgpOtc, Type::Int),
    ("krt_prefsrc", Attr::KrtPrefsrc, Type::Ip),
    ("krt_metric", Attr::KrtMetric, Type::Int),
    ("krt_source", Attr::KrtSource, Type::Int),
    ("krt_realm", Attr::KrtRealm, Type::Int),
    ("krt_scope", Attr::KrtScope, Type::Int),
    ("krt_mtu", Attr::KrtMtu, Type::Int),
    ("krt_window", Attr::KrtWindow, Type::Int),
    ("krt_rtt", Attr::KrtRtt, Type::Int),
    ("krt_rttvar", Attr::KrtRttvar, Type::Int),
    ("krt_advmss", Attr::KrtAdvmss, Type::Int),
    ("krt_reordering", Attr::KrtReordering, Type::Int),
    ("krt_hoplimit", Attr::KrtHoplimit, Type::Int),
    ("krt_initcwnd", Attr::KrtInitcwnd, Type::Int),
    ("krt_rto_min", Attr::KrtRtoMin, Type::Int),
    ("krt_initrwnd", Attr::KrtInitrwnd, Type::Int),
    ("krt_quickack", Attr::KrtQuickack, Type::Int),
];

impl Attr {
    /// A protocol-defined attribute (`bgp_*`, `krt_*`) by name.
    pub fn protocol_attr(name: &str) -> Option<Attr> {
        PROTO_ATTRS.iter().find(|(n, _, _)| *n == name).map(|(_, a, _)| a.clone())
    }

    /// A static attribute (a keyword in BIRD's grammar) by name.
    pub fn static_attr(name: &str) -> Option<Attr> {
        Some(match name {
            "net" => Attr::Net,
            "preference" => Attr::Preference,
            "from" => Attr::From,
            "gw" => Attr::Gw,
            "proto" => Attr::Proto,
            "source" => Attr::Source,
            "scope" => Attr::Scope,
            "dest" => Attr::Dest,
            "ifname" => Attr::Ifname,
            "ifindex" => Attr::Ifindex,
            "weight" => Attr::Weight,
            "igp_metric" => Attr::IgpMetric,
            "onlink" => Attr::Onlink,
            "gw_mpls" => Attr::GwMpls,
            _ => return None,
        })
    }

    /// The attribute's name as written in filters.
    pub fn name(&self) -> &str {
        match self {
            Attr::Net => "net",
            Attr::Preference => "preference",
            Attr::From => "from",
            Attr::Gw => "gw",
            Attr::Proto => "proto",
            Attr::Source => "source",
            Attr::Scope => "scope",
            Attr::Dest => "dest",
            Attr::Ifname => "ifname",
            Attr::Ifindex => "ifindex",
            Attr::Weight => "weight",
            Attr::IgpMetric => "igp_metric",
            Attr::Onlink => "onlink",
            Attr::GwMpls => "gw_mpls",
            Attr::Custom { name, .. } => name,
            other => PROTO_ATTRS.iter().find(|(_, a, _)| a == other).map_or("?", |(n, _, _)| n),
        }
    }

    /// The attribute's value type.
    pub fn ty(&self) -> Type {
        match self {
            Attr::Net => Type::Prefix,
            Attr::Preference | Attr::Ifindex | Attr::Weight | Attr::IgpMetric | Attr::GwMpls => Type::Int,
            Attr::From | Attr::Gw => Type::Ip,
            Attr::Proto | Attr::Ifname => Type::String,
            Attr::Source | Attr::Scope | Attr::Dest => Type::Enum,
            Attr::Onlink => Type::Bool,
            Attr::Custom { ty, .. } => ty.clone(),
            other => {
                PROTO_ATTRS.iter().find(|(_, a, _)| a == other).map_or(Type::Void, |(_, _, t)| t.clone())
            }
        }
    }

    /// Whether filters may not assign the attribute.
    pub fn is_read_only(&self) -> bool {
        matches!(self, Attr::Net | Attr::Proto | Attr::Source | Attr::Ifindex)
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BinOp {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Match,
    NotMatch,
    Add,
    Sub,
    Mul,
    Div,
    /// `++` string concatenation (BIRD 3).
    Concat,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::Match => "~",
            BinOp::NotMatch => "!~",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Concat => "++",
        }
    }
}

/// Read-only members (`x.len`) and methods (`x.add(y)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Member {
    Len,
    Ip,
    Type,
    Maxlen,
    Rd,
    Asn,
    Src,
    Dst,
    First,
    Last,
    LastNonaggregated,
    Data,
    Data1,
    Data2,
    Min,
    Max,
    Empty,
    /// `.mask(len)`
    Mask,
    /// `.add(x)` on lists
    Add,
    /// `.delete(x)` on lists and paths
    Delete,
    /// `.filter(set)` on lists
    Filter,
    /// `.prepend(asn)` on paths
    Prepend,
}

impl Member {
    /// Resolves a member name; the flag says whether it takes arguments.
    pub fn lookup(name: &str) -> Option<(Member, bool)> {
        Some(match name {
            "len" => (Member::Len, false),
            "ip" => (Member::Ip, false),
            "type" => (Member::Type, false),
            "maxlen" => (Member::Maxlen, false),
            "rd" => (Member::Rd, false),
            "asn" => (Member::Asn, false),
            "src" => (Member::Src, false),
            "dst" => (Member::Dst, false),
            "first" => (Member::First, false),
            "last" => (Member::Last, false),
            "last_nonaggregated" => (Member::LastNonaggregated, false),
            "data" => (Member::Data, false),
            "data1" => (Member::Data1, false),
            "data2" => (Member::Data2, false),
            "min" => (Member::Min, false),
            "max" => (Member::Max, false),
            "empty" => (Member::Empty, false),
            "mask" => (Member::Mask, true),
            "add" => (Member::Add, true),
            "delete" => (Member::Delete, true),
            "filter" => (Member::Filter, true),
            "prepend" => (Member::Prepend, true),
            _ => return None,
        })
    }

    /// Whether the member modifies a list or path (usable as a statement).
    pub fn is_update(self) -> bool {
        matches!(self, Member::Add | Member::Delete | Member::Filter | Member::Prepend | Member::Empty)
    }
}

/// Built-in functions with call syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Builtin {
    Defined,
    Add,
    Delete,
    Filter,
    Prepend,
    Format,
}

/// One element of a BGP path mask `[= ... =]`.
#[derive(Debug, Clone, PartialEq)]
pub enum MaskItem {
    /// `*`: any sequence.
    Any,
    /// `?`: exactly one ASN.
    One,
    /// `+`: the previous item repeated.
    Repeat,
    /// An ASN.
    Asn(u32),
    /// `a..b`: one ASN in the range.
    Range(u32, u32),
    /// An ASN set (literal or constant).
    Set(Arc<SetValue>),
    /// A run-time expression giving an ASN.
    Expr(Expr),
}

/// An expression with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it starts.
    pub loc: Loc,
}

/// The identity of a local variable (parameter, old-style local, `type name;` declaration or
/// `for type name in` loop variable).
///
/// Ids are dense per body: within one filter, function, inline filter or static-route block,
/// parameters get `0..p` in order, old-style locals the next ids in order, then every declaration
/// of the body the next id in source order. Two variables of one body never share an id, even
/// with the same name in different scopes; every use carries the id of the declaration it
/// resolves to, so later stages need no scoping rules and may use the id as a frame slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

impl VarId {
    /// The id as an index (a frame slot).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The variable of a `for` loop.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopVar {
    /// Its name.
    pub name: String,
    /// Its type (declared, or the outer variable's).
    pub ty: Type,
    /// The variable's identity.
    pub id: VarId,
    /// `true` for `for type name in ...` (a new variable, scoped to the loop); `false` for
    /// `for name in ...`, which reuses a variable declared outside: BIRD then writes that variable
    /// on every iteration, and it reads as void after the loop has run to its end.
    pub declared: bool,
}

/// Expression forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A constant (literal, folded `define`, enum constant, set).
    Const(Value),
    /// A local variable or function parameter, with the id of its declaration.
    Var(String, VarId),
    /// A route attribute.
    Attr(Attr),
    /// `(a, b)` with run-time components.
    Pair(Box<Expr>, Box<Expr>),
    /// `(a, b, c)` with run-time components.
    Lc(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `(kind, key, value)` with run-time components.
    Ec(EcKind, Box<Expr>, Box<Expr>),
    /// `[= ... =]`
    PathMask(Vec<MaskItem>),
    /// `!e`
    Not(Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `e.member` or `e.method(args)`
    Member(Box<Expr>, Member, Vec<Expr>),
    /// A call of a user function.
    Call(String, Vec<Expr>),
    /// A call of a built-in function.
    Builtin(Builtin, Vec<Expr>),
}

/// The target of an assignment or list update.
#[derive(Debug, Clone, PartialEq)]
pub enum LValue {
    /// A local variable, with the id of its declaration.
    Var(String, VarId),
    /// A route attribute.
    Attr(Attr),
}

/// A statement with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    /// What it is.
    pub kind: StmtKind,
    /// Where it starts.
    pub loc: Loc,
}

/// One arm of `case`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseArm {
    /// Labels (constants and ranges).
    pub labels: Vec<SetItem>,
    /// Statements run when a label matches.
    pub body: Vec<Stmt>,
}

/// Statement forms.
#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `{ ... }`
    Block(Vec<Stmt>),
    /// `if c then s [else s]`
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    /// `case e { ... }`
    Case(Expr, Vec<CaseArm>, Option<Vec<Stmt>>),
    /// `for [type] v in e do s`
    For(LoopVar, Expr, Box<Stmt>),
    /// `type name [= init];` inside a body, with the new variable's id.
    VarDecl(String, Type, Option<Expr>, VarId),
    /// `target = value;`
    Assign(LValue, Expr),
    /// `target.method(args)...;` (in-place list/path updates)
    Update(LValue, Vec<(Member, Vec<Expr>)>),
    /// `unset(attr);`
    Unset(Attr),
    /// `accept [reason];`
    Accept(Vec<Expr>),
    /// `reject [reason];`
    Reject(Vec<Expr>),
    /// `error [expr, ...];`: the values are printed (concatenated) as the error message.
    Error(Vec<Expr>),
    /// `return [expr];`
    Return(Option<Expr>),
    /// `print ...;` (`newline` false for `printn`)
    Print(Vec<Expr>, bool),
    /// A function call used as a statement.
    Call(Expr),
}

/// A named filter, or an inline one (`filter { ... }`, `where EXPR`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The name; `None` for inline filters (shown as `(unnamed)`).
    pub name: Option<String>,
    /// Old-style local variables declared before the body (ids `0..locals.len()`, see [`VarId`]).
    pub locals: Vec<(String, Type)>,
    /// The body.
    pub body: Vec<Stmt>,
    /// Where it is defined.
    pub loc: Loc,
}

/// A function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The name.
    pub name: String,
    /// Parameters (ids `0..params.len()`, see [`VarId`]).
    pub params: Vec<(String, Type)>,
    /// Declared return type (`-> type`, BIRD 3).
    pub return_type: Option<Type>,
    /// Old-style local variables (the ids following the parameters').
    pub locals: Vec<(String, Type)>,
    /// The body.
    pub body: Vec<Stmt>,
    /// Where it is defined.
    pub loc: Loc,
}
