//! Exact Globe simulator: the Entity Services REST API (`/services/Exact.Entity.REST.EG/...`,
//! OData v2 verbose JSON) as `../shared/reference/exact-globe-api.md` describes it, in memory,
//! with fault injection and call counters. Uses axum, the embedded catalogue (`entities.json`)
//! and nothing from `connectors` (a simulator built on the client's types would share its
//! mistakes).
//!
//! Parts: `catalog` (entities and properties), `value` (dates, GUIDs, padding), `filter`
//! (`$filter`), `store` (administrations), `write` (create/update/delete rules), `documents`
//! (line-then-header protocol), `service` (one request), `server` (HTTP, faults, stats),
//! `metadata` (`$metadata`), `auth` (NTLM and Basic), `ntlm` (the NTLMv2 handshake), `conn` (cuttable connections),
//! `seed` (data). User documentation: `docs/exact-globe-simulator.md`.
//!
//! Change tracking: PU415 exposes no rowversion over REST (the `timestamp` column exists only in
//! SQL), but most master-data entities carry `ModifiedDate` (Account, ContactPerson, Address,
//! Item, ItemAssortment, VAT, PaymentCondition, CostCenter, CostUnit, Warehouse,
//! Classification, ...). The simulator stamps `CreatedDate`/`ModifiedDate` on every write from a
//! clock that never repeats a millisecond, so `$filter=ModifiedDate gt datetime'…'` reads the
//! changes since a point. Documents (orders, invoices, financial entries) have no such field,
//! as in PU415. A change to an account's main contact moves `ContactModifiedDate`, not
//! `ModifiedDate` (two columns in Globe).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
//! let sim = GlobeSim::start(GlobeSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("exact_globe {}", sim.base_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod catalog;
mod conn;
mod documents;
mod faults;
mod filter;
mod metadata;
pub mod ntlm;
mod seed;
mod server;
mod service;
mod store;
mod value;
mod write;

pub use faults::{Faults, FaultsError};

use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// How to start the simulator.
#[derive(Clone)]
pub struct GlobeSimConfig {
    /// Seed of the generated data and of the fault RNG.
    pub seed: u64,
    /// A folder of `{Entity}.json` files, each a JSON array of records, loaded into the
    /// default administration after the seed data.
    pub fixtures: Option<PathBuf>,
    /// The user, for NTLM (NTLMv2, any domain) and Basic (`DOMAIN\user` accepted).
    pub user: String,
    /// The user's password.
    pub password: String,
    /// `(ServerName, DatabaseName)` pairs; the first is the default one.
    pub administrations: Vec<(String, String)>,
    /// Faults to inject.
    pub faults: Faults,
    /// Generated items per administration.
    pub items: usize,
    /// Generated debtors per administration.
    pub debtors: usize,
}

impl std::fmt::Debug for GlobeSimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password stays out of logs.
        f.debug_struct("GlobeSimConfig")
            .field("seed", &self.seed)
            .field("fixtures", &self.fixtures)
            .field("user", &self.user)
            .field("password", &"***")
            .field("administrations", &self.administrations)
            .field("faults", &self.faults)
            .field("items", &self.items)
            .field("debtors", &self.debtors)
            .finish()
    }
}

impl Default for GlobeSimConfig {
    fn default() -> Self {
        GlobeSimConfig {
            seed: 42,
            fixtures: None,
            user: "exflow".into(),
            password: "exflow".into(),
            administrations: vec![("localhost".into(), "500".into())],
            faults: Faults::default(),
            items: 20,
            debtors: 12,
        }
    }
}

/// A running simulator.
pub struct GlobeSim {
    shared: Arc<server::Shared>,
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

impl GlobeSim {
    /// Binds `addr` (port 0 picks a free port), seeds the administrations and serves.
    pub async fn start(config: GlobeSimConfig, addr: SocketAddr) -> std::io::Result<GlobeSim> {
        let listener = conn::CuttableListener(tokio::net::TcpListener::bind(addr).await?);
        let local = listener.addr()?;
        let host = if local.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            local.ip().to_string()
        };
        let base = format!("http://{host}:{}", local.port());

        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut world = server::World::new(Vec::new());
        let admins = if config.administrations.is_empty() {
            GlobeSimConfig::default().administrations
        } else {
            config.administrations.clone()
        };
        for (server_name, database) in &admins {
            let mut admin = store::Admin {
                server: server_name.clone(),
                database: database.clone(),
                company: database.chars().take(3).collect(),
                tables: store::empty_tables(),
                guid_seed: config.seed ^ (world.admins.len() as u64).wrapping_mul(0x0100_0000_01b3),
                ..Default::default()
            };
            let now = world.now();
            seed::seed(&mut admin, &mut rng, config.debtors, config.items, now).map_err(invalid)?;
            world.admins.push(admin);
        }
        if let Some(dir) = &config.fixtures {
            load_fixtures(&mut world, dir)?;
        }
        let shared = Arc::new(server::Shared {
            world: Mutex::new(world),
            stats: Mutex::new(server::Stats::default()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_fa17)),
            faults: Mutex::new(config.faults.clone()),
            user: config.user.clone(),
            password: config.password.clone(),
            needs_restart: AtomicBool::new(false),
            base: base.clone(),
        });
        let app = server::router(shared.clone())
            .into_make_service_with_connect_info::<conn::ConnHandle>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(GlobeSim {
            shared,
            base,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// Committed rows of `entity` in the default administration, in wire shape (staged
    /// document lines left out). Unknown entity: empty.
    pub fn records(&self, entity: &str) -> Vec<Value> {
        let Some(e) = catalog::Catalog::get().entity(entity) else {
            return Vec::new();
        };
        let world = self.shared.world.lock();
        world
            .admins
            .first()
            .map(|a| service::committed(a, e, &self.base))
            .unwrap_or_default()
    }

    /// Document lines staged under a TransactionKey that no header has committed.
    pub fn staged_lines(&self) -> Vec<Value> {
        let world = self.shared.world.lock();
        world
            .admins
            .first()
            .map(|a| service::staged(a, &self.base))
            .unwrap_or_default()
    }

    /// Creates a record in the default administration as a Globe user would (defaults,
    /// padding, numbering, validation); returns it in wire shape.
    pub fn insert(&self, entity: &str, record: Value) -> Result<Value, String> {
        let e = catalog::Catalog::get()
            .entity(entity)
            .ok_or_else(|| format!("unknown entity '{entity}'"))?;
        let mut world = self.shared.world.lock();
        let now = world.now();
        let admin = world.admins.first_mut().ok_or("no administration")?;
        let rec = write::create(admin, e, &record, now).map_err(|err| err.message)?;
        Ok(service::to_wire(e, &rec, &self.base, None))
    }

    /// Partially updates the record with this key (a GUID, a code, or a number; right-aligned
    /// codes are padded for you).
    pub fn update(&self, entity: &str, key: &str, changes: Value) -> Result<(), String> {
        let e = catalog::Catalog::get()
            .entity(entity)
            .ok_or_else(|| format!("unknown entity '{entity}'"))?;
        let key = store::parse_key(e, key, true).map_err(|err| err.message)?;
        let mut world = self.shared.world.lock();
        let now = world.now();
        let admin = world.admins.first_mut().ok_or("no administration")?;
        write::update(admin, e, &key, &changes, now).map_err(|err| err.message)
    }

    /// The call counters, as `GET /_sim/stats` returns them.
    pub fn stats(&self) -> Value {
        self.shared.stats.lock().to_json()
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

fn load_fixtures(world: &mut server::World, dir: &std::path::Path) -> std::io::Result<()> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    // Reference data before the records that point at it.
    let order = [
        "VAT",
        "PaymentCondition",
        "ShippingMethod",
        "Warehouse",
        "CostCenter",
        "CostUnit",
        "Classification",
        "ItemAssortment",
        "Account",
        "Item",
    ];
    files.sort_by_key(|p| {
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        (
            order
                .iter()
                .position(|o| o.eq_ignore_ascii_case(&stem))
                .unwrap_or(order.len()),
            stem,
        )
    });
    for path in files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let e = catalog::Catalog::get()
            .entity(stem)
            .ok_or_else(|| invalid(format!("{}: no entity '{stem}'", path.display())))?;
        let text = std::fs::read_to_string(&path)?;
        let rows: Vec<Value> = serde_json::from_str(&text)
            .map_err(|err| invalid(format!("{}: not a JSON array: {err}", path.display())))?;
        let now = world.now();
        let admin = world
            .admins
            .first_mut()
            .ok_or_else(|| invalid("no administration".into()))?;
        for (i, row) in rows.iter().enumerate() {
            write::create(admin, e, row, now).map_err(|err| {
                invalid(format!("{} record {i}: {}", path.display(), err.message))
            })?;
        }
    }
    Ok(())
}
