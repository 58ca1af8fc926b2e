//! What the database tests share: the real OSV data of the workplace's `shared/osv`.

use std::path::{Path, PathBuf};

/// The shared data directory: `$STOWAWAY_SHARED_DIR` (which `scripts/with-test-deps` sets), else
/// `../shared` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("STOWAWAY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// `<shared>/osv/<ecosystem>/all.zip`, or `None` (and a note that the test is skipped) when the
/// shared data is not there; when `STOWAWAY_SHARED_DIR` names it, it must be there.
pub fn shared(ecosystem: &str) -> Option<PathBuf> {
    let path = shared_dir().join("osv").join(ecosystem).join("all.zip");
    if !path.is_file() {
        assert!(
            std::env::var_os("STOWAWAY_SHARED_DIR").is_none(),
            "STOWAWAY_SHARED_DIR is set but {} is not there",
            path.display()
        );
        eprintln!(
            "skipped: {} is not there (set STOWAWAY_SHARED_DIR)",
            path.display()
        );
        return None;
    }
    Some(path)
}
