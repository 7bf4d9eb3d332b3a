//! Kernel sync (being written).
