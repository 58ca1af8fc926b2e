//! The OSV record: what an advisory affects (packages, version ranges, explicit versions), how
//! bad it is, and what it is also known as. Fields matching does not use are not modelled; the
//! store keeps each record's JSON as it came.

use serde::Deserialize;

/// One advisory.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Record {
    pub id: String,
    /// RFC 3339 time of the last change.
    #[serde(default)]
    pub modified: String,
    #[serde(default)]
    pub published: Option<String>,
    /// Set when the advisory was retracted: it must not match anything.
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<Severity>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity score: `CVSS_V3` / `CVSS_V4` vectors, or an ecosystem's own scale.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Severity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// One affected package.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Affected {
    #[serde(default)]
    pub package: Option<AffectedPackage>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Versions listed one by one (in addition to the ranges).
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<Severity>,
    #[serde(default)]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AffectedPackage {
    /// `PyPI`, `npm`, `Go`, `crates.io`, `Debian:12`, `Alpine:v3.19`, ...
    pub ecosystem: String,
    pub name: String,
    #[serde(default)]
    pub purl: Option<String>,
}

/// A version range: events in order, under one ordering.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT` (commit hashes: not matched against package versions).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One event of a range; exactly one field is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// The base ecosystem of an OSV ecosystem string: `Debian:12` → `Debian`, `PyPI` → `PyPI`.
pub fn base_ecosystem(ecosystem: &str) -> &str {
    ecosystem
        .split_once(':')
        .map_or(ecosystem, |(base, _)| base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_ranges_and_versions() {
        let record: Record = serde_json::from_str(
            r#"{"id": "PYSEC-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-1"],
                "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}],
                  "versions": ["1.0"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            record.affected[0].ranges[0].events,
            [Event::Introduced("0".into()), Event::Fixed("1.2".into())]
        );
        assert_eq!(base_ecosystem("Debian:12"), "Debian");
        assert_eq!(base_ecosystem("crates.io"), "crates.io");
    }
}
