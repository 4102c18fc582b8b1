//! exflow: declarative pipelines that keep Exact Online and Exact Globe in step.
pub mod cli;
pub mod connectors;
pub mod engine;
pub mod lang;
pub mod pipeline;
pub mod schema;
pub mod sim;
pub mod state;
