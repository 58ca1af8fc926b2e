//! Checks of how an image is built and configured, in the manner of Dockle and the CIS Docker
//! Benchmark, and of names that imitate popular ones.
//!
//! - [`checks`] holds the table of checks (id, severity, rationale); `--skip-check ID` turns one
//!   off.
//! - The run configuration (`config`), build history (`history`) and inventory (`files`) are
//!   checked after the scan, from the [`ImageReport`], by [`check_image`].
//! - The account files are read during the scan by the [`Accounts`] analyzer.
//! - Look-alike image and package names (`names`) use `stowaway-typosquat`.
//! - [`check_and_redact`] is what the CLI and the service run on each image after the walk.

mod accounts;
pub mod checks;
mod config;
mod files;
mod history;
mod names;

pub use accounts::Accounts;
pub use checks::{Check, Enabled};
pub use config::secret_env_values;
pub use names::Names;

use stowaway_findings::{Finding, ImageReport, Location};
use stowaway_secrets::SecretScanner;

/// What follows the walk for one image: every configuration, history, file and name check,
/// the secrets of its config and history (unless `secrets` is `None`), all added to its
/// findings; then every secret found there, and every value of a secret-looking ENV name, masked
/// wherever the report quotes it.
pub fn check_and_redact(
    image: &mut ImageReport,
    enabled: &Enabled,
    names: &Names,
    secrets: Option<&SecretScanner>,
) {
    let mut findings = check_image(image, enabled, names);
    let mut values = image
        .config
        .as_ref()
        .map(secret_env_values)
        .unwrap_or_default();
    if let Some(scanner) = secrets {
        let (found, secret_values) = stowaway_secrets::scan_config(scanner, image);
        findings.extend(found);
        values.extend(secret_values);
    }
    image.add_findings(findings);
    stowaway_secrets::redact_report(image, &values);
}

/// Every configuration, history, file and name check of one image.
pub fn check_image(image: &ImageReport, enabled: &Enabled, names: &Names) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(config) = &image.config {
        findings.extend(config::check(image, config, enabled));
    }
    findings.extend(history::check(image, enabled));
    findings.extend(files::check(image, enabled));
    findings.extend(names.check(image, enabled));
    findings
}

fn finding(
    check: &Check,
    title: String,
    evidence: Option<String>,
    location: Option<Location>,
) -> Finding {
    let engine = if check.id.starts_with("STW-TYPOSQUAT") {
        "typosquat"
    } else {
        "config"
    };
    Finding {
        id: check.id.to_string(),
        kind: if engine == "typosquat" {
            stowaway_findings::Kind::Typosquat
        } else {
            stowaway_findings::Kind::Config
        },
        severity: check.severity,
        title,
        location,
        evidence,
        engine: engine.to_string(),
        vulnerability: None,
    }
}
