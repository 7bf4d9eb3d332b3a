//! birdd (being written).
fn main() {}
