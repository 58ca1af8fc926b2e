//! The server's SQLite database, `data_dir/stowaway.sqlite` (WAL): the scans with their
//! reports, and the API keys (only their SHA-256 is stored).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::ServerError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    error TEXT,
    metadata_json TEXT NOT NULL,
    report_json TEXT,
    blocked INTEGER,
    summary TEXT
);
CREATE INDEX IF NOT EXISTS scans_created ON scans(created);
CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT NOT NULL,
    sha256_of_key TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);
";

/// The database file in `data_dir`.
pub fn database_file(data_dir: &Path) -> PathBuf {
    data_dir.join("stowaway.sqlite")
}

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
    pub blocked: Option<bool>,
    pub summary: Option<String>,
}

/// The connection, shared by the handlers and the workers; every statement is short.
pub struct Store {
    conn: Mutex<Connection>,
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

fn sha256_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl Store {
    /// Opens (creating) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, ServerError> {
        let path = database_file(data_dir);
        let conn = Connection::open(&path).map_err(|e| ServerError::Database(path.clone(), e))?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.execute_batch(SCHEMA)
        };
        setup().map_err(|e| ServerError::Database(path.clone(), e))?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each statement is atomic).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_key(&self, name: &str, key: &str) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO api_keys (name, sha256_of_key, created) VALUES (?1, ?2, ?3)",
            params![name, sha256_hex(key), now()],
        )?;
        Ok(())
    }

    /// Whether `key` is one of the keys.
    pub fn key_known(&self, key: &str) -> rusqlite::Result<bool> {
        self.conn()
            .query_row(
                "SELECT 1 FROM api_keys WHERE sha256_of_key = ?1",
                params![sha256_hex(key)],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
    }

    pub fn insert_scan(&self, id: &str, metadata_json: &str) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO scans (id, status, created, metadata_json) VALUES (?1, 'queued', ?2, ?3)",
            params![id, now(), metadata_json],
        )?;
        Ok(())
    }

    /// Marks a queued scan `scanning`; false when it is not queued (already taken or done).
    pub fn claim(&self, id: &str) -> rusqlite::Result<bool> {
        let changed = self.conn().execute(
            "UPDATE scans SET status = 'scanning', started = ?2 WHERE id = ?1 AND status = 'queued'",
            params![id, now()],
        )?;
        Ok(changed == 1)
    }

    pub fn finish(
        &self,
        id: &str,
        report_json: &str,
        blocked: bool,
        summary: &str,
    ) -> rusqlite::Result<()> {
        self.conn().execute(
            "UPDATE scans SET status = 'done', finished = ?2, report_json = ?3, blocked = ?4, summary = ?5
             WHERE id = ?1 AND status = 'scanning'",
            params![id, now(), report_json, blocked, summary],
        )?;
        Ok(())
    }

    pub fn fail(&self, id: &str, reason: &str) -> rusqlite::Result<()> {
        self.conn().execute(
            "UPDATE scans SET status = 'failed', finished = ?2, error = ?3 WHERE id = ?1 AND status = 'scanning'",
            params![id, now(), reason],
        )?;
        Ok(())
    }

    /// Scans a previous run left `queued` or `scanning` (killed), oldest first, all `queued`
    /// again.
    pub fn requeue_unfinished(&self) -> rusqlite::Result<Vec<String>> {
        let conn = self.conn();
        conn.execute(
            "UPDATE scans SET status = 'queued', started = NULL WHERE status = 'scanning'",
            [],
        )?;
        let mut statement =
            conn.prepare("SELECT id FROM scans WHERE status = 'queued' ORDER BY created, rowid")?;
        let ids = statement
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }

    fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ScanRow> {
        Ok(ScanRow {
            id: row.get(0)?,
            status: row.get(1)?,
            created: row.get(2)?,
            started: row.get(3)?,
            finished: row.get(4)?,
            error: row.get(5)?,
            metadata_json: row.get(6)?,
            blocked: row.get(7)?,
            summary: row.get(8)?,
        })
    }

    pub fn scan(&self, id: &str) -> rusqlite::Result<Option<ScanRow>> {
        self.conn()
            .query_row(
                "SELECT id, status, created, started, finished, error, metadata_json, blocked, summary
                 FROM scans WHERE id = ?1",
                params![id],
                Store::row,
            )
            .optional()
    }

    pub fn report_json(&self, id: &str) -> rusqlite::Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT report_json FROM scans WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )
            .optional()
            .map(Option::flatten)
    }

    /// The latest `limit` scans, newest first.
    pub fn recent(&self, limit: usize) -> rusqlite::Result<Vec<ScanRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, status, created, started, finished, error, metadata_json, blocked, summary
             FROM scans ORDER BY created DESC, rowid DESC LIMIT ?1",
        )?;
        let rows = statement
            .query_map(params![limit as i64], Store::row)?
            .collect::<rusqlite::Result<Vec<ScanRow>>>()?;
        Ok(rows)
    }
}
