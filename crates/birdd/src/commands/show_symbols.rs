//! `show symbols [table|filter|function|protocol|template|constant|attribute] [<name>]`, from the
//! running configuration (in configuration order; BIRD lists its hash order).

use birdcli::format::symbols::{show_symbol, show_symbols, SymbolRow};
use birdcli::{code, ReplyWriter, SymbolQuery};

use crate::daemon::Daemon;

fn all(d: &Daemon) -> Vec<(SymbolRow, &'static str)> {
    let c = &d.rt.config;
    let row = |name: &str, class: &str| SymbolRow { name: name.to_owned(), class: class.to_owned() };
    let mut v = Vec::new();
    for x in &c.defines {
        v.push((row(&x.name, "constant"), "constant"));
    }
    for x in &c.attributes {
        v.push((row(&x.name, "custom attribute"), "attribute"));
    }
    for x in &c.filters {
        if let Some(n) = &x.name {
            v.push((row(n, "filter"), "filter"));
        }
    }
    for x in &c.functions {
        v.push((row(&x.name, "function"), "function"));
    }
    for x in &c.tables {
        v.push((row(&x.name, "routing table"), "table"));
    }
    for x in &c.templates {
        v.push((row(&x.name, "protocol template"), "template"));
    }
    for x in &c.protocols {
        v.push((row(&x.name, "protocol"), "protocol"));
    }
    v
}

/// Writes the reply.
pub fn run(d: &Daemon, q: &SymbolQuery, w: &mut ReplyWriter) {
    let syms = all(d);
    match q {
        SymbolQuery::All => show_symbols(w, &syms.into_iter().map(|(r, _)| r).collect::<Vec<_>>()),
        SymbolQuery::Class(c) => {
            let rows: Vec<_> = syms.into_iter().filter(|(_, k)| k == c).map(|(r, _)| r).collect();
            show_symbols(w, &rows);
        }
        SymbolQuery::Name(n) => match syms.into_iter().find(|(r, _)| &r.name == n) {
            Some((r, _)) => show_symbol(w, &r),
            None => w.finish(code::PARSE_ERROR, "syntax error, unexpected CF_SYM_UNDEFINED"),
        },
    }
}
