//! Exact Online simulator.
