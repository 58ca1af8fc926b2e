//! Real Debian packages as image layers, for the tests that need real-world file trees: the
//! `.deb` files a directory holds (`scripts/with-test-deps` downloads them), and a layer with a
//! package's files as `dpkg -i` would put them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Compression, Layer};

/// The `.deb` files of the directory named by the environment variable `var`, sorted, or `None`
/// (and a note that the test is skipped) when it is not set; `scripts/with-test-deps` sets it.
/// A directory that cannot be read or holds no `.deb` is a failure, not a skip.
pub fn debs(var: &str) -> Option<Vec<PathBuf>> {
    let Some(dir) = std::env::var_os(var) else {
        eprintln!("skipped: set {var} to a directory of .deb files (scripts/with-test-deps does)");
        return None;
    };
    let mut debs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{var}={}: {e}", Path::new(&dir).display()))
        .map(|e| e.unwrap_or_else(|e| panic!("{var}: {e}")).path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    debs.sort();
    assert!(!debs.is_empty(), "{var} has no .deb files");
    Some(debs)
}

/// A layer holding the files of a `.deb` (the data tar `dpkg-deb --fsys-tarfile` gives), made by
/// the step `dpkg -i <file name>`.
pub fn deb_layer(deb: &Path, compression: Compression) -> Layer {
    let output = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .output()
        .unwrap_or_else(|e| panic!("dpkg-deb: {e}"));
    assert!(
        output.status.success(),
        "dpkg-deb --fsys-tarfile {}",
        deb.display()
    );
    let name = deb
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Layer::new(output.stdout, compression, &format!("dpkg -i {name}"))
}
