//! The store: one SQLite file, `osv.sqlite`, in the database directory.
//!
//! `records` keeps each advisory's JSON as imported, keyed by id (a newer `modified` replaces an
//! older copy); `affected` indexes every (ecosystem, package name) an advisory names, so that a
//! scan looks up a package with one indexed query. An import runs in one transaction: an import
//! that fails half-way leaves the previous database as it was.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::osv::{Record, base_ecosystem};

/// The database file inside the database directory.
const FILE: &str = "osv.sqlite";
/// Version of the tables below; a database of another version must be imported again.
pub const SCHEMA_VERSION: u32 = 1;
/// The largest single advisory read (the largest real ones are a few hundred KB).
const MAX_RECORD_BYTES: u64 = 16 << 20;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (source TEXT NOT NULL, imported_at TEXT NOT NULL, records INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS affected (base TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected (base, name);
CREATE INDEX IF NOT EXISTS affected_by_id ON affected (id);
CREATE TABLE IF NOT EXISTS downloads (url TEXT PRIMARY KEY, ecosystem TEXT NOT NULL, etag TEXT, last_modified TEXT, fetched_at TEXT NOT NULL);
";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no vulnerability database in {0} (run `stowaway db import` or `stowaway db update`)")]
    Missing(PathBuf),
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{path}: schema version {found}, this stowaway reads {SCHEMA_VERSION}: import the data again"
    )]
    Schema { path: PathBuf, found: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{url}: {reason}")]
    Download { url: String, reason: String },
    #[error("{path}: not a zip of OSV records: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
}

/// What one import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Records read and stored (new, or newer than the stored copy).
    pub stored: usize,
    /// Records read that were not newer than the stored copy.
    pub unchanged: usize,
    /// Files that are not OSV records, each with why (`file: reason`).
    pub invalid: Vec<String>,
}

/// Records per base ecosystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcosystemCount {
    pub ecosystem: String,
    pub records: usize,
}

/// What `stowaway db info` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInfo {
    pub path: PathBuf,
    pub schema_version: u32,
    /// RFC 3339 time of the last import or update.
    pub updated: Option<String>,
    /// Every source imported, with when and how many records.
    pub sources: Vec<(String, String, usize)>,
    pub ecosystems: Vec<EcosystemCount>,
    pub records: usize,
    pub withdrawn: usize,
}

/// What `stowaway db update` stored about an `all.zip` it imported: the validators for the next
/// conditional GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadState {
    pub url: String,
    pub ecosystem: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// RFC 3339 time of the update that imported it.
    pub fetched_at: String,
}

/// An open advisory database.
pub struct Database {
    conn: Connection,
    path: PathBuf,
}

impl Database {
    /// The database file of a database directory.
    pub fn file(dir: &Path) -> PathBuf {
        dir.join(FILE)
    }

    /// Opens the database of `dir` for lookups.
    pub fn open(dir: &Path) -> Result<Database, DbError> {
        let path = Database::file(dir);
        if !path.is_file() {
            return Err(DbError::Missing(dir.to_path_buf()));
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|source| sqlite(&path, source))?;
        let db = Database { conn, path };
        db.check_schema()?;
        Ok(db)
    }

    /// Opens the database of `dir` for an import, creating the directory and the file.
    pub fn open_for_import(dir: &Path) -> Result<Database, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Database::create(&Database::file(dir))
    }

    /// Opens (creating it if needed) the database file `path` for writing.
    pub(crate) fn create(path: &Path) -> Result<Database, DbError> {
        let path = path.to_path_buf();
        let conn = Connection::open(&path).map_err(|source| sqlite(&path, source))?;
        conn.execute_batch(SCHEMA)
            .map_err(|source| sqlite(&path, source))?;
        let db = Database { conn, path };
        let version: Option<String> = db.meta("schema_version")?;
        match version {
            None => db.set_meta("schema_version", &SCHEMA_VERSION.to_string())?,
            Some(_) => db.check_schema()?,
        }
        Ok(db)
    }

    fn check_schema(&self) -> Result<(), DbError> {
        let found = self.meta("schema_version")?.unwrap_or_default();
        if found != SCHEMA_VERSION.to_string() {
            return Err(DbError::Schema {
                path: self.path.clone(),
                found,
            });
        }
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|source| sqlite(&self.path, source))
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), DbError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                [key, value],
            )
            .map(drop)
            .map_err(|source| sqlite(&self.path, source))
    }

    /// Imports OSV records from zips, directories of JSON files, or single JSON files, in one
    /// transaction; `now` (RFC 3339) is recorded as the update time.
    pub fn import(&mut self, sources: &[PathBuf], now: &str) -> Result<ImportSummary, DbError> {
        let labelled: Vec<(PathBuf, String)> = sources
            .iter()
            .map(|source| (source.clone(), source.display().to_string()))
            .collect();
        self.import_labelled(&labelled, now)
    }

    /// [`Database::import`] with the name each source is recorded under (an update records the
    /// URL, not the temporary file it downloaded to).
    pub(crate) fn import_labelled(
        &mut self,
        sources: &[(PathBuf, String)],
        now: &str,
    ) -> Result<ImportSummary, DbError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|source| sqlite(&path, source))?;
        let mut summary = ImportSummary::default();
        for (source, label) in sources {
            let before = summary.stored + summary.unchanged;
            each_document(source, &mut |name, bytes| {
                store(&tx, &path, name, bytes, &mut summary)
            })?;
            tx.execute(
                "INSERT INTO sources (source, imported_at, records) VALUES (?1, ?2, ?3)",
                params![
                    label,
                    now,
                    (summary.stored + summary.unchanged - before) as i64
                ],
            )
            .map_err(|source| sqlite(&path, source))?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('updated', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
            [now],
        )
        .map_err(|source| sqlite(&path, source))?;
        tx.commit().map_err(|source| sqlite(&path, source))?;
        Ok(summary)
    }

    /// What earlier updates downloaded, by URL; empty for a database only ever imported into
    /// (or one made before updates existed, which has no `downloads` table).
    pub fn downloads(&self) -> Result<Vec<DownloadState>, DbError> {
        let err = |source| sqlite(&self.path, source);
        let exists: bool = self
            .conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'downloads'",
                [],
                |row| row.get(0),
            )
            .map_err(err)?;
        if !exists {
            return Ok(Vec::new());
        }
        let mut statement = self
            .conn
            .prepare(
                "SELECT url, ecosystem, etag, last_modified, fetched_at FROM downloads ORDER BY rowid",
            )
            .map_err(err)?;
        statement
            .query_map([], |row| {
                Ok(DownloadState {
                    url: row.get(0)?,
                    ecosystem: row.get(1)?,
                    etag: row.get(2)?,
                    last_modified: row.get(3)?,
                    fetched_at: row.get(4)?,
                })
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)
    }

    /// Copies the database file to `dest` as one consistent snapshot: the copy is made inside a
    /// read transaction, whose lock keeps any writer from changing the file meanwhile.
    pub(crate) fn copy_to(&self, dest: &Path) -> Result<(), DbError> {
        let err = |source| sqlite(&self.path, source);
        self.conn.execute_batch("BEGIN").map_err(err)?;
        let copied = self
            .conn
            .query_row("SELECT COUNT(*) FROM meta", [], |row| row.get::<_, i64>(0))
            .map_err(err)
            .and_then(|_| {
                std::fs::copy(&self.path, dest).map_err(|source| DbError::Io {
                    path: dest.to_path_buf(),
                    source,
                })
            });
        self.conn.execute_batch("COMMIT").map_err(err)?;
        copied.map(drop)
    }

    /// Records (or replaces) what an update downloaded from `state.url`.
    pub(crate) fn set_download(&self, state: &DownloadState) -> Result<(), DbError> {
        self.conn
            .execute(
                "INSERT INTO downloads (url, ecosystem, etag, last_modified, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (url) DO UPDATE SET ecosystem = ?2, etag = ?3, last_modified = ?4, fetched_at = ?5",
                params![
                    state.url,
                    state.ecosystem,
                    state.etag,
                    state.last_modified,
                    state.fetched_at
                ],
            )
            .map(drop)
            .map_err(|source| sqlite(&self.path, source))
    }

    /// The advisories (not withdrawn) that name package `name` in an ecosystem whose base is
    /// `base` (`PyPI`, `Debian`, ...); each with the exact ecosystem it named (`Debian:12`).
    pub fn lookup(&self, base: &str, name: &str) -> Result<Vec<Record>, DbError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT r.json FROM affected a JOIN records r ON r.id = a.id
                 WHERE a.base = ?1 AND a.name = ?2 AND r.withdrawn = 0 ORDER BY r.id",
            )
            .map_err(|source| sqlite(&self.path, source))?;
        let rows = statement
            .query_map([base, &normalize_name(base, name)], |row| {
                row.get::<_, String>(0)
            })
            .map_err(|source| sqlite(&self.path, source))?;
        let mut records = Vec::new();
        for json in rows {
            let json = json.map_err(|source| sqlite(&self.path, source))?;
            // Stored records parsed when they were imported; one that no longer does is skipped.
            if let Ok(record) = serde_json::from_str::<Record>(&json) {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Every package name (as the index keys it) that some advisory of base ecosystem `base`
    /// names: one query that spares a lookup for each package no advisory mentions.
    pub fn names(&self, base: &str) -> Result<std::collections::HashSet<String>, DbError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT DISTINCT name FROM affected WHERE base = ?1")
            .map_err(|source| sqlite(&self.path, source))?;
        let rows = statement
            .query_map([base], |row| row.get::<_, String>(0))
            .map_err(|source| sqlite(&self.path, source))?;
        rows.collect::<Result<_, _>>()
            .map_err(|source| sqlite(&self.path, source))
    }

    /// Sources, counts and the last update, for `stowaway db info` and the report.
    pub fn info(&self) -> Result<DbInfo, DbError> {
        let err = |source| sqlite(&self.path, source);
        let count = |sql: &str| -> Result<usize, DbError> {
            self.conn
                .query_row(sql, [], |row| row.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(err)
        };
        let mut statement = self
            .conn
            .prepare(
                "SELECT a.base, COUNT(DISTINCT a.id) FROM affected a JOIN records r ON r.id = a.id
                 WHERE r.withdrawn = 0 GROUP BY a.base ORDER BY a.base",
            )
            .map_err(err)?;
        let ecosystems = statement
            .query_map([], |row| {
                Ok(EcosystemCount {
                    ecosystem: row.get(0)?,
                    records: row.get::<_, i64>(1)? as usize,
                })
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let mut statement = self
            .conn
            .prepare("SELECT source, imported_at, records FROM sources ORDER BY rowid")
            .map_err(err)?;
        let sources = statement
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)? as usize))
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        Ok(DbInfo {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            updated: self.meta("updated")?,
            sources,
            ecosystems,
            records: count("SELECT COUNT(*) FROM records")?,
            withdrawn: count("SELECT COUNT(*) FROM records WHERE withdrawn = 1")?,
        })
    }
}

fn sqlite(path: &Path, source: rusqlite::Error) -> DbError {
    DbError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// The name as the index keys it: PyPI names normalised as PEP 503 says (advisories and
/// installed metadata spell them differently), others as they are.
pub fn normalize_name(base: &str, name: &str) -> String {
    match base {
        "PyPI" => stowaway_findings::normalize_python_name(name),
        _ => name.to_string(),
    }
}

/// Stores one document: a record newer than (or as new as) the stored copy replaces it.
fn store(
    tx: &rusqlite::Transaction,
    path: &Path,
    name: &str,
    bytes: &[u8],
    summary: &mut ImportSummary,
) -> Result<(), DbError> {
    let record: Record = match serde_json::from_slice(bytes) {
        Ok(record) => record,
        Err(error) => {
            summary.invalid.push(format!("{name}: {error}"));
            return Ok(());
        }
    };
    if record.id.is_empty() {
        summary.invalid.push(format!("{name}: no id"));
        return Ok(());
    }
    let err = |source| sqlite(path, source);
    let stored: Option<String> = tx
        .query_row(
            "SELECT modified FROM records WHERE id = ?1",
            [&record.id],
            |row| row.get(0),
        )
        .optional()
        .map_err(err)?;
    if stored.as_ref().is_some_and(|m| *m > record.modified) {
        summary.unchanged += 1;
        return Ok(());
    }
    let json = String::from_utf8_lossy(bytes);
    tx.execute(
        "INSERT INTO records (id, modified, withdrawn, json) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET modified = ?2, withdrawn = ?3, json = ?4",
        params![
            record.id,
            record.modified,
            record.withdrawn.is_some() as i64,
            json
        ],
    )
    .map_err(err)?;
    tx.execute("DELETE FROM affected WHERE id = ?1", [&record.id])
        .map_err(err)?;
    for affected in &record.affected {
        let Some(package) = &affected.package else {
            continue;
        };
        let base = base_ecosystem(&package.ecosystem);
        tx.execute(
            "INSERT INTO affected (base, ecosystem, name, id) VALUES (?1, ?2, ?3, ?4)",
            params![
                base,
                package.ecosystem,
                normalize_name(base, &package.name),
                record.id
            ],
        )
        .map_err(err)?;
    }
    summary.stored += 1;
    Ok(())
}

/// What receives each document of a source: its name and bytes.
type DocumentSink<'a> = dyn FnMut(&str, &[u8]) -> Result<(), DbError> + 'a;

/// Calls `each(name, bytes)` for every OSV JSON document of a source: the members of a zip, the
/// `.json` files under a directory, or the file itself.
fn each_document(source: &Path, each: &mut DocumentSink) -> Result<(), DbError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DbError::Io { path, source }
    };
    if source.is_dir() {
        for entry in walkdir::WalkDir::new(source).sort_by_file_name() {
            let entry = entry.map_err(|e| DbError::Io {
                path: source.to_path_buf(),
                source: e.into(),
            })?;
            let path = entry.path();
            if entry.file_type().is_file() && path.extension().is_some_and(|e| e == "json") {
                let bytes =
                    read_bounded(std::fs::File::open(path).map_err(io(path))?).map_err(io(path))?;
                each(&path.display().to_string(), &bytes)?;
            }
        }
        return Ok(());
    }
    let file = std::fs::File::open(source).map_err(io(source))?;
    let mut magic = [0u8; 4];
    let is_zip = (&file).read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    let file = std::fs::File::open(source).map_err(io(source))?;
    if !is_zip {
        let bytes = read_bounded(file).map_err(io(source))?;
        return each(&source.display().to_string(), &bytes);
    }
    let zip_error = |e| DbError::Zip {
        path: source.to_path_buf(),
        source: e,
    };
    let mut archive = zip::ZipArchive::new(file).map_err(zip_error)?;
    for i in 0..archive.len() {
        let member = archive.by_index(i).map_err(zip_error)?;
        let member_name = member.name().map_err(zip_error)?.into_owned();
        if !member.is_file() || !member_name.ends_with(".json") {
            continue;
        }
        let name = format!("{}!{member_name}", source.display());
        let bytes = read_bounded(member).map_err(io(source))?;
        each(&name, &bytes)?;
    }
    Ok(())
}

/// Reads at most [`MAX_RECORD_BYTES`]; a larger document is an error.
fn read_bounded(reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(std::io::Error::other(format!(
            "an advisory larger than {MAX_RECORD_BYTES} bytes"
        )));
    }
    Ok(bytes)
}
