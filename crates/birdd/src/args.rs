//! BIRD's command line: `birdd [-c config] [-s socket] [-f] [-p] [-d] [-P pidfile] [-u user] [-g group]`,
//! plus `birdd ctl ...` for the bundled client.

use std::fmt;

/// What the invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run (or only parse, with `-p`) the daemon.
    Daemon(DaemonArgs),
    /// `birdd ctl [-s socket] [-r] [command...]`.
    Ctl(CtlArgs),
    /// `-h` / `--help`.
    Help,
    /// `--version`.
    Version,
}

/// Daemon options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DaemonArgs {
    /// `-c config`.
    pub config: Option<String>,
    /// `-s socket`.
    pub socket: Option<String>,
    /// `-f`: stay in the foreground.
    pub foreground: bool,
    /// `-p`: parse the configuration and exit.
    pub parse_only: bool,
    /// `-d`: foreground and debug logging to stderr.
    pub debug: bool,
    /// `-P pidfile`.
    pub pidfile: Option<String>,
    /// `-u user`.
    pub user: Option<String>,
    /// `-g group`.
    pub group: Option<String>,
}

/// Client options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CtlArgs {
    /// `-s socket`.
    pub socket: Option<String>,
    /// `-r`: restricted session.
    pub restricted: bool,
    /// The command words (empty: interactive, one command per stdin line).
    pub command: Vec<String>,
}

/// A command-line error (printed with the usage text, exit status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError(pub String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The usage text of `-h`.
pub const USAGE: &str = "\
Usage: birdd [--version] [--help] [-c <config-file>] [-d] [-D <debug-file>] [-p] [-s <control-socket>] [-P <pid-file>] [-u <user>] [-g <group>] [-f]
       birdd ctl [-s <control-socket>] [-r] [<command>...]

Options:
  -c <config-file>     Use given configuration file instead of the default
                       (/etc/birdd/birdd.conf, else the built-in example)
  -d                   Enable debug messages to stderr and run in foreground
  -f                   Run in foreground
  -g <group>           Use given group ID
  -h, --help           Display this information
  -p                   Test configuration file and exit without start
  -P <pid-file>        Create a PID file with given filename
  -s <control-socket>  Use given filename for a control socket
  -u <user>            Drop privileges and use given user ID
  --version            Display version of birdd

Client (ctl):
  -s <control-socket>  Socket to connect to (same default as the daemon)
  -r                   Restricted session (as birdc -r)
  <command>            One command (without it: one command per line of stdin)
";

fn value<'a>(it: &mut impl Iterator<Item = &'a String>, opt: &str) -> Result<String, ArgError> {
    it.next().cloned().ok_or_else(|| ArgError(format!("option requires an argument -- '{}'", &opt[1..])))
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Invocation, ArgError> {
    if args.first().map(String::as_str) == Some("ctl") {
        return parse_ctl(&args[1..]).map(Invocation::Ctl);
    }
    let mut d = DaemonArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(Invocation::Help),
            "--version" => return Ok(Invocation::Version),
            "-c" => d.config = Some(value(&mut it, a)?),
            "-s" => d.socket = Some(value(&mut it, a)?),
            "-P" => d.pidfile = Some(value(&mut it, a)?),
            "-u" => d.user = Some(value(&mut it, a)?),
            "-g" => d.group = Some(value(&mut it, a)?),
            "-f" => d.foreground = true,
            "-p" => d.parse_only = true,
            "-d" => {
                d.debug = true;
                d.foreground = true;
            }
            "-D" => {
                return Err(ArgError(
                    "-D <debug-file> is not available in this build; use log statements".into(),
                ))
            }
            other if other.starts_with('-') && other.len() > 2 && !other.starts_with("--") => {
                // Bundled short options (`-fd`) as getopt allows; options with values must stand alone.
                for c in other[1..].chars() {
                    match c {
                        'f' => d.foreground = true,
                        'p' => d.parse_only = true,
                        'd' => {
                            d.debug = true;
                            d.foreground = true;
                        }
                        _ => return Err(ArgError(format!("invalid option -- '{c}'"))),
                    }
                }
            }
            other if other.starts_with('-') => {
                return Err(ArgError(format!("invalid option -- '{}'", other.trim_start_matches('-'))))
            }
            other => return Err(ArgError(format!("unexpected argument '{other}'"))),
        }
    }
    Ok(Invocation::Daemon(d))
}

fn parse_ctl(args: &[String]) -> Result<CtlArgs, ArgError> {
    let mut c = CtlArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if !c.command.is_empty() {
            c.command.push(a.clone());
            continue;
        }
        match a.as_str() {
            "-s" => c.socket = Some(value(&mut it, a)?),
            "-r" => c.restricted = true,
            "--" => c.command.extend(it.by_ref().cloned()),
            other if other.starts_with('-') => {
                return Err(ArgError(format!("invalid option -- '{}'", other.trim_start_matches('-'))))
            }
            _ => c.command.push(a.clone()),
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Invocation, ArgError> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn daemon_options() {
        let Invocation::Daemon(d) = p("-c a.conf -s x.ctl -P p.pid -u bird -g bird -d").unwrap() else {
            panic!()
        };
        assert_eq!(d.config.as_deref(), Some("a.conf"));
        assert_eq!(d.socket.as_deref(), Some("x.ctl"));
        assert_eq!(d.pidfile.as_deref(), Some("p.pid"));
        assert_eq!((d.user.as_deref(), d.group.as_deref()), (Some("bird"), Some("bird")));
        assert!(d.debug && d.foreground && !d.parse_only);
        assert_eq!(p("--help").unwrap(), Invocation::Help);
        assert_eq!(p("-h").unwrap(), Invocation::Help);
        assert_eq!(p("--version").unwrap(), Invocation::Version);
        assert!(p("-c").is_err());
        assert!(p("-x").is_err());
        let Invocation::Daemon(d) = p("-fp").unwrap() else { panic!() };
        assert!(d.foreground && d.parse_only);
    }

    #[test]
    fn ctl_options() {
        let Invocation::Ctl(c) = p("ctl -s s.ctl -r show route count").unwrap() else { panic!() };
        assert_eq!(c.socket.as_deref(), Some("s.ctl"));
        assert!(c.restricted);
        assert_eq!(c.command, ["show", "route", "count"]);
        let Invocation::Ctl(c) = p("ctl").unwrap() else { panic!() };
        assert!(c.command.is_empty());
        // Words after the command are the command's, even if they look like options.
        let Invocation::Ctl(c) = p("ctl show route -s").unwrap() else { panic!() };
        assert_eq!(c.command, ["show", "route", "-s"]);
    }
}
