//! `show static [name]`: the configured routes of a static protocol, as BIRD lists them.

use birdcli::{code, ReplyWriter};
use birdconf::ast::{ProtoKind, ProtoSpecific};
use birdproto::static_proto::Resolver;

use crate::daemon::Daemon;
use crate::protocols::{static_routes, ProcResolver};

/// Writes the reply.
pub fn run(d: &Daemon, name: Option<&str>, w: &mut ReplyWriter) {
    let statics: Vec<_> = d.rt.config.protocols.iter().filter(|p| p.kind == ProtoKind::Static).collect();
    let p = match name {
        Some(n) => match statics.iter().find(|p| p.name == n) {
            Some(p) => *p,
            None => {
                w.finish(code::NO_SUCH_SYMBOL, format!("{n} is not a static protocol"));
                return;
            }
        },
        None => match statics.as_slice() {
            [p] => *p,
            [] => {
                w.finish(code::PARSE_ERROR, "There is no static protocol running");
                return;
            }
            _ => {
                w.finish(code::PARSE_ERROR, "There are multiple static protocols. Specify instance");
                return;
            }
        },
    };
    let ProtoSpecific::Static(s) = &p.specific else { return w.finish(code::OK, "") };
    let resolver: &dyn Resolver = &ProcResolver;
    match static_routes(s, &d.rt.program) {
        Ok(routes) => {
            for r in &routes {
                for l in r.show_lines(resolver) {
                    w.line(code::STATIC, l);
                }
            }
            w.finish(code::OK, "");
        }
        Err(e) => w.finish(code::PARSE_ERROR, e.message),
    }
}
