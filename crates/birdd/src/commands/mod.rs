//! Command execution: one file per command family. Each function writes a complete reply (ending with a
//! final line) into the session's [`ReplyWriter`].

pub mod actions;
pub mod configure;
pub mod reconfig;
pub mod show_interfaces;
pub mod show_memory;
pub mod show_protocols;
pub mod show_route;
pub mod show_route_export;
pub mod show_static;
pub mod show_status;
pub mod show_symbols;

use birdcli::{code, Command, ProtoTarget, ReplyWriter, TableSelect, TimeContext};

use crate::daemon::Daemon;

/// What the CLI server has to do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Nothing: the reply is complete.
    Done,
    /// `down`: flush the reply, then shut down.
    Shutdown,
    /// `show threads [all]`: the reply comes when the threads answered.
    Threads {
        /// `all`
        all: bool,
    },
}

/// The time context for replies.
pub fn time_context(d: &Daemon) -> TimeContext {
    let now = crate::runtime::now();
    TimeContext { formats: d.time_formats.clone(), now, utc_offset_secs: crate::tz::utc_offset(now.secs()) }
}

/// Whether `name` is a symbol of the running configuration.
fn is_symbol(d: &Daemon, name: &str) -> bool {
    let c = &d.rt.config;
    c.protocol(name).is_some()
        || c.table(name).is_some()
        || c.filter(name).is_some()
        || c.function(name).is_some()
        || c.define(name).is_some()
        || c.template(name).is_some()
}

/// BIRD resolves names while parsing: an undefined one is a syntax error, a symbol of the wrong kind a
/// semantic error.
fn check_symbols(d: &Daemon, cmd: &Command) -> Option<(u16, String)> {
    let undefined = || (code::PARSE_ERROR, birdcli::undefined_symbol_message(cmd).to_owned());
    let proto = |n: &str| {
        if d.rt.proto(n).is_some_and(|e| e.parent.is_some()) {
            // Spawned by a neighbor range (dynamic BGP): a protocol, though not in the configuration.
            None
        } else if !is_symbol(d, n) {
            Some(undefined())
        } else if d.rt.config.protocol(n).is_none() {
            Some((code::NO_SUCH_SYMBOL, format!("{n} is not a protocol")))
        } else {
            None
        }
    };
    match cmd {
        Command::Enable { target: ProtoTarget::Name(n), .. }
        | Command::Disable { target: ProtoTarget::Name(n), .. }
        | Command::Restart { target: ProtoTarget::Name(n), .. }
        | Command::Reload { target: ProtoTarget::Name(n), .. }
        | Command::ShowProtocols { target: Some(ProtoTarget::Name(n)), .. } => proto(n),
        Command::ShowRoute(q) => {
            if let TableSelect::Named(v) = &q.tables {
                for t in v {
                    if !is_symbol(d, t) {
                        return Some(undefined());
                    }
                    if d.rt.config.table(t).is_none() {
                        return Some((code::PARSE_ERROR, "Table name required".into()));
                    }
                }
            }
            if let Some((_, c)) = &q.export {
                if let Some(e) = proto(&c.protocol) {
                    return Some(e);
                }
            }
            q.protocol.as_deref().and_then(proto)
        }
        _ => None,
    }
}

/// Runs one command.
pub fn execute(d: &mut Daemon, cmd: Command, restricted: bool, w: &mut ReplyWriter) -> After {
    if let Some((c, text)) = check_symbols(d, &cmd) {
        w.finish(c, text);
        return After::Done;
    }
    match cmd {
        Command::ShowStatus => show_status::run(d, w),
        Command::ShowProtocols { all, target } => show_protocols::run(d, all, target.as_ref(), w),
        Command::ShowRoute(q) => show_route::run(d, &q, restricted, w),
        Command::Eval(text) => eval(d, &text, w),
        Command::ShowSymbols(q) => show_symbols::run(d, &q, w),
        Command::ShowStatic { name } => show_static::run(d, name.as_deref(), w),
        Command::ShowMemory => show_memory::run(d, w),
        Command::Debug { target, flags } => debug(d, &target, &flags, w),
        Command::ShowInterfaces { summary } => show_interfaces::run(d, summary, w),
        Command::ShowThreads { all } => return After::Threads { all },
        Command::Enable { target, message } => actions::run(d, actions::Action::Enable, &target, message, w),
        Command::Disable { target, message } => {
            actions::run(d, actions::Action::Disable, &target, message, w)
        }
        Command::Restart { target, message } => {
            actions::run(d, actions::Action::Restart, &target, message, w)
        }
        Command::Reload { dir, target } => actions::run(d, actions::Action::Reload(dir), &target, None, w),
        Command::Configure { soft: _, file, timeout } => reconfig::configure(d, file.as_deref(), timeout, w),
        Command::ConfigureCheck { file } => configure::check(d, file.as_deref(), w),
        Command::ConfigureStatus => reconfig::status(d, w),
        Command::ConfigureConfirm => reconfig::confirm(d, w),
        Command::ConfigureUndo => reconfig::undo_command(d, w),
        // This build has no BFD or OSPF protocol, so there is never one running (BIRD's reply).
        Command::ShowBfdSessions { name: None } => {
            w.finish(code::PARSE_ERROR, "There is no BFD protocol running")
        }
        Command::ShowOspf { name: None, .. } => {
            w.finish(code::PARSE_ERROR, "There is no OSPF protocol running")
        }
        Command::Down => {
            birdcli::format::actions::shutdown_requested(w);
            return After::Shutdown;
        }
        other => not_available(&other, w),
    }
    After::Done
}

/// `eval <expr>`: `0023 <value>`, or `9001` with the parse or run-time error (BIRD evaluates while
/// parsing: `9001 filter preevaluation, line 1: ...`).
fn eval(d: &Daemon, text: &str, w: &mut ReplyWriter) {
    let r = birdconf::parse_filter_expr_in(&d.rt.config, text)
        .map_err(|e| e.message)
        .and_then(|e| d.rt.program.eval_text(&e));
    match r {
        Ok(v) => birdcli::format::actions::eval_result(w, &v),
        Err(e) => w.finish(code::PARSE_ERROR, e),
    }
}

/// `debug <protocols> all|off|{ states, routes, ... }`: the trace messages the protocols write from now on.
fn debug(
    d: &mut Daemon,
    target: &birdcli::ProtoTarget,
    flags: &birdcli::command::FlagSpec,
    w: &mut ReplyWriter,
) {
    let bits = match flags {
        birdcli::command::FlagSpec::All => birdproto::debug::ALL,
        birdcli::command::FlagSpec::Off => 0,
        birdcli::command::FlagSpec::Set(v) => {
            v.iter().filter_map(|f| birdproto::debug::flag(f)).fold(0, |a, b| a | b)
        }
    };
    match actions::select(d, target) {
        Ok(idx) => {
            for i in idx {
                d.rt.protos[i].handle.set_debug(bits);
            }
            w.finish(0, "");
        }
        Err((c, t)) => w.finish(c, t),
    }
}

fn not_available(cmd: &Command, w: &mut ReplyWriter) {
    let what = match cmd {
        Command::ShowBfdSessions { .. } => "show bfd sessions (no BFD protocol)",
        Command::ShowOspf { .. } => "show ospf (no OSPF protocol)",
        Command::GracefulRestart => "graceful restart",
        Command::Mrtdump { .. } => "mrtdump",
        Command::Dump { .. } => "dump",
        _ => "this command",
    };
    w.finish_fmt(code::PARSE_ERROR, format_args!("{what} is not available in this build"));
}
