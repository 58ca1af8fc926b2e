//! Where the service keeps its scans and API keys: SQLite in the data directory (the default, one
//! machine) or PostgreSQL (several machines: API nodes and `stowaway worker`s sharing it).
//!
//! Both hold the same tables and answer the same [`Store`] calls. Scans are the queue: a worker
//! claims the oldest `queued` scan (PostgreSQL: `FOR UPDATE SKIP LOCKED`) together with a lease it
//! renews while it scans; a scan whose lease ran out (its worker died) is claimed again. A scan
//! ends only through its current worker (`… WHERE status = 'scanning' AND worker = $w`), so each
//! accepted scan ends exactly once however often it was claimed.

mod postgres;
mod sqlite;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

pub use postgres::PostgresStore;
pub use sqlite::{SqliteStore, database_file};

/// A database error, in one line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgresql: {0}")]
    Postgres(#[from] r2d2_postgres::postgres::Error),
    #[error("postgresql connection pool: {0}")]
    Pool(#[from] r2d2::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One row of `scans`, without the report.
#[derive(Debug, Clone)]
pub struct ScanRow {
    pub id: String,
    pub status: String,
    pub created: String,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub error: Option<String>,
    pub metadata_json: String,
    /// The registry reference to pull, for a scan submitted as one (else the upload).
    pub reference: Option<String>,
    pub blocked: Option<bool>,
    pub summary: Option<String>,
    /// Percent of the input read, while scanning.
    pub progress: Option<i64>,
    /// Times a worker claimed it (more than one after a worker died mid-scan).
    pub attempts: i64,
}

/// An API key's record (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub name: String,
    pub admin: bool,
    pub created: String,
}

/// What a finished scan stores.
pub struct Outcome<'a> {
    pub report_json: &'a str,
    pub blocked: bool,
    pub summary: &'a str,
    /// `sha256:…` digests the scan saw (archive, image, layers, files), for `/api/v1/hash`.
    pub digests: &'a [String],
}

/// The calls the service makes of its database.
pub trait Store: Send + Sync {
    fn add_key(&self, name: &str, key: &str, admin: bool) -> StoreResult<()>;
    /// The record of `key`, when it is one of the keys.
    fn key(&self, key: &str) -> StoreResult<Option<KeyRow>>;
    fn keys(&self) -> StoreResult<Vec<KeyRow>>;
    /// Deletes the key named `name`; false when there is none.
    fn delete_key(&self, name: &str) -> StoreResult<bool>;

    /// Queues a new scan, unless one was queued with the same `idempotency` key: then nothing
    /// is inserted and that scan's id is returned.
    fn insert_scan(
        &self,
        id: &str,
        metadata_json: &str,
        reference: Option<&str>,
        idempotency: Option<&str>,
    ) -> StoreResult<Option<String>>;
    /// The id of the scan queued with this idempotency key, if any.
    fn scan_with_idempotency(&self, idempotency: &str) -> StoreResult<Option<String>>;
    /// Scans waiting for a worker.
    fn queued(&self) -> StoreResult<usize>;
    /// Takes the oldest scan that is queued or whose worker's lease ran out: `scanning`, owned by
    /// `worker` until `lease` from now.
    fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<String>>;
    /// Extends `worker`'s lease on `id` and records its progress; false when the lease was lost.
    fn renew(&self, id: &str, worker: &str, lease: Duration, progress: i64) -> StoreResult<bool>;
    /// Ends `id` as `done`; false when `worker` no longer owns it (nothing is changed).
    fn finish(&self, id: &str, worker: &str, outcome: &Outcome<'_>) -> StoreResult<bool>;
    /// Ends `id` as `failed` with `reason`; false when `worker` no longer owns it.
    fn fail(&self, id: &str, worker: &str, reason: &str) -> StoreResult<bool>;
    /// Every lease ends now: on one machine, what was scanning when the process stopped is
    /// claimed again at once.
    fn release_all(&self) -> StoreResult<()>;

    fn scan(&self, id: &str) -> StoreResult<Option<ScanRow>>;
    fn report_json(&self, id: &str) -> StoreResult<Option<String>>;
    /// The latest `limit` scans, newest first.
    fn recent(&self, limit: usize) -> StoreResult<Vec<ScanRow>>;
    /// The latest finished scan that saw `digest`.
    fn latest_with_digest(&self, digest: &str) -> StoreResult<Option<ScanRow>>;
}

/// Opens the store `database` names: a `postgres://` or `postgresql://` URL, else SQLite in
/// `data_dir`.
pub fn open(database: Option<&str>, data_dir: &Path) -> Result<Box<dyn Store>, crate::ServerError> {
    match database {
        Some(url) => Ok(Box::new(PostgresStore::open(url)?)),
        None => Ok(Box::new(SqliteStore::open(data_dir)?)),
    }
}

/// The columns of a [`ScanRow`], in its order, for both databases.
pub(crate) const ROW_COLUMNS: &str = "id, status, created, started, finished, error, metadata_json, reference, blocked, summary, progress, attempts";

pub(crate) fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Milliseconds since the epoch, `ahead` from now: lease ends. Nodes' clocks are assumed in sync
/// to well within a lease (NTP).
pub(crate) fn millis(ahead: Duration) -> i64 {
    (SystemTime::now() + ahead)
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn sha256_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}
