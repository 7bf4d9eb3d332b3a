//! `enable`, `disable`, `restart` on protocols by name, `"pattern"` or `all`.

use birdcli::format::actions::{proto_actions, ProtoOutcome};
use birdcli::{code, ProtoTarget, ReplyWriter};

use birdproto::PState;

use crate::daemon::Daemon;

/// The action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `enable`
    Enable,
    /// `disable`
    Disable,
    /// `restart`
    Restart,
    /// `reload [in|out]`
    Reload(birdcli::ReloadDir),
}

/// Shell-style pattern match (`*`, `?`), as BIRD's `patmatch`.
pub fn patmatch(pat: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(&p, &s)
}

/// Indices of the protocols a target names; `Err` is the reply for an unknown symbol.
pub fn select(d: &Daemon, target: &ProtoTarget) -> Result<Vec<usize>, (u16, String)> {
    let protos = &d.rt.protos;
    match target {
        ProtoTarget::All => Ok((0..protos.len()).collect()),
        ProtoTarget::Pattern(p) => {
            Ok(protos.iter().enumerate().filter(|(_, x)| patmatch(p, &x.cfg.name)).map(|(i, _)| i).collect())
        }
        ProtoTarget::Name(n) => match protos.iter().position(|x| &x.cfg.name == n) {
            Some(i) => Ok(vec![i]),
            None if d.rt.config.table(n).is_some() || d.rt.config.filter(n).is_some() => {
                Err((code::PARSE_ERROR, format!("{n} is not a protocol")))
            }
            None => Err((code::PARSE_ERROR, "syntax error, unexpected CF_SYM_UNDEFINED".into())),
        },
    }
}

/// Runs the action and writes the reply. The protocol's loop carries it out; the reply reflects the
/// state when the command was given, as BIRD's does.
pub fn run(
    d: &mut Daemon,
    action: Action,
    target: &ProtoTarget,
    message: Option<String>,
    w: &mut ReplyWriter,
) {
    let idx = match select(d, target) {
        Ok(v) => v,
        Err((c, t)) => {
            w.finish(c, t);
            return;
        }
    };
    let mut results = Vec::new();
    for i in idx {
        let e = &mut d.rt.protos[i];
        let name = e.cfg.name.clone();
        let Some(st) = e.handle.state() else { continue };
        let disabled = e.want_disabled.unwrap_or(st.disabled);
        let down = disabled || st.state == PState::Down;
        let outcome = match action {
            Action::Disable if down => ProtoOutcome::AlreadyDisabled,
            Action::Disable => {
                e.want_disabled = Some(true);
                e.handle.disable(message.clone());
                tracing::info!("Disabling protocol {name}");
                ProtoOutcome::Disabled
            }
            Action::Enable if !disabled => ProtoOutcome::AlreadyEnabled,
            Action::Enable => {
                e.want_disabled = Some(false);
                e.handle.enable();
                tracing::info!("Enabling protocol {name}");
                ProtoOutcome::Enabled
            }
            Action::Reload(_) if down || st.state != PState::Up => ProtoOutcome::NotUp,
            Action::Reload(dir) => {
                e.handle.reload(match dir {
                    birdcli::ReloadDir::In => birdproto::ReloadDir::In,
                    birdcli::ReloadDir::Out => birdproto::ReloadDir::Out,
                    birdcli::ReloadDir::Both => birdproto::ReloadDir::Both,
                });
                ProtoOutcome::Reloading
            }
            Action::Restart if down => ProtoOutcome::AlreadyDisabled,
            Action::Restart => {
                e.handle.restart(message.clone());
                tracing::info!("Restarting protocol {name}");
                ProtoOutcome::Restarted
            }
        };
        results.push((name, outcome));
    }
    proto_actions(w, &results);
}

#[cfg(test)]
mod tests {
    use super::patmatch;

    #[test]
    fn patterns() {
        assert!(patmatch("peer*", "peer_b4"));
        assert!(patmatch("*4", "static4"));
        assert!(patmatch("st?tic4", "static4"));
        assert!(!patmatch("peer*", "static4"));
        assert!(patmatch("*", ""));
    }
}
