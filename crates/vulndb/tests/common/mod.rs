//! What the database tests share: the real OSV data of the workplace's `shared/osv`, and the rule
//! for a test whose data or tool is missing.

use std::path::{Path, PathBuf};

/// The shared data directory: `$STOWAWAY_SHARED_DIR` (which `scripts/with-test-deps` sets), else
/// `../shared` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("STOWAWAY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// `<shared>/osv/<ecosystem>/all.zip`, or `None` (the test is skipped) when the shared data is
/// not there.
pub fn shared(ecosystem: &str) -> Option<PathBuf> {
    let path = shared_dir().join("osv").join(ecosystem).join("all.zip");
    if !path.is_file() {
        skipped(&format!(
            "{} is not there (set STOWAWAY_SHARED_DIR)",
            path.display()
        ));
        return None;
    }
    Some(path)
}

/// Says why a test is skipped (`skipped: …`, as the version oracles do); but when
/// `STOWAWAY_SHARED_DIR` is set, fails instead: `scripts/with-test-deps` sets it after installing
/// every tool and fetching every file the tests need, so nothing may be missing then.
pub fn skipped(why: &str) {
    assert!(
        std::env::var_os("STOWAWAY_SHARED_DIR").is_none(),
        "STOWAWAY_SHARED_DIR is set (as scripts/with-test-deps sets it), so this may not be \
         skipped: {why}"
    );
    println!("skipped: {why}");
}
