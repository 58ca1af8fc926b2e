//! Ignore rules of the policy file: which findings they match and until when.

use globset::{GlobBuilder, GlobMatcher};
use stowaway_findings::Finding;

use crate::date::Date;

/// One `ignore:` entry: every condition it has must hold, and it has at least one.
#[derive(Debug, Clone)]
pub struct IgnoreRule {
    /// 1-based position in the file, as warnings name it.
    pub number: usize,
    pub id: Option<String>,
    pub purl: Option<GlobMatcher>,
    pub path: Option<GlobMatcher>,
    pub layer: Option<usize>,
    pub reason: String,
    pub expires: Option<Date>,
}

impl IgnoreRule {
    /// Whether the rule still applies on `today` (it does on its `expires` date itself).
    pub fn is_live(&self, today: Date) -> bool {
        self.expires.is_none_or(|expires| today <= expires)
    }

    pub fn matches(&self, finding: &Finding) -> bool {
        let vulnerability = finding.vulnerability.as_deref();
        let id_holds = self.id.as_ref().is_none_or(|id| {
            finding.id.eq_ignore_ascii_case(id)
                || vulnerability
                    .is_some_and(|v| v.aliases.iter().any(|a| a.eq_ignore_ascii_case(id)))
        });
        let purl_holds = self.purl.as_ref().is_none_or(|glob| {
            vulnerability.is_some_and(|v| {
                glob.is_match(&v.purl) || glob.is_match(without_qualifiers(&v.purl))
            })
        });
        let location = finding.location.as_ref();
        let path_holds = self
            .path
            .as_ref()
            .is_none_or(|glob| location.is_some_and(|l| glob.is_match(&l.path)));
        let layer_holds = self
            .layer
            .is_none_or(|layer| location.is_some_and(|l| l.layer == layer));
        id_holds && purl_holds && path_holds && layer_holds
    }

    /// How warnings name the rule: its conditions (`CVE-2023-4911`, `path usr/share/doc/**`).
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(id) = &self.id {
            parts.push(id.clone());
        }
        if let Some(purl) = &self.purl {
            parts.push(format!("purl {}", purl.glob()));
        }
        if let Some(path) = &self.path {
            parts.push(format!("path {}", path.glob()));
        }
        if let Some(layer) = self.layer {
            parts.push(format!("layer {layer}"));
        }
        parts.join(", ")
    }
}

/// The purl without `?qualifiers` and `#subpath`, so that `pkg:deb/debian/libc6@2.36-9` matches
/// an installed `...@2.36-9?arch=amd64`.
fn without_qualifiers(purl: &str) -> &str {
    purl.split(['?', '#']).next().unwrap_or(purl)
}

/// A path glob: `*` stays within one directory, `**` crosses them; a leading `/` is dropped,
/// as report paths have none.
pub fn path_glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    glob(pattern.trim_start_matches('/'), true)
}

/// A purl glob: `*` matches any characters, `/` included.
pub fn purl_glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    glob(pattern, false)
}

fn glob(pattern: &str, literal_separator: bool) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(pattern)
        .literal_separator(literal_separator)
        .backslash_escape(true)
        .build()?
        .compile_matcher())
}

#[cfg(test)]
mod tests {
    use stowaway_findings::{FileStatus, Kind, Location, Severity, VulnerabilityDetails};

    use super::*;

    fn rule() -> IgnoreRule {
        IgnoreRule {
            number: 1,
            id: None,
            purl: None,
            path: None,
            layer: None,
            reason: "r".into(),
            expires: None,
        }
    }

    fn vuln(path: &str) -> Finding {
        Finding {
            id: "PYSEC-2024-1".into(),
            kind: Kind::Vuln,
            severity: Severity::High,
            title: "t".into(),
            location: Some(Location {
                layer: 2,
                layer_digest: None,
                path: path.into(),
                member: None,
                line: None,
                status: FileStatus::Present,
                created_by: None,
            }),
            evidence: None,
            engine: "vulndb".into(),
            vulnerability: Some(Box::new(VulnerabilityDetails {
                aliases: vec!["CVE-2024-1234".into()],
                package: "django".into(),
                purl: "pkg:pypi/django@4.2.1?x=y".into(),
                installed_version: "4.2.1".into(),
                ecosystem: "PyPI".into(),
                matched_name: "django".into(),
                fixed_versions: vec![],
                severity_source: String::new(),
            })),
        }
    }

    #[test]
    fn path_globs_respect_directories() {
        let finding = vuln("usr/share/doc/app/README");
        let with_path = |p: &str| IgnoreRule {
            path: Some(path_glob(p).unwrap()),
            ..rule()
        };
        assert!(with_path("usr/share/doc/**").matches(&finding));
        assert!(with_path("/usr/share/doc/**").matches(&finding));
        assert!(!with_path("usr/share/*").matches(&finding));
        assert!(with_path("usr/share/*/*/README").matches(&finding));
    }

    #[test]
    fn purl_globs_see_the_purl_with_and_without_qualifiers() {
        let finding = vuln("x");
        let with_purl = |p: &str| IgnoreRule {
            purl: Some(purl_glob(p).unwrap()),
            ..rule()
        };
        assert!(with_purl("pkg:pypi/django@*").matches(&finding));
        assert!(with_purl("pkg:pypi/django@4.2.1").matches(&finding));
        assert!(!with_purl("pkg:pypi/flask@*").matches(&finding));
        assert!(with_purl("pkg:pypi/*").matches(&finding));
    }

    #[test]
    fn ids_match_aliases_and_all_conditions_must_hold() {
        let finding = vuln("x");
        let by_alias = IgnoreRule {
            id: Some("cve-2024-1234".into()),
            ..rule()
        };
        assert!(by_alias.matches(&finding));
        let wrong_layer = IgnoreRule {
            layer: Some(0),
            ..by_alias.clone()
        };
        assert!(!wrong_layer.matches(&finding));
        assert_eq!(wrong_layer.label(), "cve-2024-1234, layer 0");
    }

    #[test]
    fn a_rule_applies_through_its_expiry_date() {
        let expiring = IgnoreRule {
            expires: Date::new(2027, 1, 31),
            ..rule()
        };
        assert!(expiring.is_live(Date::new(2027, 1, 31).unwrap()));
        assert!(!expiring.is_live(Date::new(2027, 2, 1).unwrap()));
    }
}
