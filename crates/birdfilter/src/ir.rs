//! The executable form: a tree of typed nodes with names resolved to frame slots, attribute ids
//! and function indices, and constants (sets, masks) prebuilt.
//!
//! Equality (`PartialEq`) is structural and ignores source lines and function indices (calls
//! compare by function name), so two compilations of the same source compare equal even when the
//! filter moved in the file.

use std::sync::Arc;

use birdtable::attrs::{AttrId, AttrType, AttrValue};

use crate::mask::MaskItem;
use crate::set::Set;
use crate::value::{EnumTy, Ty, Value};

/// A source line, ignored by equality.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Line(pub u32);

impl PartialEq for Line {
    fn eq(&self, _: &Line) -> bool {
        true
    }
}

/// A route field (not an extended attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Net,
    Proto,
    Preference,
    Source,
    Scope,
    Dest,
    Gw,
    Ifname,
    Ifindex,
    Weight,
    Onlink,
    IgpMetric,
    From,
}

impl Field {
    pub(crate) fn ty(self) -> Ty {
        match self {
            Field::Net => Ty::Prefix,
            Field::Proto | Field::Ifname => Ty::String,
            Field::Preference | Field::Ifindex | Field::Weight | Field::IgpMetric => Ty::Int,
            Field::Source => Ty::Enum(EnumTy::Rts),
            Field::Scope => Ty::Enum(EnumTy::Scope),
            Field::Dest => Ty::Enum(EnumTy::Rtd),
            Field::Gw | Field::From => Ty::Ip,
            Field::Onlink => Ty::Bool,
        }
    }
}

/// An extended attribute, resolved in the registry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ea {
    pub id: AttrId,
    pub aty: AttrType,
    pub name: Arc<str>,
    /// The flags a filter write gives it (the attribute's default BGP flags, 0 for others).
    pub flags: u8,
}

impl Ea {
    /// The filter type of the attribute; `None` for types filters cannot handle as values.
    pub(crate) fn ty(&self) -> Option<Ty> {
        Some(match self.aty {
            AttrType::Int => Ty::Int,
            AttrType::Quad => Ty::Quad,
            AttrType::Ip | AttrType::BgpNextHop => Ty::Ip,
            AttrType::Origin => Ty::Enum(EnumTy::BgpOrigin),
            AttrType::Pair => Ty::Pair,
            AttrType::Ec => Ty::Ec,
            AttrType::Lc => Ty::Lc,
            AttrType::Path => Ty::Path,
            AttrType::Clist | AttrType::QuadList => Ty::Clist,
            AttrType::Eclist => Ty::Eclist,
            AttrType::Lclist => Ty::Lclist,
            AttrType::Flag => Ty::Enum(EnumTy::Empty),
            AttrType::String => Ty::String,
            AttrType::Bool => Ty::Bool,
            AttrType::Aggregator | AttrType::Bytes | AttrType::HostEntry => return None,
        })
    }

    /// Whether the attribute holds a path or a list (read in place, empty when unset).
    pub(crate) fn is_list(&self) -> bool {
        matches!(
            self.aty,
            AttrType::Path | AttrType::Clist | AttrType::QuadList | AttrType::Eclist | AttrType::Lclist
        )
    }
}

/// A route attribute as a filter sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Attr {
    Field(Field),
    Ea(Ea),
}

impl Attr {
    pub(crate) fn ty(&self) -> Option<Ty> {
        match self {
            Attr::Field(f) => Some(f.ty()),
            Attr::Ea(e) => e.ty(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

impl Arith {
    pub(crate) fn inst(self) -> &'static str {
        match self {
            Arith::Add => "ADD",
            Arith::Sub => "SUBTRACT",
            Arith::Mul => "MULTIPLY",
            Arith::Div => "DIVIDE",
        }
    }
}

/// Comparisons; `>` and `>=` are compiled as `<` and `<=` with swapped operands, as BIRD does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
}

/// Read-only members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mem {
    Len,
    Ip,
    Type,
    First,
    Last,
    LastNonaggregated,
    Data,
    Data1,
    Data2,
    Asn,
    Min,
    Max,
}

/// List and path updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListOp {
    Add,
    Delete,
    Filter,
    Prepend,
    Empty,
}

/// A function reference: the index is for execution, the name for equality.
#[derive(Debug, Clone)]
pub(crate) struct FnRef {
    pub idx: usize,
    pub name: Arc<str>,
}

impl PartialEq for FnRef {
    fn eq(&self, other: &FnRef) -> bool {
        self.name == other.name
    }
}

/// One item of a path mask whose ASN is computed at run time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MaskTpl {
    Fixed(MaskItem),
    Expr(Ex, bool),
}

/// Expressions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ex {
    Const(Value),
    Var(usize),
    Attr(Attr),
    Not(Box<Ex>),
    And(Box<Ex>, Box<Ex>),
    Or(Box<Ex>, Box<Ex>),
    Arith(Arith, Box<Ex>, Box<Ex>),
    Cmp(Cmp, Box<Ex>, Box<Ex>),
    /// `a ~ b` (`true` = negated, `!~`).
    Match(bool, Box<Ex>, Box<Ex>),
    /// `x ~ attr` where attr is a path or list, read in place.
    InAttr(bool, Box<Ex>, Ea),
    /// `attr ~ x` where attr is a path or list, read in place.
    AttrIn(bool, Ea, Box<Ex>),
    Pair(Box<Ex>, Box<Ex>),
    Lc(Box<Ex>, Box<Ex>, Box<Ex>),
    Ec(u32, Box<Ex>, Box<Ex>),
    Mask(Vec<MaskTpl>),
    Member(Box<Ex>, Mem),
    /// `attr.member` for paths and lists, read in place.
    AttrMember(Ea, Mem),
    IpMask(Box<Ex>, Box<Ex>),
    List(ListOp, Box<Ex>, Option<Box<Ex>>),
    Defined(Box<Ex>),
    DefinedAttr(Ea),
    Format(Box<Ex>),
    Call(FnRef, Vec<Ex>),
    // ---- specialised forms of common shapes (same results as the general forms) ----
    /// `net.len`
    NetLen,
    /// `x <op> k` (`k_left`: `k <op> x`) with a constant int `k`.
    CmpInt {
        op: Cmp,
        x: Box<Ex>,
        k: u32,
        k_left: bool,
    },
    /// `net ~ <constant prefix set>` (`true` = negated); the set is always a prefix set.
    NetInSet(bool, Arc<Set>),
    /// `<constant> ~ attr` where attr is a path or list.
    ConstInAttr(bool, Value, Ea),
}

/// One label range of `case`, with the arm it selects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CaseLabel {
    pub from: Value,
    pub to: Value,
    pub arm: usize,
}

/// A statement with its source line (for run-time error messages).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct St {
    pub line: Line,
    pub kind: Sk,
}

/// Statement forms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sk {
    Block(Vec<St>),
    If(Ex, Box<St>, Option<Box<St>>),
    Case(Ex, Vec<CaseLabel>, Vec<Vec<St>>, Option<Vec<St>>),
    /// Loop variable slot and type (checked at run time against the elements when the iterable's
    /// type was not known at compile time), iterable, body.
    For(usize, Option<Ty>, Ex, Box<St>),
    InitVar(usize, Option<Ex>),
    SetVar(usize, Option<Ty>, Ex),
    SetAttr(Attr, Ex),
    /// An extended attribute set to a constant, converted at compile time, with its default flags.
    SetAttrConst(Ea, u8, AttrValue),
    UpdateVar(usize, Option<Ty>, Vec<(ListOp, Option<Ex>)>),
    UpdateAttr(Ea, Vec<(ListOp, Option<Ex>)>),
    Unset(Ea),
    Accept(Vec<Ex>),
    Reject(Vec<Ex>),
    Error(Vec<Ex>),
    Return(Option<Ex>),
    Print(Vec<Ex>, bool),
    Eval(Ex),
}

/// A compiled function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Func {
    pub name: Arc<str>,
    pub nparams: usize,
    pub param_tys: Vec<Option<Ty>>,
    pub nslots: usize,
    pub body: Vec<St>,
}
