//! BIRD filter language (being written).
