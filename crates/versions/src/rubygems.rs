//! RubyGems versions, parsed and ordered as `Gem::Version` does.
//!
//! The grammar is `Gem::Version::ANCHORED_VERSION_PATTERN`: surrounding ASCII whitespace, then
//! `N(.X)*` with `X` letters and digits, then optionally `-X(.X)*` (letters, digits and `-`); an
//! empty or blank string is version `0`. Each `-` reads as `.pre.` (`1.0-1` is `1.0.pre.1`).
//!
//! The version is then split into segments, runs of digits (numbers) and runs of letters
//! (strings), whatever separates them: `1.0a1` is `[1, 0, "a", 1]`. A string segment makes the
//! version a prerelease. Trailing zeros are dropped from the numbers before the first string and
//! from the segments after it (`1.0 == 1`, `1.0.a.0 == 1.a`). Segments compare left to right, a
//! missing one as 0: numbers numerically (any length), strings bytewise (case-sensitive), a
//! string below a number, so `1.0.a < 1.0 < 1.0.1`. Equality is that order's; `Display` gives
//! back the input.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::Decimal;

/// One segment; the derived order puts strings below numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Text(Box<str>),
    Number(Decimal),
}

/// A RubyGems version.
#[derive(Debug, Clone)]
pub struct GemVersion {
    input: String,
    /// `canonical_segments`: trailing zeros dropped from both parts.
    segments: Vec<Segment>,
    prerelease: bool,
}

impl GemVersion {
    /// Whether any segment is a string (`1.0.a`, `1.0-1`), as `Gem::Version#prerelease?` says.
    pub fn is_prerelease(&self) -> bool {
        self.prerelease
    }
}

/// Ruby's `\s`: space, tab, newline, vertical tab, form feed, carriage return.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

fn is_valid(v: &str) -> bool {
    let (main, pre) = match v.split_once('-') {
        Some((main, pre)) => (main, Some(pre)),
        None => (v, None),
    };
    let mut parts = main.split('.');
    let first_is_number = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    first_is_number
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && pre.is_none_or(|pre| {
            pre.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        })
}

/// Runs of digits and runs of letters, as `@version.scan(/[0-9]+|[a-z]+/i)`.
fn segments(v: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i].is_ascii_digit();
        if !digit && !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && if digit {
                bytes[i].is_ascii_digit()
            } else {
                bytes[i].is_ascii_alphabetic()
            }
        {
            i += 1;
        }
        let run = &v[start..i];
        out.push(if digit {
            Segment::Number(Decimal::new(run))
        } else {
            Segment::Text(run.into())
        });
    }
    out
}

fn drop_trailing_zeros(segments: &mut Vec<Segment>) {
    while matches!(segments.last(), Some(Segment::Number(n)) if n.is_zero()) {
        segments.pop();
    }
}

impl FromStr for GemVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let trimmed = input.trim_matches(is_ruby_space);
        let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
        if !is_valid(trimmed) {
            return Err(VersionError::new(
                "RubyGems",
                input,
                "not a number followed by .-separated letters and digits and an optional -prerelease",
            ));
        }
        let all = segments(&trimmed.replace('-', ".pre."));
        let first_text = all
            .iter()
            .position(|s| matches!(s, Segment::Text(_)))
            .unwrap_or(all.len());
        let (mut numbers, mut rest) = (all[..first_text].to_vec(), all[first_text..].to_vec());
        drop_trailing_zeros(&mut numbers);
        drop_trailing_zeros(&mut rest);
        let prerelease = !rest.is_empty();
        numbers.extend(rest);
        Ok(GemVersion {
            input: input.to_string(),
            segments: numbers,
            prerelease,
        })
    }
}

impl fmt::Display for GemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(Decimal::new("0"));
        let len = self.segments.len().max(other.segments.len());
        (0..len)
            .map(|i| {
                let a = self.segments.get(i).unwrap_or(&zero);
                let b = other.segments.get(i).unwrap_or(&zero);
                a.cmp(b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when the order says so (`1.0 == 1`).
impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GemVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn gem_version_order() {
        let chain = ["1.0.a", "1.0.a1", "1.0.b", "1.0-1", "1.0", "1.0.1", "1.1"];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v(""), v("0"));
        assert_eq!(v("1.0.a.0"), v("1.a"));
        assert!(v("1.0.a").is_prerelease() && !v("1.0").is_prerelease());
        for bad in ["a", "1..2", "1.", "1.0-", "1.0_1", "-1"] {
            assert!(bad.parse::<GemVersion>().is_err(), "{bad:?}");
        }
    }
}
