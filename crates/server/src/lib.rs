//! `stowaway serve` and `stowaway worker`: a scan service CI jobs submit images to, in the
//! manner of MetaDefender Core.
//!
//! - `POST /api/v1/scans` streams an archive to `data_dir/uploads/<id>.tar` (never whole in
//!   memory, 413 beyond `max_upload_bytes`), or takes a JSON body naming a registry reference,
//!   and queues the scan (503 with `Retry-After` when `queue_limit` scans wait); query
//!   parameters (or the JSON's `metadata`) are the scan's metadata, `fail_on` its policy,
//!   `callback_url` a URL told when it ends.
//! - The scans are the queue, in the database ([`store`]): SQLite in `data_dir` on one machine, or
//!   PostgreSQL shared by API nodes and `stowaway worker`s on several (uploads then live in a
//!   shared `data_dir`). Workers claim a scan with a lease they renew while scanning; a scan
//!   whose worker died is claimed again, and each accepted scan ends exactly once.
//! - Workers scan as `stowaway scan` does (see [`engine`] and [`worker`]); the JSON report, the
//!   verdict, the summary and the digests seen go into the database; the upload is deleted.
//! - `GET /api/v1/scans/{id}` (status, progress, verdict, report), `…/report.{json,sarif,junit,
//!   html,cyclonedx}`, `/api/v1/hash/{sha256}`, `/api/v1/engines`, `/api/v1/admin/keys`; `/`
//!   lists recent scans, `/scans/{id}` is the HTML report.
//! - Ids are 32 lowercase hex digits, checked before any use: no request text reaches a path.
//! - With `api_keys_required`, every request needs `Authorization: Bearer KEY` or `apikey: KEY`
//!   (401 without, 403 for an unknown key, 429 beyond the key's rate); keys are stored as SHA-256
//!   only. Result pages are capability URLs: with `public_pages` (the default) `/scans/{id}`
//!   needs no key, so the link a CI log shows opens in any browser; its 128-bit random id is the
//!   secret.

// The handlers' helpers return the HTTP answer as their error: built once, on a cold path.
#![allow(clippy::result_large_err)]

mod api;
mod engine;
mod queue;
mod ratelimit;
mod store;
mod worker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use api::router;
pub use engine::Engines;
pub use store::{StoreError, database_file};

use queue::Queue;
use ratelimit::RateLimit;
use store::{ScanRow, Store};

/// What can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("{0}: {1}")]
    Database(String, #[source] StoreError),
    #[error("{0}")]
    Incompatible(String),
    #[error("building the engines: {0}")]
    Engine(String),
    #[error("the random number generator failed: {0}")]
    Random(String),
}

/// How the server (or a worker node) runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The uploads and the rule cache; with SQLite, the database too. Shared between the
    /// machines of a PostgreSQL deployment (uploads written by one node are scanned by another).
    pub data_dir: PathBuf,
    /// `postgres://…`: the shared database; None: SQLite in `data_dir`.
    pub database: Option<String>,
    /// Where to listen (port 0 picks a free port, see [`ServerHandle::addr`]); None serves no
    /// HTTP (`stowaway worker`).
    pub listen: Option<SocketAddr>,
    /// Bytes an upload may have; beyond, 413.
    pub max_upload_bytes: u64,
    /// Scans running at once on this node (threads). 0 runs none.
    pub workers: usize,
    /// Scans that may wait in the queue; beyond, 503 with `Retry-After`.
    pub queue_limit: usize,
    /// Whether `/api/` and the index need an API key (see [`create_key`]).
    pub api_keys_required: bool,
    /// Whether `/scans/{id}` pages are open to whoever has their URL.
    pub public_pages: bool,
    /// Requests per minute per API key on this node; 0 is no limit.
    pub rate_limit_per_minute: u32,
    /// How long a worker owns a scan without renewing its lease; a dead worker's scan is taken
    /// again after this.
    pub lease: Duration,
    /// How often idle workers look for scans queued through other nodes.
    pub poll: Duration,
    /// Keep uploads after their scan (default: deleted once the outcome is stored).
    pub retain_uploads: bool,
    /// Registries pulled over plain http (`host:port`).
    pub insecure_registries: Vec<String>,
    /// The vulnerability database directory; None skips vulnerabilities.
    pub vuln_db_dir: Option<PathBuf>,
}

impl ServerConfig {
    /// A configuration with the defaults: SQLite, 127.0.0.1:8008, 2 GiB uploads, 2 workers,
    /// 100 queued, API keys required, public result pages, 600 requests a minute per key,
    /// 60 s leases, no vulnerability database.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            data_dir: data_dir.into(),
            database: None,
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 8008))),
            max_upload_bytes: 2 << 30,
            workers: 2,
            queue_limit: 100,
            api_keys_required: true,
            public_pages: true,
            rate_limit_per_minute: 600,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            retain_uploads: false,
            insecure_registries: Vec::new(),
            vuln_db_dir: None,
        }
    }
}

/// What the handlers and workers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    store: Box<dyn Store>,
    queue: Queue,
    engines: Engines,
    data_dir: PathBuf,
    uploads: PathBuf,
    max_upload_bytes: u64,
    api_keys_required: bool,
    public_pages: bool,
    rate_limit: RateLimit,
    lease: Duration,
    poll: Duration,
    retain_uploads: bool,
    insecure_registries: Vec<String>,
}

impl AppState {
    /// Opens the database, builds the engines and, with SQLite, ends the leases a previous run
    /// left (its scans are taken again at once). Starts no worker.
    pub fn open(config: &ServerConfig) -> Result<AppState, ServerError> {
        let uploads = config.data_dir.join("uploads");
        std::fs::create_dir_all(&uploads)
            .map_err(|e| ServerError::Io(format!("creating {}", uploads.display()), e))?;
        let store = store::open(config.database.as_deref(), &config.data_dir)?;
        store
            .release_all()
            .map_err(|e| ServerError::Database("releasing the last run's scans".into(), e))?;
        let engines = Engines::build(
            Some(&config.data_dir.join("cache")),
            config.vuln_db_dir.clone(),
            config.data_dir.clone(),
        )?;
        Ok(AppState {
            inner: Arc::new(Shared {
                store,
                queue: Queue::new(config.queue_limit),
                engines,
                data_dir: config.data_dir.clone(),
                uploads,
                max_upload_bytes: config.max_upload_bytes,
                api_keys_required: config.api_keys_required,
                public_pages: config.public_pages,
                rate_limit: RateLimit::new(config.rate_limit_per_minute),
                lease: config.lease,
                poll: config.poll,
                retain_uploads: config.retain_uploads,
                insecure_registries: config.insecure_registries.clone(),
            }),
        })
    }

    fn upload_path(&self, id: &ScanId) -> PathBuf {
        self.inner.uploads.join(format!("{}.tar", id.0))
    }
}

/// Creates an API key named `name` in the database `database` names (None: SQLite in
/// `data_dir`): 32 random bytes as hex, returned once; only its SHA-256 is stored. An `admin`
/// key may also manage keys over `/api/v1/admin/keys`.
pub fn create_key(
    data_dir: &Path,
    database: Option<&str>,
    name: &str,
    admin: bool,
) -> Result<String, ServerError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| ServerError::Io(format!("creating {}", data_dir.display()), e))?;
    let store = store::open(database, data_dir)?;
    let key = random_hex::<32>()?;
    store
        .add_key(name, &key, admin)
        .map_err(|e| ServerError::Database(format!("adding the key {name:?}"), e))?;
    Ok(key)
}

fn random_hex<const N: usize>() -> Result<String, ServerError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ServerError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// A scan id: 32 lowercase hex digits, the only form accepted from a request.
struct ScanId(String);

impl ScanId {
    fn parse(text: &str) -> Option<ScanId> {
        (text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| ScanId(text.to_string()))
    }
}

/// A scan's status as the API shows it, with `report` (null until done).
fn status_json(row: &ScanRow, report: serde_json::Value) -> serde_json::Value {
    let verdict = match (row.status.as_str(), row.blocked) {
        ("done", Some(true)) => serde_json::json!("blocked"),
        ("done", Some(false)) => serde_json::json!("allowed"),
        _ => serde_json::Value::Null,
    };
    let metadata: serde_json::Value =
        serde_json::from_str(&row.metadata_json).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "id": row.id,
        "status": row.status,
        "progress": row.progress,
        "attempts": row.attempts,
        "verdict": verdict,
        "summary": row.summary,
        "error": row.error,
        "created": row.created,
        "started": row.started,
        "finished": row.finished,
        "reference": row.reference,
        "metadata": metadata,
        "status_url": format!("/api/v1/scans/{}", row.id),
        "page_url": format!("/scans/{}", row.id),
        "report": report,
    })
}

/// A running node: the HTTP listener (unless a worker node) and the workers.
pub struct Server;

/// Stops the node when [`ServerHandle::stop`] is called (or it is dropped).
pub struct ServerHandle {
    addr: Option<SocketAddr>,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    http: Option<std::thread::JoinHandle<()>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts the workers and, when `config.listen` is set, serves HTTP on a thread of its own.
    pub fn start(config: ServerConfig) -> Result<ServerHandle, ServerError> {
        let state = AppState::open(&config)?;
        let node = format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            random_hex::<4>()?
        );
        let workers = (0..config.workers)
            .map(|n| {
                let state = state.clone();
                let worker = format!("{node}-{n}");
                std::thread::spawn(move || state.work(&worker))
            })
            .collect();
        let mut handle = ServerHandle {
            addr: None,
            state: state.clone(),
            shutdown: None,
            http: None,
            workers,
        };
        let Some(listen) = config.listen else {
            return Ok(handle);
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| ServerError::Io("starting the async runtime".into(), e))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(listen))
            .map_err(|e| ServerError::Io(format!("listening on {listen}"), e))?;
        handle.addr = Some(
            listener
                .local_addr()
                .map_err(|e| ServerError::Io(format!("listening on {listen}"), e))?,
        );
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state);
        handle.shutdown = Some(shutdown);
        handle.http = Some(std::thread::spawn(move || {
            runtime.block_on(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
                if let Err(error) = served {
                    eprintln!("stowaway serve: {error}");
                }
            });
        }));
        Ok(handle)
    }
}

/// This machine's name, for worker ids (which say who holds a scan).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "node".into())
}

impl ServerHandle {
    /// The address the server listens on; None for a worker node.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Blocks until the HTTP server ends, or, on a worker node, the workers do.
    pub fn wait(mut self) {
        if let Some(http) = self.http.take() {
            let _ = http.join();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }

    /// Stops accepting requests, lets running scans finish and leaves queued ones `queued`
    /// for the next start.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(http) = self.http.take() {
            let _ = http.join();
        }
        self.state.inner.queue.close();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}
