//! rpm's sqlite database, `rpmdb.sqlite` (rpm ≥ 4.16: RHEL 9, Fedora 33+): table `Packages`
//! with `hnum` (the package instance) and `blob` (the header blob).
//!
//! SQLite reads from a file, so the bytes are written to a temporary file in the system's temp
//! directory (the scan's temp space), deleted when read, and opened read-only and `immutable`
//! (no locks, no journal or WAL files looked for beside it). The file is untrusted, so the
//! connection is set up as SQLite's "defense against the dark arts" advises: defensive mode, an
//! untrusted schema, cell size checks; and `Packages` must be a plain table whose columns are
//! stored, not computed, so that reading it runs nothing a crafted schema could make expensive.

use std::io::Write;

use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use thiserror::Error;

pub(crate) const MAGIC: &[u8] = b"SQLite format 3\0";

/// What is wrong with an `rpmdb.sqlite`.
#[derive(Debug, Error)]
pub enum SqliteError {
    #[error("cannot write the database to a temporary file: {0}")]
    TempFile(#[from] std::io::Error),
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no Packages table")]
    NoPackagesTable,
    #[error("Packages is a {0}, not a table")]
    NotATable(String),
    #[error("column Packages.{0} is computed, not stored")]
    ComputedColumn(String),
    #[error("package instance {0} is not a 32-bit unsigned number")]
    BadInstance(i64),
    #[error("package instance {0}: its header is not a BLOB")]
    NotABlob(u32),
    #[error("the Packages blobs add up to more than the file")]
    BlobsTooLarge,
}

/// Calls `each(instance, header blob)` for every row of `Packages`, in instance order.
pub fn for_each_blob(db: &[u8], each: &mut dyn FnMut(u32, &[u8])) -> Result<(), SqliteError> {
    let mut file = tempfile::NamedTempFile::new()?;
    file.write_all(db)?;
    file.flush()?;
    let uri = format!("file:{}?immutable=1", uri_path(file.path()));
    let connection = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    connection.pragma_update(None, "cell_size_check", true)?;

    let kind: Option<String> = connection
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    match kind.as_deref() {
        None => return Err(SqliteError::NoPackagesTable),
        Some("table") => {}
        Some(other) => return Err(SqliteError::NotATable(other.to_string())),
    }
    let computed: Option<String> = connection
        .query_row(
            "SELECT name FROM pragma_table_xinfo('Packages') WHERE hidden IN (2, 3)",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(column) = computed {
        return Err(SqliteError::ComputedColumn(column));
    }

    let mut statement = connection.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")?;
    let mut rows = statement.query([])?;
    let mut budget = db.len();
    while let Some(row) = rows.next()? {
        let hnum: i64 = row.get(0)?;
        let instance = u32::try_from(hnum).map_err(|_| SqliteError::BadInstance(hnum))?;
        let ValueRef::Blob(blob) = row.get_ref(1)? else {
            return Err(SqliteError::NotABlob(instance));
        };
        budget = budget
            .checked_sub(blob.len())
            .ok_or(SqliteError::BlobsTooLarge)?;
        each(instance, blob);
    }
    Ok(())
}

/// A path as the path of a `file:` URI: every byte but unreserved ones and `/` percent-encoded.
fn uri_path(path: &std::path::Path) -> String {
    let mut out = String::new();
    for &byte in path.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header;

    /// A database made by SQLite from `schema`, then `rows` inserted into `Packages`.
    fn database(schema: &str, rows: &[(i64, &[u8])]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpmdb.sqlite");
        let connection = Connection::open(&path).unwrap();
        connection.execute_batch(schema).unwrap();
        for (hnum, blob) in rows {
            connection
                .execute(
                    "INSERT INTO Packages (hnum, blob) VALUES (?1, ?2)",
                    (hnum, blob),
                )
                .unwrap();
        }
        drop(connection);
        std::fs::read(path).unwrap()
    }

    fn blobs(db: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, SqliteError> {
        let mut found = Vec::new();
        for_each_blob(db, &mut |instance, blob| {
            found.push((instance, blob.to_vec()))
        })?;
        Ok(found)
    }

    /// rpm's own schema (`lib/backend/sqlite.c`).
    const RPM_SCHEMA: &str =
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);";

    #[test]
    fn rows_in_instance_order() {
        let bash = header::tests::bash();
        let db = database(RPM_SCHEMA, &[(7, b"second"), (2, &bash)]);
        assert!(db.starts_with(MAGIC));
        assert_eq!(blobs(&db).unwrap(), [(2, bash), (7, b"second".to_vec())]);
    }

    #[test]
    fn crafted_schemas_are_refused() {
        let view = database(
            "CREATE TABLE t (hnum INTEGER, blob BLOB); CREATE VIEW Packages AS \
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
             SELECT x AS hnum, zeroblob(1000000) AS blob FROM c;",
            &[],
        );
        assert!(matches!(blobs(&view), Err(SqliteError::NotATable(kind)) if kind == "view"));
        let computed = database(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, seed INTEGER, \
             blob BLOB GENERATED ALWAYS AS (zeroblob(seed)) VIRTUAL);",
            &[],
        );
        assert!(matches!(blobs(&computed), Err(SqliteError::ComputedColumn(c)) if c == "blob"));
        let other = database("CREATE TABLE Other (x);", &[]);
        assert!(matches!(blobs(&other), Err(SqliteError::NoPackagesTable)));
        let text = database(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob); \
             INSERT INTO Packages VALUES (3, 'text');",
            &[],
        );
        assert!(matches!(blobs(&text), Err(SqliteError::NotABlob(3))));
    }

    #[test]
    fn truncated_databases_are_errors() {
        let db = database(RPM_SCHEMA, &[(1, &header::tests::bash())]);
        let whole = blobs(&db).unwrap();
        for len in (0..db.len()).step_by(97) {
            // SQLite notices, or what it still reads is what the whole file holds.
            if let Ok(found) = blobs(&db[..len]) {
                assert!(found.iter().all(|row| whole.contains(row)), "{len}");
            }
        }
        assert!(blobs(&db[..100]).is_err());
    }
}
