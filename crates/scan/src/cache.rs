//! The layer cache: what the walk of a layer produced (entries, analyzer outputs, verdicts,
//! digests), kept on disk in one SQLite file so that the next scan of the same layer, in the same
//! image or another sharing it, reads it instead of decompressing and analysing the layer again.
//!
//! - Key: the sha256 of the layer blob as read, with a fingerprint of everything the walk's
//!   results depend on — every analyzer's id, version and [`Analyzer::cache_key`] (rule sets,
//!   hash lists, secret rules, skipped checks), the limits, and this crate's version.
//! - A hit is trusted only after the blob is read and hashed again and its digest and size match:
//!   the image's own claims (blob names, manifests) choose what to look up, never what is used.
//!   The one exception is a blob this cache has seen hashed in a file that has not changed since:
//!   for each blob read from a file, the file's stamp (device, inode, size, modification and
//!   change times, the blob's place in it) is kept with the digest the read computed, and a blob
//!   whose stamp is the same now is not read again. Writing a file changes its change time, which
//!   cannot be set back, and files changed in the last seconds get no stamp (a coarse clock could
//!   give two writes the same time), so an equal stamp means the same bytes.
//! - Only what the walk produced is cached; the image assembly, the configuration checks,
//!   vulnerability matching and the policy run on every scan, so a newer vulnerability database
//!   or policy applies to cached layers too.
//! - Walks in which an engine failed on a file are not kept (the failure may be passing).
//! - The file is bounded: beyond `max_bytes`, least recently used layers are evicted.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest as _, Sha256};
use stowaway_findings::Verdict;
use stowaway_image::Digest;

use crate::analyzer::Analyzer;
use crate::limits::Limits;
use crate::source::LayerScan;

/// Bumped whenever what is stored changes shape.
const FORMAT: u32 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS layers (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    bytes INTEGER NOT NULL,
    used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS layers_used ON layers(used);
CREATE TABLE IF NOT EXISTS stamps (
    stamp TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    used INTEGER NOT NULL
);
";

/// Stamps kept at most; beyond, the least recently used go.
const MAX_STAMPS: i64 = 10_000;

/// Why the cache could not be opened or cleaned.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("the layer cache {path}: {1}", path = .0.display())]
    Io(PathBuf, #[source] std::io::Error),
    #[error("the layer cache {path}: {1}", path = .0.display())]
    Database(PathBuf, #[source] rusqlite::Error),
}

/// The layer cache in one directory.
pub struct LayerCache {
    conn: Mutex<Connection>,
    max_bytes: u64,
}

/// What [`LayerCache::clean`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleaned {
    pub layers: u64,
    pub bytes: u64,
}

/// The cache file in `dir`.
pub fn cache_file(dir: &Path) -> PathBuf {
    dir.join("layers.sqlite")
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The fingerprint of `analyzers` and `limits`: a cached walk is used only under the same one.
pub(crate) fn fingerprint(analyzers: &[Box<dyn Analyzer>], limits: &Limits) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "stowaway-scan {} format {FORMAT}\n{limits:?}\n",
        env!("CARGO_PKG_VERSION")
    ));
    for analyzer in analyzers {
        hasher.update(format!(
            "{} {} {:?}\n",
            analyzer.id(),
            analyzer.version(),
            analyzer.cache_key()
        ));
    }
    hex::encode(hasher.finalize())
}

fn key(fingerprint: &str, blob: &Digest) -> String {
    format!("{fingerprint}/{blob}")
}

impl LayerCache {
    /// Opens (creating) the cache in `dir`, holding at most `max_bytes` of compressed walks.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<LayerCache, CacheError> {
        let path = cache_file(dir);
        let failed = |e| CacheError::Database(path.clone(), e);
        std::fs::create_dir_all(dir).map_err(|e| CacheError::Io(dir.to_path_buf(), e))?;
        let conn = Connection::open(&path).map_err(failed)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(failed)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(failed)?;
        conn.execute_batch(SCHEMA).map_err(failed)?;
        Ok(LayerCache {
            conn: Mutex::new(conn),
            max_bytes,
        })
    }

    /// Removes every cached layer of the cache in `dir` (none there is no error).
    pub fn clean(dir: &Path) -> Result<Cleaned, CacheError> {
        if !cache_file(dir).exists() {
            return Ok(Cleaned {
                layers: 0,
                bytes: 0,
            });
        }
        let cache = LayerCache::open(dir, 0)?;
        let failed = |e| CacheError::Database(cache_file(dir), e);
        let conn = cache.conn();
        let (layers, bytes): (i64, i64) = conn
            .query_row(
                "SELECT count(*), coalesce(sum(bytes), 0) FROM layers",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(failed)?;
        conn.execute("DELETE FROM layers", []).map_err(failed)?;
        conn.execute("DELETE FROM stamps", []).map_err(failed)?;
        conn.execute_batch("VACUUM").map_err(failed)?;
        Ok(Cleaned {
            layers: layers as u64,
            bytes: bytes as u64,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The walk cached for `blob` under `fingerprint`, if any (not yet verified: see
    /// [`crate::source`]). A cache that cannot be read is a miss.
    pub(crate) fn get(&self, fingerprint: &str, blob: &Digest) -> Option<LayerScan> {
        let conn = self.conn();
        let key = key(fingerprint, blob);
        let value: Vec<u8> = conn
            .query_row(
                "SELECT value FROM layers WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .ok()??;
        let _ = conn.execute(
            "UPDATE layers SET used = ?2 WHERE key = ?1",
            params![key, now_millis()],
        );
        drop(conn);
        let json = zstd::decode_all(&value[..]).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// The digest and size a read of the blob stamped `stamp` computed, when this cache saw
    /// one.
    pub(crate) fn stamped(&self, stamp: &str) -> Option<(String, u64)> {
        let conn = self.conn();
        let found: (String, i64) = conn
            .query_row(
                "SELECT digest, size FROM stamps WHERE stamp = ?1",
                params![stamp],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ok()??;
        let _ = conn.execute(
            "UPDATE stamps SET used = ?2 WHERE stamp = ?1",
            params![stamp, now_millis()],
        );
        Some((found.0, found.1 as u64))
    }

    /// Keeps what a read of the blob stamped `stamp` computed. Failures only cost a future read.
    pub(crate) fn stamp(&self, stamp: &str, digest: &Digest, size: u64) {
        let conn = self.conn();
        let _ = conn.execute(
            "INSERT OR REPLACE INTO stamps (stamp, digest, size, used) VALUES (?1, ?2, ?3, ?4)",
            params![stamp, digest.as_str(), size as i64, now_millis()],
        );
        let _ = conn.execute(
            "DELETE FROM stamps WHERE stamp NOT IN
                (SELECT stamp FROM stamps ORDER BY used DESC LIMIT ?1)",
            params![MAX_STAMPS],
        );
    }

    /// Keeps `scan` under its blob's computed digest, then evicts the least recently used layers
    /// beyond the size cap. Failures only cost a future miss.
    pub(crate) fn put(&self, fingerprint: &str, scan: &LayerScan) {
        let Some(digests) = &scan.digests else { return };
        let failed_engine = scan
            .walk
            .verdicts
            .iter()
            .flat_map(|v| &v.results)
            .any(|r| r.verdict == Verdict::Failed);
        if failed_engine {
            return;
        }
        let Ok(json) = serde_json::to_vec(scan) else {
            return;
        };
        let Ok(value) = zstd::encode_all(&json[..], 3) else {
            return;
        };
        if value.len() as u64 > self.max_bytes {
            return;
        }
        let conn = self.conn();
        let _ = conn.execute(
            "INSERT OR REPLACE INTO layers (key, value, bytes, used) VALUES (?1, ?2, ?3, ?4)",
            params![
                key(fingerprint, &digests.blob_digest),
                value,
                value.len() as i64,
                now_millis()
            ],
        );
        let _ = evict(&conn, self.max_bytes);
    }
}

/// Deletes the least recently used layers until at most `max_bytes` remain.
fn evict(conn: &Connection, max_bytes: u64) -> rusqlite::Result<()> {
    let total: i64 = conn.query_row("SELECT coalesce(sum(bytes), 0) FROM layers", [], |r| {
        r.get(0)
    })?;
    let mut excess = total - max_bytes as i64;
    if excess <= 0 {
        return Ok(());
    }
    let mut statement = conn.prepare("SELECT key, bytes FROM layers ORDER BY used, key")?;
    let oldest: Vec<(String, i64)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (key, bytes) in oldest {
        if excess <= 0 {
            break;
        }
        conn.execute("DELETE FROM layers WHERE key = ?1", params![key])?;
        excess -= bytes;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use stowaway_image::layer::{Compression, LayerDigests};

    use super::*;
    use crate::walk::{LayerEntry, Walk};

    fn scan(n: u8, entries: usize) -> LayerScan {
        let digest = |c: u8| Digest::parse(&format!("sha256:{}", hex::encode([c; 32]))).unwrap();
        let entry = LayerEntry {
            path: format!("file-{n}"),
            kind: crate::walk::EntryKind::Fs(stowaway_findings::EntryType::File),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1,
            sha256: None,
            link: None,
        };
        LayerScan {
            walk: Walk {
                entries: vec![entry; entries],
                ..Walk::default()
            },
            digests: Some(LayerDigests {
                compression: Compression::None,
                blob_digest: digest(n),
                blob_size: 10,
                diff_id: digest(n),
                uncompressed_size: 10,
            }),
        }
    }

    #[test]
    fn walks_round_trip_and_the_least_recently_used_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let one = scan(1, 1);
        let size = zstd::encode_all(&serde_json::to_vec(&one).unwrap()[..], 3)
            .unwrap()
            .len() as u64;
        let cache = LayerCache::open(dir.path(), size * 2 + size / 2).unwrap();
        let blob = |n: u8| scan(n, 1).digests.unwrap().blob_digest;
        cache.put("f", &one);
        let back = cache.get("f", &blob(1)).unwrap();
        assert_eq!(back.walk.entries, one.walk.entries);
        assert_eq!(back.digests, one.digests);
        assert!(cache.get("other fingerprint", &blob(1)).is_none());

        cache.put("f", &scan(2, 1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get("f", &blob(1)).is_some()); // 1 is now the more recently used
        std::thread::sleep(Duration::from_millis(5));
        cache.put("f", &scan(3, 1)); // over the cap: 2 goes
        assert!(cache.get("f", &blob(2)).is_none());
        assert!(cache.get("f", &blob(1)).is_some());
        assert!(cache.get("f", &blob(3)).is_some());

        assert_eq!(LayerCache::clean(dir.path()).unwrap().layers, 2);
        assert!(cache.get("f", &blob(1)).is_none());
    }

    #[test]
    fn stamps_round_trip_and_go_with_a_clean() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::open(dir.path(), 1 << 20).unwrap();
        let digest = scan(1, 1).digests.unwrap().blob_digest;
        assert_eq!(cache.stamped("dev 1 ino 2"), None);
        cache.stamp("dev 1 ino 2", &digest, 10);
        assert_eq!(
            cache.stamped("dev 1 ino 2"),
            Some((digest.as_str().to_string(), 10))
        );
        assert_eq!(cache.stamped("dev 1 ino 3"), None);
        LayerCache::clean(dir.path()).unwrap();
        assert_eq!(cache.stamped("dev 1 ino 2"), None);
    }
}
