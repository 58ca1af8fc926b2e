//! PEP 440 versions (Python packages), parsed and ordered as `packaging.version.Version` does.
//!
//! The grammar is packaging's `VERSION_PATTERN`, matched case-insensitively against the input with
//! surrounding whitespace removed: an optional `v`, an optional epoch `N!`, the release `N(.N)*`,
//! then optionally a pre-release (`a`/`alpha`, `b`/`beta`, `rc`/`c`/`pre`/`preview`), a
//! post-release (`.post1`, `-1`, `post`, `rev`, `r`), a dev release (`.dev1`) — each with `-`,
//! `_` or `.` separators allowed and an implicit number 0 — and a local version `+seg(.seg)*`
//! (segments separated by `.`, `-` or `_`).
//!
//! The order is packaging's `_cmpkey`: epoch, then release with trailing zeros ignored
//! (`1.0 == 1.0.0`), then pre-release (a < b < rc, absent above all of them, except that a dev
//! release of a plain release sorts below its pre-releases: `1.0.dev1 < 1.0a1`), then
//! post-release (absent below any), then dev release (absent above any:
//! `1.0.post1.dev1 < 1.0.post1`), then local version (absent below any; segment-wise, numbers
//! numerically and above strings, strings case-insensitively, a prefix below a longer list).
//! Equality is that order's: `1.0 == 1.0.0 == V1.0.0`, while `Display` gives back the input.
//! Numbers of any length compare exactly, as Python's integers do.
//!
//! Only ASCII is accepted after trimming: Python's case-insensitive regex also lets a few
//! non-ASCII letters stand for ASCII ones (the Kelvin sign for `k`); those inputs are rejected here.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::Decimal;

/// A pre-release label, normalised; the derived order is a < b < rc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PreLabel {
    Alpha,
    Beta,
    Rc,
}

/// One segment of a local version; the derived order puts strings below numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LocalSegment {
    Text(Box<str>),
    Number(Decimal),
}

/// A PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440Version {
    input: String,
    epoch: Decimal,
    /// Without trailing zeros (they do not take part in the order).
    release: Vec<Decimal>,
    pre: Option<(PreLabel, Decimal)>,
    post: Option<Decimal>,
    dev: Option<Decimal>,
    local: Option<Vec<LocalSegment>>,
}

impl Pep440Version {
    /// Whether this is a pre-release or dev release (`1.0a1`, `1.0.dev1`), as packaging's
    /// `is_prerelease` says.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
}

/// A cursor over the lowercased, trimmed input.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    fn eat_separator(&mut self) -> bool {
        let hit = matches!(self.peek(), Some(b'-' | b'_' | b'.'));
        self.pos += usize::from(hit);
        hit
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = self.s[self.pos..].starts_with(word.as_bytes());
        if hit {
            self.pos += word.len();
        }
        hit
    }

    /// The first of `words` the input continues with (the regex tries alternatives in order).
    fn eat_one_of<T: Copy>(&mut self, words: &[(&str, T)]) -> Option<T> {
        words
            .iter()
            .find(|(word, _)| self.eat_word(word))
            .map(|&(_, t)| t)
    }

    fn digits(&mut self) -> Option<Decimal> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        (self.pos > start).then(|| Decimal::new(self.text(start)))
    }

    fn text(&self, start: usize) -> &str {
        // Only ASCII reaches the cursor, so every position is a character boundary.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }

    /// `[-_.]? label [-_.]? N?`, one optional part of the version; the cursor is left where it
    /// was when `label` is not there.
    fn labelled<T: Copy>(&mut self, labels: &[(&str, T)]) -> Option<(T, Decimal)> {
        let start = self.pos;
        self.eat_separator();
        let Some(label) = self.eat_one_of(labels) else {
            self.pos = start;
            return None;
        };
        self.eat_separator();
        Some((label, self.digits().unwrap_or_else(|| Decimal::new("0"))))
    }
}

/// Python's `str.strip()` whitespace: Unicode white space and the ASCII separators 0x1c–0x1f.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

impl FromStr for Pep440Version {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError::new("PEP 440", input, reason);
        let trimmed = input.trim_matches(is_python_space);
        if !trimmed.is_ascii() {
            return Err(err("contains a non-ASCII character"));
        }
        let lower = trimmed.to_ascii_lowercase();
        let mut c = Cursor {
            s: lower.as_bytes(),
            pos: 0,
        };
        c.eat(b'v');
        let mut first = c
            .digits()
            .ok_or_else(|| err("does not start with a number"))?;
        let mut epoch = Decimal::new("0");
        if c.eat(b'!') {
            epoch = first;
            first = c
                .digits()
                .ok_or_else(|| err("no release number after the epoch"))?;
        }
        let mut release = vec![first];
        while c.peek() == Some(b'.') && c.s.get(c.pos + 1).is_some_and(u8::is_ascii_digit) {
            c.pos += 1;
            release.extend(c.digits());
        }
        let pre = c.labelled(&[
            ("alpha", PreLabel::Alpha),
            ("a", PreLabel::Alpha),
            ("beta", PreLabel::Beta),
            ("b", PreLabel::Beta),
            ("preview", PreLabel::Rc),
            ("pre", PreLabel::Rc),
            ("c", PreLabel::Rc),
            ("rc", PreLabel::Rc),
        ]);
        let post = {
            let start = c.pos;
            if c.eat(b'-')
                && let Some(n) = c.digits()
            {
                Some(n)
            } else {
                c.pos = start;
                c.labelled(&[("post", ()), ("rev", ()), ("r", ())])
                    .map(|((), n)| n)
            }
        };
        let dev = c.labelled(&[("dev", ())]).map(|((), n)| n);
        let local = if c.eat(b'+') {
            let mut segments = Vec::new();
            loop {
                let start = c.pos;
                while c.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                    c.pos += 1;
                }
                let segment = c.text(start);
                if segment.is_empty() {
                    return Err(err("empty segment in the local version"));
                }
                segments.push(if segment.bytes().all(|b| b.is_ascii_digit()) {
                    LocalSegment::Number(Decimal::new(segment))
                } else {
                    LocalSegment::Text(segment.into())
                });
                if !c.eat_separator() {
                    break;
                }
            }
            Some(segments)
        } else {
            None
        };
        if c.pos != c.s.len() {
            return Err(err("unexpected text after the version"));
        }
        while release.last().is_some_and(Decimal::is_zero) {
            release.pop();
        }
        Ok(Pep440Version {
            input: input.to_string(),
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }
}

/// packaging's pre-release key: a dev release of a plain release below every pre-release,
/// no pre-release above every pre-release.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    DevOnly,
    Pre(&'a (PreLabel, Decimal)),
    None,
}

impl Pep440Version {
    fn pre_key(&self) -> PreKey<'_> {
        match &self.pre {
            Some(pre) => PreKey::Pre(pre),
            None if self.post.is_none() && self.dev.is_some() => PreKey::DevOnly,
            None => PreKey::None,
        }
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release.cmp(&other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            // `None < Some` for post and local, as packaging's negative infinity.
            .then_with(|| self.post.cmp(&other.post))
            // No dev release sorts above every dev release.
            .then_with(|| match (&self.dev, &other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
            .then_with(|| self.local.cmp(&other.local))
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when the order says so: `1.0 == 1.0.0`, `1.0a == 1.0.alpha0`.
impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440Version {}

impl fmt::Display for Pep440Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Pep440Version {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn packaging_documented_order() {
        // The order PEP 440's "Summary of permitted suffixes and relative ordering" gives.
        let chain = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
            "1!0.1",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn normalisation() {
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v(" V1.0ALPHA "), v("1.0a0"));
        assert_eq!(v("1.0-1"), v("1.0.post1"));
        assert_eq!(v("1.0c1"), v("1.0rc1"));
        assert_eq!(v("1.0pre_2"), v("1.0rc2"));
        assert_eq!(v("1.0.rev"), v("1.0.post0"));
        assert_eq!(v("1.0+UBUNTU-1"), v("1.0+ubuntu.1"));
        assert_eq!(v("0!1.0"), v("1.0"));
        assert_eq!(v(" 1.0 ").to_string(), " 1.0 ");
        for bad in [
            "", "v", "1.", "1.0+", "1.0+a..b", "1!", "a1", "1.0-", "1.0 x", "1.0+é",
        ] {
            assert!(bad.parse::<Pep440Version>().is_err(), "{bad:?}");
        }
    }
}
