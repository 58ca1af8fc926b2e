//! Which ordering an ecosystem uses, and comparing two version strings under it: what
//! vulnerability matching needs to evaluate an OSV range for a package.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::{
    ApkVersion, DpkgVersion, GemVersion, GoVersion, MavenVersion, NuGetVersion, Pep440Version,
    RpmVersion, SemVer,
};

/// A version ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Dpkg,
    Rpm,
    Apk,
    Pep440,
    SemVer,
    Go,
    Maven,
    RubyGems,
    NuGet,
}

impl Scheme {
    /// The ordering of an OSV ecosystem (its base name: `Debian` for `Debian:12`); `None` for
    /// ecosystems without one here.
    pub fn for_osv_ecosystem(base: &str) -> Option<Scheme> {
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Red Hat" | "AlmaLinux" | "Rocky Linux" | "openSUSE" | "SUSE" | "Mageia" => Scheme::Rpm,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "PyPI" => Scheme::Pep440,
            "npm" | "crates.io" | "Packagist" | "Hex" | "Pub" => Scheme::SemVer,
            "Go" => Scheme::Go,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            "NuGet" => Scheme::NuGet,
            _ => return None,
        })
    }

    /// `a` against `b`; `None` when either is not a version of this scheme.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        fn by<T: FromStr + Ord>(a: &str, b: &str) -> Option<Ordering> {
            Some(a.parse::<T>().ok()?.cmp(&b.parse::<T>().ok()?))
        }
        match self {
            Scheme::Dpkg => by::<DpkgVersion>(a, b),
            Scheme::Rpm => by::<RpmVersion>(a, b),
            Scheme::Apk => by::<ApkVersion>(a, b),
            Scheme::Pep440 => by::<Pep440Version>(a, b),
            Scheme::SemVer => by::<SemVer>(a, b),
            // OSV's Go records write versions without the `v` module versions carry.
            Scheme::Go => by::<GoVersion>(&with_v(a), &with_v(b)),
            Scheme::Maven => by::<MavenVersion>(a, b),
            Scheme::RubyGems => by::<GemVersion>(a, b),
            Scheme::NuGet => by::<NuGetVersion>(a, b),
        }
    }
}

fn with_v(version: &str) -> String {
    if version.starts_with('v') {
        version.to_string()
    } else {
        format!("v{version}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scheme_orders_its_own_versions() {
        let cases = [
            (
                Scheme::Dpkg,
                "2.36-9+deb12u3",
                "2.36-9+deb12u10",
                Ordering::Less,
            ),
            (Scheme::Rpm, "1:1.0-1.el9", "2.0-1.el9", Ordering::Greater),
            (Scheme::Apk, "1.2.4-r2", "1.2.4_rc1-r0", Ordering::Greater),
            (Scheme::Pep440, "2.19.0", "2.20", Ordering::Less),
            (Scheme::SemVer, "1.0.0-rc.1", "1.0.0", Ordering::Less),
            (Scheme::Go, "v0.7.0", "0.17.0", Ordering::Less),
            (Scheme::Maven, "1.0-SNAPSHOT", "1.0", Ordering::Less),
            (Scheme::RubyGems, "1.0.a", "1.0", Ordering::Less),
            (Scheme::NuGet, "1.0", "1.0.0.0", Ordering::Equal),
        ];
        for (scheme, a, b, expected) in cases {
            assert_eq!(scheme.compare(a, b), Some(expected), "{scheme:?} {a} {b}");
        }
        assert_eq!(Scheme::for_osv_ecosystem("crates.io"), Some(Scheme::SemVer));
        assert_eq!(Scheme::Pep440.compare("1.0", "not a version!"), None);
    }
}
