//! `exflow serve`: the integration as a service. Every pipeline runs on its `schedule:`
//! (missed moments caught up once), and Exact Online webhooks trigger debounced incremental
//! runs of the pipelines reading their topic; runs go one at a time in dependency order
//! (so never two of one pipeline at once; the state store's run lock guards against other
//! processes). Failures are notified, everything is counted on `/metrics`, and edits of the
//! project are picked up once they validate. SIGTERM/SIGINT: the run in hand ends after its
//! current page with the cursor stored, then the process exits 0.
//! Parts: `scheduler` (when), `triggers` (what is pending), `webhook` (intake),
//! `reload` (hot reload), `worker` (runs and what follows them).
//! May use: `engine`, `notify`, `web`, `pipeline`, `state`, `connectors`, and the shared
//! setup in `cli::connect`.

mod dashboard;
mod reload;
pub mod scheduler;
pub mod triggers;
pub mod webhook;
mod worker;

use crate::cli::connect::{connect, state_store, ConnectError};
use crate::connectors::exact_online::ExactOnlineClient;
use crate::connectors::System;
use crate::engine::Connectors;
use crate::notify::Notifier;
use crate::pipeline::schedule::Schedule;
use crate::pipeline::Project;
use crate::state::{SqliteStore, StateStore};
use crate::web::{Health, Metrics, WebState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use parking_lot::{Mutex, RwLock};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use triggers::{Trigger, Triggers};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The project folder.
    pub project: PathBuf,
    /// Where to listen (127.0.0.1 unless asked otherwise).
    pub listen: SocketAddr,
    /// Ask for the dashboard login even on a loopback address (elsewhere it always is).
    pub dashboard_login: bool,
}

/// Why `serve` could not start or went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is invalid (exit 2).
    #[error("{0}")]
    Invalid(String),
    /// Something else failed (exit 1).
    #[error("{0}")]
    Failed(String),
}

/// A validated project with its connectors: swapped whole on reload.
pub struct Loaded {
    /// The project.
    pub project: Project,
    /// Its connectors.
    pub conns: Connectors,
    /// The Exact Online client (rate limits), when a pipeline uses Exact Online.
    pub online: Option<ExactOnlineClient>,
    /// Why Exact Online is not connected (no token yet, the login lost): the service runs
    /// on, the pipelines that need it wait, and the dashboard offers **Connect**.
    pub online_problem: Option<String>,
}

impl Loaded {
    /// Whether `p` cannot run now because Exact Online is not connected.
    pub fn waits_for_online(&self, p: &crate::pipeline::Pipeline) -> bool {
        self.online_problem.is_some() && uses_online(p)
    }
}

fn uses_online(p: &crate::pipeline::Pipeline) -> bool {
    [p.source.system, p.target.system].contains(&System::ExactOnline)
}

async fn open(project: Project) -> Result<Loaded, ServeError> {
    let pipelines: Vec<_> = project.pipelines.iter().collect();
    let connected = connect(&project, &pipelines)
        .await
        .and_then(|(conns, online)| {
            // With the division in exflow.yaml the client is built without a call: ask the
            // token store, or the service would say "connected" with no login.
            match online.as_ref().map(|c| c.tokens().is_stored()) {
                Some(Ok(false)) => Err(ConnectError::Invalid {
                    system: System::ExactOnline,
                    message: crate::connectors::exact_online::token::AuthError::NoToken(
                        online
                            .as_ref()
                            .map(|c| c.config().token_key.clone())
                            .unwrap_or_default(),
                    )
                    .to_string(),
                }),
                Some(Err(e)) => Err(ConnectError::Invalid {
                    system: System::ExactOnline,
                    message: e.to_string(),
                }),
                _ => Ok((conns, online)),
            }
        });
    match connected {
        Ok((conns, online)) => Ok(Loaded {
            project,
            conns,
            online,
            online_problem: None,
        }),
        // A service must come up without a login: it is how the dashboard gets one.
        Err(ConnectError::Invalid {
            system: System::ExactOnline,
            message,
        }) => {
            let rest: Vec<_> = pipelines.into_iter().filter(|p| !uses_online(p)).collect();
            let (conns, _) = connect(&project, &rest)
                .await
                .map_err(|e| ServeError::Invalid(e.to_string()))?;
            tracing::warn!("Exact Online is not connected, its pipelines wait: {message}");
            Ok(Loaded {
                project,
                conns,
                online: None,
                online_problem: Some(message),
            })
        }
        Err(e) => Err(ServeError::Invalid(e.to_string())),
    }
}

/// The running service, shared by the worker and the HTTP handlers.
pub struct Service {
    root: PathBuf,
    loaded: RwLock<Arc<Loaded>>,
    store: Arc<SqliteStore>,
    triggers: Triggers,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    notifier: RwLock<Notifier>,
    book: Mutex<scheduler::Book>,
    purge: Mutex<Option<(Schedule, chrono::DateTime<Utc>)>>,
    stop: Arc<AtomicBool>,
    /// Warnings already sent (budget per reset, token per day): said once, not every run.
    warned: Mutex<std::collections::HashSet<String>>,
}

impl Service {
    fn current(&self) -> Arc<Loaded> {
        self.loaded.read().clone()
    }

    /// Puts a freshly opened project in place: its schedules, purge, notifier.
    fn install(&self, loaded: Loaded) {
        let system = System::ExactOnline;
        self.health
            .set_system(system, loaded.online_problem.clone());
        let mut book = self.book_for(&loaded.project);
        book.carry_over(&self.book.lock());
        *self.book.lock() = book;
        *self.purge.lock() = Service::purge_for(&loaded.project);
        *self.notifier.write() = notifier_for(&loaded.project, &self.metrics);
        *self.loaded.write() = Arc::new(loaded);
    }

    /// Loads the project again and reconnects (after a login from the dashboard); the
    /// pipelines that waited for Exact Online run at once. Err: why it is still offline.
    async fn reopen(&self) -> Result<(), String> {
        let project = reload::load(&self.root)?;
        let loaded = open(project).await.map_err(|e| e.to_string())?;
        let problem = loaded.online_problem.clone();
        let waited: Vec<String> = self
            .current()
            .project
            .pipelines
            .iter()
            .filter(|p| uses_online(p))
            .map(|p| p.name.clone())
            .collect();
        self.install(loaded);
        match problem {
            Some(p) => Err(p),
            None => {
                for name in waited {
                    self.triggers.request(&name, Utc::now(), Trigger::Connected);
                }
                Ok(())
            }
        }
    }

    fn notifier(&self) -> Notifier {
        self.notifier.read().clone()
    }

    /// Builds the schedule book of `project`, from the runs in the store.
    fn book_for(&self, project: &Project) -> scheduler::Book {
        let mut book = scheduler::Book::default();
        let now = Utc::now();
        for p in &project.pipelines {
            let Some(text) = &p.schedule else { continue };
            let Ok(s) = Schedule::parse(text) else {
                continue;
            };
            let last = self
                .store
                .runs(Some(&p.name), 1)
                .ok()
                .and_then(|r| r.first().map(|r| r.started));
            book.add(&p.name, s, last, now);
        }
        book
    }

    fn purge_for(project: &Project) -> Option<(Schedule, chrono::DateTime<Utc>)> {
        let s = Schedule::parse(&project.config.serve.purge_schedule).ok()?;
        let next = s.next_after(Utc::now())?;
        Some((s, next))
    }
}

fn notifier_for(project: &Project, metrics: &Arc<Metrics>) -> Notifier {
    let m = metrics.clone();
    Notifier::new(project, Some(Arc::new(move |_| m.notification_failed())))
}

/// The webhook route, merged into the base router of `web`.
fn webhook_router(service: Arc<Service>) -> axum::Router {
    axum::Router::new()
        .route(webhook::PATH, post(intake))
        .with_state(service)
}

async fn intake(State(s): State<Arc<Service>>, body: Bytes) -> StatusCode {
    // Exact validates a new subscription with an empty POST.
    if body.iter().all(u8::is_ascii_whitespace) {
        return StatusCode::OK;
    }
    let loaded = s.current();
    let secret = loaded.project.config.serve.webhook_secret.clone();
    let content = match webhook::verify(&body, secret.as_ref().map(|x| x.expose())) {
        Ok(c) => c,
        Err(r) => {
            tracing::warn!(
                reason = r.as_str(),
                bytes = body.len(),
                "webhook refused: {}",
                match r {
                    webhook::Refusal::NoSecret =>
                        "no `serve.webhook_secret` configured, nothing can be verified",
                    webhook::Refusal::Malformed => "not an Exact Online notification",
                    webhook::Refusal::BadHash => "HashCode does not match",
                    webhook::Refusal::WrongDivision => "wrong division",
                }
            );
            s.metrics.webhook_refused(r.as_str());
            return StatusCode::UNAUTHORIZED;
        }
    };
    let division = loaded.online.as_ref().map(|o| i64::from(o.division()));
    if let (Some(d), Some(got)) = (division, content.division) {
        if d != got {
            tracing::warn!(
                division = got,
                "webhook refused: a division this service does not serve"
            );
            s.metrics
                .webhook_refused(webhook::Refusal::WrongDivision.as_str());
            return StatusCode::UNAUTHORIZED;
        }
    }
    s.metrics.webhook_received(&content.topic);
    let debounce = chrono::Duration::milliseconds(
        i64::try_from(loaded.project.config.serve.debounce_ms).unwrap_or(500),
    );
    let at = Utc::now() + debounce;
    let mut any = false;
    for p in &loaded.project.pipelines {
        if p.source.system == System::ExactOnline
            && webhook::topic_of(&p.source.entity) == content.topic
            && !loaded.waits_for_online(p)
        {
            s.triggers.request(&p.name, at, Trigger::Webhook);
            any = true;
        }
    }
    tracing::debug!(topic = %content.topic, action = %content.action, triggered = any, "webhook accepted");
    StatusCode::OK
}

/// Runs the service until SIGTERM or SIGINT.
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    let project = reload::load(&opts.project).map_err(ServeError::Invalid)?;
    let store = Arc::new(state_store(&project).map_err(|e| ServeError::Invalid(e.to_string()))?);
    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(Health::new(store.clone() as Arc<dyn StateStore>));
    let notifier = notifier_for(&project, &metrics);
    let purge = Service::purge_for(&project);
    let loaded = open(project).await?;
    let service = Arc::new(Service {
        root: opts.project.clone(),
        loaded: RwLock::new(Arc::new(loaded)),
        store,
        triggers: Triggers::default(),
        metrics: metrics.clone(),
        health: health.clone(),
        notifier: RwLock::new(notifier),
        book: Mutex::new(scheduler::Book::default()),
        purge: Mutex::new(purge),
        stop: Arc::new(AtomicBool::new(false)),
        warned: Mutex::default(),
    });
    let book = service.book_for(&service.current().project);
    *service.book.lock() = book;
    if let Some(problem) = &service.current().online_problem {
        health.set_system(System::ExactOnline, Some(problem.clone()));
    }

    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| ServeError::Failed(format!("cannot listen on {}: {e}", opts.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| ServeError::Failed(e.to_string()))?;
    // The first line of stdout: scripts and tests read the port from it.
    println!("exflow serve: listening on http://{local}");
    tracing::info!(%local, "listening");

    let board = crate::web::dashboard::Dashboard {
        store: service.store.clone(),
        actions: Arc::new(dashboard::ServiceActions {
            service: service.clone(),
            local,
        }),
        access: Arc::new(crate::web::dashboard::Access::for_address(
            local,
            opts.dashboard_login,
        )),
        logins: Arc::default(),
    };
    let app = crate::web::router(WebState { metrics, health })
        .merge(webhook_router(service.clone()))
        .merge(crate::web::dashboard::router(board));
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let mut rx = shutdown_rx.clone();
    let http = tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!("http server stopped: {e}");
        }
    });
    let s2 = service.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stop requested: finishing the page in hand");
        s2.stop.store(true, Ordering::SeqCst);
        s2.triggers.wake();
    });

    worker::run(&service).await;

    let _ = shutdown_tx.send(true);
    let _ = http.await;
    service
        .notifier()
        .flush(std::time::Duration::from_secs(10))
        .await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
