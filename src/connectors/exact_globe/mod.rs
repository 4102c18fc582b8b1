//! Exact Globe client: the Entity Services REST API (OData v2, on the customer's server).
//!
//! `config` holds the connection, `catalogue` the compiled-in field reference (casing, keys,
//! lengths), `padding` the right-aligned codes, `odata` literals, filters and response shapes,
//! `ntlm` the Windows authentication messages, `transport` one request and its safe retries,
//! `client` URLs and basic operations, `document` the line-then-header protocol and
//! `connector` the engine's [`Connector`](crate::connectors::Connector) on top.
//! May use `connectors` types only; never `sim` (the simulator is checked against the
//! reference, not against this client).

pub mod catalogue;
pub mod client;
pub mod config;
pub mod connector;
pub mod document;
pub mod ntlm;
pub mod odata;
pub mod padding;
pub mod transport;

pub use client::ExactGlobeClient;
pub use config::{GlobeAuth, GlobeConfig};
