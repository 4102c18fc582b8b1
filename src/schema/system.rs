//! The two systems exflow connects: the first thing every catalogue question names.

use serde::{Deserialize, Serialize};

/// The two systems exflow connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// Exact Online, the cloud ERP (REST/OData, OAuth2).
    ExactOnline,
    /// Exact Globe, the on-premise ERP (Entity Services, REST/OData v2).
    ExactGlobe,
}

impl System {
    /// The name used in pipeline files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            System::ExactOnline => "exact_online",
            System::ExactGlobe => "exact_globe",
        }
    }

    /// Parses `exact_online` / `exact_globe` (also accepts `-` for `_`).
    pub fn parse(s: &str) -> Option<System> {
        match s.replace('-', "_").as_str() {
            "exact_online" => Some(System::ExactOnline),
            "exact_globe" => Some(System::ExactGlobe),
            _ => None,
        }
    }
}

impl std::fmt::Display for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
