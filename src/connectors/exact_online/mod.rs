//! Exact Online client.
