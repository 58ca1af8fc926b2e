//! Go versions: module versions, ordered as `golang.org/x/mod/semver` does, and Go toolchain
//! versions (the `stdlib` and `toolchain` packages), ordered as `go/version` does.
//!
//! **Module versions** start with `v` and are SemVer with x/mod's shorthands: `v1` is `v1.0.0`
//! and `v1.2` is `v1.2.0` (neither with a prerelease or build). Build metadata, including
//! `+incompatible`, takes no part in the order (`v2.0.0+incompatible == v2.0.0`, as
//! `semver.Compare` says; `Display` keeps it). Pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`,
//! `v1.2.4-0.20191109021931-daa7c04131f5`, `v1.2.3-pre.0.20191109021931-daa7c04131f5`) are
//! prereleases and order by their embedded timestamp through the ordinary prerelease rules.
//!
//! **Toolchain versions** are `go1.21.3`, `go1.21rc1`, `go1.21` (with `go`, as `go/version`
//! takes them, a custom suffix such as `-bigcorp` cut off) or the same without `go` (`1.21.3`, as
//! `internal/gover` takes them). Their order is go/version's: from Go 1.21 the language version
//! sorts first (`go1.21 < go1.21rc1 < go1.21.0`), before that the first release had no patch
//! number (`go1.20rc1 < go1.20 == go1.20.0`), and prereleases of patch releases sort below them
//! (`go1.9.2rc2 < go1.9.2`).
//!
//! **One order for both.** A toolchain version is placed into SemVer precedence the way
//! govulncheck and the Go vulnerability database (OSV) do, so that an installed `go1.21.3` is
//! compared with advisory ranges written `1.21.0-0`…`1.21.5`: `goX.Y.Z` is `vX.Y.Z`,
//! `goX.YrcN` is `vX.Y.0-rc.N`, a language version `goX.Y` (Y ≥ 21) is `vX.Y.0-0`, the least
//! prerelease of `vX.Y.0`. A string without `v` or `go` that is no toolchain version but is
//! SemVer (`1.21.0-0`, `1.21.0-rc.2`, as OSV writes them) is read as that SemVer. The one place
//! the order differs from go/version is `goX.Y.0rcN`, a spelling Go never released, which is
//! equal to `goX.YrcN` here and above it there.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::{
    Decimal, Identifier, Precedence, check_build, is_canonical_number, parse_prerelease,
};

/// A Go module or toolchain version.
#[derive(Debug, Clone)]
pub struct GoVersion {
    input: String,
    precedence: Precedence,
}

impl GoVersion {
    /// Whether the version sorts below its release: a SemVer prerelease (pseudo-versions
    /// included) or a toolchain prerelease or language version (`go1.21rc1`, `go1.21`).
    pub fn is_prerelease(&self) -> bool {
        !self.precedence.prerelease.is_empty()
    }
}

/// Splits a leading canonical decimal (no leading zero) off `s`, as Go's `parseInt`/`cutInt`.
fn cut_number(s: &str) -> Option<(Decimal, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    is_canonical_number(digits).then(|| (Decimal::new(digits), rest))
}

/// x/mod/semver's grammar, after the `v`.
fn parse_module(s: &str) -> Result<Precedence, String> {
    let (major, rest) =
        cut_number(s).ok_or("major version is not a number without leading zeros")?;
    let zero = || Decimal::new("0");
    let Some(rest) = rest.strip_prefix('.') else {
        return if rest.is_empty() {
            Ok(Precedence {
                major,
                minor: zero(),
                patch: zero(),
                prerelease: Vec::new(),
            })
        } else {
            Err("unexpected text after the major version".into())
        };
    };
    let (minor, rest) =
        cut_number(rest).ok_or("minor version is not a number without leading zeros")?;
    let Some(rest) = rest.strip_prefix('.') else {
        return if rest.is_empty() {
            Ok(Precedence {
                major,
                minor,
                patch: zero(),
                prerelease: Vec::new(),
            })
        } else {
            Err("a shortened version (v1, v1.2) takes no prerelease or build".into())
        };
    };
    let (patch, rest) =
        cut_number(rest).ok_or("patch version is not a number without leading zeros")?;
    let (rest, build) = match rest.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (rest, None),
    };
    let prerelease = match rest.strip_prefix('-') {
        Some(pre) => parse_prerelease(pre)?,
        None if rest.is_empty() => Vec::new(),
        None => return Err("unexpected text after the patch version".into()),
    };
    if let Some(build) = build {
        check_build(build)?;
    }
    Ok(Precedence {
        major,
        minor,
        patch,
        prerelease,
    })
}

/// internal/gover's grammar (`1.21.3`, `1.21rc1`, `1.21`, `1`), placed into SemVer precedence.
fn parse_toolchain(s: &str) -> Option<Precedence> {
    let zero = || Decimal::new("0");
    let (major, rest) = cut_number(s)?;
    if rest.is_empty() {
        return Some(Precedence {
            major,
            minor: zero(),
            patch: zero(),
            prerelease: Vec::new(),
        });
    }
    let (minor, rest) = cut_number(rest.strip_prefix('.')?)?;
    let (patch, rest) = match rest.strip_prefix('.') {
        Some(rest) => {
            let (patch, rest) = cut_number(rest)?;
            (Some(patch), rest)
        }
        None => (None, rest),
    };
    let prerelease = if rest.is_empty() {
        // A language version from 1.21 on sorts below every release and prerelease of it.
        if patch.is_none() && minor >= Decimal::new("21") {
            vec![Identifier::Numeric(zero())]
        } else {
            Vec::new()
        }
    } else {
        let kind_end = rest
            .bytes()
            .position(|b| !b.is_ascii_lowercase())
            .unwrap_or(rest.len());
        let (kind, number) = rest.split_at(kind_end);
        if kind.is_empty() {
            return None;
        }
        let mut prerelease = vec![Identifier::Alphanumeric(kind.into())];
        if !number.is_empty() {
            let (n, rest) = cut_number(number)?;
            if !rest.is_empty() {
                return None;
            }
            prerelease.push(Identifier::Numeric(n));
        }
        prerelease
    };
    Some(Precedence {
        major,
        minor,
        patch: patch.unwrap_or_else(zero),
        prerelease,
    })
}

impl FromStr for GoVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError::new("Go", input, reason);
        let precedence = if let Some(module) = input.strip_prefix('v') {
            parse_module(module).map_err(|reason| err(&reason))?
        } else if let Some(toolchain) = input.strip_prefix("go") {
            let toolchain = toolchain
                .split_once('-')
                .map_or(toolchain, |(v, _suffix)| v);
            parse_toolchain(toolchain).ok_or_else(|| err("not a Go toolchain version"))?
        } else {
            match parse_toolchain(input) {
                Some(precedence) => precedence,
                None => parse_module(input).map_err(|_| {
                    err("neither a Go toolchain version nor a module version (which starts with v)")
                })?,
            }
        };
        Ok(GoVersion {
            input: input.to_string(),
            precedence,
        })
    }
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for GoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.precedence.cmp(&other.precedence)
    }
}

impl PartialOrd for GoVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when precedence is equal: build metadata (`+incompatible`) is ignored, as by `Ord`.
impl PartialEq for GoVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GoVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GoVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn module_versions() {
        assert_eq!(v("v1"), v("v1.0.0"));
        assert_eq!(v("v1.2"), v("v1.2.0"));
        assert_eq!(v("v2.0.0+incompatible"), v("v2.0.0"));
        assert_eq!(v("v2.0.0+incompatible").to_string(), "v2.0.0+incompatible");
        assert!(v("v0.0.0-20191109021931-daa7c04131f5") < v("v0.0.0-20201109021931-0aa7c04131f5"));
        assert!(v("v1.2.3") < v("v1.2.4-0.20191109021931-daa7c04131f5"));
        assert!(v("v1.2.4-0.20191109021931-daa7c04131f5") < v("v1.2.4-pre"));
        assert!(v("v1.2.3-pre") < v("v1.2.3-pre.0.20191109021931-daa7c04131f5"));
        for bad in [
            "v1.2-pre",
            "v01.2.3",
            "v1.2.3-",
            "v1.2.3.4",
            "v",
            "1.2.3-01",
            "go1.2.3.4",
        ] {
            assert!(bad.parse::<GoVersion>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn toolchain_versions_against_osv_ranges() {
        // The Go vulnerability database writes stdlib ranges as SemVer without `v`.
        assert!(v("1.21.0-0") <= v("go1.21rc2"));
        assert!(v("go1.21rc2") < v("1.21.5"));
        assert_eq!(v("go1.21rc2"), v("1.21.0-rc.2"));
        assert_eq!(v("go1.21.3"), v("v1.21.3"));
        assert_eq!(v("go1.20"), v("1.20.0"));
    }
}
