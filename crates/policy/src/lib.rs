//! The CI-gate policy: which findings block a scan (exit code 1) and which are accepted.
//!
//! A [`Policy`] comes from the command line and an optional policy file (`stowaway.yaml`,
//! documented in `docs/policy.md`): the `--fail-on` selector, ignore rules (each with a reason
//! and an optional expiry date), `--ignore-unfixed`, OpenVEX documents and whether engine
//! failures are allowed. [`Policy::apply`] moves the accepted findings of a report into
//! `suppressed`, recounts, and writes the [`PolicyOutcome`] with its one-paragraph summary.

mod date;
mod error;
mod file;
mod ignore;
mod purl;
mod summary;
mod vex;

use std::path::{Path, PathBuf};

use stowaway_findings::{
    Counts, FailOn, Finding, ImageReport, Kind, PolicyOutcome, Report, Selector, Severity,
    Suppressed,
};

pub use date::{Date, DateError};
pub use error::PolicyError;

use file::PolicyFile;
use ignore::IgnoreRule;
use summary::{image_summary, plural};
use vex::Vex;

/// The policy file looked for in the working directory when none is given.
pub const DEFAULT_FILE: &str = "stowaway.yaml";

/// What the command line says; a flag given there wins over the policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliSettings {
    /// `--fail-on`, when given.
    pub fail_on: Option<String>,
    /// `--ignore-unfixed`: on when either the flag or the file turns it on.
    pub ignore_unfixed: bool,
    /// `--allow-engine-failure`: on when either the flag or the file turns it on.
    pub allow_engine_failure: bool,
}

/// The policy in force for one scan.
#[derive(Debug, Clone)]
pub struct Policy {
    fail_on: FailOn,
    ignore_unfixed: bool,
    allow_engine_failure: bool,
    ignore: Vec<IgnoreRule>,
    vex: Vex,
}

impl Policy {
    /// From CLI settings plus an optional policy file (`file`, or `stowaway.yaml` in `cwd` when
    /// present; CLI values override the file's) and OpenVEX documents (the file's `vex:`, then
    /// `vex`). Relative paths are taken from `cwd`, the file's `vex:` entries from the file's
    /// directory.
    pub fn load(
        file: Option<&Path>,
        cli: &CliSettings,
        vex: &[PathBuf],
        cwd: &Path,
    ) -> Result<Policy, PolicyError> {
        let path = match file {
            Some(path) => Some(cwd.join(path)),
            None => Some(cwd.join(DEFAULT_FILE)).filter(|path| path.is_file()),
        };
        let file = path.as_deref().map(PolicyFile::read).transpose()?;
        let fail_on = match &cli.fail_on {
            Some(list) => list.parse()?,
            None => file
                .as_ref()
                .and_then(|file| file.fail_on.clone())
                .unwrap_or_else(|| {
                    FailOn(vec![Selector {
                        kind: None,
                        min_severity: Severity::High,
                    }])
                }),
        };
        let mut vex_paths: Vec<PathBuf> = file.as_ref().map(|f| f.vex.clone()).unwrap_or_default();
        vex_paths.extend(vex.iter().map(|path| cwd.join(path)));
        Ok(Policy {
            fail_on,
            ignore_unfixed: cli.ignore_unfixed || file.as_ref().is_some_and(|f| f.ignore_unfixed),
            allow_engine_failure: cli.allow_engine_failure
                || file.as_ref().is_some_and(|f| f.allow_engine_failure),
            ignore: file.map(|f| f.ignore).unwrap_or_default(),
            vex: Vex::read(&vex_paths, cwd)?,
        })
    }

    /// Moves suppressed findings of every image into `image.suppressed` (with `by` and
    /// `reason`), recounts `image.counts`, and returns the outcome, also stored in
    /// `report.policy`. Ignore rules whose `expires` is before `today` do not apply.
    pub fn apply(&self, report: &mut Report, today: Date) -> PolicyOutcome {
        let mut warnings: Vec<String> = self
            .ignore
            .iter()
            .filter(|rule| !rule.is_live(today))
            .map(|rule| {
                format!(
                    "ignore rule {} ({}) expired on {} and no longer applies",
                    rule.number,
                    rule.label(),
                    rule.expires.map(|d| d.to_string()).unwrap_or_default()
                )
            })
            .collect();
        let live: Vec<&IgnoreRule> = self.ignore.iter().filter(|r| r.is_live(today)).collect();
        for image in &mut report.images {
            for finding in std::mem::take(&mut image.findings) {
                match self.suppression(image, &finding, &live) {
                    Some((by, reason)) => image.suppressed.push(Suppressed {
                        finding,
                        by: by.into(),
                        reason,
                    }),
                    None => image.findings.push(finding),
                }
            }
            image.counts = Counts::of(&image.findings);
        }

        let fail_on_text = fail_on_text(&self.fail_on);
        report.policy = Some(PolicyOutcome {
            fail_on: fail_on_text.clone(),
            engine_failures_block: !self.allow_engine_failure,
            blocked: false,
            blocking: 0,
            summary: String::new(),
            warnings: Vec::new(),
        });
        let mut blocking = 0;
        let mut allowed_engine_failures = 0;
        let mut summaries = Vec::new();
        for image in &report.images {
            let blocks: Vec<&Finding> = image
                .findings
                .iter()
                .filter(|f| report.is_blocking(f))
                .collect();
            blocking += blocks.len();
            allowed_engine_failures += image
                .findings
                .iter()
                .filter(|f| f.kind == Kind::Engine && !report.is_blocking(f))
                .count();
            summaries.push(image_summary(image, &blocks, &self.fail_on, &fail_on_text));
        }
        if self.allow_engine_failure && allowed_engine_failures > 0 {
            warnings.push(format!(
                "{} allowed by allow-engine-failure",
                plural(allowed_engine_failures, "engine failure")
            ));
        }
        let outcome = PolicyOutcome {
            fail_on: fail_on_text,
            engine_failures_block: !self.allow_engine_failure,
            blocked: blocking > 0,
            blocking,
            summary: if summaries.is_empty() {
                "No image was scanned.".into()
            } else {
                summaries.join(" ")
            },
            warnings,
        };
        report.policy = Some(outcome.clone());
        outcome
    }

    /// What suppresses `finding`, if anything, and why: ignore rules first, then VEX, then
    /// `--ignore-unfixed`.
    fn suppression(
        &self,
        image: &ImageReport,
        finding: &Finding,
        live: &[&IgnoreRule],
    ) -> Option<(&'static str, String)> {
        if let Some(rule) = live.iter().find(|rule| rule.matches(finding)) {
            return Some(("ignore", rule.reason.clone()));
        }
        if let Some(reason) = self.vex.suppresses(image, finding) {
            return Some(("vex", reason));
        }
        let unfixed = finding.kind == Kind::Vuln
            && finding
                .vulnerability
                .as_ref()
                .is_some_and(|v| v.fixed_versions.is_empty());
        (self.ignore_unfixed && unfixed).then(|| {
            (
                "ignore-unfixed",
                "no fixed version is available".to_string(),
            )
        })
    }
}

/// The selector list as `--fail-on` takes it (`high`, `malware,vuln:critical`): parses back to
/// the same list, as `Report::is_blocking` needs.
fn fail_on_text(fail_on: &FailOn) -> String {
    fail_on
        .0
        .iter()
        .map(|selector| match selector.kind {
            None => selector.min_severity.to_string(),
            Some(kind) if selector.min_severity == Severity::Info => kind.to_string(),
            Some(kind) => format!("{kind}:{}", selector.min_severity),
        })
        .collect::<Vec<_>>()
        .join(",")
}
