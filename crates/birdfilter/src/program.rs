//! Compiled filters and the set of all filters and functions of a configuration.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use birdconf::ast::{self, Config, FilterSpec};
use birdconf::{ConfigError, Loc};

use crate::compile::{custom_attr, Compiler};
use crate::exec::{Exec, Flow, Limits, RuntimeError, Stop};
use crate::ir::{Ex, Func, Line, Sk, St};
use crate::route::RouteCtx;
use crate::value::{Ty, Value};

/// A compile-time error, displayed as BIRD prints configuration errors:
/// `file:line:col message`.
pub type CompileError = ConfigError;

/// What a filter decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `accept` (with the text of `accept "reason"`).
    Accept(Option<String>),
    /// `reject` (with the text of `reject "reason"`).
    Reject(Option<String>),
    /// A run-time error: the route is rejected, as in BIRD.
    Error(RuntimeError),
}

impl Verdict {
    /// Whether the route passes.
    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept(_))
    }
}

/// What happens when execution runs off the end of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// A filter must decide: error, like BIRD.
    Error,
    /// Attribute blocks of static routes just fall through.
    Accept,
}

#[derive(Debug)]
struct Code {
    body: Vec<St>,
    nslots: usize,
    funcs: Arc<[Arc<Func>]>,
    /// Every function reachable from the body, by name (what the filter's identity includes).
    deps: BTreeMap<Arc<str>, Arc<Func>>,
    end: End,
}

impl PartialEq for Code {
    fn eq(&self, o: &Code) -> bool {
        self.body == o.body && self.nslots == o.nslots && self.deps == o.deps && self.end == o.end
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Imp {
    All,
    None,
    Code(Arc<Code>),
}

/// A compiled filter, ready to run on routes; cheap to clone and shareable between threads.
///
/// Equality is structural: the same source compiles to equal filters (source lines do not count,
/// the functions the filter calls do), so a reconfiguration can tell whether a channel's filter
/// really changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    name: Arc<str>,
    imp: Imp,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Filter {
    /// `all`: accepts everything.
    pub fn all() -> Filter {
        Filter { name: Arc::from("all"), imp: Imp::All }
    }

    /// `none`: rejects everything.
    pub fn none() -> Filter {
        Filter { name: Arc::from("none"), imp: Imp::None }
    }

    /// The filter's name (`all`, `none`, `(unnamed)` for inline filters).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is the built-in `all`.
    pub fn is_all(&self) -> bool {
        self.imp == Imp::All
    }

    /// Whether this is the built-in `none`.
    pub fn is_none(&self) -> bool {
        self.imp == Imp::None
    }

    /// Runs the filter on a route with the default limits.
    pub fn run(&self, ctx: &mut RouteCtx<'_>) -> Verdict {
        self.run_with(ctx, Limits::DEFAULT)
    }

    /// Runs the filter on a route. Run-time errors are logged as `filter <name>: <error>` and
    /// reject the route.
    pub fn run_with(&self, ctx: &mut RouteCtx<'_>, limits: Limits) -> Verdict {
        self.run_metered(ctx, limits).0
    }

    /// [`Filter::run_with`], also returning the steps the run took (what it counted against
    /// `limits.max_steps`; 0 for `all` and `none`). Callers that bound the work of many runs
    /// together (a restricted CLI command) take these off their own budget.
    pub fn run_metered(&self, ctx: &mut RouteCtx<'_>, limits: Limits) -> (Verdict, u64) {
        let code = match &self.imp {
            Imp::All => return (Verdict::Accept(None), 0),
            Imp::None => return (Verdict::Reject(None), 0),
            Imp::Code(c) => c,
        };
        let mut ex = Exec::new(Some(ctx), &code.funcs, limits);
        ex.stack.resize(code.nslots, Value::Void);
        let r = ex.exec_block(&code.body);
        ex.flush_print();
        let v = match r {
            Ok(Flow::Next) if code.end == End::Accept => Verdict::Accept(None),
            Ok(Flow::Next) => Verdict::Error(RuntimeError {
                line: ex.line,
                message: format!("Filter {} did not return accept nor reject. Make up your mind", self.name),
            }),
            Ok(Flow::Return(Value::Bool(b))) => {
                if b {
                    Verdict::Accept(None)
                } else {
                    Verdict::Reject(None)
                }
            }
            Ok(Flow::Return(_)) => Verdict::Error(RuntimeError {
                line: ex.line,
                message: "Can't return non-bool from non-function".into(),
            }),
            Err(Stop::Accept(r)) => Verdict::Accept(r),
            Err(Stop::Reject(r)) => Verdict::Reject(r),
            Err(Stop::Err(e)) => Verdict::Error(e),
        };
        if let Verdict::Error(e) = &v {
            tracing::error!(target: "birdfilter", line = e.line, "filter {}: {}", self.name, e.message);
        }
        (v, ex.steps())
    }

    /// Runs the filter as a predicate (`show route where ...`, `show route filter ...`): true
    /// when it accepts; errors count as false (and are logged).
    pub fn matches(&self, ctx: &mut RouteCtx<'_>, limits: Limits) -> bool {
        self.run_with(ctx, limits).is_accept()
    }
}

/// A compiled standalone expression (the CLI's `eval`).
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    ex: Ex,
    ty: Option<Ty>,
    line: u32,
    funcs: Arc<[Arc<Func>]>,
}

impl CompiledExpr {
    /// The static type, when known at compile time.
    pub fn ty(&self) -> Option<Ty> {
        self.ty
    }

    /// Evaluates the expression, on a route or (for `eval`) on none.
    pub fn eval(&self, route: Option<&mut RouteCtx<'_>>, limits: Limits) -> Result<Value, RuntimeError> {
        let mut ex = Exec::new(route, &self.funcs, limits);
        ex.line = self.line;
        let r = ex.eval(&self.ex);
        ex.flush_print();
        match r {
            Ok(v) => Ok(v),
            Err(Stop::Err(e)) => Err(e),
            Err(Stop::Accept(_) | Stop::Reject(_)) => {
                Err(RuntimeError { line: self.line, message: "accept or reject in an expression".into() })
            }
        }
    }
}

/// All filters and functions of a configuration, compiled once; also compiles the inline filters,
/// `where` expressions and CLI expressions that may call those functions.
#[derive(Debug, Clone)]
pub struct Program {
    funcs: Arc<[Arc<Func>]>,
    fn_index: HashMap<String, usize>,
    fn_calls: Vec<BTreeSet<usize>>,
    filters: Vec<Filter>,
    by_name: HashMap<String, usize>,
}

/// Another name for [`Program`]: the compiled filters of a configuration.
pub type FilterSet = Program;

impl Default for Program {
    fn default() -> Program {
        Program {
            funcs: Arc::from(Vec::new()),
            fn_index: HashMap::new(),
            fn_calls: Vec::new(),
            filters: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl Program {
    /// Compiles every custom attribute, function and filter of `cfg`.
    pub fn compile(cfg: &Config) -> Result<Program, CompileError> {
        for a in &cfg.attributes {
            custom_attr(&a.name, &a.ty, &a.loc)?;
        }
        let mut funcs = Vec::with_capacity(cfg.functions.len());
        let mut fn_index = HashMap::new();
        let mut fn_calls = Vec::new();
        for f in &cfg.functions {
            let idx = funcs.len();
            let mut c = Compiler::new(&fn_index);
            let func = c.function(f, idx)?;
            fn_calls.push(c.calls);
            funcs.push(Arc::new(func));
            fn_index.insert(f.name.clone(), idx);
        }
        let mut p = Program {
            funcs: Arc::from(funcs),
            fn_index,
            fn_calls,
            filters: Vec::new(),
            by_name: HashMap::new(),
        };
        for f in &cfg.filters {
            let compiled = p.compile_filter(f)?;
            p.by_name.insert(compiled.name.to_string(), p.filters.len());
            p.filters.push(compiled);
        }
        Ok(p)
    }

    /// A named filter of the configuration.
    pub fn filter(&self, name: &str) -> Option<&Filter> {
        self.by_name.get(name).map(|&i| &self.filters[i])
    }

    /// Every named filter, in configuration order.
    pub fn filters(&self) -> impl Iterator<Item = &Filter> {
        self.filters.iter()
    }

    /// Names of the functions, in configuration order.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.funcs.iter().map(|f| &*f.name)
    }

    /// The filter a channel's `import`/`export` option names.
    pub fn resolve(&self, spec: &FilterSpec) -> Result<Filter, CompileError> {
        match spec {
            FilterSpec::All => Ok(Filter::all()),
            FilterSpec::None => Ok(Filter::none()),
            FilterSpec::Named(n) => {
                self.filter(n).cloned().ok_or_else(|| Loc::default().error(format!("No such filter '{n}'")))
            }
            FilterSpec::Inline(f) => self.compile_filter(f),
            FilterSpec::Where(e) => self.compile_where(e),
        }
    }

    fn deps(&self, calls: &BTreeSet<usize>) -> BTreeMap<Arc<str>, Arc<Func>> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<usize> = calls.iter().copied().collect();
        while let Some(i) = todo.pop() {
            if seen.insert(i) {
                todo.extend(self.fn_calls.get(i).into_iter().flatten().copied());
            }
        }
        seen.into_iter().map(|i| (self.funcs[i].name.clone(), self.funcs[i].clone())).collect()
    }

    fn code(&self, name: Option<&str>, body: Vec<St>, c: Compiler<'_>, end: End) -> Filter {
        let deps = self.deps(&c.calls);
        Filter {
            name: Arc::from(name.unwrap_or("(unnamed)")),
            imp: Imp::Code(Arc::new(Code { body, nslots: c.nslots, funcs: self.funcs.clone(), deps, end })),
        }
    }

    /// Compiles a filter (named or inline) that may call this program's functions.
    pub fn compile_filter(&self, f: &ast::Filter) -> Result<Filter, CompileError> {
        let mut c = Compiler::new(&self.fn_index);
        let body = c.filter(f)?;
        Ok(self.code(f.name.as_deref(), body, c, End::Error))
    }

    /// Compiles `where EXPR` as a filter accepting when the expression is true.
    pub fn compile_where(&self, e: &ast::Expr) -> Result<Filter, CompileError> {
        let mut c = Compiler::new(&self.fn_index);
        let (x, t) = c.expr(e)?;
        if let Some(t) = t.filter(|t| *t != Ty::Bool) {
            return Err(e
                .loc
                .error(format!("Argument 1 of CONDITION must be of type bool, got type {}", t.name())));
        }
        let line = Line(e.loc.line);
        let st = |kind| St { line, kind };
        let body = vec![st(Sk::If(
            x,
            Box::new(st(Sk::Accept(Vec::new()))),
            Some(Box::new(st(Sk::Reject(Vec::new())))),
        ))];
        Ok(self.code(None, body, c, End::Error))
    }

    /// Compiles the attribute block of a static route (`route ... { bgp_community.add(...); }`):
    /// statements that modify the route and fall through to accept.
    pub fn compile_route_block(&self, stmts: &[ast::Stmt]) -> Result<Filter, CompileError> {
        let mut c = Compiler::new(&self.fn_index);
        let body = c.block(stmts)?;
        Ok(self.code(None, body, c, End::Accept))
    }

    /// Compiles a standalone expression (`eval`, `show route where`).
    pub fn compile_expr(&self, e: &ast::Expr) -> Result<CompiledExpr, CompileError> {
        let mut c = Compiler::new(&self.fn_index);
        let (ex, ty) = c.expr(e)?;
        Ok(CompiledExpr { ex, ty, line: e.loc.line, funcs: self.funcs.clone() })
    }

    /// The CLI's `eval`: compiles and evaluates `e` without a route under the restricted limits;
    /// `Ok` is the value as BIRD prints it, `Err` the error text of the reply.
    pub fn eval_text(&self, e: &ast::Expr) -> Result<String, String> {
        let c = self.compile_expr(e).map_err(|e| e.message)?;
        c.eval(None, Limits::RESTRICTED).map(|v| v.to_string()).map_err(|e| e.eval_text())
    }
}
