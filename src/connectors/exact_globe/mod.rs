//! Exact Globe client.
