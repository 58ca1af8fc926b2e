//! The shared store: PostgreSQL, for API nodes and `stowaway worker`s on several machines.
//! Workers claim scans with `FOR UPDATE SKIP LOCKED`, so two never take the same one; the
//! schema is created under an advisory lock, so nodes may start together.

use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::postgres::{self as pg, NoTls};

use super::{
    KeyRow, Outcome, ROW_COLUMNS, ScanRow, Store, StoreError, StoreResult, millis, now, sha256_hex,
};
use crate::ServerError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scans (
    seq BIGSERIAL PRIMARY KEY,
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
    blocked BOOLEAN,
    summary TEXT,
    progress BIGINT,
    worker TEXT,
    lease_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    endings BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS scans_waiting ON scans(status, seq);
CREATE TABLE IF NOT EXISTS scan_digests (
    digest TEXT NOT NULL,
    scan_seq BIGINT NOT NULL,
    PRIMARY KEY (digest, scan_seq)
);
CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT PRIMARY KEY,
    sha256_of_key TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created TEXT NOT NULL
);
";

/// Any number, the same for every node: the lock the schema is created under.
const SCHEMA_LOCK: i64 = 0x5354_4f57_4157_4159;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

pub struct PostgresStore {
    pool: Pool,
}

fn row(r: &pg::Row) -> ScanRow {
    ScanRow {
        id: r.get(0),
        status: r.get(1),
        created: r.get(2),
        started: r.get(3),
        finished: r.get(4),
        error: r.get(5),
        metadata_json: r.get(6),
        reference: r.get(7),
        blocked: r.get(8),
        summary: r.get(9),
        progress: r.get(10),
        attempts: r.get(11),
    }
}

fn key_row(r: &pg::Row) -> KeyRow {
    KeyRow {
        name: r.get(0),
        admin: r.get(1),
        created: r.get(2),
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`, libpq's URL form) and creates the
    /// tables when they are missing.
    pub fn open(url: &str) -> Result<PostgresStore, ServerError> {
        // The URL may hold a password: errors name the server, not the URL.
        let failed = |e: StoreError| ServerError::Database("the PostgreSQL database".into(), e);
        let config: pg::Config = url.parse().map_err(|e: pg::Error| failed(e.into()))?;
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .connection_timeout(Duration::from_secs(10))
            .build(PostgresConnectionManager::new(config, NoTls))
            .map_err(|e| failed(e.into()))?;
        let store = PostgresStore { pool };
        store
            .with(|c| {
                let mut tx = c.transaction()?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
                tx.batch_execute(SCHEMA)?;
                tx.commit()
            })
            .map_err(failed)?;
        Ok(store)
    }

    fn with<T>(&self, f: impl FnOnce(&mut pg::Client) -> Result<T, pg::Error>) -> StoreResult<T> {
        let mut client = self.pool.get()?;
        Ok(f(&mut client)?)
    }

    fn one_row(&self, sql: &str, key: &str) -> StoreResult<Option<ScanRow>> {
        self.with(|c| Ok(c.query_opt(sql, &[&key])?.as_ref().map(row)))
    }
}

impl Store for PostgresStore {
    fn add_key(&self, name: &str, key: &str, admin: bool) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO api_keys (name, sha256_of_key, admin, created) VALUES ($1, $2, $3, $4)",
                &[&name, &sha256_hex(key), &admin, &now()],
            )
        })?;
        Ok(())
    }

    fn key(&self, key: &str) -> StoreResult<Option<KeyRow>> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT name, admin, created FROM api_keys WHERE sha256_of_key = $1",
                &[&sha256_hex(key)],
            )?
            .as_ref()
            .map(key_row))
        })
    }

    fn keys(&self) -> StoreResult<Vec<KeyRow>> {
        self.with(|c| {
            Ok(c.query(
                "SELECT name, admin, created FROM api_keys ORDER BY name",
                &[],
            )?
            .iter()
            .map(key_row)
            .collect())
        })
    }

    fn delete_key(&self, name: &str) -> StoreResult<bool> {
        self.with(|c| Ok(c.execute("DELETE FROM api_keys WHERE name = $1", &[&name])? == 1))
    }

    fn insert_scan(
        &self,
        id: &str,
        metadata_json: &str,
        reference: Option<&str>,
        idempotency: Option<&str>,
    ) -> StoreResult<Option<String>> {
        let inserted = self.with(|c| {
            c.execute(
                "INSERT INTO scans (id, status, created, metadata_json, reference, idempotency)
                 VALUES ($1, 'queued', $2, $3, $4, $5) ON CONFLICT (idempotency) DO NOTHING",
                &[&id, &now(), &metadata_json, &reference, &idempotency],
            )
        })?;
        match (inserted, idempotency) {
            (0, Some(key)) => self.scan_with_idempotency(key),
            _ => Ok(None),
        }
    }

    fn scan_with_idempotency(&self, idempotency: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT id FROM scans WHERE idempotency = $1",
                &[&idempotency],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn queued(&self) -> StoreResult<usize> {
        self.with(|c| {
            let n: i64 = c
                .query_one("SELECT count(*) FROM scans WHERE status = 'queued'", &[])?
                .get(0);
            Ok(n as usize)
        })
    }

    fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(c.query_opt(
                "UPDATE scans SET status = 'scanning', worker = $1, lease_until = $2, started = $3,
                        attempts = attempts + 1, progress = 0
                 WHERE seq = (SELECT seq FROM scans
                              WHERE status = 'queued' OR (status = 'scanning' AND lease_until < $4)
                              ORDER BY seq LIMIT 1
                              FOR UPDATE SKIP LOCKED)
                 RETURNING id",
                &[&worker, &millis(lease), &now(), &millis(Duration::ZERO)],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn renew(&self, id: &str, worker: &str, lease: Duration, progress: i64) -> StoreResult<bool> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE scans SET lease_until = $3, progress = $4
                 WHERE id = $1 AND worker = $2 AND status = 'scanning'",
                &[&id, &worker, &millis(lease), &progress],
            )? == 1)
        })
    }

    fn finish(&self, id: &str, worker: &str, outcome: &Outcome<'_>) -> StoreResult<bool> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let Some(seq) = tx.query_opt(
                "UPDATE scans SET status = 'done', finished = $3, report_json = $4, blocked = $5,
                        summary = $6, progress = 100, lease_until = NULL, endings = endings + 1
                 WHERE id = $1 AND worker = $2 AND status = 'scanning'
                 RETURNING seq",
                &[
                    &id,
                    &worker,
                    &now(),
                    &outcome.report_json,
                    &outcome.blocked,
                    &outcome.summary,
                ],
            )?
            else {
                return Ok(false);
            };
            let seq: i64 = seq.get(0);
            tx.execute(
                "INSERT INTO scan_digests (digest, scan_seq) SELECT unnest($1::text[]), $2
                 ON CONFLICT DO NOTHING",
                &[&outcome.digests, &seq],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn fail(&self, id: &str, worker: &str, reason: &str) -> StoreResult<bool> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE scans SET status = 'failed', finished = $3, error = $4, lease_until = NULL,
                        endings = endings + 1
                 WHERE id = $1 AND worker = $2 AND status = 'scanning'",
                &[&id, &worker, &now(), &reason],
            )? == 1)
        })
    }

    fn release_all(&self) -> StoreResult<()> {
        // Other machines' workers may be scanning: their leases stand.
        Ok(())
    }

    fn scan(&self, id: &str) -> StoreResult<Option<ScanRow>> {
        self.one_row(
            &format!("SELECT {ROW_COLUMNS} FROM scans WHERE id = $1"),
            id,
        )
    }

    fn report_json(&self, id: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(
                c.query_opt("SELECT report_json FROM scans WHERE id = $1", &[&id])?
                    .and_then(|r| r.get(0)),
            )
        })
    }

    fn recent(&self, limit: usize) -> StoreResult<Vec<ScanRow>> {
        self.with(|c| {
            Ok(c.query(
                &format!("SELECT {ROW_COLUMNS} FROM scans ORDER BY seq DESC LIMIT $1"),
                &[&(limit as i64)],
            )?
            .iter()
            .map(row)
            .collect())
        })
    }

    fn latest_with_digest(&self, digest: &str) -> StoreResult<Option<ScanRow>> {
        self.one_row(
            &format!(
                "SELECT {ROW_COLUMNS} FROM scans WHERE seq =
                   (SELECT max(scan_seq) FROM scan_digests WHERE digest = $1)"
            ),
            digest,
        )
    }
}
