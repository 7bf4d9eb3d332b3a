//! BGP for birdd (being written).
