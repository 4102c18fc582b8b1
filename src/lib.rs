//! exflow: declarative pipelines that keep Exact Online and Exact Globe in step.
//!
//! A pipeline file is loaded with a position for every value, checked against the entity
//! catalogue of both systems, and its expressions compiled once; mapping a record is then
//! a walk over pre-resolved paths:
//!
//! ```
//! use exflow::pipeline::{self, apply::{apply_map, MapEnv}};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("products.yaml");
//! std::fs::write(&file, r#"
//! pipeline: products
//! source: { system: exact_online, entity: Items }
//! target: { system: exact_globe, entity: Item, match: ItemCode == Code, on_match: update }
//! map:
//!   ItemCode: Code
//!   CountrySpecificDescription: left(upper(Description), 60)
//!   SalesPrice: round(StandardSalesPrice * 1.21, 2)
//!   SalesCurrency: "EUR"
//!   CostPriceCurrency: "EUR"
//!   SalesPriceType: 1
//!   SecurityLevel: 10
//!   CountrySpecificAvailableFrom: "2026-01-01"
//! "#).unwrap();
//!
//! let (project, diagnostics) = pipeline::load(&[file], false);
//! assert!(!diagnostics.has_errors(), "{diagnostics}");
//! let project = project.unwrap();
//! let products = project.pipeline("products").unwrap();
//!
//! let item = json!({"Code": "KOF-001", "Description": "Koffie", "StandardSalesPrice": 10.0});
//! let env = MapEnv { vars: &project.vars, tables: &project.tables, scripts: None };
//! let mapped = apply_map(&products.map, &item, &[], &env).unwrap();
//! assert_eq!(mapped["CountrySpecificDescription"], "KOFFIE");
//! assert_eq!(mapped["SalesPrice"], 12.1);
//! ```
//!
//! Layers: `lang` (the mapping language, no I/O) <- `pipeline` (files, checks) and `schema`
//! (the catalogue) <- `engine` (plans and runs, through the `connectors` trait, keeping
//! `state`). `sim` holds faithful simulators of both systems and shares no code with
//! `connectors`. `cli` is one file per command.

pub mod cli;
pub mod connectors;
pub mod engine;
pub mod lang;
pub mod notify;
pub mod pipeline;
pub mod schema;
pub mod serve;
pub mod sim;
pub mod state;
pub mod web;
