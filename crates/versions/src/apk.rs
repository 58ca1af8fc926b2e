//! Alpine package versions (`1.2.3a_rc1_p2~1a2b3c-r0`), parsed and ordered as apk-tools (2.12 and
//! later, including 3.x) does.
//!
//! The grammar, from Alpine's APKBUILD reference (`pkgver`, then `-r` and `pkgrel`) and apk-tools'
//! `digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`:
//!
//! - one or more numbers separated by `.`, the first at the very start;
//! - at most one lower-case letter right after a number (`1.2a`);
//! - any number of suffixes, each `_` and one of `alpha beta pre rc` (before the release:
//!   `1.0_rc1 < 1.0`) or `cvs svn git hg p` (after it: `1.0 < 1.0_p1`), optionally followed by a
//!   number;
//! - optionally `~` and a lower-case hexadecimal commit hash (apk-tools 3);
//! - optionally `-r` and the package release number.
//!
//! Anything else (upper case, `1.`, `1..2`, `1.2ab`, `_foo`, `-1`, surrounding whitespace) is
//! rejected, as `apk version -c` rejects it.
//!
//! The order walks both versions part by part. Parts of the same kind compare by value: the
//! first number and the suffix, `-r` numbers numerically; a later number numerically unless either
//! has a leading zero, in which case the two digit strings compare as strings (so `1.01 < 1.1`,
//! `1.001 < 1.01`, and `1.0 < 1.00`, which are not equal); letters and suffixes in the order above,
//! hashes as strings. When one version has a part of a different kind (or has ended), a pre-release
//! suffix is lowest; otherwise the ending version is lowest, then a release, a hash, a suffix number,
//! a post-release suffix, a letter, and a further number is highest. So `1.0 < 1.0-r0 < 1.0_p1 <
//! 1.0a < 1.0.1`. Numbers of any length compare exactly (digit strings are compared, never parsed
//! into integers), where apk-tools would read them into 64 bits.
//!
//! There is no oracle in the tests: apk-tools is not packaged for Debian 12, the system the tests
//! run on, and building it needs its own dependencies. The tests instead state the order of a
//! table of versions covering every rule above and check the laws of `Ord`, `Eq` and `Hash` on
//! generated versions.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::iter;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::Decimal;

/// An Alpine package version.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    input: Box<str>,
    first: Decimal,
    parts: Vec<Part>,
}

/// A suffix after `_`; the derived order is apk's, the first four before the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Suffix {
    Alpha,
    Beta,
    Pre,
    Rc,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

impl Suffix {
    fn from_name(name: &str) -> Option<Suffix> {
        Some(match name {
            "alpha" => Suffix::Alpha,
            "beta" => Suffix::Beta,
            "pre" => Suffix::Pre,
            "rc" => Suffix::Rc,
            "cvs" => Suffix::Cvs,
            "svn" => Suffix::Svn,
            "git" => Suffix::Git,
            "hg" => Suffix::Hg,
            "p" => Suffix::P,
            _ => return None,
        })
    }

    fn is_pre_release(self) -> bool {
        self <= Suffix::Rc
    }
}

/// A part after the first number. The variants are in the order they may appear in.
#[derive(Debug, Clone)]
enum Part {
    /// `.` and digits, kept as written: leading zeros change the comparison.
    Number(Box<str>),
    Letter(u8),
    Suffix(Suffix),
    SuffixNumber(Decimal),
    Hash(Box<str>),
    Release(Decimal),
}

impl Part {
    /// Its position in the grammar: a part may follow only parts of a lower rank (or, for numbers
    /// and suffixes, of the same rank).
    fn rank(&self) -> u8 {
        match self {
            Part::Number(_) => 1,
            Part::Letter(_) => 2,
            Part::Suffix(_) => 3,
            Part::SuffixNumber(_) => 4,
            Part::Hash(_) => 5,
            Part::Release(_) => 6,
        }
    }
}

/// A part's place in the order, with the end of the version; the derived order is apk's.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key<'a> {
    PreRelease(Suffix),
    End,
    Release(&'a Decimal),
    Hash(&'a str),
    SuffixNumber(&'a Decimal),
    PostRelease(Suffix),
    Letter(u8),
    Number(NumberKey<'a>),
}

/// A later number: with a leading zero it compares as a string, which puts it below every number
/// without one (their first digit is higher); the others compare numerically.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
enum NumberKey<'a> {
    LeadingZero(&'a str),
    Numeric(usize, &'a str),
}

fn key(part: &Part) -> Key<'_> {
    match part {
        Part::Number(digits) if digits.starts_with('0') => {
            Key::Number(NumberKey::LeadingZero(digits))
        }
        Part::Number(digits) => Key::Number(NumberKey::Numeric(digits.len(), digits)),
        Part::Letter(c) => Key::Letter(*c),
        Part::Suffix(s) if s.is_pre_release() => Key::PreRelease(*s),
        Part::Suffix(s) => Key::PostRelease(*s),
        Part::SuffixNumber(n) => Key::SuffixNumber(n),
        Part::Hash(h) => Key::Hash(h),
        Part::Release(n) => Key::Release(n),
    }
}

impl ApkVersion {
    fn keys(&self) -> impl Iterator<Item = Key<'_>> {
        self.parts.iter().map(key).chain(iter::once(Key::End))
    }
}

/// The leading run of `s` whose bytes satisfy `pred`, and the rest.
fn split_run(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let n = s.bytes().take_while(|&c| pred(c)).count();
    s.split_at(n)
}

impl FromStr for ApkVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let err = |reason: String| VersionError::new("apk", input, reason);
        let (first, mut rest) = split_run(input, |c| c.is_ascii_digit());
        if first.is_empty() {
            return Err(err("does not start with a digit".into()));
        }
        let mut parts: Vec<Part> = Vec::new();
        while let Some(c) = rest.chars().next() {
            let last = parts.last().map_or(0, Part::rank);
            let after = |allowed: bool, what: &str| {
                if allowed {
                    Ok(())
                } else {
                    Err(err(format!("{what} at {:?} comes too late", rest)))
                }
            };
            let part = match c {
                'a'..='z' => {
                    after(last <= 1, "a letter")?;
                    rest = &rest[1..];
                    Part::Letter(c as u8)
                }
                '.' => {
                    after(last <= 1, "a '.' number")?;
                    let (digits, tail) = split_run(&rest[1..], |c| c.is_ascii_digit());
                    if digits.is_empty() {
                        return Err(err("'.' is not followed by a number".into()));
                    }
                    rest = tail;
                    Part::Number(digits.into())
                }
                '0'..='9' => {
                    // Numbers after numbers are consumed whole, so only a suffix's can start here.
                    after(last == 3, "a number")?;
                    let (digits, tail) = split_run(rest, |c| c.is_ascii_digit());
                    rest = tail;
                    Part::SuffixNumber(Decimal::new(digits))
                }
                '_' => {
                    after(last <= 4, "a suffix")?;
                    let (name, tail) = split_run(&rest[1..], |c| c.is_ascii_lowercase());
                    let suffix = Suffix::from_name(name)
                        .ok_or_else(|| err(format!("unknown suffix \"_{name}\"")))?;
                    rest = tail;
                    Part::Suffix(suffix)
                }
                '~' => {
                    after(last < 5, "a '~' commit hash")?;
                    let (hash, tail) = split_run(&rest[1..], |c| {
                        c.is_ascii_digit() || matches!(c, b'a'..=b'f')
                    });
                    if hash.is_empty() {
                        return Err(err("'~' is not followed by a hexadecimal hash".into()));
                    }
                    rest = tail;
                    Part::Hash(hash.into())
                }
                '-' => {
                    after(last < 6, "a '-r' release")?;
                    let (digits, tail) = match rest.strip_prefix("-r") {
                        Some(r) => split_run(r, |c| c.is_ascii_digit()),
                        None => ("", rest),
                    };
                    if digits.is_empty() {
                        return Err(err("'-' is not followed by 'r' and a number".into()));
                    }
                    rest = tail;
                    Part::Release(Decimal::new(digits))
                }
                other => return Err(err(format!("unexpected character {other:?}"))),
            };
            parts.push(part);
        }
        Ok(ApkVersion {
            input: input.into(),
            first: Decimal::new(first),
            parts,
        })
    }
}

impl fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.first
            .cmp(&other.first)
            .then_with(|| self.keys().cmp(other.keys()))
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when apk compares them equal: `01.2` and `1.2`, `1.0_rc01` and `1.0_rc1`.
impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

impl Hash for ApkVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.first.hash(state);
        self.keys().for_each(|key| key.hash(state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> ApkVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn suffixes_around_the_release() {
        assert!(v("1.2.3_rc1-r0") < v("1.2.3-r0"));
        assert!(v("1.2.3_alpha") < v("1.2.3_beta"));
        assert!(v("1.2.3-r0") < v("1.2.3_p1-r0"));
        assert!(v("1.2.3_git20240101") < v("1.2.3_p0"));
        assert!(v("1.2") < v("1.2a"));
        assert!(v("1.2a") < v("1.2.0"));
    }

    #[test]
    fn leading_zeros() {
        assert_eq!(v("01.2"), v("1.2"));
        assert_eq!(v("1.2_rc01-r02"), v("1.2_rc1-r2"));
        assert!(v("1.01") < v("1.1"));
        assert!(v("1.0") < v("1.00"));
        assert_ne!(v("1.0"), v("1.00"));
    }

    #[test]
    fn rejected() {
        for bad in [
            "", "a", "v1.0", "1.", "1..2", "1.2ab", "1.2A", "1_foo", "1_", "1-1", "1-r", "1-r1-r2",
            "1~", "1~xyz", "1~ab_p1", "1.0 ", " 1.0", "1a.2", "1_rc1.2", "1-r1_p1", "1.0_p1a",
        ] {
            assert!(bad.parse::<ApkVersion>().is_err(), "{bad:?}");
        }
    }
}
