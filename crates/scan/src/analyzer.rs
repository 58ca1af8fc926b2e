//! The analyzer interface, in the manner of Trivy's analyzer registry: the walker shows every
//! analyzer each file's metadata and first bytes, and hands the content to those that want it.
//! Analyzers never open files; each file is read once whatever the number of analyzers.

use serde::{Deserialize, Serialize};
use stowaway_findings::{Finding, OsInfo, Package, PackageType, Sha256};

/// How many leading bytes of every file analyzers see before they decide whether they want it.
pub const HEAD_BYTES: usize = 8 << 10;

/// What an analyzer is shown of a file before it decides.
#[derive(Debug, Clone, Copy)]
pub struct FileMeta<'a> {
    /// Path in the layer, without a leading `/`.
    pub path: &'a str,
    /// Member path within archives inside the file (`lib/a.jar!x.class`), `None` for the file itself.
    pub member: Option<&'a str>,
    /// Size as recorded (for archive members: as declared by the archive).
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// The first [`HEAD_BYTES`] bytes (fewer when the file is smaller).
    pub head: &'a [u8],
}

impl FileMeta<'_> {
    /// The innermost name: the member when there is one, else the path.
    pub fn name(&self) -> &str {
        self.member
            .map(|m| m.rsplit('!').next().unwrap_or(m))
            .unwrap_or(self.path)
    }
}

/// What an analyzer reports about a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    /// A finding; the walker fills in its location.
    Finding(Finding),
    /// The file identifies the operating system.
    Os(OsInfo),
    /// The file records an installed package; the assembly fills in its location and PURL.
    Package(Package),
    /// The files an OS package installed (dpkg's `info/<name>.list`, an rpm header's file list,
    /// apk's `R:` lines), without a leading `/`. Language packages recorded in one of them get
    /// that OS package as their owner.
    Owns {
        package_type: PackageType,
        name: String,
        files: Vec<String>,
    },
    /// Licenses an OS package declares in a file of its own (Debian's
    /// `/usr/share/doc/<name>/copyright`); they go to the packages of that name that declare
    /// none in their database record.
    Licenses {
        package_type: PackageType,
        name: String,
        licenses: Vec<String>,
    },
}

/// One analysis that runs over files of every layer.
pub trait Analyzer: Send + Sync {
    /// Stable identifier, shown as the finding's engine.
    fn id(&self) -> &'static str;
    /// Bumped whenever its results for the same input could change (part of the cache key).
    fn version(&self) -> u32;
    /// Whether it wants this file's content.
    fn wants(&self, file: &FileMeta<'_>) -> bool;
    /// Analyses the content: the whole file, or its first `--max-in-memory` bytes when
    /// `complete` is false.
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>);
    /// Told the sha256 of every regular file and archive member once it is read, whether or not
    /// it wanted the content (`file.head` is empty here). For analyses that need only the digest.
    fn hashed(&self, _file: &FileMeta<'_>, _sha256: &Sha256, _out: &mut Vec<Output>) {}
    /// Whether it is a malware engine: engines get a verdict and a scan time for every file,
    /// clean included (`clean` when it declined the file or found nothing).
    fn is_engine(&self) -> bool {
        false
    }
    /// The version and date of the data it matches against (signatures, hash lists), if any.
    fn definitions(&self) -> Option<String> {
        None
    }
    /// Everything besides its id and version that its results depend on (definitions,
    /// configuration): part of the layer cache's key, so a change re-runs it.
    fn cache_key(&self) -> Option<String> {
        self.definitions()
    }
}
