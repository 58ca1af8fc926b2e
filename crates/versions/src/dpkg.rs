//! Debian package versions (`[epoch:]upstream[-revision]`), parsed and ordered as dpkg 1.21
//! (`dpkg --compare-versions`) does.
//!
//! The epoch is the text before the first `:`, the revision the text after the last `-` (so the
//! upstream version may contain `-` only when there is a revision, and `:` only when there is an
//! epoch). Versions compare by epoch numerically, then upstream version, then revision, the last
//! two with dpkg's `verrevcmp`: alternately a run of non-digits, compared character by character
//! with `~` below the end of the run and the end below everything else, letters below all other
//! characters; then a run of digits, compared as a number (leading zeros ignored, any length:
//! digit strings are compared, never parsed into integers). A missing digit run counts as zero, so
//! `1.0` equals `1.00`, `1.0-0` and `0:1.0`; `==` and `Hash` follow that equality while `Display`
//! gives back each one's own text.
//!
//! What is accepted is what `dpkg --compare-versions` accepts. Leading and trailing blanks (space
//! and tab) are trimmed. dpkg's errors are errors here: an empty version, embedded blanks, an
//! epoch that is not `[+-]digits` in 0..=2147483647 (dpkg reads it with `strtol`, so `+1:` and
//! `-0:` pass), nothing after the epoch's colon, an empty upstream version or an empty revision.
//! dpkg's warnings are accepted, as dpkg itself goes on to compare such versions and to install
//! such packages: an upstream version that does not start with a digit (`a1.0`), and other
//! printable ASCII characters than `[A-Za-z0-9.+~]` (plus `-` and `:` in the upstream version),
//! which sort as dpkg sorts them. The one deviation: characters outside printable ASCII (control
//! characters, non-ASCII) are rejected, because dpkg orders their bytes as C `char`s, whose
//! signedness differs between architectures, and no Debian version contains them.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::VersionError;

/// A Debian package version.
#[derive(Debug, Clone)]
pub struct DpkgVersion {
    input: Box<str>,
    epoch: u32,
    upstream: Box<str>,
    revision: Box<str>,
}

impl DpkgVersion {
    /// The epoch, 0 when absent.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version: between the epoch's colon and the revision's hyphen.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The Debian revision after the last `-`; empty when absent.
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

impl FromStr for DpkgVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let err = |reason: String| VersionError::new("dpkg", input, reason);
        let s = input.trim_matches([' ', '\t']);
        if s.is_empty() {
            return Err(err("version string is empty".into()));
        }
        if s.contains([' ', '\t']) {
            return Err(err("version string has embedded spaces".into()));
        }
        if let Some(c) = s.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(err(format!(
                "character {c:?} is not printable ASCII (dpkg's order of it depends on the architecture)"
            )));
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((epoch, rest)) => {
                let epoch = parse_epoch(epoch).map_err(|e| err(e.into()))?;
                if rest.is_empty() {
                    return Err(err("nothing after colon in version number".into()));
                }
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err(err("revision number is empty".into())),
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(err("version number is empty".into()));
        }
        Ok(DpkgVersion {
            input: input.into(),
            epoch,
            upstream: upstream.into(),
            revision: revision.into(),
        })
    }
}

/// The epoch as dpkg's `strtol` check reads it: an optional sign, then digits only, in
/// 0..=`INT_MAX` (so `-0` is 0).
fn parse_epoch(s: &str) -> Result<u32, &'static str> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("epoch in version is empty");
    }
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err("epoch in version is not number");
    }
    let significant = digits.trim_start_matches('0');
    // More than ten digits is beyond INT_MAX; ten or fewer fit in a u64.
    let value = match significant.len() {
        0 => 0,
        1..=10 => significant
            .parse::<u64>()
            .map_err(|_| "epoch in version is not number")?,
        _ => u64::MAX,
    };
    if negative && value != 0 {
        return Err("epoch in version is negative");
    }
    u32::try_from(value)
        .ok()
        .filter(|&v| v <= i32::MAX as u32)
        .ok_or("epoch in version is too big")
}

/// dpkg's weight of a character in a non-digit run: `~` below the end (and digits, which end the
/// run), letters next, then everything else.
fn order(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: the upstream versions or revisions `a` and `b` compared.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let non_digit = |s: &[u8], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
        while non_digit(a, i) || non_digit(b, j) {
            let (x, y) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if x != y {
                return x.cmp(&y);
            }
            i += 1;
            j += 1;
        }
        let (x, rest_a) = digit_run(a.get(i..).unwrap_or_default());
        let (y, rest_b) = digit_run(b.get(j..).unwrap_or_default());
        let by_number = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
        if by_number != Ordering::Equal {
            return by_number;
        }
        i = a.len() - rest_a.len();
        j = b.len() - rest_b.len();
    }
    Ordering::Equal
}

/// The leading digits of `s` without their leading zeros, and what follows them.
fn digit_run(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (digits, rest) = s.split_at(n);
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    (&digits[zeros..], rest)
}

/// What `verrevcmp` sees of a component: (non-digit run, digits without leading zeros) pairs.
/// Two components compare equal exactly when these are equal, except that a component of zeros
/// only equals the empty one, so both give no pairs.
fn equality_key(s: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut pairs = Vec::new();
    if s.iter().all(|&c| c == b'0') {
        return pairs;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest.iter().take_while(|c| !c.is_ascii_digit()).count();
        let (text, tail) = rest.split_at(n);
        let (digits, tail) = digit_run(tail);
        pairs.push((text, digits));
        rest = tail;
    }
    pairs
}

impl fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when dpkg says `eq`: `1.0`, `1.00`, `0:1.0` and `1.0-0` are all equal.
impl PartialEq for DpkgVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DpkgVersion {}

impl Hash for DpkgVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
        equality_key(self.upstream.as_bytes()).hash(state);
        equality_key(self.revision.as_bytes()).hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> DpkgVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tricky_pairs() {
        for (a, b) in [
            ("1.0~rc1", "1.0"),
            ("2.0", "1:0.1"),
            ("1.0-1", "1.0-1+b1"),
            ("1.0a", "1.0+"),
            ("1.0~~", "1.0~"),
            ("1.0~", "1.0"),
            ("1.0", "1.0a"),
            ("1.0", "1.0."),
            ("1.0", "1.0.1"),
            ("1.0-1", "1.0.1-1"),
            ("1.9", "1.10"),
            ("1.0+dfsg-1", "1.0.1-1"),
            ("2:4.9.5+dfsg-5", "2:4.9.5+dfsg-5+deb10u1"),
            ("1.2.3-1~bpo11+1", "1.2.3-1"),
            ("1.0-1ubuntu1", "1.0-1ubuntu1.1"),
            ("0a", "a"),
        ] {
            assert!(v(a) < v(b), "{a} < {b}");
            assert!(v(b) > v(a), "{b} > {a}");
        }
    }

    #[test]
    fn equal_spellings() {
        for (a, b) in [
            ("1.0", "1.00"),
            ("1.0", "0:1.0"),
            ("1.0", "1.0-0"),
            ("1.0", "00:1.0-00"),
            ("1a", "1a0"),
            (" 1.0\t", "1.0"),
            ("+1:2", "1:2"),
            ("-0:2", "2"),
        ] {
            assert_eq!(v(a), v(b), "{a} == {b}");
            assert_eq!(v(a).cmp(&v(b)), Ordering::Equal);
        }
        assert_eq!(v(" 1.0").to_string(), " 1.0");
    }

    #[test]
    fn parts() {
        let x = v("2:1.2-3-4");
        assert_eq!((x.epoch(), x.upstream(), x.revision()), (2, "1.2-3", "4"));
        let y = v("1:2:3");
        assert_eq!((y.epoch(), y.upstream(), y.revision()), (1, "2:3", ""));
    }

    #[test]
    fn dpkg_errors_are_rejected_and_warnings_accepted() {
        for bad in [
            "",
            "  ",
            "1 0",
            ":1.0",
            "a:1.0",
            "1a:1",
            "-1:1.0",
            "2147483648:1",
            "9999999999999:1",
            "2:",
            "1.0-",
            "-1",
            "2:-1",
            "1.0é",
            "1.0\u{1}",
            "1.0-1:2",
        ] {
            assert!(bad.parse::<DpkgVersion>().is_err(), "{bad:?}");
        }
        for warned in ["a", "a1.0", "1_0", "1.0-1_0", "1.0-1=2", "2147483647:1"] {
            assert!(warned.parse::<DpkgVersion>().is_ok(), "{warned:?}");
        }
    }

    #[test]
    fn long_numbers_compare_exactly() {
        let big = "9".repeat(300);
        assert!(v(&format!("1.{big}")) < v(&format!("1.1{big}")));
        assert!(v(&format!("1.{big}8")) < v(&format!("1.{big}9")));
        assert_eq!(v(&format!("1.000{big}")), v(&format!("1.{big}")));
    }
}
