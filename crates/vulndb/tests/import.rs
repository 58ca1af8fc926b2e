//! Import of the real OSV data in `../shared/osv` (PyPI, Go and Rust-crate advisories in the
//! bulk-download layout): every record stored, lookups by package, a re-import that changes
//! nothing, and an import that fails half-way leaving the database as it was.

mod common;

use common::shared;
use stowaway_vulndb::Database;

#[test]
fn the_shared_osv_data_imports_and_looks_up() {
    let (Some(pypi), Some(go), Some(rust)) = (shared("PyPI"), shared("Go"), shared("Rust")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open_for_import(dir.path()).unwrap();
    let summary = db
        .import(&[pypi.clone(), go, rust], "2026-12-04T00:00:00Z")
        .unwrap();
    assert_eq!(summary.stored, 2661 + 4291 + 1206);
    assert!(summary.invalid.is_empty(), "{:?}", summary.invalid);

    let again = db.import(&[pypi], "2026-12-05T00:00:00Z").unwrap();
    assert_eq!(
        (again.stored, again.unchanged),
        (2661, 0),
        "same modified: replaced"
    );
    drop(db);

    let db = Database::open(dir.path()).unwrap();
    let info = db.info().unwrap();
    assert_eq!(info.records, 2661 + 4291 + 1206);
    assert_eq!(info.updated.as_deref(), Some("2026-12-05T00:00:00Z"));
    let ecosystems: Vec<&str> = info
        .ecosystems
        .iter()
        .map(|e| e.ecosystem.as_str())
        .collect();
    assert!(
        ecosystems.contains(&"PyPI")
            && ecosystems.contains(&"Go")
            && ecosystems.contains(&"crates.io"),
        "{ecosystems:?}"
    );
    assert_eq!(info.sources.len(), 4);

    // Lookups: PEP 503 spelling does not matter for PyPI.
    let requests = db.lookup("PyPI", "Requests").unwrap();
    assert!(
        requests
            .iter()
            .any(|r| r.aliases.iter().any(|a| a == "CVE-2018-18074")),
        "{:?}",
        requests.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
    assert!(!db.lookup("Go", "golang.org/x/net").unwrap().is_empty());
    assert!(
        db.lookup("PyPI", "no-such-package-here")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_failed_import_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let records = tempfile::tempdir().unwrap();
    std::fs::write(
        records.path().join("A-1.json"),
        r#"{"id": "A-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": ["1.0"]}]}"#,
    )
    .unwrap();
    std::fs::write(records.path().join("broken.json"), b"{ not json").unwrap();
    let mut db = Database::open_for_import(dir.path()).unwrap();
    let summary = db
        .import(&[records.path().to_path_buf()], "2026-12-04T00:00:00Z")
        .unwrap();
    assert_eq!(summary.stored, 1);
    assert_eq!(summary.invalid.len(), 1);
    assert!(
        summary.invalid[0].contains("broken.json"),
        "{:?}",
        summary.invalid
    );

    // A source that cannot be read at all: nothing of this import is kept.
    std::fs::write(
        records.path().join("B-1.json"),
        r#"{"id": "B-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "PyPI", "name": "b"}, "versions": ["1.0"]}]}"#,
    )
    .unwrap();
    let missing = records.path().join("missing.zip");
    assert!(
        db.import(
            &[records.path().to_path_buf(), missing],
            "2026-12-05T00:00:00Z"
        )
        .is_err()
    );
    let info = db.info().unwrap();
    assert_eq!(info.records, 1);
    assert_eq!(info.updated.as_deref(), Some("2026-12-04T00:00:00Z"));
    assert!(db.lookup("PyPI", "b").unwrap().is_empty());
}
