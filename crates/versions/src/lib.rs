//! Version orderings, in the manner of uv's typed version crates: one type per ecosystem, each
//! parsing a version string as its ecosystem does and ordering versions exactly as the
//! ecosystem's own tools do (`dpkg --compare-versions`, rpm's `rpmvercmp`, apk-tools, Python's
//! `packaging`, node-semver, Go's `golang.org/x/mod/semver`, Maven's `ComparableVersion`,
//! RubyGems' `Gem::Version`, NuGet's `NuGetVersion`). Vulnerability matching compares an
//! installed version against an advisory's ranges with the type of the package's ecosystem.
//!
//! Each type implements `Ord` (a total order consistent with the ecosystem's notion of equality:
//! `1.0` and `1.0.0` compare equal where the ecosystem says so) and `FromStr` with a
//! [`VersionError`] that names the input and what is wrong. The property tests in `tests/` run
//! each ordering against the reference implementation as an oracle.

mod apk;
mod dpkg;
mod go;
mod maven;
mod nuget;
mod pep440;
mod rpm;
mod rubygems;
mod scheme;
mod semver;
pub use apk::ApkVersion;
pub use dpkg::DpkgVersion;
pub use go::GoVersion;
pub use maven::MavenVersion;
pub use nuget::NuGetVersion;
pub use pep440::Pep440Version;
pub use rpm::RpmVersion;
pub use rubygems::GemVersion;
pub use scheme::Scheme;
pub use semver::SemVer;

/// A version string its ecosystem would not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {ecosystem} version {input:?}: {reason}")]
pub struct VersionError {
    pub ecosystem: &'static str,
    pub input: String,
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(ecosystem: &'static str, input: &str, reason: impl Into<String>) -> Self {
        VersionError {
            ecosystem,
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}
