//! Filter-language pairs to [`Expr`] and [`Stmt`], with name resolution.

use std::collections::HashMap;
use std::sync::Arc;

use super::consts::{fold_binary, fold_member};
use super::{name_text, string_text, Ctx, Pair, Res, Sym};
use crate::ast::{
    Attr, BinOp, Builtin, CaseArm, EnumConst, Expr, ExprKind, Filter, Function, LValue, LoopVar, MaskItem,
    Member, Stmt, StmtKind, Type, Value, VarId,
};
use crate::grammar::Rule;

fn children<'i>(p: &Pair<'i>) -> Vec<Pair<'i>> {
    p.clone().into_inner().collect()
}

impl Ctx<'_> {
    fn mk(&self, p: &Pair<'_>, kind: ExprKind) -> Expr {
        Expr { kind, loc: self.loc(p) }
    }

    /// A type name (`int`, `prefix set`, ...).
    pub(crate) fn type_name(&self, p: &Pair<'_>) -> Res<Type> {
        let mut it = p.clone().into_inner();
        let Some(base) = it.next() else { return self.err(p, "Type expected") };
        let kw = base.clone().into_inner().next().map(|k| k.as_rule());
        let t = match kw {
            Some(Rule::kw_int) => Type::Int,
            Some(Rule::kw_bool) => Type::Bool,
            Some(Rule::kw_ip) => Type::Ip,
            Some(Rule::kw_prefix) => Type::Prefix,
            Some(Rule::kw_pair) => Type::Pair,
            Some(Rule::kw_quad) => Type::Quad,
            Some(Rule::kw_ec) => Type::Ec,
            Some(Rule::kw_lc) => Type::Lc,
            Some(Rule::kw_string) => Type::String,
            Some(Rule::kw_bgpmask) => Type::BgpMask,
            Some(Rule::kw_bgppath) => Type::BgpPath,
            Some(Rule::kw_clist) => Type::Clist,
            Some(Rule::kw_eclist) => Type::Eclist,
            Some(Rule::kw_lclist) => Type::Lclist,
            Some(Rule::kw_rd) => Type::Rd,
            Some(Rule::kw_bytestring) => Type::Bytestring,
            _ => Type::Enum,
        };
        Ok(if it.next().is_some() { Type::Set(Box::new(t)) } else { t })
    }

    /// An expression (any of the precedence-level rules, or a primary).
    pub(crate) fn expr(&mut self, p: Pair<'_>) -> Res<Expr> {
        // Levels with a single child (`( x )`, a precedence level with no
        // operator) are stepped over in a loop, not by recursion: a nesting
        // level then costs two stack frames here, not ten.
        let mut p = p;
        while let Rule::expr
        | Rule::paren
        | Rule::tuple
        | Rule::logic
        | Rule::compare
        | Rule::additive
        | Rule::multiplicative
        | Rule::unary
        | Rule::postfix = p.as_rule()
        {
            let mut it = p.clone().into_inner();
            match (it.next(), it.next()) {
                (Some(only), None) if only.as_rule() != Rule::ec_kind => p = only,
                _ => break,
            }
        }
        self.expr_node(p)
    }

    fn expr_node(&mut self, p: Pair<'_>) -> Res<Expr> {
        match p.as_rule() {
            Rule::expr | Rule::paren => {
                let Some(inner) = p.clone().into_inner().next() else {
                    return self.err(&p, "Expression expected");
                };
                self.expr(inner)
            }
            Rule::logic | Rule::additive | Rule::multiplicative => self.binary_chain(&p),
            Rule::compare => self.binary_chain(&p),
            Rule::unary => {
                let kids = children(&p);
                let Some((last, nots)) = kids.split_last() else {
                    return self.err(&p, "Expression expected");
                };
                let mut e = self.expr(last.clone())?;
                for n in nots.iter().rev() {
                    e = match e.kind {
                        ExprKind::Const(Value::Bool(b)) => self.mk(n, ExprKind::Const(Value::Bool(!b))),
                        kind => {
                            let inner = Expr { kind, loc: e.loc };
                            self.mk(n, ExprKind::Not(Box::new(inner)))
                        }
                    };
                }
                Ok(e)
            }
            Rule::postfix => {
                let mut it = p.clone().into_inner();
                let Some(prim) = it.next() else { return self.err(&p, "Expression expected") };
                let mut e = self.expr(prim)?;
                for m in it {
                    let (member, args) = self.member(&m)?;
                    if args.is_empty() {
                        if let ExprKind::Const(v) = &e.kind {
                            if let Some(f) = fold_member(v, member) {
                                e = Expr { kind: ExprKind::Const(f), loc: e.loc };
                                continue;
                            }
                        }
                    }
                    let loc = e.loc.clone();
                    e = Expr { kind: ExprKind::Member(Box::new(e), member, args), loc };
                }
                Ok(e)
            }
            Rule::tuple => self.tuple(&p),
            Rule::empty_lit => {
                let v = match p.as_str() {
                    "+empty+" => Value::EmptyPath,
                    "-empty-" => Value::EmptyClist,
                    "--empty--" => Value::EmptyEclist,
                    _ => Value::EmptyLclist,
                };
                Ok(self.mk(&p, ExprKind::Const(v)))
            }
            Rule::string => Ok(self.mk(&p, ExprKind::Const(Value::String(string_text(&p))))),
            Rule::prefix4 | Rule::prefix6 => {
                let n = self.prefix_lit(&p)?;
                Ok(self.mk(&p, ExprKind::Const(Value::Prefix(n))))
            }
            Rule::ip4 | Rule::ip6 => {
                let a = self.ip_lit(&p)?;
                Ok(self.mk(&p, ExprKind::Const(Value::Ip(a))))
            }
            Rule::num => {
                let n = self.num(&p)?;
                Ok(self.mk(&p, ExprKind::Const(Value::Int(n))))
            }
            Rule::bool_lit => Ok(self.mk(&p, ExprKind::Const(Value::Bool(p.as_str() == "true")))),
            Rule::set_lit => {
                let v = self.set_value(&p)?;
                Ok(self.mk(&p, ExprKind::Const(v)))
            }
            Rule::mask_lit => self.mask(&p),
            Rule::static_attr => {
                let a = Attr::static_attr(p.as_str()).unwrap_or(Attr::Net);
                Ok(self.mk(&p, ExprKind::Attr(a)))
            }
            Rule::builtin_call => self.builtin_call(&p),
            Rule::func_call => self.func_call(&p),
            Rule::name => {
                let k = self.resolve_name(&p)?;
                Ok(self.mk(&p, k))
            }
            _ => {
                self.err(&p, format!("syntax error, unexpected '{}'", super::syntax::token_at(p.as_str(), 0)))
            }
        }
    }

    fn binary_chain(&mut self, p: &Pair<'_>) -> Res<Expr> {
        let mut it = p.clone().into_inner();
        let Some(first) = it.next() else { return self.err(p, "Expression expected") };
        let mut e = self.expr(first)?;
        while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
            let op = match op.as_str() {
                "&&" => BinOp::And,
                "||" => BinOp::Or,
                "=" => BinOp::Eq,
                "!=" => BinOp::Ne,
                "<" => BinOp::Lt,
                ">" => BinOp::Gt,
                "<=" => BinOp::Le,
                ">=" => BinOp::Ge,
                "~" => BinOp::Match,
                "!~" => BinOp::NotMatch,
                "+" => BinOp::Add,
                "-" => BinOp::Sub,
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                _ => BinOp::Concat,
            };
            let r = self.expr(rhs)?;
            let loc = e.loc.clone();
            if let (ExprKind::Const(a), ExprKind::Const(b)) = (&e.kind, &r.kind) {
                if let Some(v) = fold_binary(op, a, b) {
                    e = Expr { kind: ExprKind::Const(v), loc };
                    continue;
                }
            }
            e = Expr { kind: ExprKind::Binary(op, Box::new(e), Box::new(r)), loc };
        }
        Ok(e)
    }

    /// `( expr )` (one part) or a pair, large community or extended community tuple.
    fn tuple(&mut self, p: &Pair<'_>) -> Res<Expr> {
        let kids = children(p);
        if kids.len() == 1 {
            return self.expr(kids[0].clone());
        }
        if kids.len() < 2 {
            return self.err(p, "Expression expected");
        }
        let kind = if kids.first().map(|k| k.as_rule()) == Some(Rule::ec_kind) {
            let k = self.ec_kind(&kids[0])?;
            let a = self.expr(kids[1].clone())?;
            let b = self.expr(kids[2].clone())?;
            ExprKind::Ec(k, Box::new(a), Box::new(b))
        } else if kids.len() == 2 {
            let a = self.expr(kids[0].clone())?;
            let b = self.expr(kids[1].clone())?;
            ExprKind::Pair(Box::new(a), Box::new(b))
        } else {
            let a = self.expr(kids[0].clone())?;
            let b = self.expr(kids[1].clone())?;
            let c = self.expr(kids[2].clone())?;
            ExprKind::Lc(Box::new(a), Box::new(b), Box::new(c))
        };
        Ok(match self.fold_tuple(p, &kind)? {
            Some(v) => self.mk(p, ExprKind::Const(v)),
            None => self.mk(p, kind),
        })
    }

    fn mask(&mut self, p: &Pair<'_>) -> Res<Expr> {
        let mut items = Vec::new();
        for item in p.clone().into_inner() {
            let Some(inner) = item.clone().into_inner().next() else { continue };
            items.push(match inner.as_rule() {
                Rule::mask_any => MaskItem::Any,
                Rule::mask_one => MaskItem::One,
                Rule::mask_repeat => MaskItem::Repeat,
                Rule::mask_range => {
                    let nums: Vec<Pair<'_>> = inner.clone().into_inner().collect();
                    let lo = self.num(&nums[0])?;
                    match nums.get(1) {
                        Some(h) => MaskItem::Range(lo, self.num(h)?),
                        None => MaskItem::Asn(lo),
                    }
                }
                Rule::set_lit => MaskItem::Set(Arc::new(self.set_lit(&inner)?)),
                _ => {
                    let e = self.expr(inner)?;
                    match e.kind {
                        ExprKind::Const(Value::Int(v)) => MaskItem::Asn(v),
                        ExprKind::Const(Value::Set(s)) => MaskItem::Set(s),
                        _ => MaskItem::Expr(e),
                    }
                }
            });
        }
        Ok(self.mk(p, ExprKind::PathMask(items)))
    }

    fn call_args(&mut self, p: Option<&Pair<'_>>) -> Res<Vec<Expr>> {
        let mut out = Vec::new();
        if let Some(p) = p {
            for a in p.clone().into_inner() {
                out.push(self.expr(a)?);
            }
        }
        Ok(out)
    }

    fn member(&mut self, m: &Pair<'_>) -> Res<(Member, Vec<Expr>)> {
        let kids = children(m);
        let name = &kids[0];
        let Some((member, takes_args)) = Member::lookup(name.as_str()) else {
            return self.err(name, format!("syntax error, unexpected '{}'", name.as_str()));
        };
        let args = self.call_args(kids.get(1))?;
        if takes_args != (kids.len() > 1) {
            let at = kids.get(1).unwrap_or(name);
            return self
                .err(at, format!("syntax error, unexpected '{}'", super::syntax::token_at(at.as_str(), 0)));
        }
        Ok((member, args))
    }

    fn builtin_call(&mut self, p: &Pair<'_>) -> Res<Expr> {
        let kids = children(p);
        let name = &kids[0];
        let b = match name.as_str() {
            "defined" => Builtin::Defined,
            "add" => Builtin::Add,
            "delete" => Builtin::Delete,
            "filter" => Builtin::Filter,
            "prepend" => Builtin::Prepend,
            "format" => Builtin::Format,
            other => return self.err(name, format!("birdd does not support {other}()")),
        };
        let args = self.call_args(kids.get(1))?;
        let want = match b {
            Builtin::Defined | Builtin::Format => 1,
            _ => 2,
        };
        if args.len() != want {
            return self
                .err(name, format!("{}() takes {want} argument(s), got {}", name.as_str(), args.len()));
        }
        Ok(self.mk(p, ExprKind::Builtin(b, args)))
    }

    fn func_call(&mut self, p: &Pair<'_>) -> Res<Expr> {
        let kids = children(p);
        let name = &kids[0];
        let (n, sym) = self.lookup(name, "function")?;
        let Sym::Function(arity) = sym else {
            return self.err(name, "You can't call something which is not a function. Really.");
        };
        let args = self.call_args(kids.get(1))?;
        if args.len() != arity {
            return self.err(
                name,
                format!("Function call '{n}' got {} arguments, needs {arity} arguments", args.len()),
            );
        }
        Ok(self.mk(p, ExprKind::Call(n, args)))
    }

    fn local_var(&self, name: &str) -> Option<&(Type, VarId)> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// Opens the outermost scope of a body (filter, function, static-route block): variable ids
    /// start again at 0.
    pub(crate) fn open_body(&mut self) {
        self.scopes.push(HashMap::new());
        self.next_var = 0;
    }

    fn resolve_name(&self, p: &Pair<'_>) -> Res<ExprKind> {
        let n = name_text(p);
        if let Some((_, id)) = self.local_var(&n) {
            return Ok(ExprKind::Var(n, *id));
        }
        match self.symbols.get(&n) {
            Some(Sym::Const(v)) => return Ok(ExprKind::Const(v.clone())),
            Some(Sym::Attribute(t)) => return Ok(ExprKind::Attr(Attr::Custom { name: n, ty: t.clone() })),
            Some(other) => {
                return self.err(p, format!("syntax error, unexpected {} name '{n}'", other.class()));
            }
            None => {}
        }
        if let Some(e) = EnumConst::lookup(&n) {
            return Ok(ExprKind::Const(Value::Enum(e)));
        }
        if let Some(a) = Attr::protocol_attr(&n) {
            return Ok(ExprKind::Attr(a));
        }
        self.err(p, format!("syntax error, unexpected undefined symbol '{n}'"))
    }

    fn lvalue(&self, p: &Pair<'_>) -> Res<LValue> {
        let Some(inner) = p.clone().into_inner().next() else { return self.err(p, "Name expected") };
        if inner.as_rule() == Rule::static_attr {
            return Ok(LValue::Attr(Attr::static_attr(inner.as_str()).unwrap_or(Attr::Net)));
        }
        match self.resolve_name(&inner)? {
            ExprKind::Var(v, id) => Ok(LValue::Var(v, id)),
            ExprKind::Attr(a) => Ok(LValue::Attr(a)),
            _ => self.err(&inner, format!("Symbol '{}' is not a variable", name_text(&inner))),
        }
    }

    fn declare_local(&mut self, name: &Pair<'_>, ty: Type) -> Res<(String, VarId)> {
        let n = name_text(name);
        let id = VarId(self.next_var);
        let scope = self.scopes.last_mut();
        match scope {
            Some(s) if s.contains_key(&n) => self.err(name, format!("Symbol '{n}' already defined")),
            Some(s) => {
                s.insert(n.clone(), (ty, id));
                self.next_var += 1;
                Ok((n, id))
            }
            None => self.err(name, "Variables can be declared only in filters and functions"),
        }
    }

    fn stmts(&mut self, p: &Pair<'_>) -> Res<Vec<Stmt>> {
        self.scopes.push(HashMap::new());
        let r = p.clone().into_inner().map(|s| self.stmt(s)).collect();
        self.scopes.pop();
        r
    }

    /// A statement.
    pub(crate) fn stmt(&mut self, p: Pair<'_>) -> Res<Stmt> {
        let loc = self.loc(&p);
        let kids = children(&p);
        let kind = match p.as_rule() {
            Rule::cmd_block => StmtKind::Block(self.stmts(&p)?),
            Rule::empty_stmt => StmtKind::Block(Vec::new()),
            Rule::if_stmt => {
                let cond = self.expr(kids[1].clone())?;
                let then = self.stmt(kids[3].clone())?;
                let els = match kids.get(5) {
                    Some(s) => Some(Box::new(self.stmt(s.clone())?)),
                    None => None,
                };
                StmtKind::If(cond, Box::new(then), els)
            }
            Rule::case_stmt => {
                let e = self.expr(kids[1].clone())?;
                let mut arms = Vec::new();
                let mut default = None;
                for k in &kids[2..] {
                    let parts = children(k);
                    if k.as_rule() == Rule::case_else {
                        let mut body = Vec::new();
                        for s in &parts[1..] {
                            body.push(self.stmt(s.clone())?);
                        }
                        default = Some(body);
                        continue;
                    }
                    let mut labels = Vec::new();
                    let mut body = Vec::new();
                    for part in parts {
                        if part.as_rule() == Rule::set_item {
                            labels.push(self.set_item(&part)?);
                        } else {
                            body.push(self.stmt(part)?);
                        }
                    }
                    arms.push(CaseArm { labels, body });
                }
                StmtKind::Case(e, arms, default)
            }
            Rule::for_stmt => {
                let (ty, name_i) = if kids[1].as_rule() == Rule::type_name {
                    (Some(self.type_name(&kids[1])?), 2)
                } else {
                    (None, 1)
                };
                let iter = self.expr(kids[name_i + 2].clone())?;
                self.scopes.push(HashMap::new());
                let r = (|| {
                    let name_p = &kids[name_i];
                    let var = match ty {
                        Some(t) => {
                            let (name, id) = self.declare_local(name_p, t.clone())?;
                            LoopVar { name, ty: t, id, declared: true }
                        }
                        None => match self.local_var(&name_text(name_p)) {
                            Some((t, id)) => {
                                LoopVar { name: name_text(name_p), ty: t.clone(), id: *id, declared: false }
                            }
                            None => {
                                return self
                                    .err(name_p, format!("Variable '{}' not declared", name_text(name_p)))
                            }
                        },
                    };
                    let body = self.stmt(kids[name_i + 4].clone())?;
                    Ok(StmtKind::For(var, iter, Box::new(body)))
                })();
                self.scopes.pop();
                r?
            }
            Rule::var_decl_stmt => {
                let ty = self.type_name(&kids[0])?;
                let init = match kids.get(2) {
                    Some(e) => Some(self.expr(e.clone())?),
                    None => None,
                };
                let (n, id) = self.declare_local(&kids[1], ty.clone())?;
                StmtKind::VarDecl(n, ty, init, id)
            }
            Rule::assign_stmt => {
                let target = self.lvalue(&kids[0])?;
                if let LValue::Attr(a) = &target {
                    if a.is_read_only() {
                        return self.err(&kids[0], "This static attribute is read-only.");
                    }
                }
                StmtKind::Assign(target, self.expr(kids[1].clone())?)
            }
            Rule::method_stmt => {
                let target = self.lvalue(&kids[0])?;
                let mut ops = Vec::new();
                for m in &kids[1..] {
                    let (member, args) = self.member(m)?;
                    if !member.is_update() {
                        return self.err(m, format!("syntax error, unexpected '{}'", m.as_str()));
                    }
                    ops.push((member, args));
                }
                StmtKind::Update(target, ops)
            }
            Rule::unset_stmt => match self.lvalue(&kids[1])? {
                LValue::Attr(a) => StmtKind::Unset(a),
                LValue::Var(..) => return self.err(&kids[1], "Attribute expected"),
            },
            Rule::accept_stmt | Rule::reject_stmt => {
                let mut args = Vec::new();
                if let Some(list) = kids.get(1) {
                    for a in list.clone().into_inner() {
                        args.push(self.expr(a)?);
                    }
                }
                if p.as_rule() == Rule::accept_stmt {
                    StmtKind::Accept(args)
                } else {
                    StmtKind::Reject(args)
                }
            }
            Rule::error_stmt => {
                let mut args = Vec::new();
                if let Some(list) = kids.get(1) {
                    for a in list.clone().into_inner() {
                        args.push(self.expr(a)?);
                    }
                }
                StmtKind::Error(args)
            }
            Rule::return_stmt => StmtKind::Return(match kids.get(1) {
                Some(e) => Some(self.expr(e.clone())?),
                None => None,
            }),
            Rule::print_stmt | Rule::printn_stmt => {
                let mut args = Vec::new();
                for a in kids[1].clone().into_inner() {
                    args.push(self.expr(a)?);
                }
                StmtKind::Print(args, p.as_rule() == Rule::print_stmt)
            }
            Rule::call_stmt => StmtKind::Call(self.expr(kids[0].clone())?),
            _ => return self.err(&p, "Statement expected"),
        };
        Ok(Stmt { kind, loc })
    }

    fn local_decls(&mut self, decls: &[Pair<'_>]) -> Res<Vec<(String, Type)>> {
        let mut out = Vec::new();
        for d in decls {
            let kids = children(d);
            let ty = self.type_name(&kids[0])?;
            let (n, _) = self.declare_local(&kids[1], ty.clone())?;
            out.push((n, ty));
        }
        Ok(out)
    }

    /// A filter body with optional old-style locals (named or inline).
    pub(crate) fn filter_body(
        &mut self,
        name: Option<String>,
        at: &Pair<'_>,
        parts: &[Pair<'_>],
    ) -> Res<Filter> {
        let Some((block, decls)) = parts.split_last() else { return self.err(at, "Filter body expected") };
        self.open_body();
        let r = (|| {
            let locals = self.local_decls(decls)?;
            let body = self.stmts(block)?;
            Ok(Filter { name, locals, body, loc: self.loc(at) })
        })();
        self.scopes.pop();
        r
    }

    pub(crate) fn filter_decl(&mut self, p: Pair<'_>) -> Res<()> {
        let kids = children(&p);
        let name = self.define(&kids[1], Sym::Filter)?;
        let f = self.filter_body(Some(name), &p, &kids[2..])?;
        self.cfg.filters.push(Arc::new(f));
        Ok(())
    }

    pub(crate) fn function_decl(&mut self, p: Pair<'_>) -> Res<()> {
        let kids = children(&p);
        let mut params = Vec::new();
        let mut i = 2;
        while kids.get(i).map(|k| k.as_rule()) == Some(Rule::param) {
            let pk = children(&kids[i]);
            params.push((pk[1].clone(), self.type_name(&pk[0])?));
            i += 1;
        }
        let name = self.define(&kids[1], Sym::Function(params.len()))?;
        let return_type = match kids.get(i) {
            Some(r) if r.as_rule() == Rule::return_type => {
                i += 1;
                let t = children(r);
                Some(self.type_name(&t[0])?)
            }
            _ => None,
        };
        self.open_body();
        let r = (|| {
            let mut ps = Vec::new();
            for (np, ty) in &params {
                ps.push((self.declare_local(np, ty.clone())?.0, ty.clone()));
            }
            let (block, decls) =
                kids[i..].split_last().ok_or_else(|| self.loc(&p).error("Function body expected"))?;
            let locals = self.local_decls(decls)?;
            let body = self.stmts(block)?;
            Ok(Function { name, params: ps, return_type, locals, body, loc: self.loc(&p) })
        })();
        self.scopes.pop();
        self.cfg.functions.push(Arc::new(r?));
        Ok(())
    }

    pub(crate) fn define_decl(&mut self, p: Pair<'_>) -> Res<()> {
        let kids = children(&p);
        let e = self.expr(kids[2].clone())?;
        let ExprKind::Const(v) = e.kind else {
            return self.err(&kids[2], "Constant expression required");
        };
        let name = self.define(&kids[1], Sym::Const(v.clone()))?;
        self.cfg.defines.push(crate::ast::Define { name, value: v, loc: self.loc(&kids[1]) });
        Ok(())
    }
}
