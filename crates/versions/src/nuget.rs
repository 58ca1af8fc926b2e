//! NuGet package versions, parsed and ordered as NuGet's `NuGetVersion` and `VersionComparer`
//! do (<https://learn.microsoft.com/nuget/concepts/package-versioning>).
//!
//! A version is one to four dot-separated numbers (`Major.Minor.Patch.Revision`, missing ones 0,
//! so `1 == 1.0 == 1.0.0.0`; leading zeros allowed; each at most 2^31 − 1, as .NET's `Int32`),
//! an optional SemVer 2.0 prerelease `-label(.label)*` and optional build metadata `+meta`,
//! with surrounding whitespace trimmed.
//!
//! Order: the four numbers; a release above its prereleases; labels left to right — two labels
//! that are both `Int32` numbers numerically, a numeric label below a non-numeric one, others
//! case-insensitively (ordinal, after upper-casing) — and a shorter label list below a longer one
//! it is a prefix of. Metadata is ignored. Equality is that order's (`1.0.0-RC.1 == 1.0-rc.1+x`);
//! `Display` gives back the input. As in NuGet, a numeric label beyond `Int32` compares as text.
//!
//! There is no .NET on the machines that build this crate, so no NuGet oracle: the tests are
//! vectors taken from NuGet's versioning documentation and NuGet.Versioning's own tests, plus
//! property tests of the order's laws. .NET's `Int32.Parse` leniencies in the numbers (signs,
//! inner whitespace: `1. 2`, `+1.0`) are not accepted.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::is_identifier;

/// A NuGet package version.
#[derive(Debug, Clone)]
pub struct NuGetVersion {
    input: String,
    numbers: [u32; 4],
    labels: Vec<Box<str>>,
}

impl NuGetVersion {
    /// Whether the version has prerelease labels.
    pub fn is_prerelease(&self) -> bool {
        !self.labels.is_empty()
    }
}

/// NuGet's `CompareRelease`: `Int32` labels numerically and first, the rest case-insensitively.
fn compare_label(a: &str, b: &str) -> Ordering {
    match (a.parse::<i32>(), b.parse::<i32>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(b.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

impl FromStr for NuGetVersion {
    type Err = VersionError;

    fn from_str(input: &str) -> Result<Self, VersionError> {
        let err = |reason: String| VersionError::new("NuGet", input, reason);
        let s = input.trim();
        let (rest, metadata) = match s.split_once('+') {
            Some((rest, metadata)) => (rest, Some(metadata)),
            None => (s, None),
        };
        if let Some(metadata) = metadata
            && let Some(bad) = metadata.split('.').find(|m| !is_identifier(m))
        {
            return Err(err(format!(
                "metadata part {bad:?} is empty or not [0-9A-Za-z-]"
            )));
        }
        let (core, labels) = match rest.split_once('-') {
            Some((core, labels)) => (core, labels.split('.').collect::<Vec<_>>()),
            None => (rest, Vec::new()),
        };
        for label in &labels {
            if !is_identifier(label) {
                return Err(err(format!("label {label:?} is empty or not [0-9A-Za-z-]")));
            }
            if label.len() > 1
                && label.starts_with('0')
                && label.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(err(format!("numeric label {label:?} has a leading zero")));
            }
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 4 {
            return Err(err("more than four numbers".into()));
        }
        let mut numbers = [0; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(format!("{part:?} is not a number")));
            }
            *slot = part
                .parse::<i32>()
                .ok()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| err(format!("{part:?} is above 2147483647")))?;
        }
        Ok(NuGetVersion {
            input: input.to_string(),
            numbers,
            labels: labels.into_iter().map(Into::into).collect(),
        })
    }
}

impl fmt::Display for NuGetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.labels.is_empty(), other.labels.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let pairs = self.labels.iter().zip(&other.labels);
                    pairs
                        .map(|(a, b)| compare_label(a, b))
                        .find(|o| o.is_ne())
                        .unwrap_or_else(|| self.labels.len().cmp(&other.labels.len()))
                }
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when the order says so: metadata and label case are ignored.
impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}
