//! Exact Online simulator: an axum server that answers like `start.exactonline.nl` (OAuth2,
//! rate limits, OData v2 verbose JSON, sync/bulk endpoints, write rules), seeded with Dutch and
//! Belgian data, with fault injection and call counters for tests.
//!
//! Built only from `reference/exact-online-api.md` and the field catalogue (`entities.json`);
//! it shares no code with `connectors`. Everything lives in memory behind one mutex; the clock
//! can be advanced so tests can cross the 570 s / 600 s token rules.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
//! let sim = OnlineSim::start(OnlineSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! let (access, _refresh) = sim.issue_tokens();
//! let url = format!("{}/api/v1/{}/salesorder/SalesOrders", sim.base_url(), sim.division());
//! # let _ = (access, url); sim.shutdown().await; Ok(()) }
//! ```

mod catalog;
mod faults;
mod filter;
mod limits;
mod oauth;
mod query;
mod seed;
mod server;
mod stats;
mod store;
mod wire;
mod writes;

pub use faults::{Faults, FaultsError};
pub use filter::{parse as parse_filter, Expr as FilterExpr, FilterError};

use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct OnlineSimConfig {
    /// Seed of every random choice (data, keys, tokens, faults).
    pub seed: u64,
    /// Sales orders to generate.
    pub orders: usize,
    /// Customer accounts to generate.
    pub customers: usize,
    /// Items to generate.
    pub products: usize,
    /// A folder of `<Table>.json` arrays to load instead of generated customers/items/orders.
    pub fixtures: Option<PathBuf>,
    /// OAuth client id of the (only) registered app.
    pub client_id: String,
    /// OAuth client secret of that app.
    pub client_secret: String,
    /// Calls per minute per app + division.
    pub minutely_limit: u32,
    /// Calls per day per app + division.
    pub daily_limit: u32,
    /// Injected faults.
    pub faults: Faults,
    /// Block an endpoint after more than 10 errors in an hour.
    pub error_budget: bool,
    /// The division number.
    pub division: i32,
}

impl Default for OnlineSimConfig {
    fn default() -> Self {
        OnlineSimConfig {
            seed: 42,
            orders: 200,
            customers: 80,
            products: 60,
            fixtures: None,
            client_id: "exflow-sim".into(),
            client_secret: "exflow-sim-secret".into(),
            minutely_limit: 60,
            daily_limit: 5000,
            faults: Faults::default(),
            error_budget: false,
            division: 123456,
        }
    }
}

/// State shared by the handler and the [`OnlineSim`] handle.
pub(crate) struct Shared {
    config: OnlineSimConfig,
    base_url: String,
    clock_offset_ms: AtomicI64,
    inner: Mutex<Inner>,
}

struct Inner {
    store: store::Store,
    oauth: oauth::OAuth,
    limiter: limits::Limiter,
    budget: limits::ErrorBudget,
    stats: stats::Stats,
    fault_rng: ChaCha8Rng,
    burst_left: u32,
}

impl Shared {
    /// Simulated now (epoch ms): the wall clock plus the test offset.
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.clock_offset_ms.load(Ordering::SeqCst)
    }

    fn advance(&self, secs: i64) {
        self.clock_offset_ms.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

/// A running simulator.
pub struct OnlineSim {
    shared: Arc<Shared>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl OnlineSim {
    /// Seeds the data, binds `addr` (port 0 picks a free port) and serves in a background task.
    pub async fn start(config: OnlineSimConfig, addr: SocketAddr) -> std::io::Result<OnlineSim> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let now = chrono::Utc::now().timestamp_millis();
        let mut store = store::Store::new(config.seed, config.division);
        seed::seed(&mut store, &config, now).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let inner = Inner {
            store,
            oauth: oauth::OAuth::default(),
            limiter: limits::Limiter::new(config.minutely_limit, config.daily_limit),
            budget: limits::ErrorBudget::default(),
            stats: stats::Stats::default(),
            fault_rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_fa17),
            burst_left: config.faults.burst429,
        };
        let shared = Arc::new(Shared {
            base_url: format!("http://{local}"),
            config,
            clock_offset_ms: AtomicI64::new(0),
            inner: Mutex::new(inner),
        });
        let app = server::router(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!("exact online simulator stopped: {e}");
            }
        });
        Ok(OnlineSim { shared, stop, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The division number.
    pub fn division(&self) -> i32 {
        self.shared.config.division
    }

    /// A fresh (access_token, refresh_token) pair, as after consent, without HTTP.
    pub fn issue_tokens(&self) -> (String, String) {
        let now = self.shared.now_ms();
        let mut inner = self.shared.inner.lock();
        let inner = &mut *inner;
        inner.oauth.issue(&mut inner.store.rng, now)
    }

    /// Moves the simulated clock forward (token lifetimes, rate-limit windows, `Modified`).
    pub fn advance_clock(&self, secs: i64) {
        self.shared.advance(secs);
    }

    /// Current rows of a table in wire shape (e.g. `SalesOrders`, `Accounts`, `Items`).
    pub fn records(&self, entity: &str) -> Vec<Value> {
        let inner = self.shared.inner.lock();
        let base = format!("{}/api/v1/{}/", self.shared.base_url, self.shared.config.division);
        let Some(ep) = catalog::crud_endpoint_of(entity) else {
            return inner.store.rows(entity).into_iter().map(|r| Value::Object(r.data.clone())).collect();
        };
        let shape = wire::Shape { select: None, expand: &[], base: &base };
        inner.store.rows(entity).into_iter().map(|r| wire::project(ep, r, &inner.store, &shape)).collect()
    }

    /// Creates a record as a user typing in Exact Online would (sets the key, `Timestamp`,
    /// sequences and defaults; any known field may be set); returns the stored record.
    pub fn insert(&self, entity: &str, record: Value) -> Result<Value, String> {
        let ep = catalog::crud_endpoint_of(entity).ok_or_else(|| format!("unknown entity {entity}"))?;
        let body = writes::check_body(ep, &record, writes::Write::Trusted).map_err(|e| e.message)?;
        let now = self.shared.now_ms();
        let mut inner = self.shared.inner.lock();
        let key = inner.store.create(ep.table, body, now).map_err(|e| e.message)?;
        drop(inner);
        self.records(entity)
            .into_iter()
            .find(|r| r.get(store::key_of(ep.table)).and_then(Value::as_str) == Some(key.as_str()))
            .ok_or_else(|| "record vanished".to_string())
    }

    /// Changes fields of a record (bumps `Timestamp` and `Modified`).
    pub fn update(&self, entity: &str, id: &str, changes: Value) -> Result<(), String> {
        let ep = catalog::crud_endpoint_of(entity).ok_or_else(|| format!("unknown entity {entity}"))?;
        let body = writes::check_body(ep, &changes, writes::Write::Trusted).map_err(|e| e.message)?;
        let now = self.shared.now_ms();
        self.shared.inner.lock().store.update(ep.table, id, body, now).map_err(|e| e.message)
    }

    /// Deletes a record (leaves a `sync/Deleted` tombstone where Exact keeps one).
    pub fn delete(&self, entity: &str, id: &str) -> Result<(), String> {
        let ep = catalog::crud_endpoint_of(entity).ok_or_else(|| format!("unknown entity {entity}"))?;
        let now = self.shared.now_ms();
        self.shared.inner.lock().store.delete(ep.table, id, now).map_err(|e| e.message)
    }

    /// The JSON of `GET /_sim/stats`.
    pub fn stats(&self) -> Value {
        self.shared.inner.lock().stats.json()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
