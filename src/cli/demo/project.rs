//! The demo's world: both simulators started in-process on 127.0.0.1 port 0, and a project
//! folder pointing at them (an `exflow.yaml`, the standard pipelines embedded in the binary,
//! an imported Exact Online token pair in the state store). Shared by `exflow demo` and the
//! API-call benchmark.

use crate::pipeline::{self, Diagnostics, Project};
use crate::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use crate::sim::exact_online::{OnlineSim, OnlineSimConfig};
use crate::state::tokens::{StoredToken, TokenStore};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The standard pipelines, their tables, scripts and tests, as shipped in `pipelines/`:
/// embedded so the demo (and `exflow init`) works from any folder.
pub(crate) const STANDARD_FILES: &[(&str, &str)] = &[
    (
        "customer_contacts.yaml",
        include_str!("../../../pipelines/customer_contacts.yaml"),
    ),
    (
        "customers.yaml",
        include_str!("../../../pipelines/customers.yaml"),
    ),
    (
        "customers.test.yaml",
        include_str!("../../../pipelines/customers.test.yaml"),
    ),
    (
        "orders.yaml",
        include_str!("../../../pipelines/orders.yaml"),
    ),
    (
        "orders.test.yaml",
        include_str!("../../../pipelines/orders.test.yaml"),
    ),
    (
        "products.yaml",
        include_str!("../../../pipelines/products.yaml"),
    ),
    (
        "products.test.yaml",
        include_str!("../../../pipelines/products.test.yaml"),
    ),
    (
        "scripts/address.rhai",
        include_str!("../../../pipelines/scripts/address.rhai"),
    ),
    (
        "tables/debtor_vat_by_country.yaml",
        include_str!("../../../pipelines/tables/debtor_vat_by_country.yaml"),
    ),
    (
        "tables/online_vat_by_country.yaml",
        include_str!("../../../pipelines/tables/online_vat_by_country.yaml"),
    ),
    (
        "tables/payment_conditions.yaml",
        include_str!("../../../pipelines/tables/payment_conditions.yaml"),
    ),
    (
        "tables/payment_conditions_to_online.yaml",
        include_str!("../../../pipelines/tables/payment_conditions_to_online.yaml"),
    ),
    (
        "tables/revenue_account_by_country.yaml",
        include_str!("../../../pipelines/tables/revenue_account_by_country.yaml"),
    ),
    (
        "tables/shipping_methods.yaml",
        include_str!("../../../pipelines/tables/shipping_methods.yaml"),
    ),
    (
        "tables/vat_by_country.yaml",
        include_str!("../../../pipelines/tables/vat_by_country.yaml"),
    ),
    (
        "tables/vat_codes.yaml",
        include_str!("../../../pipelines/tables/vat_codes.yaml"),
    ),
    (
        "tables/vat_rates.yaml",
        include_str!("../../../pipelines/tables/vat_rates.yaml"),
    ),
    (
        "tables/customer_classifications.yaml",
        include_str!("../../../pipelines/tables/customer_classifications.yaml"),
    ),
    (
        "tables/variant_colours.yaml",
        include_str!("../../../pipelines/tables/variant_colours.yaml"),
    ),
    (
        "tables/variant_models.yaml",
        include_str!("../../../pipelines/tables/variant_models.yaml"),
    ),
    (
        "tables/variant_sizes.yaml",
        include_str!("../../../pipelines/tables/variant_sizes.yaml"),
    ),
];

/// The environment variables `exflow.yaml` takes the simulators' credentials from, as for
/// real systems (credentials never go in the project file).
pub const CREDENTIAL_VARS: [&str; 4] = [
    "EXACT_ONLINE_CLIENT_ID",
    "EXACT_ONLINE_CLIENT_SECRET",
    "EXACT_GLOBE_USER",
    "EXACT_GLOBE_PASSWORD",
];

/// Why the demo's world could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A simulator could not start (no free port, bad seed data).
    #[error("cannot start the {system} simulator: {source}")]
    Simulator {
        /// Which one.
        system: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The project folder could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The written project does not load (a bug of the embedded files).
    #[error("the demo project does not load:\n{0}")]
    Project(String),
    /// The token pair could not be stored.
    #[error("cannot store the Exact Online tokens: {0}")]
    Tokens(String),
}

/// Puts the simulators' credentials in this process's environment, where `exflow.yaml`
/// reads them. Call it before any thread starts (before the tokio runtime): changing the
/// environment while other threads may read it is not safe.
pub fn export_credentials(online: &OnlineSimConfig, globe: &GlobeSimConfig) {
    let values = [
        online.client_id.as_str(),
        online.client_secret.as_str(),
        globe.user.as_str(),
        globe.password.as_str(),
    ];
    for (name, value) in CREDENTIAL_VARS.iter().zip(values) {
        std::env::set_var(name, value);
    }
}

/// Both simulators, running in the current tokio runtime.
pub struct Sims {
    /// Exact Online.
    pub online: OnlineSim,
    /// Exact Globe.
    pub globe: GlobeSim,
}

impl Sims {
    /// Starts both on 127.0.0.1 port 0.
    pub async fn start(online: OnlineSimConfig, globe: GlobeSimConfig) -> Result<Sims, SetupError> {
        let any: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
        let online =
            OnlineSim::start(online, any)
                .await
                .map_err(|source| SetupError::Simulator {
                    system: "Exact Online",
                    source,
                })?;
        let globe = GlobeSim::start(globe, any)
            .await
            .map_err(|source| SetupError::Simulator {
                system: "Exact Globe",
                source,
            })?;
        Ok(Sims { online, globe })
    }

    /// Stops both and waits for them.
    pub async fn shutdown(self) {
        self.online.shutdown().await;
        self.globe.shutdown().await;
    }
}

/// The `exflow.yaml` of the demo: the standard one, with the simulators' addresses.
fn project_file(sims: &Sims) -> String {
    format!(
        "# The exflow demo project: both systems are simulators started by `exflow demo`.\n\
         # Credentials come from the environment, as for the real systems.\n\
         project: exflow-demo\n\
         state: .exflow/state.db\n\
         retention_days: 30          # activity log older than this is purged\n\
         redact_payloads: false      # true: names, e-mails, phones and addresses are not stored\n\
         \n\
         connections:\n\
         \x20 exact_online:\n\
         \x20   base_url: ${{EXACT_ONLINE_BASE_URL:-{online}}}\n\
         \x20   division: {division}\n\
         \x20   client_id: ${{EXACT_ONLINE_CLIENT_ID}}\n\
         \x20   client_secret: ${{EXACT_ONLINE_CLIENT_SECRET}}\n\
         \x20   redirect_uri: http://127.0.0.1:8787/callback\n\
         \x20   daily_reserve: 500\n\
         \x20 exact_globe:\n\
         \x20   base_url: ${{EXACT_GLOBE_BASE_URL:-{globe}}}\n\
         \x20   server_name: localhost\n\
         \x20   database_name: \"500\"\n\
         \x20   user: ${{EXACT_GLOBE_USER}}\n\
         \x20   password: ${{EXACT_GLOBE_PASSWORD}}\n\
         \n\
         vars:\n\
         \x20 default_debtor: null      # a debtor number puts every order on that debtor\n\
         \x20 home_country: NL\n\
         \x20 currency: EUR\n\
         \x20 prices_include_vat: false\n\
         \x20 skip_item_prefix: \"TMP-\"\n",
        online = SIM_ONLINE_URL,
        division = sims.online.division(),
        globe = SIM_GLOBE_URL,
    )
}

/// Where `exflow sim` serves Exact Online by default: the kept demo project points there.
pub const SIM_ONLINE_URL: &str = "http://127.0.0.1:8900";
/// Where `exflow sim` serves Exact Globe by default.
pub const SIM_GLOBE_URL: &str = "http://127.0.0.1:8020";

fn write(path: &Path, text: &str) -> Result<(), SetupError> {
    let fail = |source| SetupError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

/// Writes the project into `dir` (which should be empty), loads it (environment variables
/// must be set: [`export_credentials`]) and imports a fresh Exact Online token pair into its
/// state store, as `exflow auth exact-online` would after consent.
pub fn write_project(dir: &Path, sims: &Sims) -> Result<Project, SetupError> {
    write(&dir.join("exflow.yaml"), &project_file(sims))?;
    for (name, text) in STANDARD_FILES {
        write(&dir.join("pipelines").join(name), text)?;
    }
    let mut project = pipeline::load_project(dir).map_err(|d| SetupError::Project(describe(&d)))?;
    // The file names `exflow sim`'s addresses (for later); this run talks to its own.
    if let Some(c) = project.config.exact_online.as_mut() {
        c.base_url = sims.online.base_url();
    }
    if let Some(c) = project.config.exact_globe.as_mut() {
        c.base_url = sims.globe.base_url();
    }
    import_tokens(&project, sims)?;
    Ok(project)
}

fn describe(diags: &Diagnostics) -> String {
    diags.to_string()
}

/// Stores a token pair the Online simulator issued under the key the client looks for.
fn import_tokens(project: &Project, sims: &Sims) -> Result<(), SetupError> {
    let Some(online) = &project.config.exact_online else {
        return Err(SetupError::Tokens(
            "exflow.yaml connects no Exact Online".into(),
        ));
    };
    log_in(&sims.online, &project.state_path(), &online.client_id)
}

/// Stores a fresh token pair of `sim` in the state at `state` under `client_id`'s key, as
/// `exflow auth exact-online` would after consent (`exflow sim --project` does the same).
pub fn log_in(sim: &OnlineSim, state: &Path, client_id: &str) -> Result<(), SetupError> {
    let (access_token, refresh_token) = sim.issue_tokens();
    let now = chrono::Utc::now().timestamp();
    let store = TokenStore::open(state).map_err(|e| SetupError::Tokens(e.to_string()))?;
    store
        .save(
            &format!("exact_online:{client_id}"),
            &StoredToken {
                access_token,
                refresh_token,
                // The simulator's access tokens live 600 s, like Exact Online's.
                access_expires_at: now + 600,
                refreshed_at: now,
            },
        )
        .map_err(|e| SetupError::Tokens(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::STANDARD_FILES;

    /// A file added to `pipelines/` but not embedded would make the demo's project fail to
    /// load (a table the pipelines use, missing).
    #[test]
    fn every_standard_file_is_embedded_as_it_is() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines");
        let mut on_disk = Vec::new();
        for dir in ["", "tables", "scripts"] {
            for e in std::fs::read_dir(root.join(dir)).expect("pipelines folder") {
                let p = e.expect("entry").path();
                if p.is_file() {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    on_disk.push(match dir {
                        "" => name.to_string(),
                        d => format!("{d}/{name}"),
                    });
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = STANDARD_FILES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        for (name, text) in STANDARD_FILES {
            let disk = std::fs::read_to_string(root.join(name)).expect("file");
            assert_eq!(&disk, text, "{name}");
        }
    }
}
