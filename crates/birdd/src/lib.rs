//! birdd: a multithreaded Internet routing daemon, drop-in for BIRD.
//!
//! The binary is thin; each concept is one module here:
//!
//! | module | what |
//! |---|---|
//! | [`args`] | BIRD's command line (`-c -s -f -p -d -P -u -g`, `ctl`) |
//! | [`paths`] | default config and socket locations, the built-in example config |
//! | [`config`] | loading and checking a config (what this build can run) |
//! | [`filter`] | channel, per-route and `show route` filters on birdfilter |
//! | [`netif`] | gateway → interface resolution from procfs (until the device protocol) |
//! | [`protocols`] | config → birdproto protocol configs (static, pipe), filter adapter, next-hop resolver |
//! | [`runtime`] | tables, protocol instances (birdproto registry), applying a new configuration |
//! | [`daemon`] | startup order, daemonizing, shared state, shutdown |
//! | [`dynamic`] | dynamic BGP: spawning and removing the protocols of a `neighbor range` |
//! | [`cli`] | control sockets and sessions on the main loop |
//! | [`commands`] | one file per command family |
//! | [`echo`] | log messages to sessions that asked with `echo` |
//! | [`signals`] | SIGHUP / SIGTERM / SIGINT through a self-pipe in the main loop |
//! | [`logging`] | tracing with the config's `log` targets |
//! | [`privileges`] | `-u`/`-g` keeping the network capabilities |
//! | [`pidfile`] | `-P` |
//! | [`client`] | `birdd ctl` |
//! | [`tz`] | local UTC offset from the TZif zone file |
//!
//! Threads: the main loop (control sockets, signals, commands) runs on its own one-thread group; tables'
//! service loops and one loop per protocol instance run on the `worker` group sized by `threads` /
//! `thread group worker`.

pub mod args;
pub mod bgp;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod dynamic;
pub mod echo;
pub mod filter;
pub mod housekeeping;
pub mod logging;
pub mod netif;
pub mod paths;
pub mod pidfile;
pub mod privileges;
pub mod protocols;
pub mod runtime;
pub mod signals;
pub mod tz;

/// Entry point: parses arguments and runs the daemon or the client; returns the exit status.
pub fn main_with_args(args: &[String]) -> i32 {
    match args::parse(args) {
        Ok(args::Invocation::Help) => {
            print!("{}", args::USAGE);
            0
        }
        Ok(args::Invocation::Version) => {
            println!("BIRD version {} (birdd)", daemon::version());
            0
        }
        Ok(args::Invocation::Ctl(c)) => client::run(c),
        Ok(args::Invocation::Daemon(d)) => daemon::run(d),
        Err(e) => {
            eprintln!("birdd: {e}");
            eprint!("{}", args::USAGE);
            1
        }
    }
}
