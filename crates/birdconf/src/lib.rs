//! BIRD configuration language (being written).
