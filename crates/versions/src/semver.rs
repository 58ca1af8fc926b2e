//! SemVer 2.0 versions as npm (node-semver) and Cargo order them: `MAJOR.MINOR.PATCH`, an optional
//! `-prerelease` of dot-separated identifiers and an optional `+build` metadata.
//!
//! Precedence is SemVer 2.0's (§11): the three numbers numerically, then a version without a
//! prerelease above every prerelease of it, then prerelease identifiers left to right (numeric
//! identifiers numerically and below alphanumeric ones, alphanumeric ones in ASCII order, a
//! shorter list below a longer one it is a prefix of). Build metadata does not take part: `1.0.0+a`
//! and `1.0.0+b` compare `Equal` and are therefore `==` (as node-semver's `compare` and `eq` say),
//! while `Display` still gives back each one's own text. Numbers of any length compare exactly.
//!
//! The grammar is SemVer 2.0's (no leading zeros in numbers or numeric prerelease identifiers,
//! all three numbers required), trimmed of surrounding whitespace, plus what node-semver's loose
//! mode lets advisories write in front of it: any run of `v`, `=` and whitespace (`v1.2.3`,
//! `=1.2.3`, `= v1.2.3`). Other loose spellings (`01.2.3`, `1.2.3beta`) are rejected.
//! node-semver also rejects numbers above 2^53 − 1 and strings over 256 characters; this type
//! accepts and orders them.
//!
//! [`Decimal`] is the arbitrary-length unsigned number the other orderings of this crate share.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;

/// An unsigned decimal number of any length, kept as its digits without leading zeros, so that
/// numbers compare exactly and never overflow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Decimal(Box<str>);

impl Decimal {
    /// `digits` must be ASCII digits only (possibly empty, which means zero).
    pub(crate) fn new(digits: &str) -> Self {
        let trimmed = digits.trim_start_matches('0');
        Decimal(if trimmed.is_empty() { "0" } else { trimmed }.into())
    }

    pub(crate) fn is_zero(&self) -> bool {
        &*self.0 == "0"
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One prerelease identifier; the derived order puts numeric identifiers first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Identifier {
    Numeric(Decimal),
    Alphanumeric(Box<str>),
}

/// The part of a SemVer version that takes part in precedence, shared with [`crate::GoVersion`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Precedence {
    pub(crate) major: Decimal,
    pub(crate) minor: Decimal,
    pub(crate) patch: Decimal,
    pub(crate) prerelease: Vec<Identifier>,
}

impl Ord for Precedence {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            .then_with(
                || match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => self.prerelease.cmp(&other.prerelease),
                },
            )
    }
}

impl PartialOrd for Precedence {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `digits` with no leading zero unless it is `0` itself.
pub(crate) fn is_canonical_number(digits: &str) -> bool {
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

pub(crate) fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses a dot-separated SemVer prerelease (without its `-`), or says what is wrong with it.
pub(crate) fn parse_prerelease(s: &str) -> Result<Vec<Identifier>, String> {
    s.split('.')
        .map(|id| {
            if !is_identifier(id) {
                Err(format!(
                    "prerelease identifier {id:?} is empty or not [0-9A-Za-z-]"
                ))
            } else if id.bytes().all(|b| b.is_ascii_digit()) {
                if is_canonical_number(id) {
                    Ok(Identifier::Numeric(Decimal::new(id)))
                } else {
                    Err(format!(
                        "numeric prerelease identifier {id:?} has a leading zero"
                    ))
                }
            } else {
                Ok(Identifier::Alphanumeric(id.into()))
            }
        })
        .collect()
}

/// Checks dot-separated build metadata (without its `+`).
pub(crate) fn check_build(s: &str) -> Result<(), String> {
    match s.split('.').find(|id| !is_identifier(id)) {
        Some(id) => Err(format!(
            "build identifier {id:?} is empty or not [0-9A-Za-z-]"
        )),
        None => Ok(()),
    }
}

/// A SemVer 2.0 version (npm packages, Rust crates).
#[derive(Debug, Clone)]
pub struct SemVer {
    input: String,
    precedence: Precedence,
    build: Option<Box<str>>,
}

impl SemVer {
    /// Whether the version has a prerelease part (`1.0.0-rc.1`).
    pub fn is_prerelease(&self) -> bool {
        !self.precedence.prerelease.is_empty()
    }

    /// The build metadata after `+`, which takes no part in the ordering.
    pub fn build(&self) -> Option<&str> {
        self.build.as_deref()
    }
}

impl FromStr for SemVer {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let err = |reason: String| VersionError::new("SemVer", input, reason);
        // JavaScript's trim() also removes the byte order mark.
        let s = input
            .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
            .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace());
        let (rest, build) = match s.split_once('+') {
            Some((rest, build)) => {
                check_build(build).map_err(err)?;
                (rest, Some(build.into()))
            }
            None => (s, None),
        };
        let (core, prerelease) = match rest.split_once('-') {
            Some((core, pre)) => (core, parse_prerelease(pre).map_err(err)?),
            None => (rest, Vec::new()),
        };
        let mut numbers = core.split('.');
        let mut number = |name: &str| match numbers.next() {
            Some(n) if is_canonical_number(n) => Ok(Decimal::new(n)),
            Some(n) => Err(err(format!(
                "{name} version {n:?} is not a number without leading zeros"
            ))),
            None => Err(err(format!("{name} version is missing"))),
        };
        let (major, minor, patch) = (number("major")?, number("minor")?, number("patch")?);
        if numbers.next().is_some() {
            return Err(err("more than three numbers before the prerelease".into()));
        }
        Ok(SemVer {
            input: input.to_string(),
            precedence: Precedence {
                major,
                minor,
                patch,
                prerelease,
            },
            build,
        })
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.precedence.cmp(&other.precedence)
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when precedence is equal: build metadata is ignored, as by `Ord`.
impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemVer {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn spec_precedence_chain() {
        // SemVer 2.0 §11's example, in ascending order.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn build_metadata_is_ignored_but_displayed() {
        let a = v("1.0.0+build.1");
        assert_eq!(a, v("1.0.0+other"));
        assert_eq!(a.to_string(), "1.0.0+build.1");
        assert_eq!(a.build(), Some("build.1"));
    }

    #[test]
    fn loose_prefixes_and_rejections() {
        assert_eq!(v(" =v1.2.3 "), v("1.2.3"));
        for bad in [
            "01.2.3", "1.2", "1.2.3-01", "1.2.3-", "1.2.3+", "1.2.3.4", "", "x",
        ] {
            assert!(bad.parse::<SemVer>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn huge_numbers_compare_exactly() {
        assert!(v("1.0.0-99999999999999999999998") < v("1.0.0-99999999999999999999999"));
        assert!(v("99999999999999999999999.0.0") > v("9999999999999999999999.0.0"));
    }
}
