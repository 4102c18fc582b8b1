//! Faithful simulators of Exact Online and Exact Globe (axum), for tests, demos and users.
//!
//! They share no code with `connectors`: each is checked against `reference/`, never against
//! the client, so that a misunderstanding in one cannot hide in the other.

pub mod exact_globe;
pub mod exact_online;
