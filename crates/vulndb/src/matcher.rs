//! Matching installed packages against the advisories: which OSV ecosystem and name each
//! package is looked up by, which ordering compares its versions, and the findings.
//!
//! - OS packages are matched by their **source package** and version in the image's
//!   distribution release (`Debian:12`, `Ubuntu:22.04`, `Alpine:v3.19`): distributions file
//!   advisories against source packages and fix them with backports, so the distribution's own
//!   fixed version, not upstream's, decides.
//! - A language package that an OS package installed is, by default, left to its OS package's
//!   advisories (the backport false positive: Debian's `python3-urllib3` carries fixes its
//!   upstream version number does not show); `match_owned` matches it upstream too.
//! - Debian's `unimportant` advisories are hidden unless `all` is set.
//! - `MAL-` records (known-malicious packages) are malware findings, not vulnerabilities.
//! - Severity: the CVSS v3 base score of the advisory's vector; without a v3 vector, the CVSS
//!   v4.0 score; else the severity a GHSA record states; else medium, said so in the finding.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use stowaway_findings::{
    Finding, Kind, OsInfo, Package, PackageType, Severity, VulnerabilityDetails,
};
use stowaway_versions::Scheme;

use crate::cvss;
use crate::osv::{Record, base_ecosystem};
use crate::ranges::evaluate;
use crate::store::{Database, DbError, normalize_name};

/// How matching treats the cases users disagree on.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatchOptions {
    /// Also match language packages that an OS package installed against their upstream
    /// ecosystem's advisories.
    pub match_owned: bool,
    /// Show advisories the distribution rates `unimportant`.
    pub all: bool,
}

/// What a package is looked up as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// OSV base ecosystem (`Debian`, `PyPI`).
    pub base: &'static str,
    /// For OS packages, the distribution release an advisory's ecosystem must name
    /// (`Debian:12`); advisories for other releases do not apply.
    pub release: Option<String>,
    pub name: String,
    pub version: String,
}

/// How `package` is looked up in an image whose OS is `os`; `None` when it cannot be (an OS
/// package without a known distribution, a Go module built from source, ...).
pub fn query(package: &Package, os: Option<&OsInfo>) -> Option<Query> {
    let language = |base: &'static str, name: &str, version: &str| {
        Some(Query {
            base,
            release: None,
            name: name.to_string(),
            version: version.to_string(),
        })
    };
    let source = package.source.as_ref();
    let os_query = |base: &'static str, release: String, binary_version: &str| {
        Some(Query {
            base,
            release: Some(release),
            name: source.map_or(package.name.clone(), |s| s.name.clone()),
            version: source
                .and_then(|s| s.version.clone())
                .unwrap_or_else(|| binary_version.to_string()),
        })
    };
    match package.package_type {
        PackageType::Deb => {
            let os = os?;
            let version_id = os.version_id.as_deref()?;
            match os.id.as_str() {
                "debian" => os_query(
                    "Debian",
                    format!("Debian:{}", major(version_id)),
                    &package.version,
                ),
                "ubuntu" => os_query("Ubuntu", format!("Ubuntu:{version_id}"), &package.version),
                _ => None,
            }
        }
        PackageType::Apk => {
            let os = os?;
            let version_id = os.version_id.as_deref()?;
            let minor: Vec<&str> = version_id.split('.').take(2).collect();
            (os.id == "alpine").then_some(())?;
            os_query(
                "Alpine",
                format!("Alpine:v{}", minor.join(".")),
                &package.version,
            )
        }
        PackageType::Rpm => {
            let os = os?;
            let release = major(os.version_id.as_deref()?);
            let base = match os.id.as_str() {
                "almalinux" => "AlmaLinux",
                "rocky" => "Rocky Linux",
                _ => return None,
            };
            // These distributions file advisories by binary package name.
            Some(Query {
                base,
                release: Some(format!("{base}:{release}")),
                name: package.name.clone(),
                version: package.version.clone(),
            })
        }
        PackageType::Python => language("PyPI", &package.name, &package.version),
        PackageType::Npm => language("npm", &package.name, &package.version),
        PackageType::Go => {
            let version = match package.name.as_str() {
                "stdlib" => package.version.trim_start_matches("go"),
                _ => package.version.as_str(),
            };
            if version.is_empty() || version == "(devel)" {
                return None;
            }
            language("Go", &package.name, version)
        }
        PackageType::Rust => language("crates.io", &package.name, &package.version),
        PackageType::Java => {
            let group = package.group.as_deref()?;
            language(
                "Maven",
                &format!("{group}:{}", package.name),
                &package.version,
            )
        }
        PackageType::Gem => language("RubyGems", &package.name, &package.version),
        PackageType::Composer => language("Packagist", &package.name, &package.version),
        PackageType::Nuget => language("NuGet", &package.name, &package.version),
    }
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// The findings for every installed package of an image.
pub fn match_packages(
    db: &Database,
    packages: &[Package],
    os: Option<&OsInfo>,
    options: MatchOptions,
) -> Result<Vec<Finding>, DbError> {
    let mut findings = Vec::new();
    let mut named: HashMap<&'static str, HashSet<String>> = HashMap::new();
    for package in packages {
        let Some(location) = package.location.as_ref().filter(|l| l.status.is_present()) else {
            continue;
        };
        if package.owner.is_some() && !options.match_owned {
            continue;
        }
        let Some(query) = query(package, os) else {
            continue;
        };
        let Some(scheme) = Scheme::for_osv_ecosystem(query.base) else {
            continue;
        };
        let names = match named.entry(query.base) {
            Entry::Occupied(names) => names.into_mut(),
            Entry::Vacant(entry) => entry.insert(db.names(query.base)?),
        };
        if !names.contains(&normalize_name(query.base, &query.name)) {
            continue;
        }
        let compare = |a: &str, b: &str| -> Option<Ordering> { scheme.compare(a, b) };
        for record in db.lookup(query.base, &query.name)? {
            let mut fixed = Vec::new();
            let mut hit: Option<(String, &crate::osv::Affected)> = None;
            for affected in &record.affected {
                let Some(named) = &affected.package else {
                    continue;
                };
                let applies = base_ecosystem(&named.ecosystem) == query.base
                    && normalize_name(query.base, &named.name)
                        == normalize_name(query.base, &query.name)
                    && query.release.as_ref().is_none_or(|release| {
                        named.ecosystem == *release
                            || named.ecosystem.starts_with(&format!("{release}:"))
                    });
                if !applies || (!options.all && unimportant(affected)) {
                    continue;
                }
                let verdict = evaluate(affected, &query.version, &compare);
                if verdict.affected {
                    fixed.extend(verdict.fixed);
                    hit.get_or_insert((named.ecosystem.clone(), affected));
                }
            }
            let Some((ecosystem, affected)) = hit else {
                continue;
            };
            fixed.sort();
            fixed.dedup();
            let (severity, severity_source) = severity(&record, affected);
            let malicious = record.id.starts_with("MAL-");
            let summary = record
                .summary
                .clone()
                .or_else(|| record.details.as_ref().map(|d| first_sentence(d)))
                .unwrap_or_else(|| "known vulnerability".into());
            let fix = match fixed.as_slice() {
                [] => "no fix available".to_string(),
                versions => format!("fixed in {}", versions.join(", ")),
            };
            findings.push(Finding {
                id: record.id.clone(),
                kind: if malicious { Kind::Malware } else { Kind::Vuln },
                severity: if malicious {
                    Severity::Critical
                } else {
                    severity
                },
                title: format!("{} {}: {}", package.name, package.version, summary),
                location: Some(location.clone()),
                evidence: Some(format!(
                    "{} {} ({ecosystem}); {fix}",
                    query.name, query.version
                )),
                engine: "osv".into(),
                vulnerability: Some(Box::new(VulnerabilityDetails {
                    aliases: record.aliases.clone(),
                    package: package.name.clone(),
                    purl: package.purl.clone(),
                    installed_version: package.version.clone(),
                    ecosystem,
                    matched_name: query.name.clone(),
                    fixed_versions: fixed,
                    severity_source,
                })),
            });
        }
    }
    Ok(findings)
}

/// Debian's rating of an advisory as not worth fixing.
fn unimportant(affected: &crate::osv::Affected) -> bool {
    affected
        .ecosystem_specific
        .as_ref()
        .and_then(|e| e.get("urgency"))
        .and_then(|u| u.as_str())
        == Some("unimportant")
}

/// The severity and where it came from: the highest CVSS v3 score among the advisory's
/// vectors (the record's and the affected package's); only when none is v3, the highest v4.0
/// score, so that the findings of a scan are rated on one scale wherever they can be.
fn severity(record: &Record, affected: &crate::osv::Affected) -> (Severity, String) {
    let scored: Vec<(cvss::Score, &str)> = record
        .severity
        .iter()
        .chain(&affected.severity)
        .filter_map(|s| cvss::score(&s.score).map(|score| (score, s.score.trim())))
        .collect();
    let best = [cvss::Version::V3, cvss::Version::V4]
        .into_iter()
        .find_map(|version| {
            scored
                .iter()
                .filter(|(score, _)| score.version == version)
                .max_by(|a, b| a.0.value.total_cmp(&b.0.value))
        });
    if let Some((score, vector)) = best {
        let severity = match cvss::rating(score.value) {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            _ => Severity::Info,
        };
        // The vector's prefix (`CVSS:3.1/`, `CVSS:4.0/`) names the version.
        return (severity, format!("{:.1} {vector}", score.value));
    }
    let stated = record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
        .map(str::to_ascii_uppercase);
    match stated.as_deref() {
        Some("CRITICAL") => (Severity::Critical, "the advisory's rating: CRITICAL".into()),
        Some("HIGH") => (Severity::High, "the advisory's rating: HIGH".into()),
        Some("MODERATE" | "MEDIUM") => (Severity::Medium, "the advisory's rating: MODERATE".into()),
        Some("LOW") => (Severity::Low, "the advisory's rating: LOW".into()),
        _ => (
            Severity::Medium,
            "not rated by the advisory: medium assumed".into(),
        ),
    }
}

/// The first sentence (or line) of a description, for a one-line title.
fn first_sentence(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let end = line.find(". ").map_or(line.len(), |i| i + 1);
    line[..end].chars().take(160).collect()
}
