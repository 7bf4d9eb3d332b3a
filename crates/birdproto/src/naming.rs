//! BIRD's default protocol names: an unnamed `protocol static { ... }` becomes `static1`, the next
//! `static2`, skipping names already taken by other symbols.

use std::collections::HashMap;

/// The name template BIRD uses for a protocol type (the `protocol <type>` keyword): `static` → `static`,
/// `device` → `device`, `kernel` → `kernel`, ... Unknown types use the keyword itself.
pub fn template(proto_keyword: &str) -> String {
    proto_keyword.to_ascii_lowercase()
}

/// A per-configuration counter of default names, one counter per protocol type (BIRD's
/// `cf_default_name`): the n-th unnamed protocol of a type gets `<type><n>`, starting at 1, and a name
/// already in use is skipped (the counter moves past it).
#[derive(Debug, Default, Clone)]
pub struct DefaultNames {
    counters: HashMap<String, u32>,
}

impl DefaultNames {
    /// Fresh counters (one per configuration parse).
    pub fn new() -> DefaultNames {
        DefaultNames::default()
    }

    /// The next default name for `proto_keyword` (`"static"`, `"direct"`, `"kernel"`, `"bgp"`, ...);
    /// `taken` says whether a name is already defined.
    pub fn next(&mut self, proto_keyword: &str, taken: impl Fn(&str) -> bool) -> String {
        let t = template(proto_keyword);
        let c = self.counters.entry(t.clone()).or_insert(0);
        loop {
            *c += 1;
            let name = format!("{t}{c}");
            if !taken(&name) {
                return name;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bird_default_names() {
        let mut n = DefaultNames::new();
        let none = |_: &str| false;
        assert_eq!(n.next("static", none), "static1");
        assert_eq!(n.next("direct", none), "direct1");
        assert_eq!(n.next("static", none), "static2");
        assert_eq!(n.next("Kernel", none), "kernel1");
        assert_eq!(n.next("device", |s| s == "device1" || s == "device2"), "device3");
        assert_eq!(n.next("device", none), "device4");
    }
}
