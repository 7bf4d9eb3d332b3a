//! The pest grammar, split by concept:
//!
//! * `grammar/lexical.pest`: whitespace, comments, names, numbers, addresses, strings;
//! * `grammar/keywords.pest`: the reserved words (one atomic `kw_*` rule each);
//! * `grammar/filter.pest`: types, expressions, statements, filters and functions;
//! * `grammar/config.pest`: global options, definitions, thread groups, tables;
//! * `grammar/protocols.pest`: protocol and template blocks, channels, protocols.

use pest_derive::Parser;

/// The generated parser; rules are in [`Rule`].
#[derive(Parser)]
#[grammar = "grammar/lexical.pest"]
#[grammar = "grammar/keywords.pest"]
#[grammar = "grammar/filter.pest"]
#[grammar = "grammar/config.pest"]
#[grammar = "grammar/protocols.pest"]
pub(crate) struct BirdParser;

impl std::fmt::Debug for BirdParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BirdParser")
    }
}
