//! Snapshot of the table output (without colour) of the shared report: any change to what the
//! terminal shows is a visible diff of `snapshots/table.txt`. After an intended change, rewrite
//! the snapshot with `UPDATE_SNAPSHOTS=1 cargo test -p stowaway-report --test table` and review
//! the diff.

mod common;

use std::path::Path;

#[test]
fn table_output_matches_the_snapshot() {
    let table = stowaway_report::table(&common::report(), false);
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/table.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, &table).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", snapshot.display()));
    assert_eq!(
        table,
        expected,
        "the table differs from {}",
        snapshot.display()
    );
    // Coloured output is the same text with escapes.
    let coloured = stowaway_report::table(&common::report(), true);
    assert!(coloured.contains('\u{1b}'));
}
