//! Protocol and channel framework (being written).
