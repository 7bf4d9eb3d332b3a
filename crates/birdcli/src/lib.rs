//! BIRD control-socket protocol (being written).
