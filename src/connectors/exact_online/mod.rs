//! Exact Online client: OAuth2 with rotating refresh tokens kept in the state store, one
//! shared header-driven rate limiter per app + division, OData paging through `__next`,
//! batched `or` lookups under the URL limit, safe retries, and the [`Connector`] impl.
//!
//! Works against the real `start.exactonline.*` hosts unchanged; tests point it at the
//! simulator. May use: `state::tokens`, `schema`, reqwest. Never `sim`.
//!
//! [`Connector`]: crate::connectors::Connector

pub mod client;
pub mod config;
pub mod connector;
pub mod entities;
pub mod error_budget;
pub mod odata;
pub mod paging;
pub mod per_division;
pub mod rate_limit;
pub mod token;

pub use client::ExactOnlineClient;
pub use config::OnlineConfig;
pub use token::{AuthError, TokenManager};
