//! The secret scanner as an analyzer of the walk: every text file of every layer (binary files
//! too when asked), including files a later layer deleted, and members of archives; findings
//! carry the line.

use std::sync::Arc;

use stowaway_findings::{Finding, Kind, Location};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::{SecretMatch, SecretScanner, looks_binary};

/// Finds secrets in the files of the image.
pub struct SecretsAnalyzer {
    scanner: Arc<SecretScanner>,
    binaries: bool,
}

impl SecretsAnalyzer {
    /// `binaries`: also scan files that look binary (a NUL byte in their first bytes).
    /// The scanner is shared with the scan of the image config ([`crate::scan_config`]).
    pub fn new(scanner: Arc<SecretScanner>, binaries: bool) -> SecretsAnalyzer {
        SecretsAnalyzer { scanner, binaries }
    }
}

/// The finding of a secret; `location` is filled in by whoever knows where it is.
pub(crate) fn secret_finding(
    found: SecretMatch,
    title: String,
    location: Option<Location>,
) -> Finding {
    Finding {
        id: found.rule_id,
        kind: Kind::Secret,
        severity: found.severity,
        title,
        location,
        evidence: Some(found.redacted),
        engine: "secrets".into(),
        vulnerability: None,
    }
}

impl Analyzer for SecretsAnalyzer {
    fn id(&self) -> &'static str {
        "secrets"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        self.binaries || !looks_binary(file.head)
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], _complete: bool, out: &mut Vec<Output>) {
        let path = match file.member {
            Some(member) => format!("{}!{member}", file.path),
            None => file.path.to_string(),
        };
        for found in self.scanner.scan_file(&path, content) {
            let title = found.title.clone();
            let line = found.line;
            out.push(Output::Finding(secret_finding(
                found,
                title,
                Some(Location::at_line(line)),
            )));
        }
    }

    fn definitions(&self) -> Option<String> {
        Some(self.scanner.fingerprint())
    }

    fn cache_key(&self) -> Option<String> {
        Some(format!(
            "{} binaries={}",
            self.scanner.fingerprint(),
            self.binaries
        ))
    }
}
