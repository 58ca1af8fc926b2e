//! RPM package versions (`[epoch:]version[-release]`), parsed as rpm's `parseEVR` and ordered as
//! rpm 4.18's `rpmverCmp` (`rpm.vercmp` in rpm's Lua, `rpm.labelCompare` in Python) does.
//!
//! The epoch is the leading run of digits when a `:` follows it (an empty one, `:1.0`, is 0, and a
//! missing one is 0 too); the release is the text after the last `-`. Epochs compare as numbers,
//! then versions and releases with `rpmvercmp`: each is split into segments, maximal runs of ASCII
//! digits or of ASCII letters, plus the `~` and `^` characters; every other character only
//! separates segments (so `1.0`, `1_0` and `1.0.` are equal). Segments compare pairwise: numbers
//! numerically (leading zeros ignored, any length: digit strings are compared, never parsed into
//! integers) and above letters, letters by their bytes; `~` sorts below everything including the
//! end of the string (`1.0~rc1 < 1.0`), `^` above the end but below any other segment
//! (`1.0 < 1.0^git1 < 1.0.1`). A version without a release sorts below the same version with
//! any release, as rpm 4.18 does. `==` and `Hash` follow the ordering's equality (`1.0` and
//! `1.00`), while `Display` gives back each one's own text.
//!
//! rpm compares any non-empty string; this type rejects what no package or advisory carries: an
//! empty version or release (`-1`, `1.0-`) and whitespace or control characters anywhere.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::iter;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::Decimal;

/// An RPM package version: epoch, version and release.
#[derive(Debug, Clone)]
pub struct RpmVersion {
    input: Box<str>,
    epoch: Decimal,
    version: Vec<Segment>,
    release: Option<Vec<Segment>>,
}

/// One segment as `rpmvercmp` sees it.
#[derive(Debug, Clone)]
enum Segment {
    Tilde,
    Caret,
    Alpha(Box<str>),
    Number(Decimal),
}

/// A segment's place in the order, with the end of the segments between `~` and `^`; the derived
/// order is `rpmvercmp`'s.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key<'a> {
    Tilde,
    End,
    Caret,
    Alpha(&'a str),
    Number(&'a Decimal),
}

fn keys(segments: &[Segment]) -> impl Iterator<Item = Key<'_>> {
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Tilde => Key::Tilde,
            Segment::Caret => Key::Caret,
            Segment::Alpha(s) => Key::Alpha(s),
            Segment::Number(n) => Key::Number(n),
        })
        .chain(iter::once(Key::End))
}

/// `rpmvercmp`'s segments of a version or release.
fn segments(s: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let run = |pred: fn(&u8) -> bool| rest.bytes().take_while(pred).count();
        let (segment, len) = match c {
            '~' => (Some(Segment::Tilde), 1),
            '^' => (Some(Segment::Caret), 1),
            '0'..='9' => {
                let n = run(u8::is_ascii_digit);
                (Some(Segment::Number(Decimal::new(&rest[..n]))), n)
            }
            'a'..='z' | 'A'..='Z' => {
                let n = run(u8::is_ascii_alphabetic);
                (Some(Segment::Alpha(rest[..n].into())), n)
            }
            other => (None, other.len_utf8()),
        };
        segments.extend(segment);
        rest = &rest[len..];
    }
    segments
}

impl FromStr for RpmVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let err = |reason: String| VersionError::new("rpm", input, reason);
        if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(format!("contains {c:?}")));
        }
        let digits = input.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = match input[digits..].strip_prefix(':') {
            Some(rest) => (Decimal::new(&input[..digits]), rest),
            None => (Decimal::new(""), input),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((version, release)) => (version, Some(release)),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(err("the version is empty".into()));
        }
        if release == Some("") {
            return Err(err("the release after '-' is empty".into()));
        }
        Ok(RpmVersion {
            input: input.into(),
            epoch,
            version: segments(version),
            release: release.map(segments),
        })
    }
}

impl fmt::Display for RpmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| keys(&self.version).cmp(keys(&other.version)))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => keys(a).cmp(keys(b)),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when rpm compares them equal: `1.0-1`, `0:1.00-1` and `1_0-1` are all equal.
impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

impl Hash for RpmVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
        keys(&self.version).for_each(|key| key.hash(state));
        self.release.is_some().hash(state);
        self.release
            .iter()
            .flat_map(|release| keys(release))
            .for_each(|key| key.hash(state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> RpmVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn ascending() {
        let chain = [
            "1.0~rc1-1",
            "1.0-1",
            "1.0-1.el8",
            "1.0-2",
            "1.0^git1-1",
            "1.0a-1",
            "1.0.1-1",
            "1.0.1a-1",
            "1.1-1",
            "1.10-1",
            "1:0.1-1",
            "2:0-0",
        ];
        for (i, a) in chain.iter().enumerate() {
            for b in &chain[i + 1..] {
                assert!(v(a) < v(b), "{a} < {b}");
            }
        }
    }

    #[test]
    fn equal_spellings() {
        for (a, b) in [
            ("1.0-1", "0:1.0-1"),
            ("1.0-1", ":1.0-1"),
            ("1.0-1", "1.00-01"),
            ("1.0-1", "1_0-1"),
            ("1.0-1", "1.0.-1"),
            ("1a-1", "1.a-1"),
        ] {
            assert_eq!(v(a), v(b), "{a} == {b}");
        }
        assert_eq!(v("0:1.0").to_string(), "0:1.0");
    }

    #[test]
    fn missing_release_sorts_below_any_release() {
        assert!(v("1.0") < v("1.0-~"));
        assert!(v("1.0") < v("1.0-0"));
        assert!(v("1.0") > v("1.0~rc1-5"));
    }

    #[test]
    fn parsing() {
        // No digits-then-colon prefix: no epoch, and ':' only separates.
        assert_eq!(v("a:1"), v("a.1"));
        assert_eq!(v("1a:1"), v("1a.1"));
        for bad in ["", "-1", "1.0-", "1:", "1.0 -1", "1.0\n", "\t1"] {
            assert!(bad.parse::<RpmVersion>().is_err(), "{bad:?}");
        }
    }
}
