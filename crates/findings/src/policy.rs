//! `--fail-on`: which findings make a scan fail (exit code 1).
//!
//! A selector is a severity (`high` means high or worse), a kind (`malware`: any severity), or
//! both (`vuln:critical`). A list matches a finding when any selector does.

use std::fmt;
use std::str::FromStr;

use crate::{Finding, Kind, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    pub kind: Option<Kind>,
    pub min_severity: Severity,
}

impl Selector {
    pub fn matches(&self, finding: &Finding) -> bool {
        self.kind.is_none_or(|kind| kind == finding.kind) && finding.severity >= self.min_severity
    }
}

/// A list of selectors; matches a finding when any of them does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailOn(pub Vec<Selector>);

impl FailOn {
    pub fn matches(&self, finding: &Finding) -> bool {
        self.0.iter().any(|selector| selector.matches(finding))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailOnError(String);

impl fmt::Display for FailOnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a severity ({}), a kind ({}) or KIND:SEVERITY",
            self.0,
            Severity::ALL.map(Severity::as_str).join(", "),
            Kind::ALL.map(Kind::as_str).join(", ")
        )
    }
}

impl std::error::Error for FailOnError {}

impl FromStr for Selector {
    type Err = FailOnError;
    fn from_str(s: &str) -> Result<Self, FailOnError> {
        let token = s.trim().to_ascii_lowercase();
        let err = || FailOnError(s.trim().to_string());
        if let Some((kind, severity)) = token.split_once(':') {
            return Ok(Selector {
                kind: Some(kind.parse().map_err(|()| err())?),
                min_severity: severity.parse().map_err(|()| err())?,
            });
        }
        if let Ok(severity) = token.parse::<Severity>() {
            return Ok(Selector {
                kind: None,
                min_severity: severity,
            });
        }
        let kind = token.parse::<Kind>().map_err(|()| err())?;
        Ok(Selector {
            kind: Some(kind),
            min_severity: Severity::Info,
        })
    }
}

impl FromStr for FailOn {
    type Err = FailOnError;
    fn from_str(s: &str) -> Result<Self, FailOnError> {
        s.split(',')
            .filter(|token| !token.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(FailOn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: Kind, severity: Severity) -> Finding {
        Finding {
            id: "T".into(),
            kind,
            severity,
            title: "t".into(),
            location: None,
            evidence: None,
            engine: "test".into(),
            vulnerability: None,
        }
    }

    #[test]
    fn severity_threshold_includes_worse() {
        let policy: FailOn = "high".parse().unwrap();
        assert!(policy.matches(&finding(Kind::Config, Severity::Critical)));
        assert!(policy.matches(&finding(Kind::Config, Severity::High)));
        assert!(!policy.matches(&finding(Kind::Config, Severity::Medium)));
    }

    #[test]
    fn kinds_and_kind_severity_pairs() {
        let policy: FailOn = "malware, vuln:critical,typosquat".parse().unwrap();
        assert!(policy.matches(&finding(Kind::Malware, Severity::Low)));
        assert!(policy.matches(&finding(Kind::Typosquat, Severity::Info)));
        assert!(policy.matches(&finding(Kind::Vuln, Severity::Critical)));
        assert!(!policy.matches(&finding(Kind::Vuln, Severity::High)));
        assert!(!policy.matches(&finding(Kind::Secret, Severity::Critical)));
    }

    #[test]
    fn unknown_tokens_are_named() {
        let err = "high,bogus".parse::<FailOn>().unwrap_err();
        assert!(
            err.to_string().starts_with("'bogus' is not a severity"),
            "{err}"
        );
        assert!("vuln:extreme".parse::<FailOn>().is_err());
    }
}
