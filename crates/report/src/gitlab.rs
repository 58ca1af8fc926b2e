//! GitLab's container-scanning report (`gl-container-scanning-report.json`, security report
//! schema 15.0.7), which the merge-request security widget, the pipeline's security tab and the
//! vulnerability report read.
//!
//! - `vulnerabilities[]`: every finding of every image, not only advisories: malware, secrets and
//!   the rest are what a reviewer most needs to see, and the widget is where they look. An
//!   advisory is located at its package (`dependency`); any other finding, whose container
//!   location must still name a package, at its file: `package.name` is
//!   `layer-<n>/<path>[!member]` and `version` the layer digest (or `layer-<n>`), or
//!   `image configuration` and the image id for an image-wide finding.
//! - `identifiers`: the finding's own id first (GitLab tracks a vulnerability by its first
//!   identifier): `cve`, `ghsa` or `osv` by the id's form, each with its page, then the
//!   advisory's aliases; a rule of stowaway's as type `stowaway`.
//! - `id`: a UUID-shaped hash of the finding's stable identity (crate::fingerprint).
//! - Suppressed findings are left out (the schema has no way to say "accepted"); `scan.messages`
//!   says how many, and what the policy decided.
//! - `scan.start_time`/`end_time`: the document time given (RFC 3339, honouring
//!   `SOURCE_DATE_EPOCH` upstream), cut to the `YYYY-MM-DDTHH:MM:SS` the schema wants.

use std::io::{self, Write};

use serde_json::{Value, json};
use stowaway_findings::{Finding, ImageReport, Kind, Report, Severity};

use crate::fingerprint::{advisory, display_location, fingerprint, osv_url, uuid};

/// The security report schema version written.
const SCHEMA_VERSION: &str = "15.0.7";
const SCHEMA_URL: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.0.7/dist/container-scanning-report-format.json";

/// The schema's limits, in characters.
const NAME_MAX: usize = 255;
const DESCRIPTION_MAX: usize = 1_048_576;
const SOLUTION_MAX: usize = 7_000;

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// `2024-05-01T12:00:00Z` → `2024-05-01T12:00:00`; anything else is an error naming it.
fn schema_time(time: &str) -> io::Result<String> {
    let head = time.get(..19).unwrap_or_default();
    let shape_ok = head.len() == 19
        && head.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if shape_ok {
        Ok(head.to_string())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("document time '{time}' is not RFC 3339 (YYYY-MM-DDTHH:MM:SS...)"),
        ))
    }
}

fn identifiers(finding: &Finding) -> Vec<Value> {
    let mut ids = vec![finding.id.as_str()];
    if let Some(vulnerability) = &finding.vulnerability {
        for alias in &vulnerability.aliases {
            if !ids.contains(&alias.as_str()) {
                ids.push(alias);
            }
        }
    }
    ids.into_iter()
        .map(|id| {
            if finding.kind == Kind::Vuln {
                let (kind, url) = advisory(id);
                json!({ "type": kind, "name": id, "value": id, "url": url })
            } else {
                json!({ "type": "stowaway", "name": truncate(id, NAME_MAX), "value": id })
            }
        })
        .collect()
}

fn solution(finding: &Finding) -> Option<String> {
    if let Some(vulnerability) = &finding.vulnerability {
        return match vulnerability.fixed_versions.as_slice() {
            [] => None,
            [version] => Some(format!("Upgrade {} to {version}", vulnerability.package)),
            versions => Some(format!(
                "Upgrade {} to one of {}",
                vulnerability.package,
                versions.join(", ")
            )),
        };
    }
    match finding.kind {
        Kind::Malware | Kind::Pua => {
            Some("Remove the file and rebuild the image from trusted sources".to_string())
        }
        Kind::Secret => Some(
            "Revoke and rotate the credential, then rebuild the image without it (build secrets, not layers)"
                .to_string(),
        ),
        _ => None,
    }
}

fn description(image: &ImageReport, finding: &Finding) -> String {
    let mut text = format!(
        "{} ({} finding by {}).",
        finding.title, finding.kind, finding.engine
    );
    if let Some(location) = &finding.location {
        text.push_str(&format!(
            " Found at {} in image {} ({}).",
            display_location(location),
            image.name,
            location.status
        ));
        if let Some(created_by) = &location.created_by {
            text.push_str(&format!(" Layer built by: {created_by}."));
        }
    }
    if let Some(evidence) = &finding.evidence {
        text.push_str(&format!(" Evidence: {evidence}."));
    }
    if let Some(vulnerability) = &finding.vulnerability {
        text.push_str(&format!(
            " Installed: {} {} ({}). Severity from: {}.",
            vulnerability.package,
            vulnerability.installed_version,
            vulnerability.purl,
            vulnerability.severity_source
        ));
    }
    truncate(&text, DESCRIPTION_MAX)
}

fn location(image: &ImageReport, finding: &Finding) -> Value {
    let (package, version) = match (&finding.vulnerability, &finding.location) {
        (Some(vulnerability), _) => (
            vulnerability.package.clone(),
            vulnerability.installed_version.clone(),
        ),
        (None, Some(location)) => (
            format!("layer-{}/{}", location.layer, location.display_path()),
            location
                .layer_digest
                .clone()
                .unwrap_or_else(|| format!("layer-{}", location.layer)),
        ),
        (None, None) => (
            "image configuration".to_string(),
            image
                .config_digest
                .clone()
                .unwrap_or_else(|| image.name.clone()),
        ),
    };
    let operating_system = match &image.os {
        Some(os) => match &os.version_id {
            Some(version) => format!("{} {version}", os.id),
            None => os.id.clone(),
        },
        None => "Unknown".to_string(),
    };
    json!({
        "dependency": { "package": { "name": package }, "version": version },
        "operating_system": operating_system,
        "image": image.name,
    })
}

fn vulnerability(image: &ImageReport, finding: &Finding) -> Value {
    let mut value = json!({
        "id": uuid(&fingerprint(image, finding)),
        "name": truncate(&finding.title, NAME_MAX),
        "description": description(image, finding),
        "severity": severity(finding.severity),
        "identifiers": identifiers(finding),
        "location": location(image, finding),
    });
    if let Some(solution) = solution(finding) {
        value["solution"] = json!(truncate(&solution, SOLUTION_MAX));
    }
    if finding.kind == Kind::Vuln {
        value["links"] = json!([{ "url": osv_url(&finding.id) }]);
    }
    value
}

/// Writes the GitLab container-scanning report of the whole report; `time` (RFC 3339) is the
/// scan's start and end time.
pub fn write_gitlab(report: &Report, time: &str, out: &mut dyn Write) -> io::Result<()> {
    let time = schema_time(time)?;
    let component = json!({
        "id": "stowaway",
        "name": "Stowaway",
        "version": report.tool.version,
        "vendor": { "name": "Stowaway" },
    });
    let vulnerabilities: Vec<Value> = report
        .images
        .iter()
        .flat_map(|image| {
            image
                .findings
                .iter()
                .map(move |finding| vulnerability(image, finding))
        })
        .collect();
    let mut messages = Vec::new();
    let suppressed: usize = report.images.iter().map(|i| i.suppressed.len()).sum();
    if suppressed > 0 {
        messages.push(json!({
            "level": "info",
            "value": format!("{suppressed} suppressed finding(s) are not listed: see stowaway's JSON report"),
        }));
    }
    if let Some(policy) = &report.policy {
        let level = if policy.blocked { "warn" } else { "info" };
        messages.push(json!({ "level": level, "value": policy.summary }));
        for warning in &policy.warnings {
            messages.push(json!({ "level": "warn", "value": warning }));
        }
    }
    let mut scan = json!({
        "analyzer": component,
        "scanner": component,
        "type": "container_scanning",
        "start_time": time,
        "end_time": time,
        "status": "success",
    });
    if !messages.is_empty() {
        scan["messages"] = Value::Array(messages);
    }
    let document = json!({
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": scan,
        "vulnerabilities": vulnerabilities,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_time_is_cut_to_the_schema_form() {
        assert_eq!(
            schema_time("2024-05-01T12:00:00Z").ok().as_deref(),
            Some("2024-05-01T12:00:00")
        );
        assert_eq!(
            schema_time("2024-05-01T12:00:00.5+02:00").ok().as_deref(),
            Some("2024-05-01T12:00:00")
        );
        assert!(schema_time("yesterday").is_err());
        assert!(schema_time("2024-05-01 12:00:00").is_err());
    }
}
