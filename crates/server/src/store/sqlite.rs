//! The embedded store: one SQLite file, `data_dir/stowaway.sqlite`, in WAL mode, behind one
//! connection (every statement is short; SQLite serialises writers anyway).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{KeyRow, Outcome, ROW_COLUMNS, ScanRow, Store, StoreResult, millis, now, sha256_hex};
use crate::ServerError;

/// The schema's version, in `PRAGMA user_version`.
const VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scans (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    error TEXT,
    metadata_json TEXT NOT NULL,
    reference TEXT,
    idempotency TEXT UNIQUE,
    report_json TEXT,
    blocked INTEGER,
    summary TEXT,
    progress INTEGER,
    worker TEXT,
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    endings INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS scans_waiting ON scans(status, seq);
CREATE TABLE IF NOT EXISTS scan_digests (
    digest TEXT NOT NULL,
    scan_seq INTEGER NOT NULL,
    PRIMARY KEY (digest, scan_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT PRIMARY KEY,
    sha256_of_key TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
";

/// The database file in `data_dir`.
pub fn database_file(data_dir: &Path) -> PathBuf {
    data_dir.join("stowaway.sqlite")
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
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
        reference: row.get(7)?,
        blocked: row.get(8)?,
        summary: row.get(9)?,
        progress: row.get(10)?,
        attempts: row.get(11)?,
    })
}

impl SqliteStore {
    /// Opens (creating) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, ServerError> {
        let path = database_file(data_dir);
        let failed =
            |e: rusqlite::Error| ServerError::Database(path.display().to_string(), e.into());
        let conn = Connection::open(&path).map_err(failed)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(failed)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(failed)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(failed)?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(failed)?;
        if tables > 0 && version != VERSION {
            return Err(ServerError::Incompatible(format!(
                "{} has schema version {version}; this stowaway reads version {VERSION} (move the old database away)",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA).map_err(failed)?;
        conn.pragma_update(None, "user_version", VERSION)
            .map_err(failed)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each statement is atomic).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn one_row(&self, sql: &str, key: &str) -> StoreResult<Option<ScanRow>> {
        Ok(self.conn().query_row(sql, params![key], row).optional()?)
    }
}

impl Store for SqliteStore {
    fn add_key(&self, name: &str, key: &str, admin: bool) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO api_keys (name, sha256_of_key, admin, created) VALUES (?1, ?2, ?3, ?4)",
            params![name, sha256_hex(key), admin, now()],
        )?;
        Ok(())
    }

    fn key(&self, key: &str) -> StoreResult<Option<KeyRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name, admin, created FROM api_keys WHERE sha256_of_key = ?1",
                params![sha256_hex(key)],
                |r| {
                    Ok(KeyRow {
                        name: r.get(0)?,
                        admin: r.get(1)?,
                        created: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn keys(&self) -> StoreResult<Vec<KeyRow>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT name, admin, created FROM api_keys ORDER BY name")?;
        let keys = statement
            .query_map([], |r| {
                Ok(KeyRow {
                    name: r.get(0)?,
                    admin: r.get(1)?,
                    created: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(keys)
    }

    fn delete_key(&self, name: &str) -> StoreResult<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM api_keys WHERE name = ?1", params![name])?
            == 1)
    }

    fn insert_scan(
        &self,
        id: &str,
        metadata_json: &str,
        reference: Option<&str>,
        idempotency: Option<&str>,
    ) -> StoreResult<Option<String>> {
        let inserted = self.conn().execute(
            "INSERT INTO scans (id, status, created, metadata_json, reference, idempotency)
             VALUES (?1, 'queued', ?2, ?3, ?4, ?5) ON CONFLICT (idempotency) DO NOTHING",
            params![id, now(), metadata_json, reference, idempotency],
        )?;
        match (inserted, idempotency) {
            (0, Some(key)) => self.scan_with_idempotency(key),
            _ => Ok(None),
        }
    }

    fn scan_with_idempotency(&self, idempotency: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM scans WHERE idempotency = ?1",
                params![idempotency],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn queued(&self) -> StoreResult<usize> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM scans WHERE status = 'queued'",
            [],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "UPDATE scans SET status = 'scanning', worker = ?1, lease_until = ?2, started = ?3,
                        attempts = attempts + 1, progress = 0
                 WHERE seq = (SELECT seq FROM scans
                              WHERE status = 'queued' OR (status = 'scanning' AND lease_until < ?4)
                              ORDER BY seq LIMIT 1)
                 RETURNING id",
                params![worker, millis(lease), now(), millis(Duration::ZERO)],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn renew(&self, id: &str, worker: &str, lease: Duration, progress: i64) -> StoreResult<bool> {
        Ok(self.conn().execute(
            "UPDATE scans SET lease_until = ?3, progress = ?4
             WHERE id = ?1 AND worker = ?2 AND status = 'scanning'",
            params![id, worker, millis(lease), progress],
        )? == 1)
    }

    fn finish(&self, id: &str, worker: &str, outcome: &Outcome<'_>) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let seq: Option<i64> = tx
            .query_row(
                "UPDATE scans SET status = 'done', finished = ?3, report_json = ?4, blocked = ?5,
                        summary = ?6, progress = 100, lease_until = NULL, endings = endings + 1
                 WHERE id = ?1 AND worker = ?2 AND status = 'scanning'
                 RETURNING seq",
                params![
                    id,
                    worker,
                    now(),
                    outcome.report_json,
                    outcome.blocked,
                    outcome.summary
                ],
                |r| r.get(0),
            )
            .optional()?;
        let Some(seq) = seq else { return Ok(false) };
        {
            let mut insert = tx
                .prepare("INSERT OR IGNORE INTO scan_digests (digest, scan_seq) VALUES (?1, ?2)")?;
            for digest in outcome.digests {
                insert.execute(params![digest, seq])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    fn fail(&self, id: &str, worker: &str, reason: &str) -> StoreResult<bool> {
        Ok(self.conn().execute(
            "UPDATE scans SET status = 'failed', finished = ?3, error = ?4, lease_until = NULL,
                    endings = endings + 1
             WHERE id = ?1 AND worker = ?2 AND status = 'scanning'",
            params![id, worker, now(), reason],
        )? == 1)
    }

    fn release_all(&self) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE scans SET lease_until = 0 WHERE status = 'scanning'",
            [],
        )?;
        Ok(())
    }

    fn scan(&self, id: &str) -> StoreResult<Option<ScanRow>> {
        self.one_row(
            &format!("SELECT {ROW_COLUMNS} FROM scans WHERE id = ?1"),
            id,
        )
    }

    fn report_json(&self, id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT report_json FROM scans WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    fn recent(&self, limit: usize) -> StoreResult<Vec<ScanRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM scans ORDER BY seq DESC LIMIT ?1"
        ))?;
        let rows = statement
            .query_map(params![limit as i64], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn latest_with_digest(&self, digest: &str) -> StoreResult<Option<ScanRow>> {
        self.one_row(
            &format!(
                "SELECT {ROW_COLUMNS} FROM scans WHERE seq =
                   (SELECT max(scan_seq) FROM scan_digests WHERE digest = ?1)"
            ),
            digest,
        )
    }
}
