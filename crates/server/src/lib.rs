//! `stowaway serve`: a scan service CI jobs submit image archives to, in the manner of
//! MetaDefender Core.
//!
//! - `POST /api/v1/scans` streams the archive to `data_dir/uploads/<id>.tar` (never whole in
//!   memory, 413 beyond `max_upload_bytes`) and queues it (503 with `Retry-After` when
//!   `queue_limit` scans wait); query parameters are the scan's metadata, `fail_on` its policy.
//! - `workers` threads take queued scans in order and scan them as `stowaway scan` does (see
//!   [`engine`]); the JSON report, the verdict and the policy summary go into SQLite
//!   (`data_dir/stowaway.sqlite`), the upload is deleted.
//! - A scan is claimed with `UPDATE … WHERE status = 'queued'` and finished with `… WHERE status =
//!   'scanning'`; at start, scans left `queued` or `scanning` by a previous run are queued again,
//!   so each accepted scan ends exactly once.
//! - `GET /api/v1/scans/{id}`, `…/report.{json,sarif,junit,html,cyclonedx}`, `/api/v1/engines`;
//!   `/` lists recent scans, `/scans/{id}` is the HTML report.
//! - Ids are 32 lowercase hex digits, checked before any use: no request text reaches a path.
//! - With `api_keys_required`, every request needs `Authorization: Bearer KEY` or `apikey: KEY`
//!   (401 without, 403 for an unknown key); keys are stored as SHA-256 only.

// The handlers' helpers return the HTTP answer as their error: built once, on a cold path.
#![allow(clippy::result_large_err)]

mod engine;
mod queue;
mod store;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::{Value, json};
use stowaway_findings::Report;
use tokio::io::AsyncWriteExt;

pub use engine::Engines;
pub use store::database_file;

use queue::Queue;
use store::Store;

/// What can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("database {path}: {1}", path = .0.display())]
    Database(PathBuf, #[source] rusqlite::Error),
    #[error("building the engines: {0}")]
    Engine(String),
    #[error("the random number generator failed: {0}")]
    Random(String),
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The database, the uploads and the rule cache.
    pub data_dir: PathBuf,
    /// Where to listen; port 0 picks a free port (see [`ServerHandle::addr`]).
    pub listen: SocketAddr,
    /// Bytes an upload may have; beyond, 413.
    pub max_upload_bytes: u64,
    /// Scans running at once (threads). 0 runs none: scans stay queued.
    pub workers: usize,
    /// Scans that may wait in the queue; beyond, 503 with `Retry-After`.
    pub queue_limit: usize,
    /// Whether `/api/` and the pages need an API key (see [`create_key`]).
    pub api_keys_required: bool,
    /// The vulnerability database directory; None skips vulnerabilities.
    pub vuln_db_dir: Option<PathBuf>,
}

impl ServerConfig {
    /// A configuration with the defaults: 127.0.0.1:8008, 2 GiB uploads, 2 workers, 100 queued,
    /// API keys required, no vulnerability database.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8008)),
            max_upload_bytes: 2 << 30,
            workers: 2,
            queue_limit: 100,
            api_keys_required: true,
            vuln_db_dir: None,
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    store: Store,
    queue: Queue,
    engines: Engines,
    uploads: PathBuf,
    max_upload_bytes: u64,
    api_keys_required: bool,
}

impl AppState {
    /// Opens the database in `config.data_dir`, builds the engines and queues the scans a
    /// previous run left unfinished. Starts no worker.
    pub fn open(config: &ServerConfig) -> Result<AppState, ServerError> {
        let uploads = config.data_dir.join("uploads");
        std::fs::create_dir_all(&uploads)
            .map_err(|e| ServerError::Io(format!("creating {}", uploads.display()), e))?;
        let store = Store::open(&config.data_dir)?;
        let cache = config.data_dir.join("cache");
        let engines = Engines::build(
            Some(&cache),
            config.vuln_db_dir.clone(),
            config.data_dir.clone(),
        )?;
        let queue = Queue::new(config.queue_limit);
        let db = database_file(&config.data_dir);
        for id in store
            .requeue_unfinished()
            .map_err(|e| ServerError::Database(db.clone(), e))?
        {
            queue.push_unfinished(id);
        }
        Ok(AppState {
            inner: Arc::new(Shared {
                store,
                queue,
                engines,
                uploads,
                max_upload_bytes: config.max_upload_bytes,
                api_keys_required: config.api_keys_required,
            }),
        })
    }

    /// Scans waiting for a worker.
    pub fn queued(&self) -> usize {
        self.inner.queue.len()
    }

    /// Runs queued scans until the queue is closed; what a worker thread does.
    pub fn work(&self) {
        while let Some(id) = self.inner.queue.pop() {
            self.run_scan(&id);
        }
    }

    fn upload_path(&self, id: &ScanId) -> PathBuf {
        self.inner.uploads.join(format!("{}.tar", id.0))
    }

    fn run_scan(&self, id: &str) {
        let Some(id) = ScanId::parse(id) else { return };
        let shared = &self.inner;
        match shared.store.claim(&id.0) {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => {
                eprintln!("stowaway serve: scan {}: {error}", id.0);
                return;
            }
        }
        let upload = self.upload_path(&id);
        let metadata: BTreeMap<String, String> = shared
            .store
            .scan(&id.0)
            .ok()
            .flatten()
            .and_then(|row| serde_json::from_str(&row.metadata_json).ok())
            .unwrap_or_default();
        let name = metadata
            .get("name")
            .cloned()
            .unwrap_or_else(|| format!("upload {}", id.0));
        let outcome = if upload.is_file() {
            shared
                .engines
                .scan(&upload, &name, metadata.get("fail_on").map(String::as_str))
        } else {
            Err("the uploaded archive is gone (deleted before it was scanned)".to_string())
        };
        let stored = match outcome {
            Ok(scanned) => match serde_json::to_string(&scanned.report) {
                Ok(json) => shared
                    .store
                    .finish(&id.0, &json, scanned.blocked, &scanned.summary),
                Err(error) => shared
                    .store
                    .fail(&id.0, &format!("serialising the report: {error}")),
            },
            Err(reason) => shared.store.fail(&id.0, &reason),
        };
        match stored {
            // Only once the outcome is stored: a crash before re-runs the scan from its upload.
            Ok(()) => {
                let _ = std::fs::remove_file(&upload);
            }
            Err(error) => eprintln!("stowaway serve: storing scan {}: {error}", id.0),
        }
    }
}

/// Creates an API key named `name` in `data_dir`'s database: 32 random bytes as hex, returned
/// once; only its SHA-256 is stored.
pub fn create_key(data_dir: &Path, name: &str) -> Result<String, ServerError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| ServerError::Io(format!("creating {}", data_dir.display()), e))?;
    let store = Store::open(data_dir)?;
    let key = random_hex::<32>()?;
    store
        .add_key(name, &key)
        .map_err(|e| ServerError::Database(database_file(data_dir), e))?;
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

/// A running server: the HTTP listener and the workers.
pub struct Server;

/// Stops the server when [`ServerHandle::stop`] is called (or it is dropped).
pub struct ServerHandle {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    http: Option<std::thread::JoinHandle<()>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds `config.listen`, starts the workers and serves on a thread of its own.
    pub fn start(config: ServerConfig) -> Result<ServerHandle, ServerError> {
        let state = AppState::open(&config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| ServerError::Io("starting the async runtime".into(), e))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(config.listen))
            .map_err(|e| ServerError::Io(format!("listening on {}", config.listen), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Io(format!("listening on {}", config.listen), e))?;
        let workers = (0..config.workers)
            .map(|_| {
                let state = state.clone();
                std::thread::spawn(move || state.work())
            })
            .collect();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let http = std::thread::spawn(move || {
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
        });
        Ok(ServerHandle {
            addr,
            state,
            shutdown: Some(shutdown),
            http: Some(http),
            workers,
        })
    }
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (queue length, for instance).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Blocks until the HTTP server ends.
    pub fn wait(mut self) {
        if let Some(http) = self.http.take() {
            let _ = http.join();
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

/// The routes over `state`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/scans", post(submit))
        .route("/api/v1/scans/{id}", get(scan_status))
        .route("/api/v1/scans/{id}/{file}", get(scan_report))
        .route("/api/v1/engines", get(engines))
        .route("/", get(index))
        .route("/scans/{id}", get(scan_page));
    api.layer(middleware::from_fn_with_state(state.clone(), authorize))
        .with_state(state)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    eprintln!("stowaway serve: {what}: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, what)
}

/// The key of a request: `Authorization: Bearer KEY` or `apikey: KEY`.
fn request_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get("apikey").and_then(|v| v.to_str().ok()) {
        return Some(value.trim());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.inner.api_keys_required {
        let Some(key) = request_key(request.headers()) else {
            return error(
                StatusCode::UNAUTHORIZED,
                "an API key is required: Authorization: Bearer KEY, or apikey: KEY",
            );
        };
        match state.inner.store.key_known(key) {
            Ok(true) => {}
            Ok(false) => return error(StatusCode::FORBIDDEN, "unknown API key"),
            Err(e) => return internal("checking the API key", e),
        }
    }
    next.run(request).await
}

async fn submit(
    State(state): State<AppState>,
    Query(metadata): Query<BTreeMap<String, String>>,
    request: Request,
) -> Response {
    let shared = &state.inner;
    if let Some(fail_on) = metadata.get("fail_on")
        && let Err(e) = shared.engines.policy(Some(fail_on))
    {
        return error(StatusCode::BAD_REQUEST, &format!("fail_on: {e}"));
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_upload_bytes) {
        return too_large(shared.max_upload_bytes);
    }
    let Some(reservation) = shared.queue.reserve() else {
        let mut response = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the scan queue is full; retry later",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return response;
    };
    let id = match random_hex::<16>() {
        Ok(id) => ScanId(id),
        Err(e) => return internal("making a scan id", e),
    };
    let path = state.upload_path(&id);
    match receive(request.into_body(), &path, shared.max_upload_bytes).await {
        Ok(()) => {}
        Err(response) => {
            let _ = tokio::fs::remove_file(&path).await;
            return response;
        }
    }
    let metadata_json = match serde_json::to_string(&metadata) {
        Ok(json) => json,
        Err(e) => return internal("storing the metadata", e),
    };
    if let Err(e) = shared.store.insert_scan(&id.0, &metadata_json) {
        let _ = tokio::fs::remove_file(&path).await;
        return internal("storing the scan", e);
    }
    reservation.push(id.0.clone());
    let body = json!({
        "id": id.0,
        "status_url": format!("/api/v1/scans/{}", id.0),
        "report_url": format!("/api/v1/scans/{}/report.json", id.0),
    });
    (StatusCode::ACCEPTED, axum::Json(body)).into_response()
}

fn too_large(limit: u64) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the upload is larger than {limit} bytes"),
    )
}

/// Streams `body` to `path`, at most `limit` bytes.
async fn receive(body: Body, path: &Path, limit: u64) -> Result<(), Response> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| internal("storing the upload", e))?;
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("reading the upload: {e}")))?;
        written += chunk.len() as u64;
        if written > limit {
            return Err(too_large(limit));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| internal("storing the upload", e))?;
    }
    if written == 0 {
        return Err(error(StatusCode::BAD_REQUEST, "the upload is empty"));
    }
    file.sync_all()
        .await
        .map_err(|e| internal("storing the upload", e))?;
    Ok(())
}

fn parse_id(text: &str) -> Result<ScanId, Response> {
    ScanId::parse(text).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "a scan id is 32 lowercase hex digits",
        )
    })
}

fn stored_report(state: &AppState, id: &ScanId) -> Result<Option<Report>, Response> {
    let json = state
        .inner
        .store
        .report_json(&id.0)
        .map_err(|e| internal("reading the report", e))?;
    json.map(|json| serde_json::from_str(&json).map_err(|e| internal("reading the report", e)))
        .transpose()
}

async fn scan_status(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let row = match state.inner.store.scan(&id.0) {
        Ok(Some(row)) => row,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such scan"),
        Err(e) => return internal("reading the scan", e),
    };
    let report = match state.inner.store.report_json(&id.0) {
        Ok(Some(json)) => match serde_json::from_str::<Value>(&json) {
            Ok(value) => value,
            Err(e) => return internal("reading the report", e),
        },
        Ok(None) => Value::Null,
        Err(e) => return internal("reading the report", e),
    };
    let verdict = match (row.status.as_str(), row.blocked) {
        ("done", Some(true)) => json!("blocked"),
        ("done", Some(false)) => json!("allowed"),
        _ => Value::Null,
    };
    let metadata: Value = serde_json::from_str(&row.metadata_json).unwrap_or(Value::Null);
    axum::Json(json!({
        "id": row.id,
        "status": row.status,
        "verdict": verdict,
        "summary": row.summary,
        "error": row.error,
        "created": row.created,
        "started": row.started,
        "finished": row.finished,
        "metadata": metadata,
        "report": report,
    }))
    .into_response()
}

/// Renders `report` as `format` (json, sarif, junit, html, cyclonedx).
fn render(
    report: &Report,
    format: &str,
    time: &str,
) -> Option<std::io::Result<(Vec<u8>, &'static str)>> {
    let mut out = Vec::new();
    let (written, content_type) = match format {
        "json" => (
            stowaway_report::write_json(report, &mut out),
            "application/json",
        ),
        "sarif" => (
            stowaway_report::write_sarif(report, &mut out),
            "application/sarif+json",
        ),
        "junit" => (
            stowaway_report::write_junit(report, &mut out),
            "application/xml",
        ),
        "html" => (
            stowaway_report::write_html(report, &mut out),
            "text/html; charset=utf-8",
        ),
        "cyclonedx" => (
            match report.images.as_slice() {
                [image] => {
                    stowaway_report::write_cyclonedx_vex(image, &report.tool, time, &mut out)
                }
                images => Err(std::io::Error::other(format!(
                    "the archive holds {} images; a CycloneDX document describes one",
                    images.len()
                ))),
            },
            "application/vnd.cyclonedx+json",
        ),
        _ => return None,
    };
    Some(written.map(|()| (out, content_type)))
}

async fn scan_report(
    State(state): State<AppState>,
    UrlPath((id, file)): UrlPath<(String, String)>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let Some(format) = file.strip_prefix("report.") else {
        return error(StatusCode::NOT_FOUND, "no such file");
    };
    report_response(&state, &id, format)
}

fn report_response(state: &AppState, id: &ScanId, format: &str) -> Response {
    let report = match stored_report(state, id) {
        Ok(Some(report)) => report,
        Ok(None) => {
            return match state.inner.store.scan(&id.0) {
                Ok(Some(row)) => error(
                    StatusCode::CONFLICT,
                    &format!("the scan is {}; no report", row.status),
                ),
                Ok(None) => error(StatusCode::NOT_FOUND, "no such scan"),
                Err(e) => internal("reading the scan", e),
            };
        }
        Err(response) => return response,
    };
    let time = state
        .inner
        .store
        .scan(&id.0)
        .ok()
        .flatten()
        .and_then(|row| row.finished)
        .unwrap_or_default();
    // RFC 3339 seconds, as the CLI dates documents.
    let time = time.get(..19).map(|t| format!("{t}Z")).unwrap_or_default();
    match render(&report, format, &time) {
        None => error(
            StatusCode::NOT_FOUND,
            "reports are report.json, report.sarif, report.junit, report.html, report.cyclonedx",
        ),
        Some(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Some(Ok((bytes, content_type))) => {
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
    }
}

async fn engines(State(state): State<AppState>) -> Response {
    axum::Json(json!({ "engines": state.inner.engines.info() })).into_response()
}

async fn scan_page(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    match state.inner.store.scan(&id.0) {
        Ok(Some(row)) if row.status == "done" => report_response(&state, &id, "html"),
        Ok(Some(row)) => Html(format!(
            "<!doctype html><meta charset=utf-8><title>scan {id}</title><p>Scan {id} is {status}{reason}.</p>",
            id = row.id,
            status = escape(&row.status),
            reason = row
                .error
                .map(|e| format!(": {}", escape(&e)))
                .unwrap_or_default()
        ))
        .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such scan"),
        Err(e) => internal("reading the scan", e),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn index(State(state): State<AppState>) -> Response {
    let rows = match state.inner.store.recent(100) {
        Ok(rows) => rows,
        Err(e) => return internal("listing the scans", e),
    };
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><title>stowaway scans</title><h1>Recent scans</h1>\n<table><tr><th>scan</th><th>created</th><th>status</th><th>verdict</th><th>summary</th></tr>\n",
    );
    for row in rows {
        let verdict = match (row.status.as_str(), row.blocked) {
            ("done", Some(true)) => "blocked",
            ("done", Some(false)) => "allowed",
            _ => "",
        };
        let summary = row.summary.or(row.error).unwrap_or_default();
        html.push_str(&format!(
            "<tr><td><a href=\"/scans/{id}\">{id}</a></td><td>{created}</td><td>{status}</td><td>{verdict}</td><td>{summary}</td></tr>\n",
            id = row.id,
            created = escape(&row.created),
            status = escape(&row.status),
            summary = escape(&summary),
        ));
    }
    html.push_str("</table>\n");
    Html(html).into_response()
}
