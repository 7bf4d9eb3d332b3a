//! Loading and checking a configuration: birdconf parses it; this module refuses what this build cannot
//! run, with BIRD's `file:line:col message` errors, so a config either runs completely or not at all.

use std::sync::Arc;

use birdconf::ast::{Config, ProtoKind, ProtoSpecific, StaticDest, TimeFormat};
use birdconf::ConfigError;
use birdfilter::Program;

use crate::filter::RouteFilter;
use crate::paths::{ConfigSource, BUILTIN_CONFIG};

/// A parsed, checked configuration with its compiled filters.
#[derive(Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Arc<Config>,
    /// Its filters and functions, compiled.
    pub program: Arc<Program>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded").field("protocols", &self.config.protocols.len()).finish_non_exhaustive()
    }
}

/// Reads, parses and checks a configuration.
pub fn load(src: &ConfigSource) -> Result<Loaded, ConfigError> {
    let cfg = match src {
        ConfigSource::File(f) => birdconf::parse_file(f)?,
        ConfigSource::Builtin => birdconf::parse_str(src.name(), BUILTIN_CONFIG)?,
    };
    let program = check(&cfg)?;
    Ok(Loaded { config: Arc::new(cfg), program: Arc::new(program) })
}

/// Compiles the filters and refuses protocols and constructs this build does not run.
pub fn check(cfg: &Config) -> Result<Program, ConfigError> {
    let program = Program::compile(cfg)?;
    for p in &cfg.protocols {
        match p.kind {
            ProtoKind::Static
            | ProtoKind::Pipe
            | ProtoKind::Kernel
            | ProtoKind::Device
            | ProtoKind::Direct
            | ProtoKind::Bgp => {}
        }
        if let ProtoSpecific::Bgp(b) = &p.specific {
            crate::protocols::check_bgp(p, b)?;
        }
        let pats = match &p.specific {
            ProtoSpecific::Direct(d) => d.interfaces.as_slice(),
            ProtoSpecific::Device(d) => d.interfaces.as_slice(),
            _ => &[],
        };
        if pats.iter().any(|x| matches!(x, birdconf::ast::IfacePattern::Prefix { .. })) {
            return Err(p.loc.error("Interface prefix patterns are not available in this build"));
        }
        if p.kind == ProtoKind::Kernel && p.channels.is_empty() {
            return Err(p.loc.error("Channel not specified"));
        }
        if p.channels.len() > 1 && !matches!(p.kind, ProtoKind::Direct | ProtoKind::Bgp) {
            return Err(p.loc.error(format!("Protocol {}: only one channel is supported", p.name)));
        }
        for ch in &p.channels {
            for spec in [&ch.import, &ch.export] {
                RouteFilter::from_spec(spec, &program).map_err(|e| {
                    if e.file.is_empty() {
                        ch.loc.error(e.message)
                    } else {
                        e
                    }
                })?;
            }
        }
        if let ProtoSpecific::Static(s) = &p.specific {
            for r in &s.routes {
                if let Some(stmts) = &r.attrs {
                    RouteFilter::route_block(stmts, &program)?;
                }
                if let StaticDest::Recursive(_) = r.dest {
                    return Err(r.loc.error("Recursive static routes are not available in this build"));
                }
                if let StaticDest::Via(hops) = &r.dest {
                    if hops.len() > 1 {
                        return Err(r.loc.error("Multipath static routes are not available in this build"));
                    }
                }
            }
        }
    }
    Ok(program)
}

/// Threads of the default thread group: the `threads N;` shorthand, else the default group's count.
pub fn default_threads(cfg: &Config) -> usize {
    let t = &cfg.threads;
    let n =
        t.threads_shorthand.or_else(|| t.groups.iter().find(|g| g.default).map(|g| g.threads)).unwrap_or(1);
    usize::try_from(n.max(1)).unwrap_or(1)
}

fn time_format(t: &TimeFormat) -> birdcli::TimeFormat {
    match t {
        TimeFormat::Iso { long: false, frac_digits: 0 } => birdcli::TimeFormat::iso_short(),
        TimeFormat::Iso { long: false, frac_digits: 6 } => birdcli::TimeFormat::iso_short_us(),
        TimeFormat::Iso { long: false, .. } => birdcli::TimeFormat::iso_short_ms(),
        TimeFormat::Iso { long: true, frac_digits: 0 } => birdcli::TimeFormat::iso_long(),
        TimeFormat::Iso { long: true, frac_digits: 6 } => birdcli::TimeFormat::iso_long_us(),
        TimeFormat::Iso { long: true, .. } => birdcli::TimeFormat::iso_long_ms(),
        TimeFormat::Custom { fmt, older: None } => birdcli::TimeFormat::custom(fmt.clone()),
        TimeFormat::Custom { fmt, older: Some((limit, fmt2)) } => {
            birdcli::TimeFormat::custom_with_limit(fmt.clone(), i64::from(*limit), fmt2.clone())
        }
    }
}

/// The config's `timeformat` settings for the CLI.
pub fn time_formats(cfg: &Config) -> birdcli::TimeFormats {
    let t = &cfg.timeformat;
    birdcli::TimeFormats {
        route: time_format(&t.route),
        protocol: time_format(&t.protocol),
        base: time_format(&t.base),
        log: time_format(&t.log),
    }
}

/// A protocol's configuration with source positions removed, for "did it change?" on reconfigure:
/// moving a protocol in the file is not a change, editing it (or a filter it uses) is.
pub fn proto_fingerprint(cfg: &Config, p: &birdconf::ast::ProtocolConfig) -> String {
    let mut s = strip_locs(&format!("{p:?}"));
    for ch in &p.channels {
        for spec in [&ch.import, &ch.export] {
            if let birdconf::ast::FilterSpec::Named(n) = spec {
                if let Some(f) = cfg.filter(n) {
                    s.push_str(&strip_locs(&format!("{f:?}")));
                }
            }
        }
    }
    s
}

fn strip_locs(s: &str) -> String {
    // `Loc` prints as `file:line:col`; every position field is named `loc` or `end_loc`.
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("loc: ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 5..];
        let end = after.find([',', '}', ')']).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_config_is_valid() {
        let c = load(&ConfigSource::Builtin).unwrap();
        assert!(c.config.protocol("static4").is_some());
        assert!(c.config.protocol("p_lg4").is_some());
        assert!(c.config.table("lg4").is_some());
    }

    #[test]
    fn bgp_is_accepted_and_unsupported_options_are_errors() {
        let ok = "router id 1.1.1.1;\nprotocol bgp peer1 { local as 1; neighbor 192.0.2.2 as 2; ipv4 { import all; export none; import limit 10 action restart; }; ipv6 { import all; export none; }; }\n";
        check(&birdconf::parse_str("x.conf", ok).unwrap()).unwrap();
        let text = "router id 1.1.1.1;\nprotocol bgp peer1 { local as 1; neighbor 192.0.2.2 as 2; confederation 65000; ipv4 { import all; export none; }; }\n";
        let cfg = birdconf::parse_str("x.conf", text).unwrap();
        let e = check(&cfg).unwrap_err().to_string();
        assert!(e.starts_with("x.conf:2:1 Protocol bgp (peer1): "), "{e}");
        assert!(e.contains("confederation"), "{e}");
    }

    #[test]
    fn kernel_device_direct_are_accepted() {
        let text = "protocol device { scan time 5; }\nprotocol direct { interface \"-lo\", \"*\"; ipv4; ipv6; }\n\
                    protocol kernel { kernel table 100; metric 64; learn; persist; scan time 20; merge paths on limit 4; \
                    netlink rx buffer 1048576; ipv4 { export all; }; }\n";
        let cfg = birdconf::parse_str("x.conf", text).unwrap();
        check(&cfg).unwrap();
        let err = |t: &str| match birdconf::parse_str("x.conf", t) {
            Ok(c) => check(&c).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(err("protocol kernel { }\n").contains("Channel not specified"));
        assert!(err("protocol direct { interface 10.0.0.0/8; ipv4; }\n").contains("prefix patterns"));
    }

    #[test]
    fn fingerprint_ignores_positions() {
        let a =
            birdconf::parse_str("a", "protocol static st1 { ipv4; route 10.0.0.0/8 blackhole; }").unwrap();
        let b = birdconf::parse_str("a", "\n\n  protocol static st1 { ipv4; route 10.0.0.0/8 blackhole; }")
            .unwrap();
        let c =
            birdconf::parse_str("a", "protocol static st1 { ipv4; route 10.0.0.0/9 blackhole; }").unwrap();
        let f = |c: &Config| proto_fingerprint(c, c.protocol("st1").unwrap());
        assert_eq!(f(&a), f(&b));
        assert_ne!(f(&a), f(&c));
    }
}
