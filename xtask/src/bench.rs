//! `cargo xtask bench`: the route-server benchmark (rsbench) for birdd and BIRD 2, side by side.

use crate::Step;

pub(crate) fn bench(_args: &[String]) -> Step {
    eprintln!("xtask: bench: not implemented yet");
    Err(2)
}
