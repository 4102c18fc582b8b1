//! Exact Globe simulator.
