//! `show symbols [...]`.

use crate::reply::{code, ReplyWriter};

/// One symbol and its class text (`protocol`, `routing table`, `filter`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRow {
    /// Name.
    pub name: String,
    /// Class as BIRD names it.
    pub class: String,
}

fn text(s: &SymbolRow) -> String {
    format!("{:<8}\t{}", s.name, s.class)
}

/// Writes a symbol listing (ends with `0000␠`).
pub fn show_symbols(w: &mut ReplyWriter, rows: &[SymbolRow]) {
    for r in rows {
        w.line(code::SYMBOL, text(r));
    }
    w.finish(code::OK, "");
}

/// Writes the answer for one symbol: a single final `1010` line.
pub fn show_symbol(w: &mut ReplyWriter, row: &SymbolRow) {
    w.finish(code::SYMBOL, text(row));
}
