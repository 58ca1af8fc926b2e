//! What the database tests share: the real OSV data of `../shared/osv`.

use std::path::{Path, PathBuf};

/// `../shared/osv/<ecosystem>/all.zip`, or `None` (and a note that the test is skipped) when the
/// shared data is not there.
pub fn shared(ecosystem: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/osv")
        .join(ecosystem)
        .join("all.zip");
    if !path.is_file() {
        eprintln!("skipped: {} is not there", path.display());
        return None;
    }
    Some(path)
}
