//! Reads rpm package databases from bytes in memory: which packages are installed (name, epoch,
//! version, release, arch, source rpm, license) and the files each installed.
//!
//! rpm has kept its database in three formats, all of them a store of header blobs keyed by a
//! package instance number, which this crate reads in the three modules below and hands to one
//! header parser ([`header`]):
//!
//! | format | file | used by | module |
//! |---|---|---|---|
//! | sqlite | `rpmdb.sqlite` | RHEL 9, Fedora 33+, rpm ≥ 4.16 | [`sqlite`] (through SQLite itself) |
//! | Berkeley DB hash | `Packages` | RHEL ≤ 8, CentOS, older SUSE | [`bdb`] (a reader of its own) |
//! | NDB | `Packages.db` | SUSE since SLE 15 SP3 / openSUSE | [`ndb`] (a reader of its own) |
//!
//! Everything read is untrusted: every offset, count and size is checked against the input,
//! allocations are bounded by the input's length, and what is wrong comes back as an [`Error`]
//! naming it. A damaged header does not hide the others: it is reported in
//! [`Packages::errors`] beside the packages that did parse.

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

/// The NDB writer the integration tests use, for the NDB reader's own tests.
#[cfg(test)]
#[path = "../tests/common/ndb.rs"]
mod ndb_writer;

use std::fmt;

use thiserror::Error;

pub use header::HeaderError;

/// One installed package, as its header records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// Absent when the package has none (which rpm compares as 0 but does not print).
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    /// Absent for `gpg-pubkey` pseudo-packages.
    pub arch: Option<String>,
    /// The source rpm's file name (`bash-5.1.8-6.el9.src.rpm`).
    pub source_rpm: Option<String>,
    pub license: Option<String>,
    /// Installed paths, absolute as rpm records them (directories included).
    pub files: Vec<String>,
}

impl Package {
    /// `[epoch:]version-release`, the epoch only when the header has one.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(epoch) => format!("{epoch}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

/// The database formats, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sqlite,
    BerkeleyDb,
    Ndb,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Sqlite => "sqlite",
            Format::BerkeleyDb => "Berkeley DB",
            Format::Ndb => "NDB",
        })
    }
}

impl Format {
    /// The format of a database, from its magic numbers.
    pub fn detect(db: &[u8]) -> Option<Format> {
        if db.starts_with(sqlite::MAGIC) {
            Some(Format::Sqlite)
        } else if db.starts_with(&ndb::MAGIC) {
            Some(Format::Ndb)
        } else if bdb::is_hash(db) {
            Some(Format::BerkeleyDb)
        } else {
            None
        }
    }
}

/// What is wrong with a database as a whole.
#[derive(Debug, Error)]
pub enum Error {
    #[error("not an rpm database: no sqlite, Berkeley DB hash or NDB magic at its start")]
    UnknownFormat,
    #[error("Berkeley DB: {0}")]
    BerkeleyDb(#[from] bdb::BdbError),
    #[error("NDB: {0}")]
    Ndb(#[from] ndb::NdbError),
    #[error("sqlite: {0}")]
    Sqlite(#[from] sqlite::SqliteError),
}

/// A header that did not parse, and the instance number the database keeps it under.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("package instance {instance}: {error}")]
pub struct BadHeader {
    pub instance: u32,
    #[source]
    pub error: HeaderError,
}

/// The packages of a database in instance order (the order rpm installed them in), and the
/// headers that did not parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packages {
    pub packages: Vec<Package>,
    pub errors: Vec<BadHeader>,
}

/// Reads a database of any of the three formats.
pub fn read(db: &[u8]) -> Result<Packages, Error> {
    let format = Format::detect(db).ok_or(Error::UnknownFormat)?;
    let mut headers: Vec<(u32, Result<Package, HeaderError>)> = Vec::new();
    let mut each = |instance: u32, blob: &[u8]| headers.push((instance, header::parse(blob)));
    match format {
        Format::Sqlite => sqlite::for_each_blob(db, &mut each)?,
        Format::BerkeleyDb => bdb::for_each_blob(db, &mut each)?,
        Format::Ndb => ndb::for_each_blob(db, &mut each)?,
    }
    headers.sort_by_key(|(instance, _)| *instance);
    let mut packages = Packages::default();
    for (instance, parsed) in headers {
        match parsed {
            Ok(package) => packages.packages.push(package),
            Err(error) => packages.errors.push(BadHeader { instance, error }),
        }
    }
    Ok(packages)
}

/// Reads a `u32` at `at` in the given byte order; `None` past the end.
fn u32_at(bytes: &[u8], at: usize, little_endian: bool) -> Option<u32> {
    let word: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if little_endian {
        u32::from_le_bytes(word)
    } else {
        u32::from_be_bytes(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_magic() {
        assert_eq!(
            Format::detect(b"SQLite format 3\0rest"),
            Some(Format::Sqlite)
        );
        assert_eq!(Format::detect(b"RpmP\0\0\0\0"), Some(Format::Ndb));
        assert_eq!(Format::detect(b"not a database"), None);
        assert!(matches!(read(b""), Err(Error::UnknownFormat)));
    }

    #[test]
    fn a_bad_header_is_reported_beside_the_good_ones() {
        let bash = header::tests::bash();
        let db = ndb_writer::write(&[(1, bash.clone()), (2, bash[..40].to_vec()), (3, bash)]);
        let packages = read(&db).unwrap();
        assert_eq!(
            packages
                .packages
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["bash", "bash"]
        );
        assert_eq!(packages.errors.len(), 1);
        assert_eq!(packages.errors[0].instance, 2);
        assert!(matches!(
            packages.errors[0].error,
            HeaderError::SizeMismatch { .. }
        ));
    }
}
